// How the ledger charges instances poll by poll: the price paid × the time since the last poll,
// rounded up to the micro-dollar per poll; a spot price followed poll by poll; a launch time ahead of
// ORCA's clock; an ended instance settled once; and a Daily budget's roll-over at local midnight of
// a day with a daylight-saving change (the part of a running charge before midnight stays behind).
import { afterEach, describe, expect, it } from 'vitest';
import { USD } from '../policy/budget-types.js';
import { ask, bookOf, charge, HOUR, MIN, option, report, startLedger, T0, type BudgetInit, type LedgerEnv } from '../../test/fakes/budget-api.js';

const running: LedgerEnv[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.stop()));
});

async function env(budgets: readonly BudgetInit[], now = T0): Promise<LedgerEnv> {
  const e = await startLedger({ budgets, now });
  running.push(e);
  return e;
}

function budget(spec: Record<string, unknown> = {}): BudgetInit {
  return { namespace: 'team-a', name: 'gpu', spec: { limitUSD: 1000, period: { kind: 'Total' }, ...spec } };
}

/** A pod p1 allowed with a $10/h ceiling for 10 h (a $100 quote), so its charges stay inside it. */
function allowed(e: LedgerEnv, uid = 'p1'): void {
  const answer = e.ledger.ask(ask(uid, { options: [option({ ceilingPerHour: 10 * USD })], maxRuntimeSeconds: 10 * 3600 }));
  expect(answer.kind).toBe('go');
}

describe('BudgetLedger: accrual', () => {
  it.each([
    { what: '$3.60/h at 10-minute polls', rate: 3_600_000, steps: [10 * MIN, 10 * MIN, 10 * MIN], charged: [600_000, 1_200_000, 1_800_000] },
    // 3,600,001 µUSD/h × 1 s = 1,000.0003 µUSD: 1,001 at each poll (a single 3-second interval would be 3,001).
    { what: 'rounding up at each poll', rate: 3_600_001, steps: [1000, 1000, 1000], charged: [1001, 2002, 3003] },
    { what: 'irregular polls', rate: USD, steps: [90_000, 1000, 3 * MIN + 500], charged: [25_000, 25_278, 75_417] },
  ])('charges a running instance its rate × the time, poll by poll ($what)', async ({ rate, steps, charged }) => {
    const e = await env([budget()]);
    allowed(e);
    const seen: number[] = [];
    for (const ms of steps) {
      await e.advance(ms);
      e.poll(report([charge('p1', { ratePerHour: rate })]));
      seen.push(bookOf(e).pod('p1')?.charged ?? -1);
    }
    expect(seen).toEqual(charged);
    const last = charged.at(-1) ?? 0;
    expect(bookOf(e).usage).toMatchObject({ accruing: last, reserved: 100 * USD - last, runningInstances: 1 });
    expect(bookOf(e).pod('p1')?.startedAt).toBe(T0);
  });

  it('charges each interval at the spot price of the poll that began it', async () => {
    const e = await env([budget()]);
    allowed(e);
    const polls = [
      { at: 10 * MIN, rate: 1_200_000, charged: 200_000 }, // launch → first poll: the first price seen
      { at: 20 * MIN, rate: 3_000_000, charged: 400_000 }, // 10 min at $1.20/h
      { at: 30 * MIN, rate: 600_000, charged: 900_000 }, // 10 min at $3.00/h
      { at: 60 * MIN, rate: 600_000, charged: 1_200_000 }, // 30 min at $0.60/h
    ];
    for (const p of polls) {
      await e.advance(T0 + p.at - e.clock.now().getTime());
      e.poll(report([charge('p1', { capacityType: 'spot', ratePerHour: p.rate })]));
      expect(bookOf(e).pod('p1')?.charged).toBe(p.charged);
    }
  });

  it('charges nothing for an instance whose launch time is after ORCA\'s now until now passes it', async () => {
    const e = await env([budget()]);
    allowed(e);
    const skewed = charge('p1', { launchedAt: T0 + 5 * MIN, ratePerHour: 1_200_000 });
    for (const [at, charged] of [[MIN, 0], [4 * MIN, 0], [10 * MIN, 100_000], [15 * MIN, 200_000]] as const) {
      await e.advance(T0 + at - e.clock.now().getTime());
      e.poll(report([skewed]));
      expect(bookOf(e).pod('p1')?.charged).toBe(charged);
    }
    expect(bookOf(e).pod('p1')?.startedAt).toBe(T0 + 5 * MIN);
  });

  it('settles an ended instance once, releases the rest of its quote, and charges it no more', async () => {
    const e = await env([budget()]);
    allowed(e);
    await e.advance(30 * MIN);
    e.poll(report([charge('p1')]));
    await e.advance(15 * MIN);
    e.poll(report([charge('p1', { ended: true })]));
    const settled = { settled: 750_000, accruing: 0, reserved: 0, runningInstances: 0 };
    expect(bookOf(e).usage).toMatchObject(settled);
    for (const r of [report([charge('p1', { ended: true })]), report([charge('p1', { ended: true })]), report([])]) {
      await e.advance(30 * MIN);
      e.poll(r);
      expect(bookOf(e).usage).toMatchObject(settled);
    }
    await e.stop();
    expect(e.api.lastStatus('team-a/gpu')?.ledger).toMatchObject({
      settledMicroUSD: 750_000, pods: [], settledByType: [{ instanceType: 'p5.48xlarge', capacityType: 'on-demand', microUSD: 750_000 }],
    });
  });
});

