// The shipped catalog data is consistent: every accelerated type has its facts, every price is a
// positive number for a type in the catalog, the documented corrections are in, and nothing was
// filled in by guesswork.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toInstanceTypeInfo } from '../../src/aws/catalog-source.js';
import { loadCatalog } from '../../src/catalog-files.js';
import { applyOverrides, catalogOverrides } from '../../src/catalog/overrides.js';
import { catalogFamilies, type CapacityBlockData, type CatalogData, type PriceData } from '../../src/catalog/types.js';
import { repoRoot } from '../e2e/testbed/paths.js';

const read = (...p: string[]): unknown => JSON.parse(readFileSync(join(repoRoot, 'instance-catalog', ...p), 'utf8'));
const catalog = read('instance-types.json') as CatalogData;
const prices = read('prices', 'us-east-1.json') as PriceData;
const blocks = read('capacity-blocks.json') as CapacityBlockData;
/** Sold through Capacity Blocks for ML only: no on-demand price anywhere. */
const blockOnly = ['p5e.48xlarge', 'trn2.3xlarge', 'trn2.48xlarge'];
const rfc3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

describe('instance-catalog/', () => {
  it('covers every family ORCA serves, and only those', () => {
    const families = new Set(catalog.types.map((t) => t.type.split('.')[0]));
    expect([...families].sort()).toEqual([...catalogFamilies].sort());
  });

  it('has accelerator facts for every GPU and Neuron family', () => {
    for (const t of catalog.types.filter((x) => /^(p|g|trn|inf)\d/.test(x.type))) {
      expect(t.accelerator?.count, t.type).toBeGreaterThan(0);
      expect(t.accelerator?.memoryMiB, t.type).toBeGreaterThan(0);
    }
  });

  it('prices only catalogued types, each with a positive price, and says where and when they were read', () => {
    const known = new Set(catalog.types.map((t) => t.type));
    for (const [type, usd] of Object.entries(prices.onDemandUsdPerHour)) {
      expect(known.has(type), type).toBe(true);
      expect(usd, type).toBeGreaterThan(0);
    }
    expect(prices.readAt).toMatch(rfc3339);
    expect(prices.source.length).toBeGreaterThan(20);
  });

  it('has an on-demand price in us-east-1 for every type except exactly the three sold through Capacity Blocks', () => {
    const unpriced = catalog.types.map((t) => t.type).filter((t) => prices.onDemandUsdPerHour[t] === undefined);
    expect(unpriced.sort()).toEqual(blockOnly);
    expect(prices.source).toMatch(/aws\/karpenter-provider-aws@6fc13b5 pkg\/providers\/pricing\/zz_generated\.pricing_aws\.go/);
    expect(prices.readAt).toBe('2026-07-20T13:44:30Z');
    expect(prices.onDemandUsdPerHour).toMatchObject({ 'g6.xlarge': 0.8048, 'c7i.metal-24xl': 4.7124, 'r7a.medium': 0.07608, 'p6-b300.48xlarge': 142.416 });
  });

  it('keeps prices that are not monotonic in size as AWS publishes them', () => {
    expect(prices.onDemandUsdPerHour['g6e.16xlarge']).toBeLessThan(prices.onDemandUsdPerHour['g6e.12xlarge'] ?? 0);
    expect(prices.onDemandUsdPerHour['p5e.48xlarge']).toBeUndefined();
  });

  it('has the documented figure wherever an override corrects DescribeInstanceTypes', () => {
    const byType = new Map(catalog.types.map((t) => [t.type, t]));
    for (const o of catalogOverrides) {
      expect(byType.has(o.type), o.type).toBe(true);
      const shipped = byType.get(o.type);
      expect(shipped && applyOverrides([shipped]).types[0], o.type).toEqual(shipped);
    }
    expect(byType.get('trn2.48xlarge')?.accelerator).toMatchObject({ model: 'Trainium2', count: 16, memoryMiB: 98_304, coresPerDevice: 8 });
    expect(catalog.source).toMatch(/corrected by src\/catalog\/overrides\.ts/);
  });
});

