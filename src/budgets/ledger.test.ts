// The budget ledger's decisions: a burst decided one pod at a time against the limit, who may charge
// a budget, options narrowed by the budget's rules, concurrency and accelerator caps, the queue of
// waiting pods (admitted in priority, fair-share and age order when room appears), and reservations
// given back (withdraw, or a pod a poll no longer names).
import { afterEach, describe, expect, it } from 'vitest';
import { committedOf } from '../policy/budget-decision.js';
import { USD } from '../policy/budget-types.js';
import type { BudgetAnswer } from '../ports/budget-gate.js';
import { ask, charge, HOUR, MIN, option, report, startLedger, T0, type BudgetInit, type LedgerEnv, budget, bookOf, microtasks } from '../../test/fakes/budget-api.js';

const running: LedgerEnv[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.stop()));
});

async function env(budgets: readonly BudgetInit[]): Promise<LedgerEnv> {
  const e = await startLedger({ budgets });
  running.push(e);
  return e;
}


describe('BudgetLedger: a burst decided one pod at a time', () => {
  // $1.234567/h for 1 h: every quote is 1,234,567 µUSD; the limit fits exactly N = 7 of them, or one µUSD less.
  const quote = 1_234_567;
  const N = 7;
  it.each([
    { what: 'exactly N quotes', limitMicro: N * quote, goes: N },
    { what: 'one micro-dollar less than N quotes', limitMicro: N * quote - 1, goes: N - 1 },
    { what: 'one micro-dollar less than N + 1 quotes', limitMicro: (N + 1) * quote - 1, goes: N },
  ])('lets exactly as many of 500 pods go as fit a limit of $limitMicro µUSD ($what)', async ({ limitMicro, goes }) => {
    const e = await env([budget({ limitUSD: limitMicro / USD })]);
    const answers: BudgetAnswer[] = [];
    for (let i = 0; i < 500; i++) {
      const a = ask(`pod-${String(i).padStart(3, '0')}`, { createdAt: T0 - HOUR + i, options: [option({ ceilingPerHour: quote })] });
      answers.push(e.ledger.ask(a));
      expect(committedOf(bookOf(e).usage)).toBeLessThanOrEqual(limitMicro);
    }
    expect(answers.slice(0, goes).every((a) => a.kind === 'go')).toBe(true);
    expect(answers.slice(goes).map((a) => a.kind)).toEqual(Array<string>(500 - goes).fill('wait'));
    expect(committedOf(bookOf(e).usage)).toBe(goes * quote);
    expect(answers[0]).toEqual({ kind: 'go', options: [0], message: 'team-a/gpu: 1.23 USD reserved' });
    const waited = answers[goes];
    expect(waited?.kind === 'wait' && waited.reason).toBe('NamespaceBudgetExceeded');
    expect(waited?.message).toContain('budget team-a/gpu: spent $0.00 + reserved ');
    expect(waited?.message).toContain(`this launch's quote $1.23 ($1.23/h for 1 h) exceeds the limit $${(limitMicro / USD).toFixed(2)}`);
    expect(e.ledger.pendingByReason()).toEqual(new Map([['NamespaceBudgetExceeded', 500 - goes]]));
    await microtasks();
    expect(e.admitted).toEqual([]);
  });

  it('answers the same go to a pod that asks again, without reserving twice', async () => {
    const e = await env([budget({ limitUSD: 2 })]);
    expect(e.ledger.ask(ask('p1')).kind).toBe('go');
    expect(e.ledger.ask(ask('p1')).kind).toBe('go');
    expect(bookOf(e).usage.reserved).toBe(USD);
    expect(e.ledger.ask(ask('p2')).kind).toBe('go');
  });
});

