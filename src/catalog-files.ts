// Reads the instance catalog shipped in instance-catalog/: the types, and the on-demand prices of one
// region (none when that region's file is absent: every price is then unknown, never guessed).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CatalogData, InstanceTypeInfo, PriceData } from './domain/instance-type.js';

export interface LoadedCatalog {
  readonly types: ReadonlyMap<string, InstanceTypeInfo>;
  readonly onDemandUsdPerHour: Readonly<Record<string, number>>;
}

export function loadCatalog(dir: string, region: string): LoadedCatalog {
  const data = JSON.parse(readFileSync(join(dir, 'instance-types.json'), 'utf8')) as CatalogData;
  const priceFile = join(dir, 'prices', `${region}.json`);
  const prices = existsSync(priceFile) ? (JSON.parse(readFileSync(priceFile, 'utf8')) as PriceData).onDemandUsdPerHour : {};
  return { types: new Map(data.types.map((t) => [t.type, t])), onDemandUsdPerHour: prices };
}
