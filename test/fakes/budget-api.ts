import type { BudgetBook } from '../../src/policy/budget-book.js';
// An in-memory BurstBudget API — the watched cache of BurstBudgets (put and remove fire onChange),
// their status subresource (every write kept; a write can fail on demand) and Events on them — and a
// BudgetLedger wired to it with a FakeClock, plus builders of asks, options and instance charges.
import { BudgetLedger } from '../../src/budgets/ledger.js';
import type { LedgerSettings } from '../../src/budgets/budget-entries.js';
import { createLogger } from '../../src/observability/logger.js';
import { parseBudgetSpec, type BudgetSpec } from '../../src/policy/budget-spec.js';
import { USD } from '../../src/policy/budget-types.js';
import type { BudgetAsk, ChargeReport, InstanceCharge, LaunchOption } from '../../src/ports/budget-gate.js';
import type { BudgetEventRecorder, BudgetSource, BudgetStatusWriter, BurstBudgetObject, BurstBudgetStatus, ConfigBookStore } from '../../src/ports/budgets.js';
import { FakeClock } from './clock.js';

export interface RecordedEvent {
  /** namespace/name of the BurstBudget. */
  readonly budget: string;
  readonly uid: string;
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

export interface StatusWrite {
  /** namespace/name of the BurstBudget. */
  readonly budget: string;
  readonly status: BurstBudgetStatus;
}

export interface BudgetInit {
  readonly namespace: string;
  readonly name: string;
  readonly spec: unknown;
  readonly status?: unknown;
}

export class FakeBudgetApi implements BudgetSource, BudgetStatusWriter, BudgetEventRecorder {
  readonly #objects = new Map<string, BurstBudgetObject>();
  readonly #handlers: ((id: string) => void)[] = [];
  readonly writes: StatusWrite[] = [];
  readonly events: RecordedEvent[] = [];
  /** The next writeStatus calls reject with these (one call each). */
  readonly failures: Error[] = [];
  /** As the apiserver: a status written lands on the object (same generation) and the watch reports the change. */
  watchesStatus = false;
  /** As a watch: the first list is loaded once run() is called. */
  readonly synced: Promise<void>;
  #markSynced: () => void = () => undefined;
  #uids = 0;

