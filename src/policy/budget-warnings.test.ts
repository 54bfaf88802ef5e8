import { describe, expect, it } from 'vitest';
import { BudgetBook } from './budget-book.js';
import { USD, type BudgetRules, type LaunchRequest } from './budget-types.js';
import { thresholdAmount, thresholdsCrossed, warningMessage, warningsBetween } from './budget-warnings.js';
import type { Result } from '../domain/result.js';

/** Budget team-a/gpu, $1,000.00, without warning thresholds. */
const base: BudgetRules = {
  id: 'team-a/gpu', namespace: 'team-a', limit: 1000 * USD,
  period: { kind: 'Monthly', resetDay: 1, timeZone: 'UTC' }, defaultMaxRuntimeSeconds: 3600,
};
const rules = (over: Partial<BudgetRules> = {}): BudgetRules => ({ ...base, warnAtPercent: [50, 80, 100], ...over });
const launch = (podUid: string): LaunchRequest => ({
  podUid, namespace: 'team-a', instanceType: 'p5.48xlarge', family: 'p5', capacityType: 'on-demand',
  accelerators: {}, ceilingPerHour: 900 * USD,
});

function value<T, E>(r: Result<T, E>): T {
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r.error)}`);
  return r.value;
}

describe('thresholdAmount', () => {
  it.each([
    { limit: 1000 * USD, percent: 50, amount: 500 * USD },
    { limit: 1000 * USD, percent: 12.5, amount: 125 * USD },
    { limit: 1000 * USD, percent: 150, amount: 1500 * USD },
    { limit: 3, percent: 50, amount: 2 },
    { limit: Number.MAX_SAFE_INTEGER, percent: 100, amount: Number.MAX_SAFE_INTEGER },
  ])('$percent% of $limit µUSD is reached at $amount µUSD', ({ limit, percent, amount }) => {
    expect(thresholdAmount(limit, percent)).toBe(amount);
  });
});

describe('thresholdsCrossed', () => {
  it.each([
    { name: 'spend below the first threshold', before: 0, after: 500 * USD - 1, crossed: [] },
    { name: 'spend reaching 50% exactly', before: 0, after: 500 * USD, crossed: [50] },
    { name: 'one micro-dollar short of 80% to exactly 80%', before: 800 * USD - 1, after: 800 * USD, crossed: [80] },
    { name: 'two thresholds in one step', before: 499 * USD, after: 850 * USD, crossed: [50, 80] },
    { name: 'every threshold, over the limit', before: 0, after: 1200 * USD, crossed: [50, 80, 100] },
    { name: 'a threshold already reached before', before: 800 * USD, after: 900 * USD, crossed: [] },
    { name: 'no change', before: 600 * USD, after: 600 * USD, crossed: [] },
    { name: 'spend going down', before: 900 * USD, after: 100 * USD, crossed: [] },
  ])('$name: $crossed', ({ before, after, crossed }) => {
    expect(thresholdsCrossed(rules(), before, after)).toEqual(crossed);
  });

  it.each([
    { name: 'unordered and repeated percentages, sorted and once', warnAtPercent: [100, 50, 50], crossed: [50, 100] },
    { name: 'percentages that are not finite or not above zero', warnAtPercent: [Number.NaN, -5, 0, Number.POSITIVE_INFINITY], crossed: [] },
    { name: 'no thresholds', warnAtPercent: [], crossed: [] },
  ])('$name', ({ warnAtPercent, crossed }) => {
    expect(thresholdsCrossed(rules({ warnAtPercent }), 0, 2000 * USD)).toEqual(crossed);
  });

  it('never warns for a budget without warnAtPercent or with a zero limit', () => {
    expect(thresholdsCrossed(base, 0, 2000 * USD)).toEqual([]);
    expect(thresholdsCrossed(rules({ limit: 0 }), 0, 2000 * USD)).toEqual([]);
  });
});

describe('warningsBetween', () => {
  it('warns on spend, not on reservations, once per threshold and again in the next period', () => {
    const empty = BudgetBook.create(rules());
    const reserved = empty.decide(launch('pod-1')).book;
    expect(reserved.usage.reserved).toBe(900 * USD);
    expect(warningsBetween(empty, reserved)).toEqual([]);
    const half = value(reserved.accrue('pod-1', 510 * USD));
    expect(warningsBetween(reserved, half)).toEqual([50]);
    const more = value(half.accrue('pod-1', 600 * USD));
    expect(warningsBetween(half, more)).toEqual([]);
    const ended = value(more.end('pod-1', 820 * USD));
    expect(warningsBetween(more, ended)).toEqual([80]);
    const next = ended.rollOver();
    expect(warningsBetween(ended, next)).toEqual([]);
    const again = value(next.decide(launch('pod-2')).book.accrue('pod-2', 500 * USD));
    expect(warningsBetween(next, again)).toEqual([50]);
  });
});

describe('warningMessage', () => {
  it('names the budget, the threshold and the figures', () => {
    expect(warningMessage(rules({ limit: 1_234_560_000 }), 80, 987_650_000)).toBe('budget team-a/gpu: 80% of the limit reached: spent $987.65 of $1,234.56');
  });
});
