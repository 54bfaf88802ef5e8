// Every orca.research/* pod annotation in one table — its type, default and meaning — and the one
// parser that turns a pod's annotations into typed hints or the list of every problem (never a silent
// default). docs/annotations.md is kept in step with this table by a test.
import { err, ok, type Result } from './result.js';

export const PREFIX = 'orca.research/';

export type CapacityType = 'reserved' | 'spot' | 'on-demand';
export type ReservationPreference = 'open' | 'none' | 'targeted';
export type OnInterruption = 'fail' | 'relaunch';

export interface PodHints {
  readonly instanceType?: string;
  readonly workloadTemplate?: string;
  /** Capacity to try, in order. */
  readonly capacityOrder: readonly CapacityType[];
  /** USD per hour; only with spot in capacityOrder. */
  readonly maxSpotPrice?: number;
  readonly capacityReservationId?: string;
  readonly capacityReservationPreference?: ReservationPreference;
  readonly capacityBlockId?: string;
  readonly ami?: string;
  readonly maxLifetimeSeconds?: number;
  /** Stop the pod when its accelerators have been idle this long. */
  readonly idleTimeoutSeconds?: number;
  readonly subnet?: string;
  readonly zone?: string;
  readonly onInterruption: OnInterruption;
  readonly budgetNamespace?: string;
  readonly terminationProtection: boolean;
  readonly debug: boolean;
}

export interface HintError {
  readonly key: string;
  readonly value: string;
  readonly problem: string;
}

/** Defaults that come from ORCA's configuration rather than from the table. */
export interface HintDefaults {
  readonly capacityOrder: readonly CapacityType[];
  readonly onInterruption: OnInterruption;
}

type Parsed = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly problem: string };
const good = (value: unknown): Parsed => ({ ok: true, value });
const bad = (problem: string): Parsed => ({ ok: false, problem });

function pattern(re: RegExp, expected: string): (v: string) => Parsed {
  return (v) => (re.test(v) ? good(v) : bad(`expected ${expected}`));
}

function oneOf(values: readonly string[]): (v: string) => Parsed {
  return (v) => (values.includes(v) ? good(v) : bad(`expected one of ${values.join(', ')}`));
}

function bool(v: string): Parsed {
  if (v === 'true' || v === 'false') return good(v === 'true');
  return bad('expected true or false');
}

function capacityList(v: string): Parsed {
  const items = v.split(',').map((s) => s.trim());
  const allowed: readonly string[] = ['reserved', 'spot', 'on-demand'];
  const unknown = items.filter((i) => !allowed.includes(i));
  if (unknown.length > 0) return bad(`expected a comma-separated order of reserved, spot, on-demand; "${unknown.join(', ')}" is not one`);
  if (new Set(items).size !== items.length) return bad('lists a capacity type twice');
  return good(items);
}

function usdPerHour(v: string): Parsed {
  if (!/^\d+(\.\d+)?$/.test(v)) return bad('expected a price in USD per hour, such as "12.50"');
  const n = Number(v);
  return n > 0.001 ? good(n) : bad('must be more than 0.001 USD per hour');
}

const unitSeconds: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Durations such as 30m, 4h, 7d or 1h30m; at most 365 days. */
export function parseDuration(v: string): number | undefined {
  if (!/^(\d+[smhd])+$/.test(v)) return undefined;
  let total = 0;
  for (const m of v.matchAll(/(\d+)([smhd])/g)) total += Number(m[1]) * (unitSeconds[m[2] ?? 's'] ?? 1);
  return total;
}

function duration(v: string): Parsed {
  const s = parseDuration(v);
  if (s === undefined) return bad('expected a duration such as 30m, 4h, 7d or 1h30m');
  return s > 0 && s <= 365 * 86_400 ? good(s) : bad('must be more than 0 and at most 365d');
}

const refusal = (why: string) => (): Parsed => bad(why);

interface Entry {
  readonly field?: keyof PodHints;
  readonly parse: (v: string) => Parsed;
  readonly type: string;
  readonly default: string;
  readonly doc: string;
}

