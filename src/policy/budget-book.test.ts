import { describe, expect, it } from 'vitest';
import { BudgetBook, remaining, type BookDecision } from './budget-book.js';
import { committedOf } from './budget-decision.js';
import { USD, type BudgetRules, type LaunchRequest } from './budget-types.js';
import { costForMillis, splitByTime } from './money.js';
import type { Result } from '../domain/result.js';

/** $98.32 an hour, quoted for the budget's default 1 h. */
const P5 = 98_320_000;
const GPU = 'nvidia.com/gpu';

const rules = (over: Partial<BudgetRules> = {}): BudgetRules => ({
  id: 'team-a/gpu', namespace: 'team-a', limit: 1000 * USD,
  period: { kind: 'Monthly', resetDay: 1, timeZone: 'UTC' }, defaultMaxRuntimeSeconds: 3600, ...over,
});
const launch = (podUid: string, over: Partial<LaunchRequest> = {}): LaunchRequest => ({
  podUid, namespace: 'team-a', instanceType: 'p5.48xlarge', family: 'p5', capacityType: 'on-demand',
  accelerators: { [GPU]: 8 }, ceilingPerHour: P5, ...over,
});

function value<T, E>(r: Result<T, E>): T {
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r.error)}`);
  return r.value;
}

/** Decides one launch per pod, one after another, threading the book: the serialized path. */
function decideAll(book: BudgetBook, requests: readonly LaunchRequest[]): { book: BudgetBook; steps: BookDecision[] } {
  const steps: BookDecision[] = [];
  let current = book;
  for (const request of requests) {
    const step = current.decide(request);
    steps.push(step);
    current = step.book;
  }
  return { book: current, steps };
}

const pods = (n: number): LaunchRequest[] => Array.from({ length: n }, (_, i) => launch(`pod-${i}`));

/** A book holding pod-1's allowed reservation of one quote. */
function withPod1(r: BudgetRules = rules()): BudgetBook {
  return BudgetBook.create(r).decide(launch('pod-1')).book;
}

describe('BudgetBook: 500 simultaneous pods decided one after another', () => {
  it.each([
    { fits: 1, slack: 0 }, { fits: 37, slack: 0 }, { fits: 37, slack: P5 - 1 }, { fits: 250, slack: 1 }, { fits: 500, slack: 0 },
  ])('a budget that fits exactly $fits (and $slack µUSD) allows exactly $fits and never goes over', ({ fits, slack }) => {
    const limit = fits * P5 + slack;
    const { book, steps } = decideAll(BudgetBook.create(rules({ limit })), pods(500));
    const allowed = steps.filter((s) => s.decision.kind === 'allow');
    expect(allowed).toHaveLength(fits);
    expect(steps.slice(0, fits).every((s) => s.decision.kind === 'allow')).toBe(true);
    expect(steps.every((s) => committedOf(s.book.usage) <= limit)).toBe(true);
    expect(steps.slice(fits).every((s) => s.decision.kind === 'deny' && s.decision.reason === 'NamespaceBudgetExceeded' && !s.decision.permanent)).toBe(true);
    expect(book.usage).toMatchObject({ reserved: fits * P5, runningInstances: fits, accelerators: { [GPU]: 8 * fits } });
    expect(remaining(book)).toBe(slack);
  });

  it('allows exactly maxConcurrentInstances of them, counting launches not yet started', () => {
    const { book, steps } = decideAll(BudgetBook.create(rules({ limit: 500 * P5, maxConcurrentInstances: 10 })), pods(500));
    expect(steps.filter((s) => s.decision.kind === 'allow')).toHaveLength(10);
    expect(steps[10]?.decision).toMatchObject({ kind: 'deny', reason: 'NamespaceMaxInstances', permanent: false });
    expect(book.usage.runningInstances).toBe(10);
  });

  it('leaves the book as it was on a denial', () => {
    const full = BudgetBook.create(rules({ limit: P5 })).decide(launch('pod-1')).book;
    const step = full.decide(launch('pod-2'));
    expect(step.decision.kind).toBe('deny');
    expect(step.book).toBe(full);
  });
});

describe('BudgetBook: releasing and retrying', () => {
  it('a reservation released early returns its room to the next pod', () => {
    const { book: full } = decideAll(BudgetBook.create(rules({ limit: 3 * P5 })), pods(3));
    expect(full.decide(launch('pod-3')).decision.kind).toBe('deny');
    const freed = full.release('pod-1');
    expect(remaining(freed)).toBe(P5);
    expect(freed.usage).toMatchObject({ reserved: 2 * P5, runningInstances: 2, settled: 0 });
    const next = freed.decide(launch('pod-3'));
    expect(next.decision).toEqual({ kind: 'allow', quote: P5 });
    expect(remaining(next.book)).toBe(0);
  });

  it('releasing a pod that holds nothing changes nothing', () => {
    const book = withPod1();
    expect(book.release('pod-9')).toBe(book);
    expect(book.release('pod-1').release('pod-1').usage).toMatchObject({ reserved: 0, runningInstances: 0 });
  });

  it('keeps what a released pod was already charged as spent', () => {
    const charged = value(withPod1().accrue('pod-1', 10 * USD)).release('pod-1');
    expect(charged.usage).toMatchObject({ settled: 10 * USD, accruing: 0, reserved: 0, runningInstances: 0, accelerators: {} });
    expect(remaining(charged)).toBe(990 * USD);
  });

  it('a pod decided again keeps its one reservation', () => {
    const book = withPod1();
    const again = book.decide(launch('pod-1', { ceilingPerHour: 2 * P5 }));
    expect(again.decision).toEqual({ kind: 'allow', quote: P5 });
    expect(again.book).toBe(book);
    expect(book.usage.reserved).toBe(P5);
  });
});

describe('BudgetBook: money moving from reserved to accruing to settled', () => {
  it('follows one pod from decision to end', () => {
    const decided = withPod1();
    expect(decided.pod('pod-1')).toEqual({ podUid: 'pod-1', quote: P5, charged: 0, chargedEarlier: 0, accelerators: { [GPU]: 8 } });
    const started = value(decided.start('pod-1', 1_700_000_000_000));
    const accrued = value(started.accrue('pod-1', 30 * USD));
    expect(accrued.usage).toMatchObject({ settled: 0, accruing: 30 * USD, reserved: P5 - 30 * USD, runningInstances: 1 });
    expect(remaining(accrued)).toBe(1000 * USD - P5);
    const ended = value(accrued.end('pod-1', 45 * USD));
    expect(ended.usage).toEqual({ settled: 45 * USD, accruing: 0, reserved: 0, runningInstances: 0, accelerators: {} });
    expect(remaining(ended)).toBe(955 * USD);
    expect(ended.pod('pod-1')).toBeUndefined();
  });

  it('ignores a total lower than one already recorded (a late or repeated report)', () => {
    const accrued = value(withPod1().accrue('pod-1', 30 * USD));
    expect(value(accrued.accrue('pod-1', 20 * USD))).toBe(accrued);
    expect(value(accrued.accrue('pod-1', 30 * USD))).toBe(accrued);
  });

  it('keeps accruing beyond the quote and shows the excess as over-spend', () => {
    const book = withPod1(rules({ limit: P5 }));
    const over = value(book.accrue('pod-1', 120 * USD));
    expect(over.usage).toMatchObject({ accruing: 120 * USD, reserved: 0 });
    expect(remaining(over)).toBe(P5 - 120 * USD);
    expect(remaining(over)).toBe(-21_680_000);
    expect(over.decide(launch('pod-2', { ceilingPerHour: 3600 })).decision).toMatchObject({ kind: 'deny', reason: 'NamespaceBudgetExceeded' });
    expect(value(over.end('pod-1', 121 * USD)).usage.settled).toBe(121 * USD);
  });

  it('settles a final charge lower than the accrued one and releases the rest', () => {
    const ended = value(value(withPod1().accrue('pod-1', 50 * USD)).end('pod-1', 40 * USD));
    expect(ended.usage).toMatchObject({ settled: 40 * USD, accruing: 0, reserved: 0 });
  });

  it('does not alter a book an operation started from', () => {
    const book = withPod1();
    value(book.accrue('pod-1', 30 * USD));
    value(book.end('pod-1', 30 * USD));
    book.release('pod-1');
    book.rollOver();
    expect(book.usage).toEqual({ settled: 0, accruing: 0, reserved: P5, runningInstances: 1, accelerators: { [GPU]: 8 } });
  });

  it('records the first start time only', () => {
    const once = value(withPod1().start('pod-1', 1000));
    expect(once.pod('pod-1')?.startedAt).toBe(1000);
    expect(value(once.start('pod-1', 2000))).toBe(once);
  });

  it('sums accelerators per kind over the pods it holds and frees them at the end', () => {
    const r = rules({ maxAccelerators: { [GPU]: 16 } });
    const { book, steps } = decideAll(BudgetBook.create(r), [launch('a'), launch('b', { accelerators: { [GPU]: 8, 'vpc.amazonaws.com/efa': 32 } }), launch('c')]);
    expect(book.usage.accelerators).toEqual({ [GPU]: 16, 'vpc.amazonaws.com/efa': 32 });
    expect(steps[2]?.decision).toMatchObject({ reason: 'NamespaceMaxAccelerators', permanent: false });
    expect(value(book.end('a', 0)).decide(launch('c')).decision.kind).toBe('allow');
  });
});

describe('BudgetBook: refused operations', () => {
  const book = withPod1();
  it.each([
    { name: 'start', run: () => book.start('pod-9', 0) },
    { name: 'accrue', run: () => book.accrue('pod-9', 1) },
    { name: 'end', run: () => book.end('pod-9', 1) },
  ])('$name of a pod that holds nothing is an unknown-pod error', ({ run }) => {
    expect(run()).toEqual({ ok: false, error: { kind: 'unknown-pod', podUid: 'pod-9', message: 'pod pod-9 holds no reservation in this budget' } });
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('a charge of %d is an invalid-amount error for accrue and end', (amount) => {
    for (const r of [book.accrue('pod-1', amount), book.end('pod-1', amount)]) {
      expect(r).toMatchObject({ ok: false, error: { kind: 'invalid-amount', podUid: 'pod-1' } });
      if (!r.ok) expect(r.error.message).toContain('non-negative whole number of micro-dollars');
    }
    expect(book.usage.reserved).toBe(P5);
  });

  it('a start time that is not finite is an invalid-time error', () => {
    expect(book.start('pod-1', Number.NaN)).toMatchObject({ ok: false, error: { kind: 'invalid-time', podUid: 'pod-1' } });
  });
});

describe('BudgetBook: period roll-over, charge by time in each period', () => {
  it('drops settled and accruing money of the old period and keeps running reservations', () => {
    const two = decideAll(BudgetBook.create(rules()), [launch('a'), launch('b')]).book;
    const before = value(value(value(two.accrue('a', 30 * USD)).end('a', 35 * USD)).accrue('b', 20 * USD));
    expect(before.usage).toMatchObject({ settled: 35 * USD, accruing: 20 * USD, reserved: P5 - 20 * USD });
    const after = before.rollOver();
    expect(after.usage).toEqual({ settled: 0, accruing: 0, reserved: P5 - 20 * USD, runningInstances: 1, accelerators: { [GPU]: 8 } });
    expect(remaining(after)).toBe(1000 * USD - (P5 - 20 * USD));
  });

  it('counts in the new period only what is charged after the boundary', () => {
    const hour = 3_600_000;
    // pod-1 started 30 min before the boundary: the caller accrues the charge up to it, then rolls over.
    const atBoundary = value(withPod1().accrue('pod-1', costForMillis(P5, hour / 2)));
    const next = atBoundary.rollOver();
    const later = value(next.accrue('pod-1', costForMillis(P5, hour)));
    expect(later.usage).toMatchObject({ accruing: P5 / 2, reserved: 0 });
    expect(value(later.end('pod-1', costForMillis(P5, hour))).usage.settled).toBe(P5 / 2);
  });

  it('splits a charge reported only at the end by time across the boundary', () => {
    const split = splitByTime(90 * USD, { startMs: 0, endMs: 3000, boundaryMs: 1000 });
    const rolled = value(withPod1().accrue('pod-1', split.before)).rollOver();
    expect(value(rolled.end('pod-1', 90 * USD)).usage.settled).toBe(split.after);
    expect(split.after).toBe(60 * USD);
  });

  it('never settles a negative share when the final charge is below the earlier periods\' part', () => {
    const rolled = value(withPod1().accrue('pod-1', 50 * USD)).rollOver();
    expect(value(rolled.end('pod-1', 40 * USD)).usage.settled).toBe(0);
  });
});

describe('BudgetBook: snapshot, restore and new rules', () => {
  it('restores a snapshot into an equal book', () => {
    const book = value(value(withPod1().start('pod-1', 5)).accrue('pod-1', 7 * USD));
    const ended = value(book.decide(launch('pod-2')).book.end('pod-2', 3 * USD));
    const restored = BudgetBook.create(rules(), ended.snapshot());
    expect(restored.usage).toEqual(ended.usage);
    expect(restored.pod('pod-1')).toEqual({ podUid: 'pod-1', quote: P5, charged: 7 * USD, chargedEarlier: 0, accelerators: { [GPU]: 8 }, startedAt: 5 });
    expect(restored.snapshot()).toEqual({ settled: 3 * USD, pods: [restored.pod('pod-1')] });
  });

  it('decides by new rules with the same usage', () => {
    const book = withPod1();
    const tighter = book.withRules(rules({ limit: P5 }));
    expect(tighter.usage).toEqual(book.usage);
    expect(remaining(tighter)).toBe(0);
    expect(tighter.decide(launch('pod-2')).decision.kind).toBe('deny');
    expect(book.decide(launch('pod-2')).decision.kind).toBe('allow');
  });
});

describe('BudgetBook.adopt', () => {
  const rules = { id: 'a/b', namespace: 'a', limit: 10 * 1_000_000, period: { kind: 'Total', resetDay: 1, timeZone: 'UTC' }, defaultMaxRuntimeSeconds: 3600 } as const;
  const charge = { podUid: 'u1', quote: 8_000_000, charged: 7_000_000, chargedEarlier: 0, accelerators: { 'nvidia.com/gpu': 8 }, startedAt: 1000 };

  it('holds a running pod even past the limit, and shows the excess', () => {
    const full = BudgetBook.create(rules, { settled: 9_000_000, pods: [] });
    const r = full.adopt(charge);
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.pod('u1')).toEqual(charge);
    expect(r.value.usage).toMatchObject({ settled: 9_000_000, accruing: 7_000_000, reserved: 1_000_000, runningInstances: 1 });
    expect(remaining(r.value)).toBe(-7_000_000);
  });

  it('is no change for a pod already held, and refuses amounts that are not money', () => {
    const once = BudgetBook.create(rules).adopt(charge);
    if (!once.ok) throw new Error('adopt failed');
    const twice = once.value.adopt({ ...charge, charged: 1 });
    expect(twice.ok && twice.value).toBe(once.value);
    const bad = BudgetBook.create(rules).adopt({ ...charge, charged: 1.5 });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error.kind).toBe('invalid-amount');
  });
});
