import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from './catalog-files.js';

function catalogDir(files: Readonly<Record<string, unknown>>): string {
  const dir = mkdtempSync(join(tmpdir(), 'orca-catalog-files-'));
  mkdirSync(join(dir, 'prices'));
  for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), JSON.stringify(data));
  return dir;
}
const types = { source: 's', readAt: '2026-01-01T00:00:00Z', types: [{ type: 'p5.48xlarge' }, { type: 'p5e.48xlarge' }] };

describe('loadCatalog', () => {
  it('picks the region\'s Capacity Block rates and lists every location of each type', () => {
    const dir = catalogDir({
      'instance-types.json': types,
      'prices/us-east-2.json': { region: 'us-east-2', source: 's', readAt: 'r', onDemandUsdPerHour: { 'p5.48xlarge': 55.04 } },
      'capacity-blocks.json': { source: 's', readAt: 'r', meaning: 'm', usdPerHour: { 'p5.48xlarge': { 'us-west-2': 41.5, 'us-east-2': 41.528 }, 'p5e.48xlarge': { 'us-west-2': 47.76 } } },
    });
    const c = loadCatalog(dir, 'us-east-2');
    expect([...c.types.keys()]).toEqual(['p5.48xlarge', 'p5e.48xlarge']);
    expect(c.onDemandUsdPerHour).toEqual({ 'p5.48xlarge': 55.04 });
    expect(c.capacityBlockUsdPerHour).toEqual({ 'p5.48xlarge': 41.528 });
    expect(c.capacityBlockLocations).toEqual({ 'p5.48xlarge': ['us-east-2', 'us-west-2'], 'p5e.48xlarge': ['us-west-2'] });
  });

  it('knows no price at all when the files are absent, rather than guessing', () => {
    const c = loadCatalog(catalogDir({ 'instance-types.json': types }), 'eu-west-1');
    expect([c.onDemandUsdPerHour, c.capacityBlockUsdPerHour, c.capacityBlockLocations]).toEqual([{}, {}, {}]);
  });
});
