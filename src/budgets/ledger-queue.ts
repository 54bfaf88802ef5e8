// The pods waiting for money, concurrency or accelerators, and which of them may start now: the fair
// queue (policy/fair-queue.ts) over named pools — the money left in each budget, its free instances
// and accelerators. A pod whose budget is missing or refused waits without holding anything.
import { evaluateLaunch, quoteFor, remainingOf } from '../policy/budget-decision.js';
import type { LaunchRequest } from '../policy/budget-types.js';
import { admit, poolRoomOps, type PoolNeeds, type WaitingPod } from '../policy/fair-queue.js';
import type { FairShare } from '../policy/fair-share.js';
import type { BudgetAsk } from '../ports/budget-gate.js';
import type { BookEntry } from './book-entry.js';

/** A pod in the queue: what it asked, the request it is decided by, and why it waits. */
export interface Waiter {
  readonly ask: BudgetAsk;
  /** The indices of the options the budgets allow. */
  readonly options: readonly number[];
  readonly request: LaunchRequest;
  readonly reason: string;
  readonly message: string;
}

/** The books a pod is decided by, or why it cannot be decided now. */
export type BookSet =
  | { readonly kind: 'books'; readonly entries: readonly BookEntry[] }
  | { readonly kind: 'blocked'; readonly reason: string; readonly message: string };

interface Candidate extends WaitingPod, PoolNeeds {
  readonly ready: boolean;
}

function room(entries: Iterable<BookEntry>): Map<string, number> {
  const pools = new Map<string, number>();
  for (const e of entries) {
    const { rules, usage } = e.book;
    pools.set(`usd:${e.id}`, remainingOf(rules.limit, usage));
    if (rules.maxConcurrentInstances !== undefined) pools.set(`inst:${e.id}`, rules.maxConcurrentInstances - usage.runningInstances);
    for (const [kind, max] of Object.entries(rules.maxAccelerators ?? {})) pools.set(`acc:${kind}:${e.id}`, max - (usage.accelerators[kind] ?? 0));
  }
  return pools;
}

function needsOf(entries: readonly BookEntry[], request: LaunchRequest): Record<string, number> {
  const needs: Record<string, number> = {};
  for (const e of entries) {
    needs[`usd:${e.id}`] = quoteFor(e.book.rules, request);
    if (e.book.rules.maxConcurrentInstances !== undefined) needs[`inst:${e.id}`] = 1;
    for (const kind of Object.keys(e.book.rules.maxAccelerators ?? {})) needs[`acc:${kind}:${e.id}`] = request.accelerators[kind] ?? 0;
  }
  return needs;
}

export interface AdmissionRound {
  readonly waiters: readonly Waiter[];
  readonly entries: Iterable<BookEntry>;
  readonly setOf: (ask: BudgetAsk) => BookSet;
  readonly share: FairShare;
  readonly now: number;
}

/** The uids of the waiting pods that may start now, in the order they go. */
export function admissible(r: AdmissionRound): string[] {
  const candidates: Candidate[] = r.waiters.map((w) => {
    const set = r.setOf(w.ask);
    const entries = set.kind === 'books' ? set.entries : [];
    const needs = needsOf(entries, w.request);
    const quote = Math.max(0, ...Object.entries(needs).filter(([k]) => k.startsWith('usd:')).map(([, v]) => v));
    const base = { uid: w.ask.podUid, namespace: w.ask.namespace, priority: w.ask.priority, createdAt: w.ask.createdAt, quote };
    return { ...base, needs, ready: set.kind === 'books' && entries.every((e) => e.problems.length === 0) };
  });
  const result = admit({ waiting: candidates, room: room(r.entries), ops: poolRoomOps<Candidate>((p) => p.ready), share: r.share, now: r.now });
  return result.started.map((p) => p.uid);
}

/** Why a waiting pod waits now: the first rule of its budgets it breaks, or why it cannot be decided. */
export function whyWaiting(set: BookSet, request: LaunchRequest): { readonly reason: string; readonly message: string } {
  if (set.kind === 'blocked') return set;
  const invalid = set.entries.find((e) => e.problems.length > 0);
  if (invalid !== undefined) return { reason: 'BudgetInvalid', message: `budget ${invalid.id} is refused, so nothing launches under it: ${invalid.problems.join('; ')}` };
  for (const e of set.entries) {
    const first = evaluateLaunch(e.book.rules, e.book.usage, request).denials[0];
    if (first !== undefined) return first;
  }
  return { reason: 'WaitingInQueue', message: 'waiting behind pods that go first (priority, fair share, age)' };
}