describe('BudgetLedger: an ended spot instance priced over its life', () => {
  const spot = { capacityType: 'spot' as const };

  it('holds the pod\'s money while its life is priced, then settles the exact cost even below the sampled one', async () => {
    const e = await env([budget()]);
    allowed(e);
    await e.advance(30 * MIN);
    e.poll(report([charge('p1', spot)]));
    await e.advance(30 * MIN);
    const held = bookOf(e).usage;
    e.poll(report([charge('p1', { ...spot, ended: true, pricing: true })]));
    expect(bookOf(e).usage).toEqual(held);
    expect(bookOf(e).pod('p1')).toBeDefined();
    await e.advance(MIN);
    // The pool's history says the price was $0.40/h all along, not the $1/h sampled: 1 h costs $0.40.
    e.poll(report([charge('p1', { ...spot, ended: true, lifeCost: 400_000 })]));
    expect(bookOf(e).usage).toMatchObject({ settled: 400_000, accruing: 0, reserved: 0, runningInstances: 0 });
    e.poll(report([charge('p1', { ...spot, ended: true, lifeCost: 400_000 })]));
    expect(bookOf(e).usage.settled).toBe(400_000);
    await e.stop();
    expect(e.api.lastStatus('team-a/gpu')?.ledger.settledByType).toEqual([{ instanceType: 'p5.48xlarge', capacityType: 'spot', microUSD: 400_000 }]);
  });

  it('settles the sampled charge when the life could not be priced', async () => {
    const e = await env([budget()]);
    allowed(e);
    await e.advance(30 * MIN);
    e.poll(report([charge('p1', spot)]));
    await e.advance(30 * MIN);
    e.poll(report([charge('p1', { ...spot, ended: true })]));
    expect(bookOf(e).usage).toMatchObject({ settled: USD, reserved: 0 });
  });
});

describe('BudgetLedger: a pod relaunched on a new instance (spot interruption)', () => {
  it('adds the new instance\'s charge to what the first one was charged, when the pod went back to launching', async () => {
    const e = await env([budget()]);
    allowed(e);
    await e.advance(30 * MIN);
    e.poll(report([charge('p1')]));
    await e.advance(MIN);
    e.poll(report([], ['p1']));
    expect(bookOf(e).pod('p1')?.charged).toBe(500_000);
    await e.advance(20 * MIN);
    e.poll(report([charge('p1', { launchedAt: T0 + 36 * MIN, ratePerHour: 1_200_000 })]));
    // 15 min of the second instance at $1.20/h on top of the first one's $0.50; nothing for the time between.
    expect(bookOf(e).pod('p1')?.charged).toBe(800_000);
    await e.advance(10 * MIN);
    e.poll(report([charge('p1', { launchedAt: T0 + 36 * MIN, ratePerHour: 1_200_000 })]));
    expect(bookOf(e).pod('p1')?.charged).toBe(1_000_000);
  });

  it('charges the new instance of a pod whose first instance was reported ended', async () => {
    const e = await env([budget()]);
    allowed(e);
    await e.advance(30 * MIN);
    e.poll(report([charge('p1', { ended: true })]));
    expect(bookOf(e).usage.settled).toBe(500_000);
    e.poll(report([], ['p1']));
    allowed(e);
    await e.advance(30 * MIN);
    e.poll(report([charge('p1', { launchedAt: T0 + 40 * MIN })]));
    expect(bookOf(e).pod('p1')?.charged).toBe(333_334);
    // The first instance, still listed as ended, is not charged again.
    e.poll(report([charge('p1', { ended: true })]));
    expect(bookOf(e).usage).toMatchObject({ settled: 500_000 });
  });
});

