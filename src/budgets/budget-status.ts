// From a ledger entry to the status ORCA writes on its BurstBudget: dollars rounded to the cent for
// people and `kubectl get`, the exact micro-dollar ledger a restart reads back, and the Ready
// condition (False, with the reasons, when the spec is refused).
import { remaining } from '../policy/budget-book.js';
import { spentOf } from '../policy/budget-decision.js';
import { usdToTheCent } from '../policy/money.js';
import type { BudgetCondition, BudgetLedgerStatus, BurstBudgetStatus, LedgerPod } from '../ports/budgets.js';
import type { BookEntry, PodFacts } from './book-entry.js';
import { defined } from '../domain/objects.js';

const iso = (t: number): string | undefined => (Number.isFinite(t) ? new Date(t).toISOString() : undefined);

function ledgerOf(e: BookEntry, facts: (uid: string) => PodFacts | undefined, through: (uid: string) => number | undefined): BudgetLedgerStatus {
  const pods: LedgerPod[] = e.book.snapshot().pods.map((p) => {
    const f = facts(p.podUid);
    const startedAt = p.startedAt === undefined ? undefined : iso(p.startedAt);
    const at = through(p.podUid);
    const chargedThrough = at === undefined ? undefined : iso(at);
    return {
      uid: p.podUid, namespace: f?.namespace ?? '', name: f?.name ?? '', quoteMicroUSD: p.quote, chargedMicroUSD: p.charged,
      chargedEarlierMicroUSD: p.chargedEarlier, accelerators: p.accelerators, ...defined({ instanceType: f?.instanceType, capacityType: f?.capacityType, startedAt, chargedThrough }),
    };
  });
  const settledByType = [...e.lines].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, microUSD]) => {
    const [instanceType = '', capacityType = ''] = key.split('/');
    return { instanceType, capacityType, microUSD };
  });
  const periodStart = iso(e.window.start);
  return { ...(periodStart === undefined ? {} : { periodStart }), settledMicroUSD: e.book.settled, settledByType, pods, warnedAtPercent: e.warned };
}

function readyCondition(e: BookEntry, previous: readonly BudgetCondition[] | undefined, now: string): BudgetCondition {
  const ok = e.problems.length === 0;
  const drain = e.spec?.onLimit === 'HoldAndDrain' ? '; at its limit, its running pods are stopped (HoldAndDrain)' : '';
  const next = ok
    ? { type: 'Ready', status: 'True' as const, reason: 'Enforced', message: `launches are checked against this budget before they go${drain}` }
    : { type: 'Ready', status: 'False' as const, reason: 'InvalidSpec', message: `nothing is launched under this budget until its spec is fixed: ${e.problems.join('; ')}` };
  const old = previous?.find((c) => c.type === 'Ready');
  return { ...next, lastTransitionTime: old !== undefined && old.status === next.status ? old.lastTransitionTime : now };
}

export interface StatusInput {
  readonly entry: BookEntry;
  readonly pending: number;
  readonly facts: (uid: string) => PodFacts | undefined;
  /** The fair-share standing of the budget's namespace, µUSD. */
  readonly fairShare?: number;
  /** The instant each pod's charge counts up to (its meter's last poll). */
  readonly chargedThrough: (uid: string) => number | undefined;
  readonly previous: readonly BudgetCondition[] | undefined;
  readonly now: number;
}

export function budgetStatus(s: StatusInput): BurstBudgetStatus {
  const { entry: e } = s;
  const usage = e.book.usage;
  const now = new Date(s.now).toISOString();
  const periodEnd = iso(e.window.end);
  const generation = e.origin.kind === 'object' ? e.origin.object.generation : undefined;
  return {
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    limitUSD: usdToTheCent(e.book.rules.limit), spentUSD: usdToTheCent(spentOf(usage)), reservedUSD: usdToTheCent(usage.reserved),
    remainingUSD: usdToTheCent(remaining(e.book)), ...(s.fairShare === undefined ? {} : { fairShareUSD: usdToTheCent(Math.round(s.fairShare)) }),
    runningInstances: usage.runningInstances, pendingPods: s.pending,
    ...(periodEnd === undefined ? {} : { periodEnd }), lastUpdated: now,
    conditions: [readyCondition(e, s.previous, now)], ledger: ledgerOf(e, s.facts, s.chargedThrough),
  };
}

