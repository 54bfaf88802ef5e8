import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  it('starts at the base, doubles per attempt and stops at the maximum', () => {
    const policy = { baseMs: 500, maxMs: 30_000 };
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n, policy))).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  });

  it('grows by the factor given', () => {
    expect([1, 2, 3].map((n) => backoffDelay(n, { baseMs: 100, maxMs: 10_000, factor: 3 }))).toEqual([100, 300, 900]);
  });

  it('stays at the maximum however many attempts, and at zero for a zero base', () => {
    expect(backoffDelay(10_000, { baseMs: 1000, maxMs: 60_000 })).toBe(60_000);
    expect(backoffDelay(10_000, { baseMs: 0, maxMs: 60_000 })).toBe(0);
    expect(backoffDelay(0, { baseMs: 1000, maxMs: 60_000 })).toBe(1000);
  });
});

describe('Backoff', () => {
  it('counts consecutive failures and starts again from the base after reset()', () => {
    const b = new Backoff({ baseMs: 10, maxMs: 40 });
    expect([b.next(), b.next(), b.next(), b.next()]).toEqual([10, 20, 40, 40]);
    expect(b.failures).toBe(4);
    b.reset();
    expect(b.failures).toBe(0);
    expect(b.next()).toBe(10);
  });
});
