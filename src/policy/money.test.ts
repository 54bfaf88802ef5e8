import { describe, expect, it } from 'vitest';
import { USD } from './budget-types.js';
import { assertMicroUsd, centsOf, costForMillis, costForSeconds, costOverTime, formatUsd, isMicroUsd, microUsdFromUsd, splitByTime, usdToTheCent } from './money.js';

describe('costForSeconds', () => {
  it.each([
    { name: '$98.32/h × 1 s rounds 27,311.1 µUSD up', perHour: 98_320_000, seconds: 1, cost: 27_312 },
    { name: '$1/h × 1 s rounds 277.7 µUSD up', perHour: USD, seconds: 1, cost: 278 },
    { name: '$3.60/h × 1 s is exactly 1,000 µUSD, not rounded', perHour: 3_600_000, seconds: 1, cost: 1000 },
    { name: '$98.32/h × 1 h', perHour: 98_320_000, seconds: 3600, cost: 98_320_000 },
    { name: '$98.32/h × 1 year, beyond exact double products', perHour: 98_320_000, seconds: 31_536_000, cost: 861_283_200_000 },
    { name: '$3,600.000001/h × 1,000 h', perHour: 3_600_000_001, seconds: 3_600_000, cost: 3_600_000_001_000 },
    { name: 'a fractional second counts as a whole one', perHour: 3_600_000, seconds: 0.5, cost: 1000 },
    { name: 'a free price costs nothing', perHour: 0, seconds: 86_400, cost: 0 },
    { name: 'no runtime costs nothing', perHour: 98_320_000, seconds: 0, cost: 0 },
  ])('$name', ({ perHour, seconds, cost }) => {
    expect(costForSeconds(perHour, seconds)).toBe(cost);
  });

  it.each([
    { name: 'a negative price', perHour: -1, seconds: 1 },
    { name: 'a fractional micro-dollar price', perHour: 1.5, seconds: 1 },
    { name: 'a NaN price', perHour: Number.NaN, seconds: 1 },
    { name: 'a negative runtime', perHour: USD, seconds: -1 },
    { name: 'a NaN runtime', perHour: USD, seconds: Number.NaN },
    { name: 'an infinite runtime', perHour: USD, seconds: Number.POSITIVE_INFINITY },
    { name: 'a cost too large to be exact', perHour: Number.MAX_SAFE_INTEGER, seconds: 7200 },
  ])('throws a RangeError for $name', ({ perHour, seconds }) => {
    expect(() => costForSeconds(perHour, seconds)).toThrow(RangeError);
  });
});

describe('costForMillis', () => {
  it('rounds every part of a micro-dollar up and keeps exact costs exact', () => {
    expect(costForMillis(USD, 1)).toBe(1);
    expect(costForMillis(USD, 3_600_000)).toBe(USD);
    expect(costForMillis(98_320_000, 1_800_000)).toBe(49_160_000);
    expect(costForMillis(98_320_000, 1000)).toBe(costForSeconds(98_320_000, 1));
  });

  it('refuses a negative duration', () => {
    expect(() => costForMillis(USD, -1)).toThrow(/non-negative finite/);
  });
});

describe('formatUsd', () => {
  it.each([
    { amount: 0, rounding: 'nearest', text: '$0.00' },
    { amount: 1, rounding: 'nearest', text: '$0.00' },
    { amount: 1, rounding: 'up', text: '$0.01' },
    { amount: 10_000, rounding: 'up', text: '$0.01' },
    { amount: 10_001, rounding: 'up', text: '$0.02' },
    { amount: 4_999, rounding: 'nearest', text: '$0.00' },
    { amount: 5_000, rounding: 'nearest', text: '$0.01' },
    { amount: 27_312, rounding: 'nearest', text: '$0.03' },
    { amount: 98_320_000, rounding: 'nearest', text: '$98.32' },
    { amount: 999_995_000, rounding: 'nearest', text: '$1,000.00' },
    { amount: 1_234_560_000, rounding: 'nearest', text: '$1,234.56' },
    { amount: 1_234_567_890_000, rounding: 'nearest', text: '$1,234,567.89' },
    { amount: -12_340_000, rounding: 'nearest', text: '-$12.34' },
    { amount: -1, rounding: 'nearest', text: '$0.00' },
    { amount: -1, rounding: 'up', text: '-$0.01' },
  ] as const)('formats $amount µUSD ($rounding) as $text', ({ amount, rounding, text }) => {
    expect(formatUsd(amount, rounding)).toBe(text);
  });

  it('rounds to the nearest cent by default', () => {
    expect(formatUsd(21_675_000)).toBe('$21.68');
    expect(formatUsd(21_674_999)).toBe('$21.67');
  });
});