describe('BudgetLedger: a Daily period rolls over at local midnight', () => {
  it.each([
    // Clocks go forward (02:00 → 03:00): the local day of 29 March has 23 hours, midnight after it is 22:00 UTC.
    { what: 'Europe/Berlin, 2026-03-29 (23 h)', start: '2026-03-28T23:00:00Z', midnight: '2026-03-29T22:00:00Z', next: '2026-03-30T22:00:00Z' },
    // Clocks go back (03:00 → 02:00): the local day of 25 October has 25 hours, midnight after it is 23:00 UTC.
    { what: 'Europe/Berlin, 2026-10-25 (25 h)', start: '2026-10-24T22:00:00Z', midnight: '2026-10-25T23:00:00Z', next: '2026-10-26T23:00:00Z' },
  ])('keeps the part of a running charge before midnight in the old period and starts the new one from zero ($what)', async ({ start, midnight, next }) => {
    const M = Date.parse(midnight);
    const e = await env([budget({ period: { kind: 'Daily', timeZone: 'Europe/Berlin' } })], M - 2 * HOUR);
    expect(e.ledger.entries.get('team-a/gpu')?.window).toEqual({ start: Date.parse(start), end: M });
    allowed(e, 'p1');
    allowed(e, 'p2');
    const launchedAt = M - 2 * HOUR;
    await e.advance(HOUR);
    e.poll(report([charge('p1', { launchedAt }), charge('p2', { launchedAt })]));
    await e.advance(30 * MIN);
    e.poll(report([charge('p1', { launchedAt }), charge('p2', { launchedAt, ended: true })]));
    expect(bookOf(e).usage).toMatchObject({ settled: 1_500_000, accruing: 1_500_000 });

    await e.advance(HOUR + 30 * MIN); // M + 1 h
    e.poll(report([charge('p1', { launchedAt })]));
    expect(e.ledger.entries.get('team-a/gpu')?.window).toEqual({ start: M, end: Date.parse(next) });
    // 2 h before midnight stay in the old period; 1 h after it is the new period's.
    expect(bookOf(e).pod('p1')).toMatchObject({ charged: 3 * USD, chargedEarlier: 2 * USD });
    expect(bookOf(e).usage).toMatchObject({ settled: 0, accruing: USD });

    await e.advance(HOUR);
    e.poll(report([charge('p1', { launchedAt, ended: true })]));
    expect(bookOf(e).usage).toMatchObject({ settled: 2 * USD, accruing: 0, reserved: 0 });
    await e.stop();
    const status = e.api.lastStatus('team-a/gpu');
    expect(status).toMatchObject({ spentUSD: 2, periodEnd: new Date(next).toISOString() });
    expect(status?.ledger).toMatchObject({
      periodStart: new Date(M).toISOString(), settledMicroUSD: 2 * USD,
      settledByType: [{ instanceType: 'p5.48xlarge', capacityType: 'on-demand', microUSD: 2 * USD }],
    });
  });

  it('admits a pod that waited for money when the period rolls over', async () => {
    const M = Date.parse('2026-03-29T22:00:00Z');
    const e = await env([budget({ limitUSD: 1, period: { kind: 'Daily', timeZone: 'Europe/Berlin' } })], M - HOUR);
    expect(e.ledger.ask(ask('p1')).kind).toBe('go');
    await e.advance(30 * MIN);
    e.poll(report([charge('p1', { launchedAt: M - HOUR, ended: true })]));
    expect(e.ledger.ask(ask('p2')).kind).toBe('wait');
    await e.advance(HOUR);
    e.poll(report([]));
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(e.admitted).toEqual(['p2']);
  });
});
