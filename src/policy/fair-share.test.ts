// FairShare: decay with the half-life, the entry penalty and its replacement by real spend, immutability,
// validation, and the JSON round trip a status relies on.
import { describe, expect, it } from 'vitest';
import { USD } from './budget-types.js';
import { DEFAULT_HALF_LIFE_MS, FairShare } from './fair-share.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2025, 0, 1);

describe('FairShare decay', () => {
  it('defaults to a 7-day half-life', () => {
    expect(DEFAULT_HALF_LIFE_MS).toBe(7 * DAY);
    expect(new FairShare().halfLifeMs).toBe(7 * DAY);
  });

  it.each([
    { after: 0, left: 1 },
    { after: 1, left: 0.5 },
    { after: 2, left: 0.25 },
    { after: 3, left: 0.125 },
    { after: 0.5, left: Math.SQRT1_2 },
  ])('keeps $left of the spend after $after half-lives', ({ after, left }) => {
    const share = new FairShare({ halfLifeMs: DAY }).charge('a', 80 * USD, T0);
    expect(share.usage('a', T0 + after * DAY)).toBeCloseTo(80 * USD * left, 3);
  });

  it('halves after one default half-life', () => {
    const share = new FairShare().charge('a', 10 * USD, T0);
    expect(share.usage('a', T0 + 7 * DAY)).toBeCloseTo(5 * USD, 3);
  });

  it('adds charges on top of what is left of earlier ones', () => {
    const share = new FairShare({ halfLifeMs: DAY }).charge('a', 8 * USD, T0).charge('a', 2 * USD, T0 + DAY);
    expect(share.usage('a', T0 + DAY)).toBeCloseTo(6 * USD, 3);
    expect(share.usage('a', T0 + 2 * DAY)).toBeCloseTo(3 * USD, 3);
  });

  it('gives the same usage whatever order charges are reported in', () => {
    const inOrder = new FairShare({ halfLifeMs: DAY }).charge('a', 4 * USD, T0).charge('a', 4 * USD, T0 + DAY);
    const late = new FairShare({ halfLifeMs: DAY }).charge('a', 4 * USD, T0 + DAY).charge('a', 4 * USD, T0);
    expect(late.usage('a', T0 + 3 * DAY)).toBeCloseTo(inOrder.usage('a', T0 + 3 * DAY), 6);
    expect(late.usage('a', T0 + 3 * DAY)).toBeCloseTo((4 * 0.125 + 4 * 0.25) * USD, 3);
  });

  it('is 0 for a namespace never seen and keeps namespaces apart', () => {
    const share = new FairShare().charge('a', USD, T0);
    expect(share.usage('b', T0)).toBe(0);
    expect(share.usage('a', T0)).toBe(USD);
  });

  it('is immutable: an operation returns a new share and leaves the old one as it was', () => {
    const before = new FairShare().charge('a', USD, T0);
    const after = before.charge('a', USD, T0).admitted('b', USD, T0);
    expect(before.usage('a', T0)).toBe(USD);
    expect(before.usage('b', T0)).toBe(0);
    expect(after.usage('a', T0)).toBe(2 * USD);
  });
});

