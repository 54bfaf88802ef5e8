// The one owner of every budget's money. It decides each launch against the books of the namespace
// that pays (its BurstBudgets, the config's default, the cluster-wide cap), one decision at a time,
// so a burst cannot reserve past a limit; it queues the pods that must wait and admits them fairly
// when room appears (budget raised, instance ended, period rolled over); it follows the provider's
// instances poll by poll (charges accrue, settle and are released); and it writes each budget's
// status, its ledger included, so a restart starts from what was written.
import { evaluateLaunch, spentOf, type Denial } from '../policy/budget-decision.js';
import type { LaunchRequest } from '../policy/budget-types.js';
import { FairShare } from '../policy/fair-share.js';
import { formatUsd } from '../policy/money.js';
import type { BudgetAnswer, BudgetAsk, BudgetGate, ChargeReport, InstanceCharge, LaunchOption } from '../ports/budget-gate.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../observability/logger.js';
import type { BookEntry, PodFacts } from './book-entry.js';
import { BudgetEntries, type BudgetEntriesDeps } from './budget-entries.js';
import { advance, chargeEnded, chargeRunning, released, rolledOver, type Meter } from './ledger-charges.js';
import { admissible, whyWaiting, type BookSet, type Waiter } from './ledger-queue.js';

export type DecisionKind = 'allow' | 'wait' | 'refuse';

/** The meter charged an ended instance's exact life cost (its pool's spot price history), when known. */
const exactly = (m: Meter, lifeCost: number | undefined): Meter => (lifeCost === undefined ? m : { ...m, charged: lifeCost, exact: true });

export interface BudgetLedgerDeps extends BudgetEntriesDeps {
  readonly clock: Clock;
  readonly log: Logger;
  /** Half-life of past spend in the fair-share order (ms). */
  readonly halfLifeMs: number;
  /** Counts each decision (orca_budget_decisions_total). */
  readonly onDecision?: (decision: DecisionKind, reason: string) => void;
}

function requestOf(a: BudgetAsk, o: LaunchOption): LaunchRequest {
  return {
    podUid: a.podUid, namespace: a.namespace, instanceType: o.instanceType, family: o.family, capacityType: o.capacityType,
    accelerators: o.accelerators, ceilingPerHour: o.ceilingPerHour, ...(a.maxRuntimeSeconds === undefined ? {} : { maxRuntimeSeconds: a.maxRuntimeSeconds }),
  };
}

/** The request a pod is decided by: its dearest allowed option, with the most of each accelerator any of them brings. */
function combined(a: BudgetAsk, options: readonly LaunchOption[]): LaunchRequest {
  const dearest = options.reduce((m, o) => (o.ceilingPerHour > m.ceilingPerHour ? o : m));
  const accelerators: Record<string, number> = {};
  for (const o of options) for (const [k, n] of Object.entries(o.accelerators)) accelerators[k] = Math.max(accelerators[k] ?? 0, n);
  return { ...requestOf(a, dearest), accelerators };
}

/** The set's books can decide (none is missing or refused). */
const decidable = (set: BookSet): set is Extract<BookSet, { kind: 'books' }> => set.kind === 'books' && set.entries.every((e) => e.problems.length === 0);

/** The indices of the options the books allow (every option while they cannot decide), and the first final denial of the first option. */
function allowedOptions(a: BudgetAsk, set: BookSet): { readonly options: readonly number[]; readonly denial?: Denial } {
  const all = a.options.map((_, i) => i);
  if (!decidable(set)) return { options: all };
  const evaluations = a.options.map((o) => set.entries.map((e) => evaluateLaunch(e.book.rules, e.book.usage, requestOf(a, o))));
  const options = all.filter((i) => (evaluations[i] ?? []).every((ev) => ev.denials.every((d) => !d.permanent)));
  const denial = (evaluations[0] ?? []).flatMap((ev) => ev.denials).find((d) => d.permanent);
  return denial === undefined ? { options } : { options, denial };
}

