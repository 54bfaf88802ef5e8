import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { done, requeueAfter, WorkQueue } from './work-queue.js';

const opts = { baseDelayMs: 10, maxDelayMs: 40 };

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
    const q = new WorkQueue<string>(opts);
    for (let i = 0; i < 5; i++) q.add('a');
    q.add('b');
    const seen: string[] = [];
    await drain(q, (k) => { seen.push(k); return Promise.resolve(); });
    expect(seen.sort()).toEqual(['a', 'b']);
  });

  it('processes a key again when it is added while being processed, never by two workers at once', async () => {
    const q = new WorkQueue<string>(opts);
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
    const q = new WorkQueue<string>(opts);
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
    const q = new WorkQueue<string>(opts);
    expect([q.retry('a'), q.retry('a'), q.retry('a'), q.retry('a')]).toEqual([1, 2, 3, 4]);
    expect(q.failures('a')).toBe(4);
    q.forget('a');
    expect(q.failures('a')).toBe(0);
  });

  it('hands handler errors to onError and keeps working', async () => {
    const q = new WorkQueue<string>(opts);
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

  it('requeues after the delay a handler asks for', async () => {
    const q = new WorkQueue<string>(opts);
    q.add('a');
    let runs = 0;
    const stop = new AbortController();
    const running = q.run(1, () => Promise.resolve(++runs < 3 ? requeueAfter(10) : done), () => undefined, stop.signal);
    await sleep(80);
    stop.abort();
    await running;
    expect(runs).toBe(3);
    expect(q.depth).toBe(0);
  });
});