describe('BudgetLedger: rules that refuse a pod', () => {
  it.each([
    { what: 'lists no namespace', allowChargesFrom: undefined, kind: 'refuse' },
    { what: 'lists another namespace', allowChargesFrom: ['team-c'], kind: 'refuse' },
    { what: 'lists team-b', allowChargesFrom: ['team-b'], kind: 'go' },
  ])('lets a pod of team-b charge team-a\'s budget only when its allowChargesFrom lists team-b ($what)', async ({ allowChargesFrom, kind }) => {
    const e = await env([budget(allowChargesFrom === undefined ? {} : { allowChargesFrom }), budget({ limitUSD: 0 }, 'team-b', 'none')]);
    const answer = e.ledger.ask(ask('b-1', { namespace: 'team-b', chargeTo: 'team-a' }));
    expect(answer.kind).toBe(kind);
    if (answer.kind === 'refuse') {
      expect(answer.reason).toBe('BudgetChargeNotAllowed');
      expect(answer.message).toContain('budget team-a/gpu: pods of namespace team-b may not charge it');
      expect(bookOf(e).pod('b-1')).toBeUndefined();
    } else {
      expect(bookOf(e).pod('b-1')?.quote).toBe(USD);
      expect(bookOf(e, 'team-b/none').pod('b-1')).toBeUndefined();
    }
  });

  it('refuses a pod whose quote alone is over the whole limit, and does not queue it', async () => {
    const e = await env([budget({ limitUSD: 5 })]);
    const answer = e.ledger.ask(ask('big', { maxRuntimeSeconds: 6 * 3600 }));
    expect(answer).toEqual({
      kind: 'refuse', reason: 'QuoteExceedsBudget',
      message: 'budget team-a/gpu: this launch\'s quote $6.00 ($1.00/h for 6 h) alone exceeds the whole limit $5.00',
    });
    expect(e.ledger.pendingByReason().size).toBe(0);
    expect(committedOf(bookOf(e).usage)).toBe(0);
  });

  const options = [
    option({ capacityType: 'spot', ceilingPerHour: 500_000 }),
    option({ capacityType: 'on-demand', ceilingPerHour: USD }),
    option({ instanceType: 'g6e.12xlarge', family: 'g6e', capacityType: 'spot', accelerators: { 'nvidia.com/gpu': 4 }, ceilingPerHour: 300_000 }),
    option({ capacityType: 'reserved', ceilingPerHour: 200_000 }),
  ];
  it.each([
    { what: 'spot only', spec: { allowedCapacityTypes: ['spot'] }, go: [0, 2], quote: 500_000 },
    { what: 'family p5 only', spec: { allowedInstanceFamilies: ['p5'] }, go: [0, 1, 3], quote: USD },
    { what: 'spot of family g6e', spec: { allowedCapacityTypes: ['spot'], allowedInstanceFamilies: ['g6e'] }, go: [2], quote: 300_000 },
    { what: 'family p5 denied', spec: { deniedInstanceFamilies: ['p5'] }, go: [2], quote: 300_000 },
    { what: 'reserved and on-demand', spec: { allowedCapacityTypes: ['reserved', 'on-demand'] }, go: [1, 3], quote: USD },
  ])('answers go with the indices of the options the budget allows ($what), reserving the dearest of them', async ({ spec, go, quote }) => {
    const e = await env([budget(spec)]);
    const answer = e.ledger.ask(ask('p1', { options }));
    expect(answer.kind === 'go' && answer.options).toEqual(go);
    expect(bookOf(e).pod('p1')?.quote).toBe(quote);
  });

  it.each([
    { what: 'no capacity type', spec: { allowedCapacityTypes: ['on-demand'], allowedInstanceFamilies: ['g6e'] }, reason: 'InstanceFamilyNotAllowed' },
    { what: 'no family', spec: { allowedInstanceFamilies: ['trn1'] }, reason: 'InstanceFamilyNotAllowed' },
    { what: 'no capacity type allowed', spec: { allowedCapacityTypes: ['reserved'] }, reason: 'CapacityTypeNotAllowed' },
  ])('refuses a pod none of whose options the budget allows ($what)', async ({ spec, reason }) => {
    const e = await env([budget(spec)]);
    const answer = e.ledger.ask(ask('p1', { options: options.slice(0, 3) }));
    expect(answer.kind === 'refuse' && answer.reason).toBe(reason);
    expect(bookOf(e).pod('p1')).toBeUndefined();
  });
});

