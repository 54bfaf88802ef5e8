// The shipped catalog data is consistent: every accelerated type has its facts, every price is a
// positive number for a type in the catalog, and nothing was filled in by guesswork.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogFamilies, type CatalogData, type PriceData } from '../../src/catalog/types.js';
import { repoRoot } from '../e2e/testbed/paths.js';

const read = (...p: string[]): unknown => JSON.parse(readFileSync(join(repoRoot, 'instance-catalog', ...p), 'utf8'));
const catalog = read('instance-types.json') as CatalogData;
const prices = read('prices', 'us-east-1.json') as PriceData;

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
    expect(prices.readAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(prices.source.length).toBeGreaterThan(20);
  });

  it('keeps prices that are not monotonic in size as AWS publishes them', () => {
    expect(prices.onDemandUsdPerHour['g6e.16xlarge']).toBeLessThan(prices.onDemandUsdPerHour['g6e.12xlarge'] ?? 0);
    expect(prices.onDemandUsdPerHour['p5e.48xlarge']).toBeUndefined();
  });
});
