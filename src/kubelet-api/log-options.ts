// Pure: a /containerLogs query → the options a kubelet reads from it (kubelet-protocol.md §3.3), or
// the problem, as a kubelet validates it: tailLines ≥ 0 (or the legacy tail=all), limitBytes ≥ 1,
// sinceSeconds ≥ 1, not both sinceSeconds and sinceTime; booleans as Go's strconv.ParseBool reads them.
import { err, ok, type Result } from '../domain/result.js';
import type { LogOptions } from '../provider/provider.js';

type Query = Readonly<Record<string, string | readonly string[] | undefined>>;

const first = (v: string | readonly string[] | undefined): string | undefined => (typeof v === 'string' ? v : v?.[0]);

const truthy = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const falsy = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

function bool(q: Query, key: string): Result<boolean, string> {
  const v = first(q[key]);
  if (v === undefined || v === '') return ok(false);
  if (truthy.has(v)) return ok(true);
  return falsy.has(v) ? ok(false) : err(`${key}: "${v}" is not a boolean`);
}

function int(q: Query, key: string, min: number): Result<number | undefined, string> {
  const v = first(q[key]);
  if (v === undefined || v === '') return ok(undefined);
  const n = Number(v);
  if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(n)) return err(`${key}: "${v}" is not an integer`);
  return n < min ? err(`${key}: must be greater than or equal to ${String(min)}`) : ok(n);
}

function tail(q: Query): Result<number | undefined, string> {
  const legacy = first(q.tail);
  if (first(q.tailLines) === undefined && legacy !== undefined) return legacy === 'all' ? ok(undefined) : int({ tailLines: legacy }, 'tailLines', 0);
  return int(q, 'tailLines', 0);
}

function sinceTime(q: Query): Result<Date | undefined, string> {
  const v = first(q.sinceTime);
  if (v === undefined || v === '') return ok(undefined);
  const t = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(v) ? Date.parse(v) : Number.NaN;
  return Number.isNaN(t) ? err(`sinceTime: "${v}" is not an RFC 3339 time`) : ok(new Date(t));
}

interface Parsed {
  readonly follow: boolean;
  readonly previous: boolean;
  readonly timestamps: boolean;
  readonly tail: number | undefined;
  readonly limit: number | undefined;
  readonly seconds: number | undefined;
  readonly time: Date | undefined;
}

/** Every field parsed, or every problem. */
function parseAll(q: Query): Result<Parsed, string[]> {
  const r = { follow: bool(q, 'follow'), previous: bool(q, 'previous'), timestamps: bool(q, 'timestamps'), tail: tail(q), limit: int(q, 'limitBytes', 1), seconds: int(q, 'sinceSeconds', 1), time: sinceTime(q) };
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) {
    if (v.ok) values[k] = v.value;
    else problems.push(v.error);
  }
  return problems.length > 0 ? err(problems) : ok(values as unknown as Parsed);
}

/** The query's log options at `now`; every problem at once, in the order of the query keys above. */
export function parseLogOptions(q: Query, now: Date): Result<LogOptions, string> {
  const r = parseAll(q);
  if (!r.ok) return err(r.error.join('; '));
  const p = r.value;
  if (p.seconds !== undefined && p.time !== undefined) return err('at most one of sinceTime or sinceSeconds may be specified');
  const since = p.seconds === undefined ? p.time : new Date(now.getTime() - p.seconds * 1000);
  return ok({
    follow: p.follow, previous: p.previous, timestamps: p.timestamps,
    ...(p.tail === undefined ? {} : { tailLines: p.tail }),
    ...(p.limit === undefined ? {} : { limitBytes: p.limit }),
    ...(since === undefined ? {} : { since }),
  });
}

/** A log line's timestamp as a kubelet writes it with timestamps=true: always nine fractional digits, UTC. */
export function kubeletTimestamp(ms: number): string {
  const iso = new Date(ms).toISOString();
  const frac = String((ms % 1000) * 1_000_000).padStart(9, '0');
  return `${iso.slice(0, 19)}.${frac}Z`;
}
