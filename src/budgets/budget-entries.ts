// The ledger's budgets: one entry per BurstBudget (loaded from the watched cache, its book restored
// from the status ORCA wrote), one per namespace charged to the config's default budget, and the
// cluster-wide cap. Which entries pay for a namespace, the warnings each announces once per period,
// and the loop that writes their status (for the config's books, which have no BurstBudget, into the
// ConfigBookStore, read back before anything is decided after a restart).
import { spentOf } from '../policy/budget-decision.js';
import { parseBudgetSpec, type BudgetSpec } from '../policy/budget-spec.js';
import { thresholdAmount, warningMessage } from '../policy/budget-warnings.js';
import { periodWindow } from '../policy/period.js';
import type { BudgetRules } from '../policy/budget-types.js';
import type { BudgetEventRecorder, BudgetSource, BudgetStatusWriter, BurstBudgetObject, BurstBudgetStatus, ConfigBookStore, LedgerPod } from '../ports/budgets.js';
import { defined, omit } from '../domain/objects.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../observability/logger.js';
import { closedRules, newEntry, type BookEntry, type PodFacts } from './book-entry.js';
import { budgetStatus } from './budget-status.js';
import type { Meter } from './ledger-charges.js';
import type { BookSet, Waiter } from './ledger-queue.js';
import { previousConditions, restoredLedger, restoredShare } from './status-read.js';

export type WithoutBudget = 'Refuse' | 'Default' | 'Allow';

export interface LedgerSettings {
  readonly withoutBudget: WithoutBudget;
  /** The budget of a namespace without one (withoutBudget: Default). */
  readonly defaultRules?: (namespace: string) => BudgetSpec;
  /** The cap on every namespace's spend together. */
  readonly clusterRules?: BudgetSpec;
  readonly statusIntervalMs: number;
}

export interface BudgetEntriesDeps {
  readonly source: BudgetSource;
  readonly writer: BudgetStatusWriter;
  readonly events: BudgetEventRecorder;
  readonly settings: LedgerSettings;
  /** Keeps the ledger of the cluster cap and the default budgets across restarts; without it they start afresh. */
  readonly store?: ConfigBookStore;
}

interface Wiring extends BudgetEntriesDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly meters: Map<string, Meter>;
  readonly onChange: () => void;
  /** A namespace's fair-share standing now (µUSD), for the status; and one read back from a status after a restart. */
  readonly share?: { readonly of: (namespace: string) => number; readonly restore: (namespace: string, microUsd: number, at: number) => void };
}

const CLUSTER = '(cluster)';
const DEFAULT_SUFFIX = '/(default)';

/** `o` is the object `e` was loaded from at the same generation: only its status changed (ORCA's own write). */
const sameSpec = (e: BookEntry, o: BurstBudgetObject): boolean =>
  e.origin.kind === 'object' && e.origin.object.uid === o.uid && o.generation !== undefined && e.origin.object.generation === o.generation;

/** Read through a call: a check made earlier in the function does not stand for it. */
const stopped = (signal: AbortSignal): boolean => signal.aborted;

export class BudgetEntries {
  readonly #d: Wiring;
  readonly #entries = new Map<string, BookEntry>();
  readonly #facts = new Map<string, PodFacts>();
  #loaded = false;
  /** Why the saved ledger of the config's books could not be read, while it cannot. */
  #unread: string | undefined;

  constructor(deps: Wiring) {
    this.#d = deps;
    const cluster = deps.settings.clusterRules;
    if (cluster !== undefined) this.#entries.set(CLUSTER, newEntry({ id: CLUSTER, origin: { kind: 'cluster' }, rules: { ...cluster, id: CLUSTER }, spec: cluster, now: this.#now() }));
  }

  get loaded(): boolean {
    return this.#loaded;
  }

  get ready(): Promise<void> {
    return this.#d.source.synced;
  }

