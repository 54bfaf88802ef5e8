// Which budgets pay for a namespace — its BurstBudgets, the config's default (withoutBudget), the
// cluster-wide cap on top — a BurstBudget whose spec is refused, and what the ledger writes: the
// status (dollars to the cent, the exact micro-dollar ledger, the Ready condition) and one warning
// Event per threshold per period.
import { afterEach, describe, expect, it } from 'vitest';
import type { LedgerSettings } from './budget-entries.js';
import { BudgetLedger } from './ledger.js';
import { createLogger } from '../observability/logger.js';
import { committedOf } from '../policy/budget-decision.js';
import type { BudgetSpec } from '../policy/budget-spec.js';
import { USD } from '../policy/budget-types.js';
import { ask, charge, FakeBudgetApi, HOUR, MIN, option, report, specOf, startLedger, STATUS_INTERVAL_MS, T0, type BudgetInit, type LedgerEnv, budget, bookOf, microtasks } from '../../test/fakes/budget-api.js';
import { FakeClock } from '../../test/fakes/clock.js';

const running: LedgerEnv[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.stop()));
});

async function env(budgets: readonly BudgetInit[], settings: Partial<LedgerSettings> = {}, now = T0): Promise<LedgerEnv> {
  const e = await startLedger({ budgets, settings, now });
  running.push(e);
  return e;
}


const dollars = (limitUSD: number): Record<string, unknown> => ({ limitUSD, period: { kind: 'Total' } });

/** The cluster-wide cap as the composition root builds it (app-budgets.ts): every namespace may charge it. */
const clusterCap = (limitUSD: number): BudgetSpec => ({ ...specOf('', '(cluster)', dollars(limitUSD)), allowChargesFrom: ['*'] });

describe('BudgetLedger: a namespace without a BurstBudget', () => {
  it('keeps its pods waiting under withoutBudget Refuse, and admits them once a budget is created', async () => {
    const e = await env([]);
    const answer = e.ledger.ask(ask('p1', { namespace: 'team-c' }));
    expect(answer.kind === 'wait' && answer.reason).toBe('NamespaceHasNoBudget');
    expect(answer.message).toContain('namespace team-c has no BurstBudget');
    e.api.put(budget({}, 'team-c'));
    await microtasks();
    expect(e.admitted).toEqual(['p1']);
    expect(e.ledger.ask(ask('p1', { namespace: 'team-c' }))).toEqual({ kind: 'go', options: [0], message: 'team-c/gpu: 1.00 USD reserved' });
    expect(committedOf(bookOf(e, 'team-c/gpu').usage)).toBe(USD);
  });

  it('admits a pod that waited for a budget with the options that budget allows', async () => {
    const e = await env([]);
    const options = [option({ capacityType: 'spot', ceilingPerHour: 400_000 }), option({ capacityType: 'on-demand', ceilingPerHour: USD })];
    expect(e.ledger.ask(ask('p1', { namespace: 'team-c', options })).kind).toBe('wait');
    e.api.put(budget({ allowedCapacityTypes: ['spot'] }, 'team-c'));
    await microtasks();
    expect(e.admitted).toEqual(['p1']);
    const answer = e.ledger.ask(ask('p1', { namespace: 'team-c', options }));
    expect(answer.kind === 'go' && answer.options).toEqual([0]);
    expect(bookOf(e, 'team-c/gpu').pod('p1')?.quote).toBe(400_000);
  });

  it('lets a pod that waited for a budget ask again when the budget that appears refuses it', async () => {
    const e = await env([]);
    expect(e.ledger.ask(ask('p1', { namespace: 'team-c' })).kind).toBe('wait');
    e.api.put(budget({ allowedInstanceFamilies: ['g6e'] }, 'team-c'));
    await microtasks();
    expect(e.admitted).toEqual(['p1']);
    const answer = e.ledger.ask(ask('p1', { namespace: 'team-c' }));
    expect(answer.kind === 'refuse' && answer.reason).toBe('InstanceFamilyNotAllowed');
    expect(e.ledger.pendingByReason().size).toBe(0);
  });

  it('gives each namespace its own book of the default rules under withoutBudget Default', async () => {
    const defaultRules = (ns: string): BudgetSpec => specOf(ns, '(default)', dollars(1));
    const e = await env([budget({ limitUSD: 5 }, 'team-c')], { withoutBudget: 'Default', defaultRules });
    expect(e.ledger.ask(ask('a-1')).kind).toBe('go');
    const second = e.ledger.ask(ask('a-2'));
    expect(second.kind === 'wait' && second.reason).toBe('NamespaceBudgetExceeded');
    expect(second.message).toContain('budget team-a/(default)');
    expect(e.ledger.ask(ask('b-1', { namespace: 'team-b' })).kind).toBe('go');
    for (const uid of ['c-1', 'c-2', 'c-3']) expect(e.ledger.ask(ask(uid, { namespace: 'team-c' })).kind).toBe('go');
    expect(e.ledger.entries.get('team-c/(default)')).toBeUndefined();
  });

  it('lets its pods go under withoutBudget Allow, while a namespace with a budget keeps to it', async () => {
    const e = await env([budget({ limitUSD: 1 })], { withoutBudget: 'Allow' });
    for (const uid of ['c-1', 'c-2', 'c-3']) {
      expect(e.ledger.ask(ask(uid, { namespace: 'team-c' }))).toEqual({
        kind: 'go', options: [0], message: 'no budget applies to this pod\'s namespace (budgets.withoutBudget: Allow)',
      });
    }
    expect(e.ledger.ask(ask('a-1')).kind).toBe('go');
    expect(e.ledger.ask(ask('a-2')).kind).toBe('wait');
  });

  it.each([
    { what: 'namespaces without a budget (Allow)', budgets: [], asks: ['team-a', 'team-b', 'team-c'], waits: 'team-c' },
    { what: 'a namespace budget with room', budgets: [budget({ limitUSD: 5 })], asks: ['team-a', 'team-a', 'team-a'], waits: 'team-a' },
  ])('applies the cluster cap on top of $what', async ({ budgets, asks, waits }) => {
    const clusterRules = clusterCap(2);
    const e = await env(budgets, { withoutBudget: 'Allow', clusterRules });
    const answers = asks.map((ns, i) => e.ledger.ask(ask(`p${i}`, { namespace: ns })));
    expect(answers.map((a) => a.kind)).toEqual(['go', 'go', 'wait']);
    const last = answers[2];
    expect(last?.kind === 'wait' && last.reason).toBe('NamespaceBudgetExceeded');
    expect(last?.message).toContain('budget (cluster): spent $0.00 + reserved $2.00');
    expect(committedOf(bookOf(e, '(cluster)').usage)).toBe(2 * USD);
    expect(asks[2]).toBe(waits);
  });

  it('keeps to the namespace budget when it is smaller than the cluster cap', async () => {
    const clusterRules = clusterCap(10);
    const e = await env([budget({ limitUSD: 1 })], { withoutBudget: 'Refuse', clusterRules });
    expect(e.ledger.ask(ask('a-1')).kind).toBe('go');
    const second = e.ledger.ask(ask('a-2'));
    expect(second.message).toContain('budget team-a/gpu: spent');
    expect(committedOf(bookOf(e, '(cluster)').usage)).toBe(USD);
  });
});