const id = (prefix: string): RegExp => new RegExp(`^${prefix}-[0-9a-f]{8,17}$`);

/** The registry: every key ORCA reads. A key not here is an error on the pod. */
export const annotations: Readonly<Record<string, Entry>> = {
  'instance-type': { field: 'instanceType', parse: pattern(/^[a-z][a-z0-9-]*\.[a-z0-9-]+$/, 'an EC2 instance type such as p5.48xlarge'), type: 'EC2 instance type', default: '—', doc: 'The instance type to run the pod on, e.g. `p5.48xlarge`.' },
  'workload-template': { field: 'workloadTemplate', parse: pattern(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a template name from the configuration'), type: 'name', default: '—', doc: 'A named template from the configuration (instance type and launch settings).' },
  'launch-type': { field: 'capacityOrder', parse: capacityList, type: 'ordered list of `reserved`, `spot`, `on-demand`', default: 'from configuration', doc: 'Capacity to try, in order, e.g. `spot,on-demand`. `reserved` uses the reservation the pod names, else an active capacity reservation of the account with free instances of the type in a configured zone.' },
  'max-spot-price': { field: 'maxSpotPrice', parse: usdPerHour, type: 'USD per hour', default: 'the on-demand price', doc: 'Highest spot price to pay; needs `spot` in `launch-type`.' },
  'spot-max-price': { parse: refusal('is not an ORCA annotation: use orca.research/max-spot-price'), type: '—', default: '—', doc: 'Refused: a misspelling the Go ORCA\'s examples used; use `max-spot-price`.' },
  'capacity-reservation-id': { field: 'capacityReservationId', parse: pattern(id('cr'), 'a capacity reservation id such as cr-0123456789abcdef0'), type: '`cr-…`', default: '—', doc: 'An On-Demand Capacity Reservation to launch into, tried where `reserved` stands in `launch-type`; ORCA launches it into the pod\'s `subnet`, else the first of `aws.subnets`.' },
  'capacity-reservation-preference': { field: 'capacityReservationPreference', parse: oneOf(['open', 'none', 'targeted']), type: '`open`, `none`, `targeted`', default: '`targeted` with an id, else `open`', doc: 'Whether on-demand launches may land in a matching open reservation (`open`) or never (`none`); `targeted` needs `capacity-reservation-id` and sends on-demand launches as `open`.' },
  'capacity-block-id': { field: 'capacityBlockId', parse: pattern(id('cr'), 'a Capacity Block id such as cr-0123456789abcdef0'), type: '`cr-…`', default: '—', doc: 'A Capacity Block for ML to launch into: every launch that is not spot goes into the block, in the pod\'s `subnet`, else the first of `aws.subnets`; put `reserved` in `launch-type` for types sold only as blocks.' },
  ami: { field: 'ami', parse: pattern(id('ami'), 'an AMI id such as ami-0123456789abcdef0'), type: '`ami-…`', default: 'per accelerator, from SSM public parameters', doc: 'The AMI to boot instead of the default Deep Learning / Neuron AMI.' },
  'max-lifetime': { field: 'maxLifetimeSeconds', parse: duration, type: 'duration (`30m`, `4h`, `7d`)', default: '—', doc: 'Fail the pod and terminate its instance after this long.' },
  'idle-timeout': { field: 'idleTimeoutSeconds', parse: duration, type: 'duration (`30m`, `4h`, `7d`)', default: 'the budget\'s `idleTimeout`, else never', doc: 'Stop the pod (`IdleTimeout`) and terminate its instance when all its GPUs or NeuronCores have been idle this long, as the agent measures them.' },
  subnet: { field: 'subnet', parse: pattern(id('subnet'), 'a subnet id such as subnet-0123456789abcdef0'), type: '`subnet-…`', default: 'any configured subnet', doc: 'Launch only into this subnet; it must be one of `aws.subnets` (else the pod is refused, naming them). With `zone`, the subnet must be in that zone.' },
  zone: { field: 'zone', parse: pattern(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$|^[a-z]{3,4}\d?-az\d+$/, 'an Availability Zone such as us-east-1b'), type: 'AZ name', default: 'any configured zone', doc: 'Launch only into this Availability Zone; one of `aws.subnets` must be in it. Zone ids (`use1-az2`) are refused with the configured zone names: names are what `aws.subnets` configures.' },
  'on-interruption': { field: 'onInterruption', parse: oneOf(['fail', 'relaunch']), type: '`fail`, `relaunch`', default: 'from configuration', doc: 'On a spot interruption: fail the pod (`SpotInterrupted`, Jobs retry) or relaunch it.' },
  'budget-namespace': { field: 'budgetNamespace', parse: pattern(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a lowercase name such as biology-dept'), type: 'name', default: 'the pod\'s namespace', doc: 'The namespace whose budgets pay for the launch; only when they list the pod\'s namespace in `allowChargesFrom`, else the pod is rejected (`BudgetChargeNotAllowed`).' },
  'termination-protection': { field: 'terminationProtection', parse: bool, type: '`true`, `false`', default: '`false`', doc: 'Turn on EC2 termination protection: the instance cannot be terminated outside ORCA (console, scripts). ORCA lifts it before it terminates the instance itself (pod end, deletion, max-lifetime, collection).' },
  debug: { field: 'debug', parse: bool, type: '`true`, `false`', default: '`false`', doc: 'Log this pod\'s provider decisions (launch plan, deletion, each action on its agent\'s report) at debug level, whatever `logging.level` says for other pods.' },
  'user-data': { parse: refusal('is not supported: instances are generic workers; give the pod its settings through env, ConfigMaps or Secrets'), type: '—', default: '—', doc: 'Refused: user data never carries pod data (see docs/architecture.md).' },
};

function crossChecks(h: PodHints): HintError[] {
  const out: HintError[] = [];
  const k = (key: string): string => PREFIX + key;
  if (h.maxSpotPrice !== undefined && !h.capacityOrder.includes('spot')) {
    out.push({ key: k('max-spot-price'), value: String(h.maxSpotPrice), problem: 'needs spot in orca.research/launch-type' });
  }
  if (h.capacityReservationPreference === 'targeted' && h.capacityReservationId === undefined) {
    out.push({ key: k('capacity-reservation-preference'), value: 'targeted', problem: 'needs orca.research/capacity-reservation-id' });
  }
  if (h.capacityBlockId !== undefined && h.capacityReservationId !== undefined) {
    out.push({ key: k('capacity-block-id'), value: h.capacityBlockId, problem: 'cannot be combined with orca.research/capacity-reservation-id' });
  }
  if (h.instanceType !== undefined && h.workloadTemplate !== undefined) {
    out.push({ key: k('workload-template'), value: h.workloadTemplate, problem: 'cannot be combined with orca.research/instance-type' });
  }
  return out;
}

/** Parses every orca.research/* annotation; returns all problems at once. Other annotations are ignored. */
export function parsePodHints(a: Readonly<Record<string, string>>, defaults: HintDefaults): Result<PodHints, HintError[]> {
  const problems: HintError[] = [];
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(a)) {
    if (!key.startsWith(PREFIX)) continue;
    const entry = annotations[key.slice(PREFIX.length)];
    if (entry === undefined) {
      problems.push({ key, value, problem: 'is not an ORCA annotation (see docs/annotations.md)' });
      continue;
    }
    const r = entry.parse(value.trim());
    if (!r.ok) problems.push({ key, value, problem: r.problem });
    else if (entry.field !== undefined) fields[entry.field] = r.value;
  }
  const hints = {
    capacityOrder: defaults.capacityOrder, onInterruption: defaults.onInterruption, terminationProtection: false, debug: false,
    ...fields,
  } as PodHints;
  if (problems.length === 0) problems.push(...crossChecks(hints));
  return problems.length > 0 ? err(problems) : ok(hints);
}

/** One line per problem, for a pod Event and status message. */
export function describeHintErrors(errors: readonly HintError[]): string {
  return errors.map((e) => `${e.key}: "${e.value}" ${e.problem}`).join('; ');
}
