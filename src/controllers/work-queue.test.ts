import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../test/fakes/clock.js';
import { done, requeueAfter, WorkQueue } from './work-queue.js';

const backoff = { baseMs: 10, maxMs: 40 };
const queue = (clock = new FakeClock()): WorkQueue<string> => new WorkQueue<string>({ backoff, clock });
const until = (fn: () => void): Promise<void> => vi.waitFor(fn, { timeout: 2000, interval: 5 });

async function drain(q: WorkQueue<string>, handler: (k: string) => Promise<void>, ms = 100, workers = 2): Promise<unknown[]> {
  const errors: unknown[] = [];
  const stop = new AbortController();
  const running = q.run(workers, async (k) => { await handler(k); return done; }, (_k, e) => errors.push(e), stop.signal);
  await sleep(ms);
  stop.abort();
  await running;
  return errors;
}

describe('WorkQueue', () => {
  it('processes a key added many times once', async () => {
    const q = queue();
    for (let i = 0; i < 5; i++) q.add('a');
    q.add('b');
    const seen: string[] = [];
    await drain(q, (k) => { seen.push(k); return Promise.resolve(); });
    expect(seen.sort()).toEqual(['a', 'b']);
  });

  it('processes a key again when it is added while being processed, never by two workers at once', async () => {
    const q = queue();
    let inFlight = 0;
    let maxInFlight = 0;
    let runs = 0;
    q.add('a');
    await drain(q, async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      runs++;
      if (runs === 1) q.add('a');
      await sleep(10);
      inFlight--;
    }, 150, 4);
    expect(runs).toBe(2);
    expect(maxInFlight).toBe(1);
  });

  it('wakes every idle worker: keys are processed in parallel', async () => {
    const q = queue();
    let inFlight = 0;
    let maxInFlight = 0;
    const stop = new AbortController();
    const running = q.run(3, async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(30);
      inFlight--;
      return done;
    }, () => undefined, stop.signal);
    await sleep(5);
    for (const k of ['a', 'b', 'c']) q.add(k);
    await sleep(60);
    stop.abort();
    await running;
    expect(maxInFlight).toBe(3);
  });

  it('backs off a failing key exponentially up to the maximum, and forget() resets it', () => {
    const q = queue();
    expect([q.retry('a'), q.retry('a'), q.retry('a'), q.retry('a')]).toEqual([1, 2, 3, 4]);
    expect(q.failures('a')).toBe(4);
    q.forget('a');
    expect(q.failures('a')).toBe(0);
  });

  it('hands handler errors to onError and keeps working', async () => {
    const q = queue();
    q.add('bad');
    q.add('good');
    const seen: string[] = [];
    const errors = await drain(q, (k) => {
      seen.push(k);
      return k === 'bad' ? Promise.reject(new Error('boom')) : Promise.resolve();
    });
    expect(seen.sort()).toEqual(['bad', 'good']);
    expect(errors).toEqual([new Error('boom')]);
  });

  it('requeues after the delay a handler asks for, waited on its clock', async () => {
    const clock = new FakeClock();
    const q = queue(clock);
    q.add('a');
    let runs = 0;
    const stop = new AbortController();
    const running = q.run(1, () => Promise.resolve(++runs < 3 ? requeueAfter(10) : done), () => undefined, stop.signal);
    await until(() => { expect(runs).toBe(1); });
    await sleep(30);
    expect(runs).toBe(1);
    await clock.advance(9);
    expect(runs).toBe(1);
    await clock.advance(1);
    await until(() => { expect(runs).toBe(2); });
    await clock.advance(10);
    await until(() => { expect(runs).toBe(3); });
    stop.abort();
    await running;
    expect(q.depth).toBe(0);
  });

  it('retries a failing key after its back-off delays, which pass on the clock alone', async () => {
    const clock = new FakeClock();
    const q = queue(clock);
    const tries: number[] = [];
    const stop = new AbortController();
    const start = clock.now().getTime();
    const running = q.run(1, () => { tries.push(clock.now().getTime() - start); return Promise.reject(new Error('boom')); }, (k) => { q.retry(k); }, stop.signal);
    q.add('a');
    await until(() => { expect(tries).toEqual([0]); });
    // Real time passing moves nothing: the delays are the clock's.
    await sleep(60);
    expect(tries).toEqual([0]);
    const advanceTo = async (ms: number): Promise<void> => { while (clock.now().getTime() - start < ms) await clock.advance(5); };
    await advanceTo(60);
    expect(tries).toEqual([0, 10, 30]);
    await advanceTo(140);
    expect(tries).toEqual([0, 10, 30, 70, 110]);
    expect(clock.sleeping).toBe(1);
    stop.abort();
    await running;
    expect(clock.sleeping).toBe(0);
  });
});