describe('BudgetLedger: before the budgets are loaded', () => {
  it('keeps a pod waiting (BudgetsNotLoaded) and admits it once they are', async () => {
    const api = new FakeBudgetApi([budget()]);
    const clock = new FakeClock(T0);
    const admitted: string[] = [];
    const ledger = new BudgetLedger({
      source: api, writer: api, events: api, clock, log: createLogger('silent'), halfLifeMs: HOUR, settings: { withoutBudget: 'Refuse', statusIntervalMs: STATUS_INTERVAL_MS },
    });
    ledger.onAdmit((uid) => { admitted.push(uid); });
    const options = [option({ capacityType: 'spot', ceilingPerHour: 400_000 }), option({ instanceType: 'g6e.12xlarge', family: 'g6e', ceilingPerHour: USD })];
    const answer = ledger.ask(ask('p1', { options }));
    expect(answer.kind === 'wait' && answer.reason).toBe('BudgetsNotLoaded');
    ledger.observe(report([], ['p1']), T0);
    const ac = new AbortController();
    const done = ledger.run(ac.signal);
    await ledger.ready;
    await clock.tick(0);
    expect(admitted).toEqual(['p1']);
    expect(ledger.ask(ask('p1', { options }))).toEqual({ kind: 'go', options: [0, 1], message: 'team-a/gpu: 1.00 USD reserved' });
    ac.abort();
    await done;
  });
});

