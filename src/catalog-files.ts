// Reads the instance catalog shipped in instance-catalog/: the types, the on-demand prices of one
// region (none when that region's file is absent: every price is then unknown, never guessed), and
// the Capacity Block for ML rates (capacity-blocks.json, every location in one file).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CapacityBlockData, CatalogData, InstanceTypeInfo, PriceData } from './domain/instance-type.js';

export interface LoadedCatalog {
  readonly types: ReadonlyMap<string, InstanceTypeInfo>;
  readonly onDemandUsdPerHour: Readonly<Record<string, number>>;
  /** Effective USD per instance-hour of a Capacity Block in this region, by type; absent: none sold here. */
  readonly capacityBlockUsdPerHour: Readonly<Record<string, number>>;
  /** Every location (regions, Local Zones) where each type is sold through Capacity Blocks, sorted. */
  readonly capacityBlockLocations: Readonly<Record<string, readonly string[]>>;
}

const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

function capacityBlocks(dir: string, region: string): Pick<LoadedCatalog, 'capacityBlockUsdPerHour' | 'capacityBlockLocations'> {
  const file = join(dir, 'capacity-blocks.json');
  const rates = existsSync(file) ? (readJson(file) as CapacityBlockData).usdPerHour : {};
  const here: Record<string, number> = {};
  const locations: Record<string, readonly string[]> = {};
  for (const [type, byLocation] of Object.entries(rates)) {
    const usd = byLocation[region];
    if (usd !== undefined) here[type] = usd;
    locations[type] = Object.keys(byLocation).sort();
  }
  return { capacityBlockUsdPerHour: here, capacityBlockLocations: locations };
}

export function loadCatalog(dir: string, region: string): LoadedCatalog {
  const data = readJson(join(dir, 'instance-types.json')) as CatalogData;
  const priceFile = join(dir, 'prices', `${region}.json`);
  const prices = existsSync(priceFile) ? (readJson(priceFile) as PriceData).onDemandUsdPerHour : {};
  return { types: new Map(data.types.map((t) => [t.type, t])), onDemandUsdPerHour: prices, ...capacityBlocks(dir, region) };
}