  constructor(budgets: readonly BudgetInit[] = []) {
    for (const b of budgets) this.#set(b);
    this.synced = new Promise((resolve) => { this.#markSynced = resolve; });
  }

  list(): readonly BurstBudgetObject[] {
    return [...this.#objects.values()];
  }

  onChange(handler: (id: string) => void): void {
    this.#handlers.push(handler);
  }

  run(signal: AbortSignal): Promise<void> {
    this.#markSynced();
    return new Promise((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => { resolve(); }, { once: true });
    });
  }

  /** Adds or replaces a budget (a new spec bumps its generation) and tells the watchers. */
  put(b: BudgetInit): BurstBudgetObject {
    const o = this.#set(b);
    for (const h of this.#handlers) h(`${o.namespace}/${o.name}`);
    return o;
  }

  remove(namespace: string, name: string): void {
    this.#objects.delete(`${namespace}/${name}`);
    for (const h of this.#handlers) h(`${namespace}/${name}`);
  }

  get(namespace: string, name: string): BurstBudgetObject | undefined {
    return this.#objects.get(`${namespace}/${name}`);
  }

  #set(b: BudgetInit): BurstBudgetObject {
    const id = `${b.namespace}/${b.name}`;
    const held = this.#objects.get(id);
    const generation = held === undefined ? 1 : (held.generation ?? 0) + 1;
    const status = b.status ?? held?.status;
    const o: BurstBudgetObject = {
      namespace: b.namespace, name: b.name, uid: held?.uid ?? `uid-budget-${++this.#uids}`, generation, spec: b.spec,
      ...(status === undefined ? {} : { status }),
    };
    this.#objects.set(id, o);
    return o;
  }

  writeStatus(namespace: string, name: string, status: BurstBudgetStatus): Promise<void> {
    const failure = this.failures.shift();
    if (failure !== undefined) return Promise.reject(failure);
    const id = `${namespace}/${name}`;
    this.writes.push({ budget: id, status: structuredClone(status) });
    const o = this.#objects.get(id);
    if (this.watchesStatus && o !== undefined) {
      this.#objects.set(id, { ...o, status: structuredClone(status) });
      for (const h of this.#handlers) h(id);
    }
    return Promise.resolve();
  }

  /** The last status written for namespace/name. */
  lastStatus(id: string): BurstBudgetStatus | undefined {
    return this.writes.filter((w) => w.budget === id).at(-1)?.status;
  }

  /** Puts each budget's last written status on its object, as the apiserver holds it (a restart reads it). */
  keepWrittenStatus(): void {
    for (const [id, o] of this.#objects) {
      const status = this.lastStatus(id);
      if (status !== undefined) this.#objects.set(id, { ...o, status: JSON.parse(JSON.stringify(status)) as unknown });
    }
  }

  budgetEvent(budget: Pick<BurstBudgetObject, 'namespace' | 'name' | 'uid'>, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.events.push({ budget: `${budget.namespace}/${budget.name}`, uid: budget.uid, type, reason, message });
  }
}

/** The ConfigMap of the config's books, in memory: what was saved last, loads and saves that can fail on demand. */
export class FakeConfigBookStore implements ConfigBookStore {
  saved = new Map<string, BurstBudgetStatus>();
  saves = 0;
  /** The next load calls reject with these (one call each). */
  readonly loadFailures: Error[] = [];
  /** The next save calls reject with these (one call each). */
  readonly saveFailures: Error[] = [];

  load(): Promise<ReadonlyMap<string, BurstBudgetStatus>> {
    const failure = this.loadFailures.shift();
    if (failure !== undefined) return Promise.reject(failure);
    return Promise.resolve(new Map([...this.saved].map(([id, st]) => [id, structuredClone(st)])));
  }

  save(statuses: ReadonlyMap<string, BurstBudgetStatus>): Promise<void> {
    const failure = this.saveFailures.shift();
    if (failure !== undefined) return Promise.reject(failure);
    this.saves += 1;
    this.saved = new Map([...statuses].map(([id, st]) => [id, structuredClone(st)]));
    return Promise.resolve();
  }
}

// ---- builders ----

export const T0 = Date.parse('2026-11-23T12:00:00Z');
export const MIN = 60_000;
export const HOUR = 3_600_000;

/** An on-demand p5.48xlarge (8 GPUs) at most $1/h. */
export function option(over: Partial<LaunchOption> = {}): LaunchOption {
  return { instanceType: 'p5.48xlarge', family: 'p5', capacityType: 'on-demand', accelerators: { 'nvidia.com/gpu': 8 }, ceilingPerHour: USD, ...over };
}

/** Pod `uid` of namespace team-a, charged to team-a, priority 0, one option(), at most 1 h: its quote is $1. */
export function ask(uid: string, over: Partial<BudgetAsk> = {}): BudgetAsk {
  const namespace = over.namespace ?? 'team-a';
  return { podUid: uid, namespace, name: uid, chargeTo: namespace, priority: 0, createdAt: T0 - HOUR, options: [option()], maxRuntimeSeconds: 3600, ...over };
}

/** The running instance of pod `uid` (as option()): launched at T0, $1/h now. */
export function charge(uid: string, over: Partial<InstanceCharge> = {}): InstanceCharge {
  const namespace = over.namespace ?? 'team-a';
  return {
    podUid: uid, namespace, name: uid, chargeTo: namespace, instanceType: 'p5.48xlarge', capacityType: 'on-demand',
    accelerators: { 'nvidia.com/gpu': 8 }, launchedAt: T0, ratePerHour: USD, ended: false, maxRuntimeSeconds: 3600, ...over,
  };
}

export function report(instances: readonly InstanceCharge[], launching: readonly string[] = []): ChargeReport {
  return { launching, instances };
}

/** The BudgetSpec of a BurstBudget `namespace`/`name` with this spec; throws when the spec is refused. */
export function specOf(namespace: string, name: string, spec: unknown): BudgetSpec {
  const r = parseBudgetSpec(namespace, name, spec);
  if (!r.ok) throw new Error(`spec refused: ${r.error.join('; ')}`);
  return r.value;
}

// ---- a ledger wired to the fakes ----

export interface LedgerEnvOptions {
  readonly budgets?: readonly BudgetInit[];
  /** An API of an earlier ledger (a restart); `budgets` are then put on it. */
  readonly api?: FakeBudgetApi;
  readonly settings?: Partial<LedgerSettings>;
  readonly now?: number;
  /** Where the config's books are saved. */
  readonly store?: FakeConfigBookStore;
}

export interface LedgerEnv {
  readonly ledger: BudgetLedger;
  readonly api: FakeBudgetApi;
  readonly clock: FakeClock;
  /** Every uid the ledger's onAdmit handler was called with, in order. */
  readonly admitted: string[];
  /** Every decision counted (onDecision). */
  readonly decisions: (readonly [string, string])[];
  /** The ledger's observe at the clock's now. */
  poll(r: ChargeReport): void;
  /** Moves the clock on by `ms` (the status loop writes when its interval has passed) and waits until it sleeps again. */
  advance(ms: number): Promise<void>;
  /** Aborts run and waits for its last status write. */
  stop(): Promise<void>;
}

export const STATUS_INTERVAL_MS = 30_000;

/** A ledger over a FakeBudgetApi with `budgets`, running (loaded, first status written) at `now` (T0). */
export async function startLedger(o: LedgerEnvOptions = {}): Promise<LedgerEnv> {
  const api = o.api ?? new FakeBudgetApi();
  for (const b of o.budgets ?? []) api.put(b);
  const clock = new FakeClock(o.now ?? T0);
  const admitted: string[] = [];
  const decisions: (readonly [string, string])[] = [];
  const settings: LedgerSettings = { withoutBudget: 'Refuse', statusIntervalMs: STATUS_INTERVAL_MS, ...o.settings };
  const ledger = new BudgetLedger({
    source: api, writer: api, events: api, settings, clock, log: createLogger('silent'), halfLifeMs: 7 * 24 * HOUR, ...(o.store === undefined ? {} : { store: o.store }),
    onDecision: (kind, reason) => { decisions.push([kind, reason]); },
  });
  ledger.onAdmit((uid) => { admitted.push(uid); });
  const ac = new AbortController();
  const done = ledger.run(ac.signal);
  await clock.tick(0);
  return {
    ledger, api, clock, admitted, decisions,
    poll: (r) => { ledger.observe(r, clock.now().getTime()); },
    advance: async (ms) => {
      await clock.advance(ms);
      await clock.tick(0);
    },
    stop: async () => {
      ac.abort();
      await done;
    },
  };
}

/** A BurstBudget of team-a named gpu: a Total period, $100 unless `spec` says otherwise. */
export function budget(spec: Record<string, unknown> = {}, namespace = 'team-a', name = 'gpu'): BudgetInit {
  return { namespace, name, spec: { limitUSD: 100, period: { kind: 'Total' }, ...spec } };
}

/** The book the ledger holds for a budget. */
export function bookOf(e: LedgerEnv, id = 'team-a/gpu'): BudgetBook {
  const entry = e.ledger.entries.get(id);
  if (entry === undefined) throw new Error(`no entry ${id}`);
  return entry.book;
}

/** Lets the ledger's deferred admissions run. */
export const microtasks = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};
