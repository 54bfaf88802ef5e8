// Pure: the one queue of pods that cannot launch now (budget money, concurrency, accelerators or
// capacity), in the order they start and which of them start when room appears. Order: PriorityClass
// value (higher first), then fair share across namespaces (fair-share.ts: the namespace that spent
// less recently first), then age (older first), then pod uid. The head goes first. A later pod may
// start before a waiting one (backfill) only if it draws nothing from what the waiting pod is short
// of, so it never takes what that pod waits for; it may use what the waiting pod is not short of,
// since that pod cannot start in any case until its blocker (another budget, another pool) clears. A
// pod that cannot start for a reason of another kind (its instance family has no capacity) keeps
// nothing. Every waiting pod is protected so, not only the first. "Room" is abstract (RoomOps), so one
// queue serves per-budget money and per-namespace counts; poolRoomOps implements it with named pools.

import type { MicroUsd } from './budget-types.js';
import type { FairShare } from './fair-share.js';

/** What the queue needs to know of a waiting pod; callers extend it with what their RoomOps read. */
export interface WaitingPod {
  readonly uid: string;
  readonly namespace: string;
  /** PriorityClass value: higher goes first. */
  readonly priority: number;
  /** creationTimestamp, ms since the epoch: older goes first. */
  readonly createdAt: number;
  /** The pod's quote: its namespace's entry penalty (FairShare.admitted) when it starts. */
  readonly quote: MicroUsd;
}

/**
 * The caller's model of room (money left per budget, instances left per namespace …) as pure
 * functions. `take` and `hold` return new rooms and never change the one given.
 */
export interface RoomOps<P, R> {
  /** Whether the pod can start in this room. */
  readonly fits: (pod: P, room: R) => boolean;
  /** The room left after the pod starts. */
  readonly take: (room: R, pod: P) => R;
  /**
   * The room later pods may use while this pod, which does not fit, waits: whatever it is short of
   * is kept for it (no later pod may draw on it), what it is not short of stays available.
   */
  readonly hold: (room: R, pod: P) => R;
  /**
   * False when the pod cannot start now whatever the room (e.g. no capacity for its instance
   * family): it is passed over and keeps nothing for itself. Absent: every pod is ready.
   */
  readonly ready?: (pod: P) => boolean;
}

/** What became of a pod in one admission round. */
export type QueueDecision = 'start' | 'wait' | 'held';

export interface AdmitRequest<P extends WaitingPod, R> {
  /** The pods waiting, in any order, each uid once. */
  readonly waiting: readonly P[];
  /** The room available now. */
  readonly room: R;
  readonly ops: RoomOps<P, R>;
  readonly share: FairShare;
  /** Now, ms since the epoch: usage is compared and entry penalties are added at this time. */
  readonly now: number;
}

export interface Admission<P extends WaitingPod, R> {
  /** The pods to start now, in the order they were chosen. */
  readonly started: readonly P[];
  /** The pods still waiting ('wait' and 'held'), in the order they were considered. */
  readonly waiting: readonly P[];
  /** Every pod in the order it was considered, with what became of it. */
  readonly decisions: readonly { readonly pod: P; readonly decision: QueueDecision }[];
  /** The room after the started pods took theirs (what waiting pods held is not deducted). */
  readonly room: R;
  /** The share with the entry penalty of every started pod added at `now`. */
  readonly share: FairShare;
}

/** The key pods are ordered by; `usage` is their namespace's fair-share usage. */
interface OrderKey {
  readonly priority: number;
  readonly usage: number;
  readonly createdAt: number;
  readonly uid: string;
}

/** Negative when `a` goes before `b`: higher priority, then lower usage, then older, then uid. */
function compareKeys(a: OrderKey, b: OrderKey): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  if (a.usage !== b.usage) return a.usage - b.usage;
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  if (a.uid === b.uid) return 0;
  return a.uid < b.uid ? -1 : 1;
}

function keyOf(pod: WaitingPod, usage: number): OrderKey {
  return { priority: pod.priority, usage, createdAt: pod.createdAt, uid: pod.uid };
}

function usageByNamespace(pods: readonly WaitingPod[], share: FairShare, now: number): Map<string, number> {
  const usage = new Map<string, number>();
  for (const p of pods) if (!usage.has(p.namespace)) usage.set(p.namespace, share.usage(p.namespace, now));
  return usage;
}

/** The waiting pods in the order they go (a new array; the input is not changed). */
export function orderQueue<P extends WaitingPod>(waiting: readonly P[], share: FairShare, now: number): P[] {
  const usage = usageByNamespace(waiting, share, now);
  const key = (p: P): OrderKey => keyOf(p, usage.get(p.namespace) ?? 0);
  return waiting.map((p) => ({ p, k: key(p) })).sort((a, b) => compareKeys(a.k, b.k)).map(({ p }) => p);
}

/** One namespace's pods in order (usage is the same for all of them) and the next to consider. */
interface Lane<P> {
  readonly pods: readonly P[];
  next: number;
}

function lanesOf<P extends WaitingPod>(waiting: readonly P[]): Lane<P>[] {
  const byNs = new Map<string, P[]>();
  for (const p of waiting) {
    const list = byNs.get(p.namespace);
    if (list === undefined) byNs.set(p.namespace, [p]);
    else list.push(p);
  }
  return [...byNs.values()].map((pods) => ({ pods: pods.sort((a, b) => compareKeys(keyOf(a, 0), keyOf(b, 0))), next: 0 }));
}