  #now(): number {
    return this.#d.clock.now().getTime();
  }

  get(id: string): BookEntry | undefined {
    return this.#entries.get(id);
  }

  all(): Iterable<BookEntry> {
    return this.#entries.values();
  }

  replace(e: BookEntry): void {
    this.#entries.set(e.id, e);
  }

  /** Applies `fn` to every entry; true when any changed. */
  update(fn: (e: BookEntry) => BookEntry): boolean {
    let changed = false;
    for (const [id, e] of this.#entries) {
      const next = fn(e);
      if (next !== e) {
        this.#entries.set(id, next);
        changed = true;
      }
    }
    return changed;
  }

  /** The pods any book holds money for. */
  heldPods(): Set<string> {
    const uids = new Set<string>();
    for (const e of this.#entries.values()) for (const p of e.book.snapshot().pods) uids.add(p.podUid);
    return uids;
  }

  remember(podUid: string, facts: PodFacts): void {
    this.#facts.set(podUid, facts);
  }

  facts(podUid: string): PodFacts | undefined {
    return this.#d.meters.get(podUid)?.facts ?? this.#facts.get(podUid);
  }

  /** The books that pay for a pod charged to `namespace`, or why none can be decided. */
  setFor(namespace: string): BookSet {
    if (!this.#loaded) return { kind: 'blocked', reason: 'BudgetsNotLoaded', message: this.#unread ?? 'ORCA is still reading the BurstBudgets' };
    const own = [...this.#entries.values()].filter((e) => e.origin.kind === 'object' && e.origin.object.namespace === namespace);
    const cluster = this.#entries.get(CLUSTER);
    const rest = cluster === undefined ? [] : [cluster];
    if (own.length > 0) return { kind: 'books', entries: [...own, ...rest] };
    const mode = this.#d.settings.withoutBudget;
    if (mode === 'Allow') return { kind: 'books', entries: rest };
    const make = this.#d.settings.defaultRules;
    if (mode === 'Default' && make !== undefined) return { kind: 'books', entries: [this.#defaultEntry(namespace, make), ...rest] };
    return {
      kind: 'blocked', reason: 'NamespaceHasNoBudget',
      message: `namespace ${namespace} has no BurstBudget, and this cluster lets only namespaces with one burst (budgets.withoutBudget: Refuse); ask an admin to create one`,
    };
  }

  #defaultEntry(namespace: string, make: (ns: string) => BudgetSpec): BookEntry {
    const id = `${namespace}${DEFAULT_SUFFIX}`;
    const held = this.#entries.get(id);
    if (held !== undefined) return held;
    const spec = make(namespace);
    const e = newEntry({ id, origin: { kind: 'default' }, rules: { ...spec, id }, spec, now: this.#now() });
    this.#entries.set(id, e);
    return e;
  }

  #load(o: BurstBudgetObject): void {
    const id = `${o.namespace}/${o.name}`;
    const held = this.#entries.get(id);
    if (held !== undefined && sameSpec(held, o)) return;
    const parsed = parseBudgetSpec(o.namespace, o.name, o.spec);
    const rules = parsed.ok ? parsed.value : closedRules(id, o.namespace);
    const origin = { kind: 'object' as const, object: { namespace: o.namespace, name: o.name, uid: o.uid, ...defined({ generation: o.generation }) } };
    const problems = parsed.ok ? [] : parsed.error;
    if (problems.length > 0) this.#d.log.warn({ budget: id, problems }, 'a BurstBudget is refused: nothing launches under it until it is fixed');
    const fields = { origin, problems, ...(parsed.ok ? { spec: parsed.value } : {}) };
    if (held !== undefined) {
      this.#entries.set(id, this.#edited(held, rules, fields));
      return;
    }
    this.#restore(id, rules, fields, o.status);
  }

  /**
   * The saved books of the config, read before anything is decided (a cap started again from zero
   * could be overrun), tried again every status interval until read; false when `signal` aborted first.
   */
  async #loadConfigBooks(signal: AbortSignal): Promise<boolean> {
    const store = this.#d.store;
    if (store === undefined) return true;
    for (;;) {
      try {
        this.#restoreConfigBooks(await store.load());
        this.#unread = undefined;
        return true;
      } catch (err) {
        this.#unread = `ORCA cannot read the saved ledger of the config's budgets (budgets.clusterLimit, budgets.default), so nothing launches until it can: ${err instanceof Error ? err.message : String(err)}`;
        this.#d.log.warn({ err }, 'could not read the saved ledger of the config\'s budgets; nothing launches until it is read');
      }
      await this.#d.clock.sleep(this.#d.settings.statusIntervalMs, signal).catch(() => undefined);
      if (stopped(signal)) return false;
    }
  }

  /** The cluster cap and every namespace's default book as saved (a default book only while budgets.default is set). */
  #restoreConfigBooks(saved: ReadonlyMap<string, BurstBudgetStatus>): void {
    const cluster = this.#entries.get(CLUSTER);
    const status = saved.get(CLUSTER);
    if (cluster !== undefined && status !== undefined) this.#restore(CLUSTER, cluster.book.rules, { origin: cluster.origin, problems: [], ...defined({ spec: cluster.spec }) }, status);
    const make = this.#d.settings.defaultRules;
    for (const [id, s] of saved) {
      if (make === undefined || !id.endsWith(DEFAULT_SUFFIX)) continue;
      const spec = make(id.slice(0, -DEFAULT_SUFFIX.length));
      this.#restore(id, { ...spec, id }, { origin: { kind: 'default' }, problems: [], spec }, s);
    }
  }

  /** A budget seen for the first time: its book from the status ORCA wrote before a restart, if any. */
  #restore(id: string, rules: BudgetRules, fields: Pick<BookEntry, 'origin' | 'problems' | 'spec'>, status: unknown): void {
    const restored = restoredLedger(status);
    if (restored === undefined) {
      this.#entries.set(id, newEntry({ id, rules, ...fields, now: this.#now() }));
      return;
    }
    this.#entries.set(id, newEntry({ id, rules, ...fields, ledger: restored.ledger, now: this.#now() }));
    const share = restoredShare(status);
    if (share !== undefined && fields.origin.kind === 'object') this.#d.share?.restore(fields.origin.object.namespace, share, restored.lastUpdated ?? this.#now());
    for (const p of restored.ledger.pods) this.#restoreMeter(p, restored.lastUpdated ?? this.#now());
  }

  /** The entry under its edited spec: running pods keep their money; a new period kind starts a new window. */
  #edited(held: BookEntry, rules: BudgetRules, fields: Pick<BookEntry, 'origin' | 'problems' | 'spec'>): BookEntry {
    const samePeriod = JSON.stringify(held.book.rules.period) === JSON.stringify(rules.period);
    const window = samePeriod ? held.window : periodWindow(rules.period, this.#now());
    return { ...omit(held, 'spec'), ...fields, book: held.book.withRules(rules), window, dirty: true };
  }

  /** A pod of a status read back after a restart: charged up to when the status was written. */
  #restoreMeter(p: LedgerPod, writtenAt: number): void {
    const facts: PodFacts = { namespace: p.namespace, name: p.name, ...defined({ instanceType: p.instanceType, capacityType: p.capacityType }) };
    this.#facts.set(p.uid, facts);
    const m = this.#d.meters.get(p.uid);
    if (m !== undefined && m.charged >= p.chargedMicroUSD) return;
    const through = Date.parse(p.chargedThrough ?? '');
    this.#d.meters.set(p.uid, { charged: p.chargedMicroUSD, lastAt: Number.isFinite(through) ? through : writtenAt, ratePerHour: 0, restored: true, facts });
  }

  #reload(id: string): void {
    const o = this.#d.source.list().find((b) => `${b.namespace}/${b.name}` === id);
    if (o !== undefined) this.#load(o);
    else this.#entries.delete(id);
    this.#d.onChange();
  }

  /** Events for the warning thresholds each budget's spend reached this period, each once. */
  announce(): void {
    this.update((e) => {
      const spent = spentOf(e.book.usage);
      const limit = e.book.rules.limit;
      const due = [...new Set(e.book.rules.warnAtPercent ?? [])].sort((a, b) => a - b)
        .filter((p) => !e.warned.includes(p) && limit > 0 && spent >= thresholdAmount(limit, p));
      if (due.length === 0) return e;
      for (const p of due) this.#warn(e, p, spent);
      return { ...e, warned: [...e.warned, ...due], dirty: true };
    });
    const held = this.heldPods();
    for (const uid of this.#facts.keys()) if (!held.has(uid)) this.#facts.delete(uid);
  }

  #warn(e: BookEntry, percent: number, spent: number): void {
    const message = warningMessage(e.book.rules, percent, spent);
    if (e.origin.kind === 'object') this.#d.events.budgetEvent(e.origin.object, 'Warning', percent >= 100 ? 'BudgetLimitReached' : 'BudgetThresholdReached', message);
    this.#d.log.warn({ budget: e.id, percent }, message);
  }

  /** Loads every budget, follows their changes, and writes their status every interval until `signal` aborts. */
  async run(signal: AbortSignal, waiters: () => Iterable<Waiter>): Promise<void> {
    this.#d.source.onChange((id) => { if (this.#loaded) this.#reload(id); });
    await Promise.all([this.#d.source.run(signal), this.#follow(signal, waiters)]);
  }

  async #follow(signal: AbortSignal, waiters: () => Iterable<Waiter>): Promise<void> {
    await Promise.race([this.#d.source.synced, new Promise((resolve) => { signal.addEventListener('abort', resolve, { once: true }); })]);
    if (signal.aborted || !(await this.#loadConfigBooks(signal))) return;
    for (const o of this.#d.source.list()) this.#load(o);
    this.#loaded = true;
    this.#d.onChange();
    for (;;) {
      await this.writeAll(waiters);
      await this.#d.clock.sleep(this.#d.settings.statusIntervalMs, signal).catch(() => undefined);
      if (stopped(signal)) break;
    }
    await this.writeAll(waiters);
  }

  /** Writes the status of every BurstBudget that changed since its last write. */
  async writeAll(waiters: () => Iterable<Waiter>): Promise<void> {
    const pending = new Map<string, number>();
    for (const w of waiters()) {
      const set = this.setFor(w.ask.chargeTo);
      if (set.kind === 'books') for (const e of set.entries) pending.set(e.id, (pending.get(e.id) ?? 0) + 1);
    }
    const due = [...this.#entries.values()].filter((e) => e.origin.kind === 'object' && (e.dirty || (pending.get(e.id) ?? 0) > 0));
    await Promise.all([...due.map((e) => this.#write(e, pending.get(e.id) ?? 0)), this.#saveConfigBooks(pending)]);
  }

  #statusOf(e: BookEntry, pending: number, previous: unknown): BurstBudgetStatus {
    const namespace = e.origin.kind === 'object' ? e.origin.object.namespace : undefined;
    const fairShare = namespace === undefined ? undefined : this.#d.share?.of(namespace);
    return budgetStatus({ entry: e, pending, ...(fairShare === undefined ? {} : { fairShare }), facts: (uid) => this.facts(uid), chargedThrough: (uid) => this.#d.meters.get(uid)?.lastAt, previous: previousConditions(previous), now: this.#now() });
  }

  /** Saves every book of the config when any of them changed since the last save. */
  async #saveConfigBooks(pending: ReadonlyMap<string, number>): Promise<void> {
    const store = this.#d.store;
    const books = [...this.#entries.values()].filter((e) => e.origin.kind !== 'object');
    if (store === undefined || !books.some((e) => e.dirty)) return;
    try {
      await store.save(new Map(books.map((e) => [e.id, this.#statusOf(e, pending.get(e.id) ?? 0, undefined)])));
      for (const e of books) if (this.#entries.get(e.id) === e) this.#entries.set(e.id, { ...e, dirty: false });
    } catch (err) {
      this.#d.log.warn({ err }, 'could not save the ledger of the config\'s budgets; trying again at the next interval');
    }
  }

  async #write(e: BookEntry, pending: number): Promise<void> {
    if (e.origin.kind !== 'object') return;
    const { namespace, name } = e.origin.object;
    const o = this.#d.source.list().find((b) => b.namespace === namespace && b.name === name);
    const status = this.#statusOf(e, pending, o?.status);
    try {
      await this.#d.writer.writeStatus(namespace, name, status);
      if (this.#entries.get(e.id) === e) this.#entries.set(e.id, { ...e, dirty: false });
    } catch (err) {
      this.#d.log.warn({ err, budget: e.id }, 'could not write the status of a BurstBudget; trying again at the next interval');
    }
  }
}
