// The fair queue: ordering (priority, then fair share, then age, then uid), admission with the entry
// penalty, backfill that may not delay a waiting pod, held pods, and the named-pool room.
import { describe, expect, it } from 'vitest';
import { USD } from './budget-types.js';
import { admit, orderQueue, poolRoomOps, shortOf, type PoolNeeds, type PoolRoom, type WaitingPod } from './fair-queue.js';
import { FairShare } from './fair-share.js';

const NOW = Date.UTC(2025, 0, 1);
const MIN = 60_000;

type Pod = WaitingPod & PoolNeeds;

function pod(uid: string, o: Partial<Pod> = {}): Pod {
  return { uid, namespace: 'a', priority: 0, createdAt: NOW - 10 * MIN, quote: USD, needs: {}, ...o };
}

const room = (pools: Record<string, number>): PoolRoom => new Map(Object.entries(pools));
const uids = (pods: readonly { uid: string }[]): string[] => pods.map((p) => p.uid);
const spent = (entries: Record<string, number>): FairShare =>
  Object.entries(entries).reduce((s, [ns, usd]) => s.charge(ns, Math.round(usd * USD), NOW), new FairShare());

describe('orderQueue', () => {
  it.each([
    {
      rule: 'priority beats fair share',
      pods: [pod('light', { namespace: 'light' }), pod('heavy', { namespace: 'heavy', priority: 100 })],
      share: { heavy: 1000 }, order: ['heavy', 'light'],
    },
    {
      rule: 'priority beats age',
      pods: [pod('old', { createdAt: NOW - 60 * MIN }), pod('new', { createdAt: NOW, priority: 1 })],
      share: {}, order: ['new', 'old'],
    },
    {
      rule: 'fair share beats age',
      pods: [pod('old-heavy', { namespace: 'heavy', createdAt: NOW - 60 * MIN }), pod('new-light', { namespace: 'light', createdAt: NOW })],
      share: { heavy: 5, light: 1 }, order: ['new-light', 'old-heavy'],
    },
    {
      rule: 'a namespace never seen goes before one that spent',
      pods: [pod('spender', { namespace: 'spender', createdAt: NOW - 60 * MIN }), pod('newcomer', { namespace: 'newcomer' })],
      share: { spender: 0.01 }, order: ['newcomer', 'spender'],
    },
    {
      rule: 'age orders pods of equal priority and share',
      pods: [pod('young', { createdAt: NOW }), pod('old', { createdAt: NOW - MIN }), pod('middle', { createdAt: NOW - 1 })],
      share: {}, order: ['old', 'middle', 'young'],
    },
    {
      rule: 'the uid breaks a tie',
      pods: [pod('uid-b', { namespace: 'x' }), pod('uid-c', { namespace: 'y' }), pod('uid-a', { namespace: 'z' })],
      share: {}, order: ['uid-a', 'uid-b', 'uid-c'],
    },
    {
      rule: 'negative priorities go last',
      pods: [pod('low', { priority: -10, createdAt: NOW - 60 * MIN }), pod('default')],
      share: {}, order: ['default', 'low'],
    },
  ])('$rule', ({ pods, share, order }) => {
    expect(uids(orderQueue(pods, spent(share), NOW))).toEqual(order);
    expect(uids(orderQueue([...pods].reverse(), spent(share), NOW))).toEqual(order);
  });

  it('orders by usage decayed to now, so old heavy spend counts less than recent light spend', () => {
    const day = 24 * 60 * MIN;
    const spend = (halfLifeMs: number): FairShare =>
      new FairShare({ halfLifeMs }).charge('past', 100 * USD, NOW - 10 * day).charge('recent', USD, NOW);
    const pods = [pod('recent-pod', { namespace: 'recent', createdAt: NOW - 60 * MIN }), pod('past-pod', { namespace: 'past' })];
    expect(uids(orderQueue(pods, spend(day), NOW))).toEqual(['past-pod', 'recent-pod']);
    expect(uids(orderQueue(pods, spend(30 * day), NOW))).toEqual(['recent-pod', 'past-pod']);
  });

  it('returns a new array and leaves the input as it was', () => {
    const pods = [pod('b', { createdAt: NOW }), pod('a', { createdAt: NOW - MIN })];
    const ordered = orderQueue(pods, new FairShare(), NOW);
    expect(uids(ordered)).toEqual(['a', 'b']);
    expect(uids(pods)).toEqual(['b', 'a']);
  });
});

const ops = poolRoomOps<Pod>();