describe('BudgetLedger: concurrency and accelerators', () => {
  it.each([
    { what: 'maxConcurrentInstances 1', spec: { maxConcurrentInstances: 1 }, reason: 'NamespaceMaxInstances', text: '1 instances in use, the maximum is 1' },
    { what: 'maxAccelerators 8 GPUs', spec: { maxAccelerators: { 'nvidia.com/gpu': 8 } }, reason: 'NamespaceMaxAccelerators', text: '8 nvidia.com/gpu in use + 8' },
  ])('keeps a pod waiting under $what until an instance ends, then admits it once', async ({ spec, reason, text }) => {
    const e = await env([budget(spec)]);
    expect(e.ledger.ask(ask('p1')).kind).toBe('go');
    const waiting = e.ledger.ask(ask('p2'));
    expect(waiting.kind === 'wait' && waiting.reason).toBe(reason);
    expect(waiting.message).toContain(text);

    await e.clock.advance(10 * MIN);
    e.poll(report([charge('p1')]));
    await microtasks();
    expect(e.admitted).toEqual([]);

    await e.clock.advance(10 * MIN);
    e.poll(report([charge('p1', { ended: true })]));
    expect(e.admitted).toEqual([]);
    await Promise.resolve();
    expect(e.admitted).toEqual(['p2']);
    expect(bookOf(e).usage).toMatchObject({ reserved: USD, runningInstances: 1, accelerators: { 'nvidia.com/gpu': 8 } });

    expect(e.ledger.ask(ask('p2'))).toEqual({ kind: 'go', options: [0], message: 'team-a/gpu: 1.00 USD reserved' });
    expect(bookOf(e).usage).toMatchObject({ reserved: USD, runningInstances: 1 });
    expect(e.ledger.ask(ask('p3')).kind).toBe('wait');
  });

  it('refuses a pod that brings more accelerators than the budget allows at once', async () => {
    const e = await env([budget({ maxAccelerators: { 'nvidia.com/gpu': 4 } })]);
    const answer = e.ledger.ask(ask('p1'));
    expect(answer.kind === 'refuse' && answer.reason).toBe('NamespaceMaxAccelerators');
  });
});

describe('BudgetLedger: the queue of waiting pods', () => {
  it('admits the waiting head when the limit is raised (the budget changes)', async () => {
    const e = await env([budget({ limitUSD: 1 })]);
    expect(e.ledger.ask(ask('p1')).kind).toBe('go');
    expect(e.ledger.ask(ask('p2')).kind).toBe('wait');
    e.api.put(budget({ limitUSD: 2 }));
    expect(e.admitted).toEqual([]);
    await Promise.resolve();
    expect(e.admitted).toEqual(['p2']);
    expect(e.ledger.ask(ask('p2')).kind).toBe('go');
    expect(committedOf(bookOf(e).usage)).toBe(2 * USD);
  });

  it.each([
    {
      what: 'higher priority first',
      queue: [ask('low-old', { createdAt: T0 - 2 * HOUR }), ask('high-new', { priority: 10, createdAt: T0 - HOUR })],
      order: ['high-new', 'low-old'],
    },
    {
      what: 'then the namespace with less fair-share usage',
      queue: [ask('a-old', { createdAt: T0 - 2 * HOUR }), ask('b-new', { namespace: 'team-b', chargeTo: 'team-a', createdAt: T0 - HOUR })],
      order: ['b-new', 'a-old'],
    },
    {
      what: 'then older first',
      queue: [ask('a-new', { createdAt: T0 - HOUR }), ask('a-old', { createdAt: T0 - 2 * HOUR })],
      order: ['a-old', 'a-new'],
    },
  ])('admits waiting pods one by one as room appears: $what', async ({ queue, order }) => {
    const e = await env([budget({ limitUSD: 1, allowChargesFrom: ['team-b'] })]);
    expect(e.ledger.ask(ask('x')).kind).toBe('go');
    for (const a of queue) expect(e.ledger.ask(a).kind).toBe('wait');
    e.api.put(budget({ limitUSD: 2, allowChargesFrom: ['team-b'] }));
    await microtasks();
    expect(e.admitted).toEqual(order.slice(0, 1));
    e.api.put(budget({ limitUSD: 3, allowChargesFrom: ['team-b'] }));
    await microtasks();
    expect(e.admitted).toEqual(order);
  });
});

