// The books of ORCA's config — the cluster-wide cap and each namespace's default budget — have no
// BurstBudget to hold their ledger: they are saved in the ConfigBookStore and read back before a
// restarted ledger decides anything, so a restart neither forgets their spend nor lets a burst past
// the cap; a store that cannot be read keeps every launch waiting until it can.
import { afterEach, describe, expect, it } from 'vitest';
import type { BudgetSpec } from '../policy/budget-spec.js';
import { USD } from '../policy/budget-types.js';
import {
  ask, bookOf, charge, FakeBudgetApi, FakeConfigBookStore, HOUR, MIN, report, specOf, startLedger, STATUS_INTERVAL_MS, T0,
  type LedgerEnv, type LedgerEnvOptions,
} from '../../test/fakes/budget-api.js';

const running: LedgerEnv[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.stop()));
});

async function env(o: LedgerEnvOptions): Promise<LedgerEnv> {
  const e = await startLedger(o);
  running.push(e);
  return e;
}

const total = (limitUSD: number): Record<string, unknown> => ({ limitUSD, period: { kind: 'Total' } });
const clusterRules: BudgetSpec = { ...specOf('', '(cluster)', total(2.5)), allowChargesFrom: ['*'] };
const defaultRules = (ns: string): BudgetSpec => specOf(ns, '(default)', total(2));
const settings = { withoutBudget: 'Default' as const, defaultRules, clusterRules };

/** A first life: team-a's p1 ran an hour at $1/h and ended; p2 is still running. It stops after writing. */
async function firstLife(store: FakeConfigBookStore): Promise<void> {
  const first = await startLedger({ settings, store });
  expect(first.ledger.ask(ask('p1')).kind).toBe('go');
  expect(first.ledger.ask(ask('p2')).kind).toBe('go');
  await first.advance(HOUR);
  first.poll(report([charge('p1', { ended: true }), charge('p2')]));
  await first.advance(STATUS_INTERVAL_MS);
  await first.stop();
}

describe('BudgetLedger: the books of the config across a restart', () => {
  it('saves the cluster cap and the default books, and nothing for a ledger without them', async () => {
    const store = new FakeConfigBookStore();
    await firstLife(store);
    expect([...store.saved.keys()].sort()).toEqual(['(cluster)', 'team-a/(default)']);
    expect(store.saved.get('team-a/(default)')?.ledger).toMatchObject({ settledMicroUSD: USD, pods: [expect.objectContaining({ uid: 'p2', chargedMicroUSD: USD })] });
    expect(store.saved.get('(cluster)')?.spentUSD).toBe(2);
    const none = new FakeConfigBookStore();
    const e = await env({ budgets: [{ namespace: 'team-a', name: 'gpu', spec: total(5) }], store: none });
    expect(e.ledger.ask(ask('p9')).kind).toBe('go');
    await e.advance(STATUS_INTERVAL_MS);
    expect(none.saves).toBe(0);
  });

  it('restores their spend after a restart, so the cap holds across it', async () => {
    const store = new FakeConfigBookStore();
    await firstLife(store);
    const second = await env({ api: new FakeBudgetApi(), settings, store, now: T0 + HOUR + STATUS_INTERVAL_MS });
    expect(bookOf(second, 'team-a/(default)').usage.settled).toBe(USD);
    expect(bookOf(second, '(cluster)').usage.settled).toBe(USD);
    expect(bookOf(second, '(cluster)').pod('p2')?.charged).toBe(USD);
    // $2.50 cap: $1 settled + p2's $1 charged (its whole quote): team-b's $1 pod does not fit.
    const b = second.ledger.ask(ask('q1', { namespace: 'team-b' }));
    expect(b.kind === 'wait' && b.reason).toBe('NamespaceBudgetExceeded');
    expect(b.kind === 'wait' && b.message).toContain('budget (cluster): spent $2.00 + reserved $0.00 + this launch\'s quote $1.00');
    second.poll(report([charge('p2')]));
    expect(bookOf(second, 'team-a/(default)').pod('p2')?.charged).toBeGreaterThan(USD);
  });

  it('keeps every launch waiting until the saved books can be read', async () => {
    const store = new FakeConfigBookStore();
    await firstLife(store);
    store.loadFailures.push(new Error('configmaps "orca-ledger-n" is forbidden'), new Error('connection refused'));
    const second = await env({ api: new FakeBudgetApi(), settings, store, now: T0 + 2 * HOUR });
    const waiting = second.ledger.ask(ask('q1', { namespace: 'team-b' }));
    expect(waiting.kind === 'wait' && waiting.reason).toBe('BudgetsNotLoaded');
    expect(waiting.kind === 'wait' && waiting.message).toBe('ORCA cannot read the saved ledger of the config\'s budgets (budgets.clusterLimit, budgets.default), so nothing launches until it can: configmaps "orca-ledger-n" is forbidden');
    await second.advance(STATUS_INTERVAL_MS);
    expect(second.ledger.entries.loaded).toBe(false);
    await second.advance(STATUS_INTERVAL_MS);
    expect(second.ledger.entries.loaded).toBe(true);
    expect(bookOf(second, '(cluster)').usage.settled).toBe(USD);
  });

  it('tries a failed save again at the next interval', async () => {
    const store = new FakeConfigBookStore();
    const e = await env({ settings, store });
    const before = store.saves;
    store.saveFailures.push(new Error('etcdserver: request timed out'));
    expect(e.ledger.ask(ask('p1')).kind).toBe('go');
    await e.advance(STATUS_INTERVAL_MS);
    expect(store.saves).toBe(before);
    await e.advance(STATUS_INTERVAL_MS);
    expect(store.saves).toBe(before + 1);
    expect(store.saved.get('(cluster)')?.reservedUSD).toBe(1);
    await e.advance(10 * MIN);
    expect(store.saves).toBe(before + 1);
  });
});
