// Pure: a BurstBudget's spec as the API returns it (plain JSON) → the BudgetSpec ORCA enforces, or
// every problem with its field path. The CRD (deploy/crds/burstbudgets.orca.research.yaml) refuses
// most bad input at the apiserver; this parser applies the same defaults (a budget stored before a
// default existed still parses) and the same bounds, and checks what a schema cannot: that the time
// zone is one the runtime knows, that durations are in range. Unknown fields are ignored (refusing
// them is the apiserver's job).

import { err, ok, type Result } from '../domain/result.js';
import type { BudgetPeriod, BudgetRules, CapacityType, PeriodKind } from './budget-types.js';
import { microUsdFromUsd } from './money.js';
import { checkPeriod } from './period.js';

export type OnLimit = 'Hold' | 'HoldAndDrain';

/** A BurstBudget's spec, checked and with its defaults. */
export interface BudgetSpec extends BudgetRules {
  /** At the limit: Hold new launches, or also drain the running ones. */
  readonly onLimit: OnLimit;
  readonly idleTimeoutSeconds?: number;
  /** The BurstBudget's metadata.uid; parseBudgetSpec never sets it (the caller adds it). */
  readonly uid?: string;
}

/** The largest limitUSD a budget may have (the CRD's maximum too). */
export const MAX_LIMIT_USD = 1e9;
/** The longest defaultMaxRuntime or idleTimeout, in seconds: 365 days. */
export const MAX_DURATION_SECONDS = 365 * 86_400;
/** The accelerator resources maxAccelerators may cap. */
export const ACCELERATOR_RESOURCES = ['nvidia.com/gpu', 'aws.amazon.com/neuron'] as const;

const PERIOD_KINDS: readonly PeriodKind[] = ['Monthly', 'Weekly', 'Daily', 'Total'];
const CAPACITY_TYPES: readonly CapacityType[] = ['reserved', 'spot', 'on-demand'];
const ON_LIMIT: readonly OnLimit[] = ['Hold', 'HoldAndDrain'];
const DEFAULT_WARN_AT_PERCENT: readonly number[] = [50, 80, 100];
/** The CRD's default defaultMaxRuntime, "24h". */
export const DEFAULT_MAX_RUNTIME_SECONDS = 24 * 3600;

const TIME_ZONE = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;
const FAMILY = /^[a-z][a-z0-9-]*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Days, hours, minutes, seconds, in that order, each at most once: "24h", "90m", "1h30m", "2d". */
const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
const UNIT_SECONDS = [86_400, 3600, 60, 1] as const;

/**
 * Seconds of a duration such as "24h", "90m", "1h30m" or "2d" (units d, h, m, s in that order, each
 * at most once, whole numbers); undefined for anything else, the empty string included, and for a
 * duration too long to count exactly.
 */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (match === null || text === '') return undefined;
  const seconds = UNIT_SECONDS.reduce((sum, unit, i) => sum + Number(match[i + 1] ?? 0) * unit, 0);
  return Number.isSafeInteger(seconds) ? seconds : undefined;
}

type Json = Readonly<Record<string, unknown>>;

/** A check of one JSON value: the value as a T, or the text of its problem. */
type Check<T> = (v: unknown) => Result<T, string>;

interface NumberRule {
  readonly min: number;
  readonly max?: number;
  readonly integer?: boolean;
}

interface StringRule<S extends string> {
  readonly oneOf?: readonly S[];
  readonly pattern?: RegExp;
  /** What the pattern stands for, in a problem's text ("an instance family such as p5"). */
  readonly shape?: string;
  readonly maxLength?: number;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A value as a problem shows it: JSON, cut short. */
function shown(v: unknown): string {
  const json = JSON.stringify(v) as string | undefined;
  const text = typeof v === 'number' || json === undefined ? String(v) : json;
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

const isNumber = (rule: NumberRule): Check<number> => (v) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) return err(`${shown(v)} is not a finite number`);
  if (rule.integer === true && !Number.isInteger(v)) return err(`${shown(v)} is not a whole number`);
  if (v < rule.min) return err(`${shown(v)} is less than ${rule.min}`);
  return rule.max !== undefined && v > rule.max ? err(`${shown(v)} is more than ${rule.max}`) : ok(v);
};