describe('BudgetLedger: a budget edited while pods wait', () => {
  const options = [option({ capacityType: 'spot', ceilingPerHour: 400_000 }), option({ capacityType: 'on-demand', ceilingPerHour: USD })];

  it('admits a waiting pod with the options the edited budget allows, at their quote', async () => {
    const e = await env([budget({ limitUSD: 1 })]);
    expect(e.ledger.ask(ask('x')).kind).toBe('go');
    expect(e.ledger.ask(ask('p1', { options })).kind).toBe('wait');
    e.api.put(budget({ limitUSD: 1.4, allowedCapacityTypes: ['spot'] }));
    await microtasks();
    expect(e.admitted).toEqual(['p1']);
    const answer = e.ledger.ask(ask('p1', { options }));
    expect(answer.kind === 'go' && answer.options).toEqual([0]);
    expect(bookOf(e).pod('p1')?.quote).toBe(400_000);
  });

  it('lets a waiting pod ask again, to be refused, when the edited budget allows none of its options', async () => {
    const e = await env([budget({ limitUSD: 1 })]);
    expect(e.ledger.ask(ask('x')).kind).toBe('go');
    expect(e.ledger.ask(ask('p1', { options })).kind).toBe('wait');
    e.api.put(budget({ limitUSD: 1, allowedCapacityTypes: ['reserved'] }));
    await microtasks();
    expect(e.admitted).toEqual(['p1']);
    expect(e.ledger.ask(ask('p1', { options })).kind).toBe('refuse');
    expect(e.ledger.pendingByReason().size).toBe(0);
  });
});

describe('BudgetLedger: reservations given back', () => {
  it('releases the reservation of a withdrawn pod and admits the pod that waited for it', async () => {
    const e = await env([budget({ limitUSD: 1 })]);
    expect(e.ledger.ask(ask('p1')).kind).toBe('go');
    expect(e.ledger.ask(ask('p2')).kind).toBe('wait');
    e.ledger.withdraw('p1');
    expect(bookOf(e).pod('p1')).toBeUndefined();
    await microtasks();
    expect(e.admitted).toEqual(['p2']);
    expect(committedOf(bookOf(e).usage)).toBe(USD);
  });

  it('takes a withdrawn waiting pod out of the queue', async () => {
    const e = await env([budget({ limitUSD: 1 })]);
    e.ledger.ask(ask('p1'));
    e.ledger.ask(ask('p2'));
    e.ledger.withdraw('p2');
    expect(e.ledger.pendingByReason().size).toBe(0);
    e.api.put(budget({ limitUSD: 2 }));
    await microtasks();
    expect(e.admitted).toEqual([]);
  });

  it.each([
    { what: 'named as launching', r: report([], ['p1']), held: true },
    { what: 'running', r: report([charge('p1')]), held: true },
    { what: 'named nowhere', r: report([], ['other']), held: false },
  ])('keeps the reservation of a pod a poll reports $what, releases it otherwise', async ({ r, held }) => {
    const e = await env([budget({ limitUSD: 1 })]);
    e.ledger.ask(ask('p1'));
    e.ledger.ask(ask('p2'));
    await e.clock.advance(MIN);
    e.poll(r);
    expect(bookOf(e).pod('p1') !== undefined).toBe(held);
    await microtasks();
    expect(e.admitted).toEqual(held ? [] : ['p2']);
  });

  it('keeps what a released pod was charged as spent', async () => {
    const e = await env([budget({ limitUSD: 10 })]);
    e.ledger.ask(ask('p1'));
    await e.clock.advance(30 * MIN);
    e.poll(report([charge('p1')]));
    expect(bookOf(e).usage).toMatchObject({ accruing: USD / 2, reserved: USD / 2 });
    e.poll(report([]));
    expect(bookOf(e).pod('p1')).toBeUndefined();
    expect(bookOf(e).usage).toMatchObject({ settled: USD / 2, accruing: 0, reserved: 0 });
  });
});
