// The read budget: a burst at once, then perSecond on average, in order; an aborted caller spends nothing.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/fakes/clock.js';
import { ReadBudget } from './read-budget.js';

const never = new AbortController().signal;

describe('the CloudWatch read budget', () => {
  it('lets a burst through at once, then one read per 1/perSecond seconds, in the order asked', async () => {
    const clock = new FakeClock();
    let spends = 0;
    const budget = new ReadBudget({ clock, perSecond: 2, burst: 3, onSpend: () => { spends += 1; } });
    const done: number[] = [];
    const takes = [0, 1, 2, 3, 4].map((i) => budget.take(never).then(() => { done.push(i); }));
    await clock.advance(0);
    expect(done).toEqual([0, 1, 2]);
    await clock.tick(500);
    expect(done).toEqual([0, 1, 2, 3]);
    await clock.tick(499);
    expect(done).toEqual([0, 1, 2, 3]);
    await clock.tick(1);
    await Promise.all(takes);
    expect(done).toEqual([0, 1, 2, 3, 4]);
    expect([budget.spent, spends]).toEqual([5, 5]);
  });

  it('refills up to the burst only, however long it was idle', async () => {
    const clock = new FakeClock();
    const budget = new ReadBudget({ clock, perSecond: 1, burst: 2 });
    await clock.advance(60_000);
    const done: number[] = [];
    void budget.take(never).then(() => done.push(1));
    void budget.take(never).then(() => done.push(2));
    void budget.take(never).then(() => done.push(3));
    await clock.advance(0);
    expect(done).toEqual([1, 2]);
  });

  it('rejects a caller whose signal aborts while it waits, without spending its read or blocking the next', async () => {
    const clock = new FakeClock();
    const budget = new ReadBudget({ clock, perSecond: 1, burst: 1 });
    await budget.take(never);
    const gone = new AbortController();
    const waiting = budget.take(gone.signal);
    const next = budget.take(never);
    await clock.advance(0);
    gone.abort(new Error('client went away'));
    await expect(waiting).rejects.toThrow();
    await clock.tick(1000);
    await next;
    expect(budget.spent).toBe(2);
  });

  it('refuses a budget that could never let a read through', () => {
    expect(() => new ReadBudget({ clock: new FakeClock(), perSecond: 0, burst: 1 })).toThrow(RangeError);
    expect(() => new ReadBudget({ clock: new FakeClock(), perSecond: 1, burst: 0 })).toThrow(RangeError);
  });
});