/** The lane whose next pod goes first, given the namespaces' usage now; undefined when all are done. */
function firstLane<P extends WaitingPod>(lanes: readonly Lane<P>[], usage: ReadonlyMap<string, number>): Lane<P> | undefined {
  let best: { lane: Lane<P>; key: OrderKey } | undefined = undefined;
  for (const lane of lanes) {
    const pod = lane.pods[lane.next];
    if (pod === undefined) continue;
    const key = keyOf(pod, usage.get(pod.namespace) ?? 0);
    if (best === undefined || compareKeys(key, best.key) < 0) best = { lane, key };
  }
  return best?.lane;
}

function decide<P, R>(pod: P, room: R, ops: RoomOps<P, R>): QueueDecision {
  if (ops.ready !== undefined && !ops.ready(pod)) return 'held';
  return ops.fits(pod, room) ? 'start' : 'wait';
}

/** A round in progress: `free` is the room after starts, `left` also after holds (what later pods may use). */
interface Round<R> {
  readonly free: R;
  readonly left: R;
  readonly share: FairShare;
}

function applyDecision<P extends WaitingPod, R>(round: Round<R>, pod: P, decision: QueueDecision, req: AdmitRequest<P, R>): Round<R> {
  switch (decision) {
    case 'start':
      return {
        free: req.ops.take(round.free, pod),
        left: req.ops.take(round.left, pod),
        share: round.share.admitted(pod.namespace, pod.quote, req.now),
      };
    case 'wait':
      return { ...round, left: req.ops.hold(round.left, pod) };
    case 'held':
      return round;
  }
}

/**
 * Which waiting pods start now, in order, and what remains. Pods are considered in queue order; a
 * pod that fits starts and its namespace's entry penalty is added at once, so the rest of the round
 * is ordered with it (a namespace with many pods waiting does not take all the room); a pod that does
 * not fit waits and holds what it is short of, so no later pod can delay it; a pod that is not ready
 * is passed over. Pods that could never fit must not be queued (the budget decision rejects them as
 * permanent) or must be reported not ready, else they hold what they are short of for ever.
 */
export function admit<P extends WaitingPod, R>(req: AdmitRequest<P, R>): Admission<P, R> {
  const lanes = lanesOf(req.waiting);
  const usage = usageByNamespace(req.waiting, req.share, req.now);
  const decisions: { pod: P; decision: QueueDecision }[] = [];
  let round: Round<R> = { free: req.room, left: req.room, share: req.share };
  for (let lane = firstLane(lanes, usage); lane !== undefined; lane = firstLane(lanes, usage)) {
    const pod = lane.pods[lane.next++];
    if (pod === undefined) break;
    const decision = decide(pod, round.left, req.ops);
    decisions.push({ pod, decision });
    round = applyDecision(round, pod, decision, req);
    if (decision === 'start') usage.set(pod.namespace, round.share.usage(pod.namespace, req.now));
  }
  return {
    started: decisions.filter((d) => d.decision === 'start').map((d) => d.pod),
    waiting: decisions.filter((d) => d.decision !== 'start').map((d) => d.pod),
    decisions,
    room: round.free,
    share: round.share,
  };
}

/** Room as named pools (e.g. "usd:team-a/gpu-budget", "instances:team-a", "nvidia.com/gpu:team-a/gpu-budget") and how much each has left. */
export type PoolRoom = ReadonlyMap<string, number>;

/** A waiting pod that says how much it draws from each pool; pools it does not name it does not use. */
export interface PoolNeeds {
  readonly needs: Readonly<Record<string, number>>;
}

/** The pools the pod needs more of than the room has (a pool the room does not list has nothing left). */
export function shortOf(pod: PoolNeeds, room: PoolRoom): string[] {
  return Object.entries(pod.needs).filter(([pool, need]) => need > 0 && need > (room.get(pool) ?? 0)).map(([pool]) => pool);
}

function subtract(room: PoolRoom, needs: Readonly<Record<string, number>>): PoolRoom {
  const next = new Map(room);
  for (const [pool, need] of Object.entries(needs)) if (need > 0) next.set(pool, (room.get(pool) ?? 0) - need);
  return next;
}

/**
 * RoomOps over named pools: a pod fits when no pool is short; starting takes its needs; a waiting pod
 * keeps what is left of each pool it is short of (sets it to zero for later pods) and leaves the rest.
 * `ready` is passed through (see RoomOps.ready).
 */
export function poolRoomOps<P extends WaitingPod & PoolNeeds>(ready?: (pod: P) => boolean): RoomOps<P, PoolRoom> {
  const ops: RoomOps<P, PoolRoom> = {
    fits: (pod, room) => shortOf(pod, room).length === 0,
    take: (room, pod) => subtract(room, pod.needs),
    hold: (room, pod) => {
      const next = new Map(room);
      for (const pool of shortOf(pod, room)) next.set(pool, Math.min(0, room.get(pool) ?? 0));
      return next;
    },
  };
  return ready === undefined ? ops : { ...ops, ready };
}
