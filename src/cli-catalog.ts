// `orca catalog`: the instance types of the shipped catalog — accelerators, vCPUs, memory, the
// on-demand price in one region and, when the catalog carries spot figures for it, the lowest recent
// spot price — as a table that fits 100 columns, JSON or YAML. Reads only instance-catalog/.
import { stringify } from 'yaml';
import type { LoadedCatalog } from './catalog-files.js';
import { lowestSpot, type SpotFigures } from './catalog-spot.js';
import type { Accelerator, AcceleratorKind, InstanceTypeInfo } from './domain/instance-type.js';
import { alignedTable } from './reports/text.js';
import { boldHeader, gib, usd, wrap, type Paint } from './cli-text.js';

export type AcceleratorFilter = AcceleratorKind | 'none';

export interface CatalogFilter {
  readonly accelerator?: AcceleratorFilter;
  /** A family such as p5 (the part of the type before the dot). */
  readonly family?: string;
}

export interface CatalogRow {
  readonly type: string;
  readonly family: string;
  readonly accelerator: Accelerator | null;
  readonly vcpus: number;
  readonly memoryMiB: number;
  /** Null when the catalog has no on-demand price for the type in the region. */
  readonly onDemandUsdPerHour: number | null;
  /** No on-demand price because AWS sells the type through Capacity Blocks for ML only. */
  readonly capacityBlockOnly: boolean;
  /** The lowest of the catalog's spot figures for the type, over the region's zones; null without one. */
  readonly spot: { readonly usdPerHour: number; readonly zone: string } | null;
}

export interface CatalogReport {
  readonly region: string;
  /** Where the on-demand prices come from; null when the catalog has none for the region. */
  readonly onDemandFile: string | null;
  /** Where the spot figures come from; null when the catalog has none for the region. */
  readonly spot: { readonly source: string; readonly readAt: string } | null;
  readonly types: readonly CatalogRow[];
}

export const familyOf = (type: string): string => type.split('.')[0] ?? type;

function matches(t: InstanceTypeInfo, f: CatalogFilter): boolean {
  if (f.family !== undefined && familyOf(t.type) !== f.family) return false;
  if (f.accelerator === undefined) return true;
  return (t.accelerator?.kind ?? 'none') === f.accelerator;
}

function row(t: InstanceTypeInfo, c: LoadedCatalog, spot: SpotFigures | undefined): CatalogRow {
  const onDemand = c.onDemandUsdPerHour[t.type];
  // Without a price file for the region every price is unknown: that says nothing of Capacity Blocks.
  const priced = Object.keys(c.onDemandUsdPerHour).length > 0;
  return {
    type: t.type, family: familyOf(t.type), accelerator: t.accelerator ?? null, vcpus: t.vcpus, memoryMiB: t.memoryMiB,
    onDemandUsdPerHour: onDemand ?? null, capacityBlockOnly: priced && onDemand === undefined && (c.capacityBlockLocations[t.type] ?? []).length > 0,
    spot: lowestSpot(spot, t.type) ?? null,
  };
}

/** The catalog's types that pass the filter, by family, then size, then name. */
export function catalogReport(c: LoadedCatalog, input: { readonly region: string; readonly onDemandFile: string | null; readonly spot?: SpotFigures | undefined; readonly filter: CatalogFilter }): CatalogReport {
  const types = [...c.types.values()].filter((t) => matches(t, input.filter)).map((t) => row(t, c, input.spot))
    .sort((a, b) => a.family.localeCompare(b.family) || a.vcpus - b.vcpus || a.type.localeCompare(b.type));
  const spot = input.spot === undefined ? null : { source: input.spot.source, readAt: input.spot.readAt };
  return { region: input.region, onDemandFile: input.onDemandFile, spot, types };
}

/** The families of the catalog, for the message when nothing matches. */
export function families(c: LoadedCatalog): string[] {
  return [...new Set([...c.types.keys()].map(familyOf))].sort();
}

function onDemandCell(r: CatalogRow): string {
  if (r.onDemandUsdPerHour !== null) return usd(r.onDemandUsdPerHour);
  return r.capacityBlockOnly ? 'block' : '-';
}

const HEADER = ['TYPE', 'ACCEL', 'N', 'MODEL', 'ACC-MEM', 'VCPU', 'MEMORY', 'ON-DEMAND', 'SPOT'];

function cells(r: CatalogRow): string[] {
  const a = r.accelerator;
  return [
    r.type, a?.kind ?? '-', a === null ? '-' : String(a.count), a?.model ?? '-', a === null ? '-' : gib(a.memoryMiB),
    String(r.vcpus), gib(r.memoryMiB), onDemandCell(r), r.spot === null ? '-' : usd(r.spot.usdPerHour),
  ];
}

/** What the price columns mean and where they come from, each line within 100 columns. */
export function catalogNotes(report: CatalogReport): string[] {
  const od = report.onDemandFile === null
    ? `ON-DEMAND: the catalog has no on-demand prices for ${report.region}: ORCA refuses on-demand capacity there until they are added.`
    : `ON-DEMAND: USD per hour in ${report.region}, Linux, from ${report.onDemandFile}.`;
  const spot = report.spot === null
    ? `SPOT: the catalog has no spot figures for ${report.region}; ORCA reads live spot prices (DescribeSpotPriceHistory) when it launches.`
    : `SPOT: the lowest over ${report.region}'s zones, USD per hour, from the catalog's spot figures (${report.spot.source}, read ${report.spot.readAt}); ORCA launches on live spot prices.`;
  const block = report.types.some((t) => t.capacityBlockOnly) ? ['block: sold through Capacity Blocks for ML only (orca.research/capacity-block-id).'] : [];
  return [od, spot, ...block].flatMap((n) => wrap(n, '  '));
}

export function renderCatalogTable(report: CatalogReport, paint: Paint): string {
  const table = alignedTable(HEADER, report.types.map(cells), new Set([2, 4, 5, 6, 7, 8]));
  return `${boldHeader(table, paint)}\n${catalogNotes(report).map((l) => `${paint('dim', l)}\n`).join('')}`;
}

export const renderCatalogJson = (report: CatalogReport): string => `${JSON.stringify(report, null, 2)}\n`;

export const renderCatalogYaml = (report: CatalogReport): string => stringify(report);
