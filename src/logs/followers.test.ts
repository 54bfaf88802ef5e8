// The shared poller of `kubectl logs -f`: one FilterLogEvents call (and its pages) per 100 followed
// streams a round, whatever the number of followers; no line twice, none lost (late ones too);
// each follow ends when its run has ended and the last lines are out, or its client goes away,
// and the poller stops with the last follower.
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import type { StoredEvent } from '../ports/log-store.js';
import { FakeClock } from '../../test/fakes/clock.js';
import { FakeLogStore } from '../../test/fakes/log-store.js';
import { cursorAt, type Cursor } from './cursor.js';
import { LogFollowers } from './followers.js';
import { ReadBudget } from './read-budget.js';

const timings = { pollMs: 1000, lateMs: 15_000, drainMs: 5000 };

function hub(o: { store?: FakeLogStore; perSecond?: number } = {}) {
  const clock = new FakeClock();
  const store = o.store ?? new FakeLogStore();
  store.pageSize = 1000;
  const budget = new ReadBudget({ clock, perSecond: o.perSecond ?? 100, burst: 100 });
  const followers = new LogFollowers({ store, budget, clock, log: createLogger('silent'), group: store.group, timings });
  return { clock, store, budget, followers };
}

/** Follows in the background, collecting what arrives. */
function collect(it: AsyncIterable<readonly StoredEvent[]>): { lines: string[]; done: Promise<void> } {
  const lines: string[] = [];
  const done = (async () => { for await (const b of it) lines.push(...b.map((e) => e.message)); })();
  return { lines, done };
}

const now = (clock: FakeClock): number => clock.now().getTime();
const req = (stream: string, clock: FakeClock, o: { cursor?: Cursor; endedAt?: () => number | undefined } = {}) =>
  ({ stream, cursor: o.cursor ?? cursorAt(undefined), readAt: now(clock), endedAt: o.endedAt ?? (() => undefined) });

describe('the followers of container logs', () => {
  it('serves 100 followers of 100 streams with one FilterLogEvents call a round, and 150 streams with two', async () => {
    const { clock, store, followers } = hub();
    const stop = new AbortController();
    const got = Array.from({ length: 150 }, (_, i) => collect(followers.follow(req(`s${String(i)}`, clock), stop.signal)));
    for (let i = 0; i < 150; i++) store.put(`s${String(i)}`, [now(clock), `line of ${String(i)}`]);
    await clock.tick(1000);
    expect(store.calls.filter((c) => c.op === 'filter').map((c) => c.streams.length)).toEqual([100, 50]);
    expect(got.every((g, i) => g.lines.join() === `line of ${String(i)}`)).toBe(true);
    // 150 followers of the same 100 streams: still one call per 100 streams.
    store.calls.length = 0;
    const more = Array.from({ length: 100 }, (_, i) => collect(followers.follow(req(`s${String(i)}`, clock), stop.signal)));
    await clock.tick(1000);
    expect(store.calls.filter((c) => c.op === 'filter')).toHaveLength(2);
    expect(followers.active).toBe(250);
    stop.abort();
    await Promise.all([...got, ...more].map((g) => g.done));
    expect([followers.active, followers.polling]).toEqual([0, false]);
  });

  it('gives every new line once, including a line CloudWatch shows only rounds after its time', async () => {
    const { clock, store, followers } = hub();
    const stop = new AbortController();
    const t0 = now(clock);
    store.put('s', [t0 - 60_000, 'before']);
    const g = collect(followers.follow(req('s', clock, { cursor: { ts: t0 - 60_000, seen: 1 } }), stop.signal));
    store.put('s', [t0 + 10, 'one'], [t0 + 10, 'two']);
    await clock.tick(1000);
    expect(g.lines).toEqual(['one', 'two']);
    await clock.tick(1000);
    await clock.tick(1000);
    expect(g.lines).toEqual(['one', 'two']);
    // Written at t0 + 500, before the last two rounds, shown only now (the log driver batches).
    store.put('s', [t0 + 500, 'three'], [now(clock), 'four']);
    await clock.tick(1000);
    expect(g.lines).toEqual(['one', 'two', 'three', 'four']);
    stop.abort();
    await g.done;
  });

  it('reads a quiet stream back lateMs only, not from its last line', async () => {
    const { clock, store, followers } = hub();
    const stop = new AbortController();
    const t0 = now(clock);
    const g = collect(followers.follow(req('s', clock, { cursor: { ts: t0 - 3_600_000, seen: 1 } }), stop.signal));
    await clock.tick(1000);
    await clock.tick(1000);
    expect(store.calls.map((c) => c.startTime)).toEqual([t0 - timings.lateMs, t0 + 1000 - timings.lateMs]);
    stop.abort();
    await g.done;
  });

  it('ends a follow once its run has ended and a round started drainMs later has delivered the last lines; the poller stops', async () => {
    const { clock, store, followers } = hub();
    let ended: number | undefined = undefined;
    const g = collect(followers.follow(req('s', clock, { endedAt: () => ended }), new AbortController().signal));
    await clock.tick(1000);
    ended = now(clock);
    await clock.tick(1000);
    store.put('s', [ended - 10, 'last words']);
    for (let i = 0; i < 3; i++) await clock.tick(1000);
    expect(followers.active).toBe(1);
    await clock.tick(1000);
    await g.done;
    expect(g.lines).toEqual(['last words']);
    expect([followers.active, followers.polling]).toEqual([0, false]);
    const calls = store.calls.length;
    await clock.advance(10_000);
    expect(store.calls.length).toBe(calls);
  });

  it('ends at once a follow of a run that ended long before its first read', async () => {
    const { clock, followers } = hub();
    const g = collect(followers.follow(req('s', clock, { endedAt: () => now(clock) - 60_000 }), new AbortController().signal));
    await g.done;
    expect([followers.active, followers.polling]).toEqual([0, false]);
  });

  it('stops following, and polling, when the client goes away, even while a read waits for the budget', async () => {
    const { clock, store, followers } = hub({ perSecond: 0.001 });
    const gone = new AbortController();
    const g = collect(followers.follow(req('s', clock), gone.signal));
    for (let i = 0; i < 3; i++) await clock.tick(1000);
    expect(followers.polling).toBe(true);
    gone.abort(new Error('client went away'));
    await g.done;
    expect([followers.active, followers.polling]).toEqual([0, false]);
    const calls = store.calls.length;
    await clock.advance(60_000);
    expect(store.calls.length).toBe(calls);
  });

  it('goes on after a failed round and loses nothing', async () => {
    const { clock, store, followers } = hub();
    const stop = new AbortController();
    const g = collect(followers.follow(req('s', clock), stop.signal));
    store.put('s', [now(clock) + 1, 'kept']);
    store.failures.push(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await clock.tick(1000);
    expect(g.lines).toEqual([]);
    await clock.tick(1000);
    expect(g.lines).toEqual(['kept']);
    stop.abort();
    await g.done;
  });

  it('reads every page of a round', async () => {
    const { clock, store, followers } = hub();
    store.pageSize = 2;
    const stop = new AbortController();
    const g = collect(followers.follow(req('s', clock), stop.signal));
    store.put('s', ...[1, 2, 3, 4, 5].map((i) => [now(clock) + i, `l${String(i)}`] as const));
    await clock.tick(1000);
    expect(g.lines).toEqual(['l1', 'l2', 'l3', 'l4', 'l5']);
    expect(store.calls.filter((c) => c.op === 'filter')).toHaveLength(3);
    stop.abort();
    await g.done;
  });
});
