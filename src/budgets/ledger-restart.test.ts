// A restart: a second ledger reads back the status the first one wrote (its exact micro-dollar
// ledger) and goes on from there — settled money and held pods restored, running instances charged
// on from the status's lastUpdated (neither from zero nor twice), a pod that ended while ORCA was down
// settled at its written charge, and a status it does not trust ignored.
import { afterEach, describe, expect, it } from 'vitest';
import { committedOf } from '../policy/budget-decision.js';
import { USD } from '../policy/budget-types.js';
import { ask, bookOf, charge, FakeBudgetApi, HOUR, MIN, option, report, startLedger, T0, type LedgerEnv } from '../../test/fakes/budget-api.js';

const running: LedgerEnv[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.stop()));
});

async function env(api: FakeBudgetApi, now: number): Promise<LedgerEnv> {
  const e = await startLedger({ api, now });
  running.push(e);
  return e;
}

/** $10/h at most for 10 h: a $100 quote. */
const options = [option({ ceilingPerHour: 10 * USD })];
const runtime = { options, maxRuntimeSeconds: 10 * 3600 };

/**
 * A first ledger at T0 over a $1000 budget: p1 runs on, p2 ran 30 min and ended, p3 is launching,
 * p4 runs (and ends while ORCA is down); it stops at T0 + 1 h, right after a poll, writing its status.
 */
async function firstLife(spec: Record<string, unknown> = {}): Promise<{ api: FakeBudgetApi; first: LedgerEnv }> {
  const api = new FakeBudgetApi([{ namespace: 'team-a', name: 'gpu', spec: { limitUSD: 1000, period: { kind: 'Total' }, ...spec } }]);
  const first = await startLedger({ api, now: T0 });
  for (const uid of ['p1', 'p2', 'p3', 'p4']) expect(first.ledger.ask(ask(uid, runtime)).kind).toBe('go');
  await first.advance(30 * MIN);
  first.poll(report([charge('p1'), charge('p2', { ended: true }), charge('p4')], ['p3']));
  await first.advance(30 * MIN);
  first.poll(report([charge('p1'), charge('p4')], ['p3']));
  await first.stop();
  api.keepWrittenStatus();
  return { api, first };
}