const isString = <S extends string>(rule: StringRule<S>): Check<S> => (v) => {
  if (typeof v !== 'string') return err(`${shown(v)} is not a string`);
  if (rule.oneOf !== undefined && !(rule.oneOf as readonly string[]).includes(v)) return err(`${shown(v)} is not one of ${rule.oneOf.join(', ')}`);
  if (rule.maxLength !== undefined && v.length > rule.maxLength) return err(`${shown(v)} is longer than ${rule.maxLength} characters`);
  const fits = rule.pattern === undefined || rule.pattern.test(v);
  return fits ? ok(v as S) : err(`${shown(v)} is not ${rule.shape ?? 'of the expected form'}`);
};

/** The fields of one JSON object at `path`, read with every problem collected in `problems`. */
class Fields {
  constructor(readonly json: Json, readonly path: string, readonly problems: string[]) {}

  /** The path of field `key`: spec.period, or spec.maxAccelerators["nvidia.com/gpu"]. */
  at(key: string): string {
    return /^[A-Za-z_]\w*$/.test(key) ? `${this.path}.${key}` : `${this.path}[${JSON.stringify(key)}]`;
  }

  problem(path: string, text: string): void {
    this.problems.push(`${path}: ${text}`);
  }

  /** A nested object: empty when absent (so its defaults apply), undefined with a problem when not an object. */
  object(key: string): Fields | undefined {
    const v = this.json[key];
    if (v === undefined || isObject(v)) return new Fields(v ?? {}, this.at(key), this.problems);
    this.problem(this.at(key), `${shown(v)} is not an object`);
    return undefined;
  }

  /** Field `key` when it passes `check`; undefined when it is absent, or bad (with a problem). */
  read<T>(key: string, check: Check<T>): T | undefined {
    return this.#read(this.json[key], this.at(key), check);
  }

  /** A list whose every item passes `check`; undefined when absent, or when it or any item is bad. */
  list<T>(key: string, check: Check<T>, maxItems = Infinity): T[] | undefined {
    const v = this.json[key];
    const path = this.at(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) this.problem(path, `${shown(v)} is not a list`);
    else if (v.length > maxItems) this.problem(path, `has ${v.length} items, more than ${maxItems}`);
    else return this.#items(v, path, check);
    return undefined;
  }

  #items<T>(list: readonly unknown[], path: string, check: Check<T>): T[] | undefined {
    const items: T[] = [];
    for (const [i, item] of list.entries()) {
      const checked = check(item);
      if (checked.ok) items.push(checked.value);
      else this.problem(`${path}[${i}]`, checked.error);
    }
    return items.length === list.length ? items : undefined;
  }

  #read<T>(v: unknown, path: string, check: Check<T>): T | undefined {
    if (v === undefined) return undefined;
    const checked = check(v);
    if (checked.ok) return checked.value;
    this.problem(path, checked.error);
    return undefined;
  }
}

/** `{ [key]: value }`, or nothing when the value is absent (for exact optional properties). */
function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return (value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>;
}

function readPeriod(spec: Fields): BudgetPeriod {
  const fields = spec.object('period');
  const period: BudgetPeriod = {
    kind: fields?.read('kind', isString({ oneOf: PERIOD_KINDS })) ?? 'Monthly',
    resetDay: fields?.read('resetDay', isNumber({ min: 1, max: 31, integer: true })) ?? 1,
    timeZone: fields?.read('timeZone', isString({ pattern: TIME_ZONE, shape: 'an IANA time zone name such as Europe/Berlin', maxLength: 64 })) ?? 'UTC',
  };
  // A bad field was replaced by its default above, so these are only the problems not yet reported.
  if (fields !== undefined) for (const p of checkPeriod(period)) spec.problems.push(`${fields.path}.${p}`);
  return period;
}

