// kubectl logs over the LogStore: all of a run (from since on), its last N lines (pages read
// backwards), and with follow the new lines after them, none twice; every read spent from the budget.
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import type { PodKey } from '../domain/pod.js';
import type { LogLine, LogOptions, LogTarget } from '../provider/provider.js';
import { FakeClock } from '../../test/fakes/clock.js';
import { FakeLogStore } from '../../test/fakes/log-store.js';
import { ContainerLogs } from './container-logs.js';
import { LogFollowers } from './followers.js';
import { ReadBudget } from './read-budget.js';

const target: LogTarget = { ref: { key: 'ml/train' as PodKey, uid: 'u1' }, container: 'main', run: 2 };
const stream = 'ml/train/u1/main/2';
const base: LogOptions = { follow: false, previous: false, timestamps: false };

function setup() {
  const clock = new FakeClock();
  const store = new FakeLogStore();
  const budget = new ReadBudget({ clock, perSecond: 1000, burst: 1000 });
  const followers = new LogFollowers({ store, budget, clock, log: createLogger('silent'), group: store.group, timings: { pollMs: 1000, lateMs: 15_000, drainMs: 5000 } });
  const logs = new ContainerLogs({ store, budget, followers, clock, group: store.group, streamOf: (t) => `${t.ref.key}/${t.ref.uid}/${t.container}/${String(t.run)}` });
  const t0 = clock.now().getTime();
  store.put(stream, ...Array.from({ length: 8 }, (_, i) => [t0 - 8000 + i * 1000, `line ${String(i)}`] as const));
  store.put('ml/train/u1/main/1', [t0 - 20_000, 'the run before']);
  return { clock, store, budget, logs, followers, t0 };
}

async function all(it: AsyncIterable<readonly LogLine[]>): Promise<{ batches: number; texts: string[] }> {
  const texts: string[] = [];
  let batches = 0;
  for await (const b of it) {
    batches += 1;
    texts.push(...b.map((l) => l.text));
  }
  return { batches, texts };
}

const running = (): undefined => undefined;
const signal = new AbortController().signal;

describe('container logs from CloudWatch', () => {
  it('reads the whole run, page after page, and only that run\'s stream', async () => {
    const { logs, store, budget } = setup();
    const got = await all(logs.containerLogs(target, base, running, signal));
    expect(got.texts).toEqual(Array.from({ length: 8 }, (_, i) => `line ${String(i)}`));
    expect(new Set(store.calls.flatMap((c) => c.streams))).toEqual(new Set([stream]));
    expect(budget.spent).toBe(store.calls.length);
  });

  it('reads the last N lines backwards: one call when the stream is short, several pages when N is larger than a page', async () => {
    const { logs, store, t0 } = setup();
    store.pageSize = 10_000;
    expect((await all(logs.containerLogs(target, { ...base, tailLines: 5 }, running, signal))).texts).toEqual(['line 3', 'line 4', 'line 5', 'line 6', 'line 7']);
    expect((await all(logs.containerLogs(target, { ...base, tailLines: 100 }, running, signal))).texts).toHaveLength(8);
    expect((await all(logs.containerLogs(target, { ...base, tailLines: 0 }, running, signal))).texts).toEqual([]);
    expect(store.calls.map((c) => c.op)).toEqual(['backward', 'backward']);
    store.calls.length = 0;
    store.put('ml/train/u1/main/3', ...Array.from({ length: 25_000 }, (_, i) => [t0 - 25_000 + i, `n${String(i)}`] as const));
    const big = await all(logs.containerLogs({ ...target, run: 3 }, { ...base, tailLines: 20_000 }, running, signal));
    expect([big.texts.length, big.texts[0], big.texts.at(-1)]).toEqual([20_000, 'n5000', 'n24999']);
    expect(store.calls.map((c) => c.op)).toEqual(['backward', 'backward']);
  });

  it('skips lines older than since, with and without a tail (the tail is taken before since, as a kubelet does)', async () => {
    const { logs, t0 } = setup();
    const since = new Date(t0 - 3000);
    expect((await all(logs.containerLogs(target, { ...base, since }, running, signal))).texts).toEqual(['line 5', 'line 6', 'line 7']);
    expect((await all(logs.containerLogs(target, { ...base, since, tailLines: 2 }, running, signal))).texts).toEqual(['line 6', 'line 7']);
    expect((await all(logs.containerLogs(target, { ...base, since, tailLines: 10 }, running, signal))).texts).toEqual(['line 5', 'line 6', 'line 7']);
  });

  it('gives one empty batch for a stream that has nothing yet, so the caller can answer before the first line', async () => {
    const { logs } = setup();
    expect(await all(logs.containerLogs({ ...target, run: 9 }, base, running, signal))).toEqual({ batches: 1, texts: [] });
  });

  it('throws from the first read when the store cannot be read', async () => {
    const { logs, store } = setup();
    store.failures.push(new Error('AccessDeniedException: not authorized to perform logs:GetLogEvents'));
    await expect(all(logs.containerLogs(target, base, running, signal))).rejects.toThrow(/AccessDenied/);
  });

  it('follows from where the tail stopped: new lines once, then the end once the run is over', async () => {
    const { logs, store, clock, t0, followers } = setup();
    let ended: Date | undefined = undefined;
    const texts: string[] = [];
    const done = (async () => { for await (const b of logs.containerLogs(target, { ...base, follow: true, tailLines: 1 }, () => ended, signal)) texts.push(...b.map((l) => l.text)); })();
    await clock.advance(0);
    store.put(stream, [t0 + 500, 'new']);
    await clock.tick(1000);
    expect(texts).toEqual(['line 7', 'new']);
    ended = clock.now();
    for (let i = 0; i < 10 && followers.active > 0; i++) await clock.tick(1000);
    await done;
    expect(texts).toEqual(['line 7', 'new']);
    expect(followers.active).toBe(0);
  });
});