describe('BudgetLedger: a BurstBudget whose spec is refused', () => {
  it('keeps pods waiting (BudgetInvalid), writes Ready=False InvalidSpec, and admits them once the spec is fixed', async () => {
    const e = await env([budget({ period: { kind: 'Daily', timeZone: 'Mars/Olympus' } })]);
    const answer = e.ledger.ask(ask('p1'));
    expect(answer.kind === 'wait' && answer.reason).toBe('BudgetInvalid');
    expect(answer.message).toContain('budget team-a/gpu is refused');
    expect(answer.message).toContain('spec.period.timeZone: "Mars/Olympus" is not a known IANA time zone');
    await e.advance(STATUS_INTERVAL_MS);
    expect(e.api.lastStatus('team-a/gpu')?.conditions).toEqual([expect.objectContaining({ type: 'Ready', status: 'False', reason: 'InvalidSpec' })]);
    expect(e.api.lastStatus('team-a/gpu')?.pendingPods).toBe(1);

    e.api.put(budget({ period: { kind: 'Daily', timeZone: 'Europe/Berlin' } }));
    await microtasks();
    expect(e.admitted).toEqual(['p1']);
    await e.advance(STATUS_INTERVAL_MS);
    expect(e.api.lastStatus('team-a/gpu')).toMatchObject({ observedGeneration: 2, conditions: [expect.objectContaining({ status: 'True', reason: 'Enforced' })] });
  });
});

describe('BudgetLedger: status and warnings', () => {
  it('writes dollars rounded to the cent and the exact micro-dollars in the ledger', async () => {
    const e = await env([budget({ limitUSD: 2 })]);
    const options = [option({ ceilingPerHour: 1_234_567 })];
    expect(e.ledger.ask(ask('p1', { options })).kind).toBe('go');
    expect(e.ledger.ask(ask('p2', { options })).kind).toBe('wait');
    await e.advance(30 * MIN);
    e.poll(report([charge('p1', { ratePerHour: 1_234_567 })]));
    await e.advance(STATUS_INTERVAL_MS);
    expect(e.api.lastStatus('team-a/gpu')).toEqual({
      observedGeneration: 1, limitUSD: 2, spentUSD: 0.62, reservedUSD: 0.62, remainingUSD: 0.77, fairShareUSD: 1.23, runningInstances: 1, pendingPods: 1,
      lastUpdated: new Date(T0 + 30 * MIN + STATUS_INTERVAL_MS).toISOString(),
      conditions: [{ type: 'Ready', status: 'True', reason: 'Enforced', message: expect.any(String) as string, lastTransitionTime: expect.any(String) as string }],
      ledger: {
        settledMicroUSD: 0, settledByType: [], warnedAtPercent: [],
        pods: [{
          uid: 'p1', namespace: 'team-a', name: 'p1', instanceType: 'p5.48xlarge', capacityType: 'on-demand', quoteMicroUSD: 1_234_567,
          chargedMicroUSD: 617_284, chargedEarlierMicroUSD: 0, accelerators: { 'nvidia.com/gpu': 8 }, startedAt: new Date(T0).toISOString(),
          chargedThrough: new Date(T0 + 30 * MIN).toISOString(),
        }],
      },
    });
  });

  it('writes a status only when something changed, though each write comes back through the watch', async () => {
    const e = await env([budget()]);
    e.api.watchesStatus = true;
    e.ledger.ask(ask('p1'));
    await e.advance(STATUS_INTERVAL_MS);
    const written = e.api.writes.length;
    for (let i = 0; i < 3; i++) await e.advance(STATUS_INTERVAL_MS);
    expect(e.api.writes.length).toBe(written);
    e.api.put(budget({ limitUSD: 50 }));
    await e.advance(STATUS_INTERVAL_MS);
    expect(e.api.writes.length).toBe(written + 1);
    expect(e.api.lastStatus('team-a/gpu')).toMatchObject({ observedGeneration: 2, limitUSD: 50 });
  });

  it('writes again at the next interval after a write failed', async () => {
    const e = await env([budget()]);
    e.ledger.ask(ask('p1'));
    e.api.failures.push(new Error('the object has been modified'));
    const before = e.api.writes.length;
    await e.advance(STATUS_INTERVAL_MS);
    expect(e.api.writes.length).toBe(before);
    await e.advance(STATUS_INTERVAL_MS);
    expect(e.api.lastStatus('team-a/gpu')?.ledger.pods.map((p) => p.uid)).toEqual(['p1']);
  });

  it('records one Event per threshold (BudgetThresholdReached, BudgetLimitReached at 100%)', async () => {
    const e = await env([budget({ limitUSD: 10 })]);
    e.ledger.ask(ask('p1', { options: [option({ ceilingPerHour: 10 * USD })] }));
    for (const at of [20, 30, 45, 48, 55, 60, 70, 80]) {
      await e.advance(T0 + at * MIN - e.clock.now().getTime());
      e.poll(report([charge('p1', { ratePerHour: 10 * USD })]));
    }
    expect(e.api.events).toEqual([
      { budget: 'team-a/gpu', uid: expect.any(String) as string, type: 'Warning', reason: 'BudgetThresholdReached', message: 'budget team-a/gpu: 50% of the limit reached: spent $5.00 of $10.00' },
      { budget: 'team-a/gpu', uid: expect.any(String) as string, type: 'Warning', reason: 'BudgetThresholdReached', message: 'budget team-a/gpu: 80% of the limit reached: spent $8.00 of $10.00' },
      { budget: 'team-a/gpu', uid: expect.any(String) as string, type: 'Warning', reason: 'BudgetLimitReached', message: 'budget team-a/gpu: 100% of the limit reached: spent $10.00 of $10.00' },
    ]);
    await e.advance(STATUS_INTERVAL_MS);
    expect(e.api.lastStatus('team-a/gpu')?.ledger.warnedAtPercent).toEqual([50, 80, 100]);
  });

  it('announces a threshold again in the next period, once', async () => {
    const e = await env([budget({ limitUSD: 10, warnAtPercent: [50], period: { kind: 'Daily', timeZone: 'UTC' } })]);
    const midnight = Date.parse('2026-11-24T00:00:00Z');
    const options = [option({ ceilingPerHour: 10 * USD })];
    e.ledger.ask(ask('p1', { options }));
    await e.advance(30 * MIN);
    e.poll(report([charge('p1', { ratePerHour: 10 * USD, ended: true })]));
    await e.advance(midnight - e.clock.now().getTime());
    e.poll(report([]));
    expect(e.ledger.ask(ask('p2', { options })).kind).toBe('go');
    for (const at of [30, 40, 60]) {
      await e.advance(midnight + at * MIN - e.clock.now().getTime());
      e.poll(report([charge('p2', { ratePerHour: 10 * USD, launchedAt: midnight })]));
    }
    expect(e.api.events.map((ev) => ev.reason)).toEqual(['BudgetThresholdReached', 'BudgetThresholdReached']);
    expect(bookOf(e).usage.settled).toBe(0);
    expect(e.clock.now().getTime()).toBe(midnight + HOUR);
  });
});