describe('admit', () => {
  it('starts everything that fits, in queue order, and takes its room', () => {
    const pods = [pod('p2', { createdAt: NOW - MIN, needs: { usd: 3 } }), pod('p1', { createdAt: NOW - 2 * MIN, needs: { usd: 4 } })];
    const r = admit({ waiting: pods, room: room({ usd: 10 }), ops, share: new FairShare(), now: NOW });
    expect(uids(r.started)).toEqual(['p1', 'p2']);
    expect(r.waiting).toEqual([]);
    expect(r.room.get('usd')).toBe(3);
  });

  it('returns nothing for an empty queue and leaves room and share as they were', () => {
    const share = spent({ a: 1 });
    const r = admit({ waiting: [], room: room({ usd: 1 }), ops, share, now: NOW });
    expect(r).toEqual({ started: [], waiting: [], decisions: [], room: room({ usd: 1 }), share });
  });

  it('adds the entry penalty as pods start, so one namespace with many pods does not take all the room', () => {
    const pods = [
      ...[1, 2, 3].map((i) => pod(`a${i}`, { namespace: 'a', createdAt: NOW - 10 * MIN + i, needs: { gpu: 1 } })),
      ...[1, 2, 3].map((i) => pod(`b${i}`, { namespace: 'b', createdAt: NOW - 5 * MIN + i, needs: { gpu: 1 } })),
    ];
    const r = admit({ waiting: pods, room: room({ gpu: 4 }), ops, share: new FairShare(), now: NOW });
    expect(uids(r.started)).toEqual(['a1', 'b1', 'a2', 'b2']);
    expect(uids(r.waiting)).toEqual(['a3', 'b3']);
    expect(r.share.usage('a', NOW)).toBe(2 * USD);
    expect(r.share.usage('b', NOW)).toBe(2 * USD);
  });

  it('considers pods in the order orderQueue gives when none starts', () => {
    const pods = [
      pod('p1', { namespace: 'x', priority: 5, createdAt: NOW - MIN, needs: { gpu: 9 } }),
      pod('p2', { namespace: 'y', createdAt: NOW - 3 * MIN, needs: { gpu: 9 } }),
      pod('p3', { namespace: 'z', createdAt: NOW - 2 * MIN, needs: { gpu: 9 } }),
      pod('p4', { namespace: 'x', createdAt: NOW - 9 * MIN, needs: { gpu: 9 } }),
    ];
    const share = spent({ y: 3, x: 1 });
    const r = admit({ waiting: pods, room: room({ gpu: 1 }), ops, share, now: NOW });
    expect(uids(r.waiting)).toEqual(uids(orderQueue(pods, share, NOW)));
    expect(uids(r.waiting)).toEqual(['p1', 'p3', 'p4', 'p2']);
  });

  it('without room, starts nothing and charges no penalty', () => {
    const pods = [pod('a1', { needs: { gpu: 1 } }), pod('b1', { namespace: 'b', needs: { gpu: 1 } })];
    const r = admit({ waiting: pods, room: room({ gpu: 0 }), ops, share: new FairShare(), now: NOW });
    expect(r.started).toEqual([]);
    expect(r.decisions.map((d) => d.decision)).toEqual(['wait', 'wait']);
    expect(r.share.usage('a', NOW)).toBe(0);
  });
});

