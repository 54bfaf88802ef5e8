// Spot prices the instance catalog may carry for a region (instance-catalog/spot/<region>.json):
// a reading of DescribeSpotPriceHistory with its source and time, so that `orca catalog` and
// `orca validate` can show a recent spot price without calling AWS. ORCA itself never launches
// on these figures: the provider reads live spot prices at launch. Absent file: no figures.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const SpotFile = z.strictObject({
  region: z.string(),
  /** Where the figures come from (e.g. "DescribeSpotPriceHistory, Linux/UNIX"). */
  source: z.string().min(1),
  /** RFC 3339 time the figures were read. */
  readAt: z.string().min(1),
  /** USD per hour by instance type, then by Availability Zone. */
  usdPerHour: z.record(z.string(), z.record(z.string(), z.number().positive())),
});

export type SpotFigures = z.infer<typeof SpotFile>;

/** The file the figures of `region` are read from. */
export const spotFile = (dir: string, region: string): string => join(dir, 'spot', `${region}.json`);

/** The catalog's spot figures of `region`; undefined when it has none; an Error naming the file when the file is malformed. */
export function loadSpotFigures(dir: string, region: string): SpotFigures | undefined {
  const file = spotFile(dir, region);
  if (!existsSync(file)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not JSON (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
  const r = SpotFile.safeParse(raw);
  if (!r.success) throw new Error(`${file}: ${r.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ')}`);
  return r.data;
}

/** The lowest figure of a type over its zones, and the zone it is in; undefined when the type has none. */
export function lowestSpot(f: SpotFigures | undefined, type: string): { readonly zone: string; readonly usdPerHour: number } | undefined {
  const byZone = Object.entries(f?.usdPerHour[type] ?? {}).sort(([za, a], [zb, b]) => a - b || za.localeCompare(zb));
  const first = byZone[0];
  return first === undefined ? undefined : { zone: first[0], usdPerHour: first[1] };
}