describe('BudgetLedger: onLimit HoldAndDrain', () => {
  it.each([
    ['HoldAndDrain at its limit', 'HoldAndDrain', 60, ['p1']],
    ['HoldAndDrain below its limit', 'HoldAndDrain', 30, []],
    ['Hold at its limit', 'Hold', 60, []],
  ])('lists the running pods to stop: %s', async (_what, onLimit, minutes, expected) => {
    // $1/h for an hour: a $1 limit is spent after 60 minutes.
    const e = await env([budget({ limitUSD: 1, onLimit })]);
    expect(e.ledger.ask(ask('p1')).kind).toBe('go');
    expect(e.ledger.ask(ask('p2', { maxRuntimeSeconds: 60 })).kind).toBe('wait');
    await e.advance(minutes * MIN);
    e.poll(report([charge('p1')]));
    expect(e.ledger.toDrain().map((d) => d.podUid)).toEqual(expected);
    for (const d of e.ledger.toDrain()) expect(d.message).toMatch(/budget team-a\/gpu spent its whole limit of \$1\.00 .*HoldAndDrain/);
  });

  it('says in the Ready condition that the budget drains at its limit', async () => {
    const e = await env([budget({ onLimit: 'HoldAndDrain' })]);
    await e.advance(STATUS_INTERVAL_MS);
    expect(e.api.lastStatus('team-a/gpu')?.conditions[0]?.message).toMatch(/at its limit, its running pods are stopped \(HoldAndDrain\)/);
  });
});

describe('BudgetLedger: fair-share standing in the status', () => {
  it('writes the namespace\'s standing and reads it back after a restart', async () => {
    const api = new FakeBudgetApi([budget()]);
    const first = await startLedger({ api, now: T0 });
    running.push(first);
    expect(first.ledger.ask(ask('p1')).kind).toBe('go');
    await first.advance(30 * MIN);
    first.poll(report([charge('p1')]));
    await first.advance(STATUS_INTERVAL_MS);
    const written = api.lastStatus('team-a/gpu')?.fairShareUSD ?? 0;
    expect(written).toBeGreaterThan(0.99);
    await first.stop();
    api.keepWrittenStatus();
    const second = await startLedger({ api, now: T0 + 31 * MIN });
    running.push(second);
    const restored = second.ledger.fairShare().get('team-a') ?? 0;
    expect(restored / USD).toBeCloseTo(written, 2);
  });
});