describe('admit: backfill', () => {
  const head = pod('head', { createdAt: NOW - 60 * MIN, needs: { 'usd:a': 50, 'instances:a': 1 } });

  it('does not let a smaller pod of the same budget take money the head is short of', () => {
    const small = pod('small', { needs: { 'usd:a': 10, 'instances:a': 1 } });
    const r = admit({ waiting: [small, head], room: room({ 'usd:a': 30, 'instances:a': 5 }), ops, share: new FairShare(), now: NOW });
    expect(r.started).toEqual([]);
    expect(r.decisions).toEqual([{ pod: head, decision: 'wait' }, { pod: small, decision: 'wait' }]);
    expect(r.room.get('usd:a')).toBe(30);
  });

  it('lets a pod of another budget start while the head waits for its own (blocker of another kind)', () => {
    const other = pod('other', { namespace: 'b', needs: { 'usd:b': 10, 'instances:b': 1 } });
    const r = admit({ waiting: [other, head], room: room({ 'usd:a': 30, 'instances:a': 5, 'usd:b': 10, 'instances:b': 1 }), ops, share: spent({ b: 99 }), now: NOW });
    expect(uids(r.started)).toEqual(['other']);
    expect(uids(r.waiting)).toEqual(['head']);
    expect(r.room.get('usd:b')).toBe(0);
    expect(r.room.get('usd:a')).toBe(30);
  });

  it('lets a pod share a pool the head is not short of, but not one it is', () => {
    const waitsForGpu = pod('head', { createdAt: NOW - 60 * MIN, needs: { gpu: 4, 'usd:a': 5 } });
    const cpuOnly = pod('cpu-only', { needs: { 'usd:a': 5 } });
    const smallGpu = pod('small-gpu', { needs: { gpu: 1, 'usd:a': 1 } });
    const r = admit({ waiting: [waitsForGpu, cpuOnly, smallGpu], room: room({ gpu: 3, 'usd:a': 20 }), ops, share: new FairShare(), now: NOW });
    expect(uids(r.started)).toEqual(['cpu-only']);
    expect(uids(r.waiting)).toEqual(['head', 'small-gpu']);
    expect(r.room).toEqual(room({ gpu: 3, 'usd:a': 15 }));
  });

  it('protects every waiting pod, not only the first: a later pod may not take what the second is short of', () => {
    const first = pod('first', { namespace: 'a', createdAt: NOW - 60 * MIN, needs: { 'usd:a': 99 } });
    const second = pod('second', { namespace: 'b', createdAt: NOW - 50 * MIN, needs: { 'usd:b': 8 } });
    const third = pod('third', { namespace: 'b', createdAt: NOW - 40 * MIN, needs: { 'usd:b': 2 } });
    const r = admit({ waiting: [third, second, first], room: room({ 'usd:a': 10, 'usd:b': 5 }), ops, share: new FairShare(), now: NOW });
    expect(r.started).toEqual([]);
  });

  it('blocks a namespace’s later pods when the head is short of the namespace’s instance count', () => {
    const capped = pod('head', { createdAt: NOW - 60 * MIN, needs: { 'usd:a': 1, 'instances:a': 1 } });
    const later = pod('later', { needs: { 'usd:a': 1, 'instances:a': 1 } });
    const other = pod('other', { namespace: 'b', needs: { 'usd:b': 1, 'instances:b': 1 } });
    const pools = room({ 'usd:a': 10, 'instances:a': 0, 'usd:b': 10, 'instances:b': 1 });
    const r = admit({ waiting: [later, other, capped], room: pools, ops, share: new FairShare(), now: NOW });
    expect(uids(r.started)).toEqual(['other']);
  });

  it('passes over a pod that is not ready (no capacity for its family) and keeps nothing for it', () => {
    const iced = pod('head', { createdAt: NOW - 60 * MIN, needs: { 'usd:a': 50 } });
    const next = pod('next', { needs: { 'usd:a': 40 } });
    const heldOps = poolRoomOps<Pod>((p) => p.uid !== 'head');
    const r = admit({ waiting: [iced, next], room: room({ 'usd:a': 50 }), ops: heldOps, share: new FairShare(), now: NOW });
    expect(r.decisions).toEqual([{ pod: iced, decision: 'held' }, { pod: next, decision: 'start' }]);
    expect(uids(r.waiting)).toEqual(['head']);
    expect(r.room.get('usd:a')).toBe(10);
  });

  it('starts the head before a smaller later pod when both fit', () => {
    const small = pod('small', { needs: { 'usd:a': 10 } });
    const big = pod('head', { createdAt: NOW - 60 * MIN, needs: { 'usd:a': 50 } });
    const r = admit({ waiting: [small, big], room: room({ 'usd:a': 55 }), ops, share: new FairShare(), now: NOW });
    expect(r.decisions).toEqual([{ pod: big, decision: 'start' }, { pod: small, decision: 'wait' }]);
  });

  it('never changes money: the room left is exactly the room minus what the started pods take, whatever the share', () => {
    const pods = [pod('x', { namespace: 'x', needs: { usd: 7 } }), pod('y', { namespace: 'y', needs: { usd: 5 } })];
    for (const share of [new FairShare(), spent({ x: 1e6 }), spent({ y: 1e6 })]) {
      const r = admit({ waiting: pods, room: room({ usd: 12 }), ops, share, now: NOW });
      expect(r.room.get('usd')).toBe(0);
    }
  });
});

describe('poolRoomOps', () => {
  it('treats a pool the room does not list as empty, and ignores needs of zero', () => {
    expect(ops.fits(pod('p', { needs: { missing: 1 } }), room({}))).toBe(false);
    expect(ops.fits(pod('p', { needs: { missing: 0, usd: 2 } }), room({ usd: 2 }))).toBe(true);
    expect(shortOf(pod('p', { needs: { usd: 3, gpu: 1, n: 1 } }), room({ usd: 2, gpu: 1 }))).toEqual(['usd', 'n']);
  });

  it('holds only what the pod is short of and leaves the room given unchanged', () => {
    const before = room({ usd: 2, gpu: 8 });
    const held = ops.hold(before, pod('p', { needs: { usd: 3, gpu: 1 } }));
    expect(held).toEqual(room({ usd: 0, gpu: 8 }));
    expect(before).toEqual(room({ usd: 2, gpu: 8 }));
    expect(ops.take(before, pod('q', { needs: { gpu: 3 } }))).toEqual(room({ usd: 2, gpu: 5 }));
  });

  it('is ready for every pod unless told otherwise', () => {
    expect(ops.ready).toBeUndefined();
    expect(poolRoomOps<Pod>(() => false).ready?.(pod('p'))).toBe(false);
  });
});