/** The limit in micro-dollars; 0 with a problem when it is missing or bad. */
function readLimit(spec: Fields): number {
  if (spec.json.limitUSD === undefined) spec.problem(spec.at('limitUSD'), 'missing (a number of US dollars, such as 1000)');
  const usd = spec.read('limitUSD', isNumber({ min: 0, max: MAX_LIMIT_USD }));
  return usd === undefined ? 0 : microUsdFromUsd(usd);
}

/** A duration field: seconds, more than zero and at most MAX_DURATION_SECONDS. */
const isDuration: Check<number> = (v) => {
  if (typeof v !== 'string') return err(`${shown(v)} is not a string`);
  const seconds = parseDuration(v);
  if (seconds === undefined) return err(`${shown(v)} is not a duration such as 24h, 90m, 1h30m or 2d`);
  return seconds > 0 && seconds <= MAX_DURATION_SECONDS ? ok(seconds) : err(`${shown(v)} is not more than 0s and at most 365d`);
};

function readAccelerators(spec: Fields): Readonly<Record<string, number>> | undefined {
  if (spec.json.maxAccelerators === undefined) return undefined;
  const fields = spec.object('maxAccelerators');
  if (fields === undefined) return undefined;
  const entries = ACCELERATOR_RESOURCES.flatMap((name): [string, number][] => {
    const max = fields.read(name, isNumber({ min: 0, integer: true }));
    return max === undefined ? [] : [[name, max]];
  });
  return entries.length === 0 ? undefined : Object.fromEntries(entries);
}

type Checks = Pick<BudgetSpec, 'maxConcurrentInstances' | 'allowedFamilies' | 'deniedFamilies' | 'allowedCapacityTypes' | 'allowChargesFrom'>;

function readChecks(spec: Fields): Checks {
  const family = isString({ pattern: FAMILY, shape: 'an instance family such as p5, g6e or trn1', maxLength: 63 });
  return {
    ...optional('maxConcurrentInstances', spec.read('maxConcurrentInstances', isNumber({ min: 0, integer: true }))),
    ...optional('allowedFamilies', spec.list('allowedInstanceFamilies', family)),
    ...optional('deniedFamilies', spec.list('deniedInstanceFamilies', family)),
    ...optional('allowedCapacityTypes', spec.list('allowedCapacityTypes', isString({ oneOf: CAPACITY_TYPES }))),
    ...optional('allowChargesFrom', spec.list('allowChargesFrom', isString({ pattern: DNS_LABEL, shape: 'a namespace name', maxLength: 63 }))),
  };
}

function readRuntime(spec: Fields): Pick<BudgetSpec, 'defaultMaxRuntimeSeconds' | 'idleTimeoutSeconds'> {
  return {
    defaultMaxRuntimeSeconds: spec.read('defaultMaxRuntime', isDuration) ?? DEFAULT_MAX_RUNTIME_SECONDS,
    ...optional('idleTimeoutSeconds', spec.read('idleTimeout', isDuration)),
  };
}

/**
 * The BudgetSpec of BurstBudget `namespace`/`name` from its `spec` (plain JSON), with the CRD's
 * defaults for absent fields; or every problem, each as "<field path>: <what is wrong>", e.g.
 * `spec.period.timeZone: "Mars/Olympus" is not a known IANA time zone`.
 */
export function parseBudgetSpec(namespace: string, name: string, spec: unknown): Result<BudgetSpec, readonly string[]> {
  if (!isObject(spec)) return err([spec === undefined || spec === null ? 'spec: missing' : `spec: ${shown(spec)} is not an object`]);
  const fields = new Fields(spec, 'spec', []);
  const parsed: BudgetSpec = {
    id: `${namespace}/${name}`,
    namespace,
    limit: readLimit(fields),
    period: readPeriod(fields),
    warnAtPercent: fields.list('warnAtPercent', isNumber({ min: 1, max: 1000, integer: true }), 10) ?? DEFAULT_WARN_AT_PERCENT,
    ...optional('maxAccelerators', readAccelerators(fields)),
    ...readChecks(fields),
    ...readRuntime(fields),
    onLimit: fields.read('onLimit', isString({ oneOf: ON_LIMIT })) ?? 'Hold',
  };
  return fields.problems.length === 0 ? ok(parsed) : err(fields.problems);
}