export class BudgetLedger implements BudgetGate {
  readonly #d: BudgetLedgerDeps;
  readonly #log: Logger;
  readonly entries: BudgetEntries;
  readonly #waiting = new Map<string, Waiter>();
  readonly #meters = new Map<string, Meter>();
  /** Pods whose instance ended and was settled, with its launch time: that instance is not charged again. */
  readonly #ended = new Map<string, number>();
  readonly #handlers: ((podUid: string) => void)[] = [];
  #share: FairShare;
  readonly #restoredShares = new Set<string>();

  constructor(deps: BudgetLedgerDeps) {
    this.#d = deps;
    this.#log = deps.log.child({ component: 'budgets' });
    this.#share = new FairShare({ halfLifeMs: deps.halfLifeMs });
    const share = {
      of: (ns: string) => this.#share.usage(ns, deps.clock.now().getTime()),
      restore: (ns: string, amount: number, at: number) => { this.#restoreShare(ns, amount, at); },
    };
    this.entries = new BudgetEntries({ ...deps, log: this.#log, meters: this.#meters, share, onChange: () => { this.#redecide(); this.#pumpAndNotify(); } });
  }

  /** A namespace's standing read back after a restart: counted once (every budget of the namespace carries it). */
  #restoreShare(namespace: string, amount: number, at: number): void {
    if (this.#restoredShares.has(namespace)) return;
    this.#restoredShares.add(namespace);
    this.#share = this.#share.charge(namespace, amount, at);
  }

  onAdmit(handler: (podUid: string) => void): void {
    this.#handlers.push(handler);
  }

  /** Pods waiting now, by reason (orca_pending_pods). */
  pendingByReason(): ReadonlyMap<string, number> {
    const counts = new Map<string, number>();
    for (const w of this.#waiting.values()) counts.set(w.reason, (counts.get(w.reason) ?? 0) + 1);
    return counts;
  }

  /** Each namespace's fair-share usage now (µUSD, decayed), for the namespaces the ledger knows. */
  fairShare(): ReadonlyMap<string, number> {
    const now = this.#d.clock.now().getTime();
    return new Map(Object.keys(this.#share.toJSON().namespaces).map((ns) => [ns, this.#share.usage(ns, now)] as const));
  }

  ask(a: BudgetAsk): BudgetAnswer {
    const answer = this.#decide(a);
    this.#d.onDecision?.(answer.kind === 'go' ? 'allow' : answer.kind, answer.kind === 'go' ? 'Allowed' : answer.reason);
    return answer;
  }

  #decide(a: BudgetAsk): BudgetAnswer {
    const set = this.entries.setFor(a.chargeTo);
    if (!decidable(set)) return this.#enqueue(a, a.options.map((_, i) => i), set);
    const { options: allowed, denial: first } = allowedOptions(a, set);
    if (allowed.length === 0) {
      this.withdraw(a.podUid);
      return { kind: 'refuse', reason: first?.reason ?? 'NoLaunchOption', message: first?.message ?? 'the pod has no offering to launch' };
    }
    if (set.entries.every((e) => e.book.pod(a.podUid) !== undefined)) {
      this.#waiting.delete(a.podUid);
      return { kind: 'go', options: allowed, message: this.#reservedText(a.podUid, set.entries) };
    }
    return this.#enqueue(a, allowed, set);
  }

  /**
   * The budgets changed (loaded, created, edited, fixed): each waiting pod's options and request under
   * them now. A pod none of whose options they allow any more leaves the queue and is told to ask
   * again, so that it is refused rather than kept waiting for ever.
   */
  #redecide(): void {
    const never: string[] = [];
    for (const [uid, w] of this.#waiting) {
      const { options } = allowedOptions(w.ask, this.entries.setFor(w.ask.chargeTo));
      const chosen = options.map((i) => w.ask.options[i]).filter((o): o is LaunchOption => o !== undefined);
      if (chosen.length > 0) this.#waiting.set(uid, { ...w, options, request: combined(w.ask, chosen) });
      else {
        this.#waiting.delete(uid);
        never.push(uid);
      }
    }
    this.#notify(never);
  }

  #enqueue(a: BudgetAsk, options: readonly number[], set: BookSet): BudgetAnswer {
    const chosen = options.map((i) => a.options[i]).filter((o): o is LaunchOption => o !== undefined);
    if (chosen.length === 0) return { kind: 'refuse', reason: 'NoLaunchOption', message: 'the pod has no offering to launch' };
    const request = combined(a, chosen);
    const why = whyWaiting(set, request);
    this.#waiting.set(a.podUid, { ask: a, options, request, ...why });
    // Nothing was charged or released: the other waiters' reasons stand unless some pod started.
    const started = this.#pump({ recheck: false });
    if (started.includes(a.podUid)) {
      this.#notify(started.filter((uid) => uid !== a.podUid));
      const entries = set.kind === 'books' ? set.entries.map((e) => this.entries.get(e.id) ?? e) : [];
      return { kind: 'go', options, message: this.#reservedText(a.podUid, entries) };
    }
    this.#notify(started);
    const w = this.#waiting.get(a.podUid);
    return { kind: 'wait', reason: w?.reason ?? why.reason, message: w?.message ?? why.message };
  }

  #reservedText(podUid: string, entries: readonly BookEntry[]): string {
    if (entries.length === 0) return 'no budget applies to this pod\'s namespace (budgets.withoutBudget: Allow)';
    return entries.map((e) => `${e.id}: ${((e.book.pod(podUid)?.quote ?? 0) / 1e6).toFixed(2)} USD reserved`).join('; ');
  }

  toDrain(): readonly { readonly podUid: string; readonly message: string }[] {
    const out: { podUid: string; message: string }[] = [];
    for (const e of this.entries.all()) {
      const { rules, usage } = e.book;
      if (e.spec?.onLimit !== 'HoldAndDrain' || spentOf(usage) < rules.limit) continue;
      const message = `budget ${e.id} spent its whole limit of ${formatUsd(rules.limit)} (spent ${formatUsd(spentOf(usage))}) and drains at its limit (onLimit: HoldAndDrain): the pod is stopped`;
      for (const p of e.book.snapshot().pods) if (p.startedAt !== undefined) out.push({ podUid: p.podUid, message });
    }
    return out;
  }

  idleTimeoutSeconds(namespace: string): number | undefined {
    const set = this.entries.setFor(namespace);
    const timeouts = set.kind === 'books' ? set.entries.map((e) => e.spec?.idleTimeoutSeconds).filter((t): t is number => t !== undefined) : [];
    return timeouts.length === 0 ? undefined : Math.min(...timeouts);
  }

  withdraw(podUid: string): void {
    const was = this.#waiting.delete(podUid);
    const facts = this.#meters.get(podUid)?.facts;
    const changed = this.entries.update((e) => released(e, podUid, facts));
    this.#meters.delete(podUid);
    if (was || changed) this.#pumpAndNotify();
  }

  observe(report: ChargeReport, now: number): void {
    if (!this.entries.loaded) return;
    this.entries.update((e) => rolledOver(e, this.#meters, now));
    const seen = new Set<string>();
    for (const c of report.instances) {
      seen.add(c.podUid);
      this.#charge(c, now);
    }
    for (const uid of report.launching) seen.add(uid);
    for (const uid of [...this.#ended.keys()]) if (!seen.has(uid)) this.#ended.delete(uid);
    for (const uid of this.entries.heldPods()) {
      if (!seen.has(uid) && !this.#waiting.has(uid)) this.withdraw(uid);
    }
    for (const uid of report.launching) this.#launching(uid, now);
    this.entries.announce();
    this.#pumpAndNotify();
  }

  #charge(c: InstanceCharge, now: number): void {
    // Settled already; or its life is still being priced (its money stays as it is until then).
    if (this.#ended.get(c.podUid) === c.launchedAt || c.pricing === true) return;
    const before = this.#meters.get(c.podUid);
    const meter = exactly(advance(before, c, now), c.lifeCost);
    this.#meters.set(c.podUid, meter);
    const delta = meter.charged - (before?.charged ?? 0);
    if (delta > 0) this.#share = this.#share.charge(c.namespace, delta, now);
    const set = this.entries.setFor(c.chargeTo);
    const ids = new Set(set.kind === 'books' ? set.entries.map((e) => e.id) : []);
    if (c.ended) {
      this.entries.update((e) => (ids.has(e.id) ? chargeEnded(e, c.podUid, meter) : e));
      this.#meters.delete(c.podUid);
      this.#ended.set(c.podUid, c.launchedAt);
      return;
    }
    this.entries.update((e) => (ids.has(e.id) ? chargeRunning(e, c, meter) : e));
  }

  /**
   * A pod waiting for an instance accrues nothing. One whose earlier instance was charged (relaunched
   * after a spot interruption) keeps its total: the next instance adds to it, at the rate it reports.
   */
  #launching(uid: string, now: number): void {
    const m = this.#meters.get(uid);
    if (m === undefined) return;
    if (m.charged === 0) this.#meters.delete(uid);
    else this.#meters.set(uid, { ...m, lastAt: Math.max(m.lastAt, now), ratePerHour: 0, restored: true });
  }

  /**
   * Admits what fits now (in queue order) and reserves their money; returns their uids. Then says
   * anew why each pod still waits — unless `recheck` is false and none started (the books are as
   * they were, so are the reasons).
   */
  #pump({ recheck }: { readonly recheck: boolean } = { recheck: true }): string[] {
    if (this.#waiting.size === 0) return [];
    const now = this.#d.clock.now().getTime();
    const setOf = (a: BudgetAsk): BookSet => this.entries.setFor(a.chargeTo);
    const order = admissible({ waiters: [...this.#waiting.values()], entries: this.entries.all(), setOf, share: this.#share, now });
    const started: string[] = [];
    for (const uid of order) {
      const w = this.#waiting.get(uid);
      if (w !== undefined && this.#reserve(w, now)) started.push(uid);
    }
    if (recheck || started.length > 0) {
      for (const [uid, w] of this.#waiting) this.#waiting.set(uid, { ...w, ...whyWaiting(setOf(w.ask), w.request) });
    }
    return started;
  }

  /** Reserves the pod's quote in every book that pays for it, or in none. */
  #reserve(w: Waiter, now: number): boolean {
    const set = this.entries.setFor(w.ask.chargeTo);
    if (set.kind === 'blocked') return false;
    const decided = set.entries.map((e) => ({ e, r: e.book.decide(w.request) }));
    if (decided.some(({ r }) => r.decision.kind !== 'allow')) return false;
    for (const { e, r } of decided) this.entries.replace({ ...e, book: r.book, dirty: true });
    const quote = Math.max(0, ...decided.map(({ r }) => (r.decision.kind === 'allow' ? r.decision.quote : 0)));
    this.#share = this.#share.admitted(w.ask.namespace, quote, now);
    const facts: PodFacts = { namespace: w.ask.namespace, name: w.ask.name, instanceType: w.request.instanceType, capacityType: w.request.capacityType };
    this.entries.remember(w.ask.podUid, facts);
    this.#waiting.delete(w.ask.podUid);
    return true;
  }

  #pumpAndNotify(): void {
    this.#notify(this.#pump());
  }

  #notify(uids: readonly string[]): void {
    if (uids.length === 0) return;
    // Later, not inside the caller's decision: a handler asks again.
    queueMicrotask(() => {
      for (const uid of uids) for (const h of this.#handlers) h(uid);
    });
  }

  /** Loads the budgets, then writes their status every interval until `signal` aborts. */
  run(signal: AbortSignal): Promise<void> {
    return this.entries.run(signal, () => this.#waiting.values());
  }

  /** Resolves once the budgets were loaded: until then nothing is decided. */
  get ready(): Promise<void> {
    return this.entries.ready;
  }
}
