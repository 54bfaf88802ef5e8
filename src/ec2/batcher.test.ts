import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/fakes/clock.js';
import { Batcher } from './batcher.js';

function batcher(windowMs = 1000, maxSize = 3, fail = false) {
  const clock = new FakeClock();
  const sent: [string, readonly number[]][] = [];
  const errors: unknown[] = [];
  const b = new Batcher<number>({
    clock, windowMs, maxSize, onError: (e) => errors.push(e),
    send: (key, items) => { sent.push([key, items]); return fail ? Promise.reject(new Error('boom')) : Promise.resolve(); },
  });
  return { b, clock, sent, errors };
}

describe('Batcher', () => {
  it('sends what arrived for a key when the window of its first item ends', async () => {
    const { b, clock, sent } = batcher();
    b.add('a', 1);
    await clock.advance(500);
    b.add('a', 2);
    b.add('b', 9);
    expect(b.waiting).toBe(3);
    await clock.advance(499);
    expect(sent).toEqual([]);
    await clock.advance(1);
    expect(sent).toEqual([['a', [1, 2]]]);
    b.add('a', 3);
    await clock.advance(500);
    expect(sent).toEqual([['a', [1, 2]], ['b', [9]]]);
    await clock.advance(500);
    expect(sent.at(-1)).toEqual(['a', [3]]);
  });

  it('sends a full batch at once and starts a new one for the next item', async () => {
    const { b, clock, sent } = batcher();
    for (const i of [1, 2, 3, 4]) b.add('a', i);
    expect(sent).toEqual([['a', [1, 2, 3]]]);
    await clock.advance(1000);
    expect(sent).toEqual([['a', [1, 2, 3]], ['a', [4]]]);
  });

  it('flush sends every open batch and waits for them; a failed send is reported, not thrown', async () => {
    const { b, sent, errors } = batcher(1000, 10, true);
    b.add('a', 1);
    b.add('b', 2);
    await b.flush();
    expect(sent.map(([k]) => k)).toEqual(['a', 'b']);
    expect(errors).toHaveLength(2);
    expect(b.waiting).toBe(0);
  });

  it('close aborts the batch in flight', async () => {
    const clock = new FakeClock();
    let seen: AbortSignal | undefined;
    const b = new Batcher<number>({
      clock, windowMs: 1000, maxSize: 1, onError: () => undefined,
      send: (_k, _items, signal) => { seen = signal; return new Promise((_r, reject) => { signal.addEventListener('abort', () => { reject(new Error('aborted')); }); }); },
    });
    b.add('a', 1);
    await b.close();
    expect(seen?.aborted).toBe(true);
  });

  it('close drops open batches and ignores later items', async () => {
    const { b, clock, sent } = batcher();
    b.add('a', 1);
    await b.close();
    b.add('a', 2);
    await clock.advance(5000);
    expect(sent).toEqual([]);
    expect(b.waiting).toBe(0);
  });
});