describe('the Trainium2 override in a refresh', () => {
  it('corrects the record DescribeInstanceTypes gives, as npm run catalog:refresh writes it', () => {
    const api = toInstanceTypeInfo({
      InstanceType: 'trn2.48xlarge', VCpuInfo: { DefaultVCpus: 192 }, MemoryInfo: { SizeInMiB: 2_097_152 }, ProcessorInfo: { SupportedArchitectures: ['x86_64'] },
      NeuronInfo: { NeuronDevices: [{ Name: 'Trainium2', Count: 16, CoreInfo: { Count: 8 }, MemoryInfo: { SizeInMiB: 524_288 } }], TotalNeuronDeviceMemoryInMiB: 8_388_608 },
      NetworkInfo: { NetworkPerformance: '16x 200 Gigabit', EfaInfo: { MaximumEfaInterfaces: 16 } },
    });
    expect(api.accelerator?.memoryMiB).toBe(524_288);
    const [fixed] = applyOverrides([api]).types;
    expect(fixed?.accelerator?.memoryMiB).toBe(98_304);
    expect(fixed).toEqual(catalog.types.find((t) => t.type === 'trn2.48xlarge'));
  });
});

describe('instance-catalog/capacity-blocks.json', () => {
  const rates = Object.entries(blocks.usdPerHour).flatMap(([type, byLocation]) => Object.entries(byLocation).map(([where, usd]) => ({ type, where, usd })));

  it('rates only catalogued types, each a positive USD per instance-hour, with source and dates', () => {
    const known = new Set(catalog.types.map((t) => t.type));
    for (const reading of [blocks, blocks.previous]) {
      expect(reading?.readAt).toMatch(rfc3339);
      expect(reading?.source).toMatch(/koyakimu\/ec2-capacity-blocks-for-ml-pricing-json@[0-9a-f]{7}/);
      for (const [type, byLocation] of Object.entries(reading?.usdPerHour ?? {})) {
        expect(known.has(type), type).toBe(true);
        for (const [where, usd] of Object.entries(byLocation)) {
          expect(where, type).toMatch(/^[a-z]{2}(-gov)?-[a-z]+-\d(-[a-z]{3}-\d[a-z])?$/);
          expect(usd, `${type} ${where}`).toBeGreaterThan(0);
        }
      }
    }
    expect([blocks.readAt, blocks.previous?.readAt]).toEqual(['2026-07-22T07:14:56Z', '2026-03-01T00:40:29Z']);
    expect(rates.length).toBeGreaterThan(60);
  });

  it('keeps the published rates of the main types, current and previous', () => {
    const at = (r: CapacityBlockData['usdPerHour'] | undefined, type: string, where: string): number | undefined => r?.[type]?.[where];
    expect(at(blocks.usdPerHour, 'p5.48xlarge', 'us-east-1')).toBe(41.528);
    expect(at(blocks.previous?.usdPerHour, 'p5.48xlarge', 'us-east-1')).toBe(31.464);
    expect(at(blocks.usdPerHour, 'p5e.48xlarge', 'us-east-2')).toBe(47.76);
    expect(at(blocks.usdPerHour, 'trn2.48xlarge', 'us-east-2')).toBe(35.7608);
    expect(at(blocks.usdPerHour, 'trn2.3xlarge', 'sa-east-1')).toBe(2.235);
    expect(at(blocks.previous?.usdPerHour, 'trn2.3xlarge', 'sa-east-1')).toBeUndefined();
    expect(at(blocks.usdPerHour, 'p6-b300.48xlarge', 'us-east-1')).toBe(112.32);
  });

  it('sells every type without an on-demand price, none of them in us-east-1', () => {
    for (const type of blockOnly) {
      expect(Object.keys(blocks.usdPerHour[type] ?? {}).length, type).toBeGreaterThan(0);
      expect(blocks.usdPerHour[type]?.['us-east-1'], type).toBeUndefined();
    }
  });

  it('is loaded with the catalog: this region\'s rates, and every location of each type', () => {
    const loaded = loadCatalog(join(repoRoot, 'instance-catalog'), 'us-east-1');
    expect(loaded.capacityBlockUsdPerHour).toMatchObject({ 'p5.48xlarge': 41.528, 'p4d.24xlarge': 11.8, 'trn1.32xlarge': 9.532 });
    expect(loaded.capacityBlockUsdPerHour['p5e.48xlarge']).toBeUndefined();
    expect(loaded.capacityBlockLocations['trn2.48xlarge']).toEqual(['us-east-2']);
    expect(loaded.capacityBlockLocations['trn2.3xlarge']).toEqual(['ap-southeast-4', 'sa-east-1']);
    expect(Object.keys(loaded.onDemandUsdPerHour)).toHaveLength(catalog.types.length - blockOnly.length);
  });
});