describe('FairShare entry penalty', () => {
  it('counts an admitted pod’s quote at once, before any spend arrives', () => {
    const share = new FairShare().admitted('a', 30 * USD, T0);
    expect(share.usage('a', T0)).toBe(30 * USD);
    expect(share.toJSON().namespaces['a']).toEqual({ spent: 0, penalty: 30 * USD, at: T0 });
  });

  it('lets real spend replace the penalty instead of counting the quote twice', () => {
    const share = new FairShare().admitted('a', 30 * USD, T0).charge('a', 10 * USD, T0);
    expect(share.usage('a', T0)).toBe(30 * USD);
    expect(share.toJSON().namespaces['a']).toEqual({ spent: 10 * USD, penalty: 20 * USD, at: T0 });
  });

  it('counts spend beyond the penalty as spend', () => {
    const share = new FairShare().admitted('a', 5 * USD, T0).charge('a', 8 * USD, T0);
    expect(share.usage('a', T0)).toBe(8 * USD);
    expect(share.toJSON().namespaces['a']).toEqual({ spent: 8 * USD, penalty: 0, at: T0 });
  });

  it('releases the unspent rest of a quote, never below zero and never touching spend', () => {
    const share = new FairShare().admitted('a', 30 * USD, T0).charge('a', 10 * USD, T0);
    expect(share.release('a', 20 * USD, T0).usage('a', T0)).toBe(10 * USD);
    expect(share.release('a', 500 * USD, T0).usage('a', T0)).toBe(10 * USD);
  });

  it('keeps a namespace whose penalty was all released at zero, even asked about long before (no NaN)', () => {
    const share = new FairShare().admitted('a', USD, T0).release('a', USD, T0);
    expect(share.usage('a', T0)).toBe(0);
    expect(share.usage('a', 0)).toBe(0);
  });

  it('decays penalties like spend', () => {
    const share = new FairShare({ halfLifeMs: DAY }).admitted('a', 8 * USD, T0);
    expect(share.usage('a', T0 + 2 * DAY)).toBeCloseTo(2 * USD, 3);
  });
});

describe('FairShare validation', () => {
  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('refuses a half-life of %s', (halfLifeMs) => {
    expect(() => new FairShare({ halfLifeMs })).toThrow(RangeError);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses an amount of %s', (amount) => {
    const share = new FairShare();
    expect(() => share.charge('a', amount, T0)).toThrow(RangeError);
    expect(() => share.admitted('a', amount, T0)).toThrow(RangeError);
    expect(() => share.release('a', amount, T0)).toThrow(RangeError);
  });

  it('refuses a time that is not finite', () => {
    expect(() => new FairShare().charge('a', 1, Number.NaN)).toThrow(RangeError);
    expect(() => new FairShare().usage('a', Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

describe('FairShare JSON', () => {
  it('round-trips through JSON text with the same usage for every namespace', () => {
    const share = new FairShare({ halfLifeMs: 3 * DAY })
      .charge('a', 7 * USD, T0).admitted('a', 3 * USD, T0 + HOUR).charge('b', 1, T0 + 5 * HOUR);
    const back = FairShare.fromJSON(JSON.parse(JSON.stringify(share)));
    if (!back.ok) throw new Error(back.error.join('; '));
    expect(back.value.halfLifeMs).toBe(3 * DAY);
    expect(back.value.toJSON()).toEqual(share.toJSON());
    for (const ns of ['a', 'b', 'c']) expect(back.value.usage(ns, T0 + 9 * DAY)).toBe(share.usage(ns, T0 + 9 * DAY));
  });

  it('reports every problem with its path', () => {
    const r = FairShare.fromJSON({
      halfLifeMs: -5,
      namespaces: { a: { spent: -1, penalty: 0, at: 0 }, b: { spent: 0, penalty: 'x', at: 0 }, c: { spent: 0, penalty: 0 }, d: 7 },
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toEqual([
      'halfLifeMs: expected a positive number',
      'namespaces.a: spent: expected a non-negative number',
      'namespaces.b: penalty: expected a non-negative number',
      'namespaces.c: at: expected a finite number',
      'namespaces.d: expected an object',
    ]);
  });

  it.each([null, 3, [], 'share'])('refuses %j', (raw) => {
    expect(FairShare.fromJSON(raw)).toEqual({ ok: false, error: ['fair share: expected an object'] });
  });

  it('refuses namespaces that are not an object', () => {
    expect(FairShare.fromJSON({ halfLifeMs: DAY, namespaces: [] })).toEqual({ ok: false, error: ['namespaces: expected an object'] });
  });
});

describe('FairShare.compact', () => {
  it('drops namespaces whose usage has decayed below the threshold and keeps the others', () => {
    const share = new FairShare({ halfLifeMs: DAY }).charge('old', 4, T0).charge('new', 4 * USD, T0 + 10 * DAY);
    const compacted = share.compact(T0 + 10 * DAY);
    expect(Object.keys(compacted.toJSON().namespaces)).toEqual(['new']);
    expect(compacted.usage('new', T0 + 10 * DAY)).toBe(4 * USD);
    expect(Object.keys(share.toJSON().namespaces)).toEqual(['old', 'new']);
  });
});