describe('microUsdFromUsd', () => {
  it('converts dollars to the nearest micro-dollar, free of float noise', () => {
    expect(microUsdFromUsd(98.32)).toBe(98_320_000);
    expect(microUsdFromUsd(0.1 + 0.2)).toBe(300_000);
    expect(microUsdFromUsd(-12.34)).toBe(-12_340_000);
    expect(microUsdFromUsd(0.0000004)).toBe(0);
  });

  it('refuses non-finite amounts', () => {
    expect(() => microUsdFromUsd(Number.NaN)).toThrow(RangeError);
    expect(() => microUsdFromUsd(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

describe('isMicroUsd and assertMicroUsd', () => {
  it.each([
    [0, true], [1, true], [Number.MAX_SAFE_INTEGER, true],
    [-1, false], [0.5, false], [Number.NaN, false], [Number.MAX_SAFE_INTEGER + 1, false],
  ])('%d is a MicroUsd amount: %s', (amount, valid) => {
    expect(isMicroUsd(amount)).toBe(valid);
    if (valid) expect(() => { assertMicroUsd(amount, 'x'); }).not.toThrow();
    else expect(() => { assertMicroUsd(amount, 'a quote'); }).toThrow(`a quote must be a non-negative whole number of micro-dollars, got ${amount}`);
  });
});

describe('splitByTime', () => {
  const hour = 3_600_000;
  it.each([
    { name: 'one third before the boundary, rounded down; the rest after', charge: 1000, times: { startMs: 0, endMs: 3000, boundaryMs: 1000 }, before: 333, after: 667 },
    { name: 'half and half', charge: 98_320_000, times: { startMs: 0, endMs: 2 * hour, boundaryMs: hour }, before: 49_160_000, after: 49_160_000 },
    { name: 'a boundary at the start puts all after it', charge: 500, times: { startMs: 10, endMs: 20, boundaryMs: 10 }, before: 0, after: 500 },
    { name: 'a boundary before the start puts all after it', charge: 500, times: { startMs: 10, endMs: 20, boundaryMs: 0 }, before: 0, after: 500 },
    { name: 'a boundary at the end puts all before it', charge: 500, times: { startMs: 10, endMs: 20, boundaryMs: 20 }, before: 500, after: 0 },
    { name: 'a boundary after the end puts all before it', charge: 500, times: { startMs: 10, endMs: 20, boundaryMs: 99 }, before: 500, after: 0 },
    { name: 'a large charge stays exact', charge: Number.MAX_SAFE_INTEGER, times: { startMs: 0, endMs: 3, boundaryMs: 1 }, before: 3_002_399_751_580_330, after: 6_004_799_503_160_661 },
  ])('$name', ({ charge, times, before, after }) => {
    const split = splitByTime(charge, times);
    expect(split).toEqual({ before, after });
    expect(split.before + split.after).toBe(charge);
  });

  it('refuses a charge that is not money and times that are not finite', () => {
    expect(() => splitByTime(-1, { startMs: 0, endMs: 1, boundaryMs: 0 })).toThrow(RangeError);
    expect(() => splitByTime(1, { startMs: 0, endMs: Number.NaN, boundaryMs: 0 })).toThrow('split times must be finite');
  });
});

describe('centsOf and usdToTheCent', () => {
  it('rounds to the nearest cent, half away from zero, on either side of zero', () => {
    expect(centsOf(4_999)).toBe(0);
    expect(centsOf(5_000)).toBe(1);
    expect(centsOf(-5_000)).toBe(-1);
    expect(centsOf(-4_999)).toBe(0);
    expect(Object.is(centsOf(-1), -0)).toBe(false);
    expect(centsOf(1_234_565_000)).toBe(123_457);
  });

  it('rounds away from zero when asked to round up', () => {
    expect(centsOf(1, 'up')).toBe(1);
    expect(centsOf(-1, 'up')).toBe(-1);
    expect(centsOf(10_000, 'up')).toBe(1);
  });

  it('gives dollars to the cent as a number', () => {
    expect(usdToTheCent(1_234_565_000)).toBe(1234.57);
    expect(usdToTheCent(-12_345_000)).toBe(-12.35);
    expect(usdToTheCent(0)).toBe(0);
  });
});

describe('costOverTime', () => {
  const H = 3_600_000;
  it.each([
    { what: 'one price all along', prices: [{ at: -H, perHour: USD }], from: 0, to: 2 * H, cost: 2 * USD },
    { what: 'a change mid-life', prices: [{ at: -H, perHour: USD }, { at: H, perHour: 3 * USD }], from: 0, to: 2 * H, cost: 4 * USD },
    { what: 'changes before the start and after the end', prices: [{ at: -2 * H, perHour: 9 * USD }, { at: -H, perHour: USD }, { at: 5 * H, perHour: 7 * USD }], from: 0, to: 2 * H, cost: 2 * USD },
    { what: 'a first price after the start (the first price counts from the start)', prices: [{ at: H, perHour: 2 * USD }], from: 0, to: 2 * H, cost: 4 * USD },
    { what: 'prices in any order', prices: [{ at: H, perHour: 3 * USD }, { at: -H, perHour: USD }], from: 0, to: 2 * H, cost: 4 * USD },
    { what: 'no time at all', prices: [{ at: 0, perHour: USD }], from: H, to: H, cost: 0 },
  ])('charges $what', ({ prices, from, to, cost }) => {
    expect(costOverTime(prices, from, to)).toBe(cost);
  });

  it('knows no cost without a price', () => {
    expect(costOverTime([], 0, 1000)).toBeUndefined();
  });
});