describe('BudgetLedger: a restart', () => {
  it('writes the exact ledger a restart needs', async () => {
    const { api } = await firstLife();
    const status = api.lastStatus('team-a/gpu');
    expect(status?.lastUpdated).toBe(new Date(T0 + HOUR).toISOString());
    expect(status?.ledger).toMatchObject({
      settledMicroUSD: 500_000,
      settledByType: [{ instanceType: 'p5.48xlarge', capacityType: 'on-demand', microUSD: 500_000 }],
      pods: [
        expect.objectContaining({ uid: 'p1', quoteMicroUSD: 100 * USD, chargedMicroUSD: USD, startedAt: new Date(T0).toISOString() }),
        expect.objectContaining({ uid: 'p3', quoteMicroUSD: 100 * USD, chargedMicroUSD: 0 }),
        expect.objectContaining({ uid: 'p4', quoteMicroUSD: 100 * USD, chargedMicroUSD: USD }),
      ],
    });
    expect(status?.ledger.pods.find((p) => p.uid === 'p3')?.startedAt).toBeUndefined();
  });

  it('restores the settled money and the pods from the status', async () => {
    const { api } = await firstLife();
    const second = await env(api, T0 + 90 * MIN);
    expect(bookOf(second).settled).toBe(500_000);
    expect(bookOf(second).snapshot().pods.map((p) => [p.podUid, p.charged])).toEqual([['p1', USD], ['p3', 0], ['p4', USD]]);
    expect(committedOf(bookOf(second).usage)).toBe(500_000 + 3 * 100 * USD);
    // p3 was allowed before the restart: asking again answers go and reserves nothing more.
    expect(second.ledger.ask(ask('p3', runtime)).kind).toBe('go');
    expect(committedOf(bookOf(second).usage)).toBe(500_000 + 3 * 100 * USD);
  });

  it.each([
    // From lastUpdated (T0 + 1 h) at the rate now: $1 + 0.5 h × $2/h. From zero would be 1.5 h × $2 = $3; twice, $1 + $3.
    { what: 'at $2/h now', rate: 2 * USD, charged: 2 * USD },
    { what: 'at $1/h now', rate: USD, charged: 1_500_000 },
  ])('charges a running instance on from the status\'s lastUpdated ($what), and settles a pod that ended while ORCA was down', async ({ rate, charged }) => {
    const { api } = await firstLife();
    const second = await env(api, T0 + 90 * MIN);
    second.poll(report([charge('p1', { ratePerHour: rate })], ['p3']));
    expect(bookOf(second).pod('p1')).toMatchObject({ charged, chargedEarlier: 0, startedAt: T0 });
    expect(bookOf(second).pod('p4')).toBeUndefined();
    expect(bookOf(second).pod('p3')).toMatchObject({ charged: 0 });
    // p2's 0.5 USD from before the restart and p4's written 1 USD.
    expect(bookOf(second).usage).toMatchObject({ settled: 1_500_000, accruing: charged, runningInstances: 2 });

    await second.advance(30 * MIN);
    second.poll(report([charge('p1', { ratePerHour: rate, ended: true })], ['p3']));
    expect(bookOf(second).usage).toMatchObject({ settled: 1_500_000 + charged + rate / 2, accruing: 0 });
    await second.stop();
    expect(api.lastStatus('team-a/gpu')?.ledger).toMatchObject({
      settledMicroUSD: 1_500_000 + charged + rate / 2,
      settledByType: [{ instanceType: 'p5.48xlarge', capacityType: 'on-demand', microUSD: 1_500_000 + charged + rate / 2 }],
      pods: [expect.objectContaining({ uid: 'p3', chargedMicroUSD: 0 })],
    });
  });

  it('charges on from the last poll, not from the later status write, so no time between them is lost', async () => {
    const api = new FakeBudgetApi([{ namespace: 'team-a', name: 'gpu', spec: { limitUSD: 1000, period: { kind: 'Total' } } }]);
    const first = await startLedger({ api, now: T0 });
    const tenPerHour = { ratePerHour: 10 * USD };
    expect(first.ledger.ask(ask('p1', runtime)).kind).toBe('go');
    await first.advance(30 * MIN);
    first.poll(report([charge('p1', tenPerHour)]));
    // No poll for 10 minutes; the status is written meanwhile (lastUpdated T0 + 40 min).
    await first.advance(10 * MIN);
    await first.stop();
    api.keepWrittenStatus();
    const written = api.lastStatus('team-a/gpu');
    expect(written?.lastUpdated).toBe(new Date(T0 + 40 * MIN).toISOString());
    expect(written?.ledger.pods[0]).toMatchObject({ chargedMicroUSD: 5 * USD, chargedThrough: new Date(T0 + 30 * MIN).toISOString() });
    const second = await env(api, T0 + 60 * MIN);
    second.poll(report([charge('p1', tenPerHour)]));
    // A whole hour at $10/h: from the last poll on, not from lastUpdated (that would be $8.33).
    expect(bookOf(second).pod('p1')?.charged).toBe(10 * USD);
  });

  it('keeps the warnings already announced this period', async () => {
    const api = new FakeBudgetApi([{ namespace: 'team-a', name: 'gpu', spec: { limitUSD: 10, warnAtPercent: [25, 90], period: { kind: 'Total' } } }]);
    const first = await startLedger({ api, now: T0 });
    const fast = { ratePerHour: 10 * USD };
    expect(first.ledger.ask(ask('p1', { options })).kind).toBe('go');
    await first.advance(15 * MIN);
    first.poll(report([charge('p1', fast)]));
    await first.stop();
    api.keepWrittenStatus();
    expect(api.events.map((ev) => ev.message)).toEqual(['budget team-a/gpu: 25% of the limit reached: spent $2.50 of $10.00']);

    const second = await env(api, T0 + 20 * MIN);
    second.poll(report([charge('p1', fast)]));
    expect(api.events).toHaveLength(1);
    expect(second.ledger.entries.get('team-a/gpu')?.warned).toEqual([25]);
    await second.advance(35 * MIN);
    second.poll(report([charge('p1', fast)]));
    expect(api.events.map((ev) => ev.reason)).toEqual(['BudgetThresholdReached', 'BudgetThresholdReached']);
    expect(api.events[1]?.message).toContain('90% of the limit reached: spent $9.17');
  });

  it('puts what was charged before a restart in a new period into the old period', async () => {
    const { api } = await firstLife({ period: { kind: 'Daily', timeZone: 'UTC' } });
    const nextDay = Date.parse('2026-11-24T00:00:00Z');
    const second = await env(api, nextDay + HOUR);
    expect(bookOf(second).settled).toBe(0);
    expect(bookOf(second).pod('p1')).toMatchObject({ charged: USD, chargedEarlier: USD });
    expect(bookOf(second).usage.accruing).toBe(0);
  });

  it.each([
    { what: 'a negative settled amount', ledger: { settledMicroUSD: -5, settledByType: [], pods: [], warnedAtPercent: [] } },
    { what: 'a pod without a uid', ledger: { settledMicroUSD: 5, settledByType: [], pods: [{ quoteMicroUSD: 1, chargedMicroUSD: 0, chargedEarlierMicroUSD: 0 }], warnedAtPercent: [] } },
    { what: 'no ledger', ledger: 'lost' },
  ])('starts from an empty book when the status cannot be trusted ($what)', async ({ ledger }) => {
    const api = new FakeBudgetApi([{
      namespace: 'team-a', name: 'gpu', spec: { limitUSD: 10, period: { kind: 'Total' } }, status: { lastUpdated: new Date(T0).toISOString(), ledger },
    }]);
    const e = await env(api, T0 + HOUR);
    expect(bookOf(e).snapshot()).toEqual({ settled: 0, pods: [] });
  });
});
