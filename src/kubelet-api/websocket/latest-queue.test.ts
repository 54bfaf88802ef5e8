import { describe, expect, it } from 'vitest';
import { LatestQueue } from './latest-queue.js';

async function take<T>(q: LatestQueue<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  const it = q[Symbol.asyncIterator]();
  for (let i = 0; i < n; i++) {
    const r = await it.next();
    if (r.done === true) break;
    out.push(r.value);
  }
  return out;
}

describe('LatestQueue', () => {
  it('hands items over in order, to a waiting reader too', async () => {
    const q = new LatestQueue<number>();
    const waiting = take(q, 2);
    q.push(1);
    q.push(2);
    expect(await waiting).toEqual([1, 2]);
  });

  it('keeps only the newest `limit` items while the reader is behind', async () => {
    const q = new LatestQueue<number>(2);
    for (const n of [1, 2, 3, 4]) q.push(n);
    q.end();
    expect(await take(q, 10)).toEqual([3, 4]);
  });

  it('gives queued items, then the end, and ignores pushes after end', async () => {
    const q = new LatestQueue<string>();
    q.push('a');
    q.end();
    q.push('b');
    const seen: string[] = [];
    for await (const s of q) seen.push(s);
    expect(seen).toEqual(['a']);
  });

  it('ends a reader that is waiting', async () => {
    const q = new LatestQueue<number>();
    const it = q[Symbol.asyncIterator]();
    const next = it.next();
    q.end();
    expect(await next).toEqual({ done: true, value: undefined });
  });

  it('stops when the reader breaks out', async () => {
    const q = new LatestQueue<number>();
    q.push(1);
    q.push(2);
    for await (const n of q) if (n === 1) break;
    q.push(3);
    expect(await take(q, 5)).toEqual([]);
  });

  it('refuses a limit below 1', () => {
    expect(() => new LatestQueue(0)).toThrow(RangeError);
  });
});
