// BurstBudgets as ORCA writes their status, for the report tests: a fixed fixture (spending budgets,
// one without status, one whose ledger was edited by hand) and budgets with random ledgers.
import type { BurstBudgetObject, LedgerPod } from '../../src/ports/budgets.js';
import { centsOf } from '../../src/policy/money.js';
import { seeded } from './random.js';

export const pod = (uid: string, [instanceType, capacityType]: readonly [string, string], charged: number, earlier = 0): LedgerPod => ({
  uid, namespace: 'biology', name: uid, instanceType, capacityType, quoteMicroUSD: charged + 1_000_000, chargedMicroUSD: charged, chargedEarlierMicroUSD: earlier,
});

/** A budget whose status ORCA wrote: the exact ledger and the dollar figures (spentUSD rounded as ORCA does). */
export function fixtureBudget(namespace: string, name: string, ledger: { settled: number; lines: [string, string, number][]; pods: LedgerPod[] }): BurstBudgetObject {
  const spent = ledger.pods.reduce((s, p) => s + p.chargedMicroUSD - p.chargedEarlierMicroUSD, ledger.settled);
  return {
    namespace, name, uid: `uid-${name}`, spec: { limitUSD: 5000 },
    status: {
      limitUSD: 5000, spentUSD: centsOf(spent) / 100, reservedUSD: 12.5, remainingUSD: 5000 - centsOf(spent) / 100 - 12.5, fairShareUSD: 700.5, runningInstances: ledger.pods.length, pendingPods: 3,
      periodEnd: '2027-01-01T00:00:00.000Z', lastUpdated: '2026-12-12T10:00:00.000Z',
      conditions: [{ type: 'Ready', status: 'True', reason: 'Enforced', message: 'launches are checked', lastTransitionTime: '2026-12-01T00:00:00.000Z' }],
      ledger: {
        periodStart: '2026-12-01T00:00:00.000Z', settledMicroUSD: ledger.settled, warnedAtPercent: [],
        settledByType: ledger.lines.map(([instanceType, capacityType, microUSD]) => ({ instanceType, capacityType, microUSD })), pods: ledger.pods,
      },
    },
  };
}

/** The fixture of the examples: two spending budgets, one new (no status) and one whose ledger was edited by hand. */
export const FIXTURE: readonly BurstBudgetObject[] = [
  fixtureBudget('biology', 'gpu', {
    settled: 700_004_999, lines: [['p5.48xlarge', 'on-demand', 600_001_666], ['g6e.xlarge', 'spot', 100_003_333]],
    pods: [pod('a', ['g6e.xlarge', 'spot'], 12_345_678, 2_000_000), pod('b', ['p5.48xlarge', 'reserved'], 100_001_667)],
  }),
  { namespace: 'chemistry', name: 'new', uid: 'uid-new', spec: { limitUSD: 100 } },
  { namespace: 'chemistry', name: 'edited', uid: 'uid-edited', spec: { limitUSD: 100 }, status: { spentUSD: 1, ledger: { settledMicroUSD: -5, pods: [] } } },
  fixtureBudget('physics, "theory"', 'cpu', { settled: 0, lines: [], pods: [] }),
];

/** A budget with a random ledger: up to 11 settled lines and 29 running pods, odd micro-dollar amounts. */
export function randomBudget(seed: number): BurstBudgetObject {
  const r = seeded(seed);
  const int = (n: number): number => Math.floor(r() * n);
  const types = ['g6e.xlarge', 'p5.48xlarge', 'g5.2xlarge', 'trn1.32xlarge', 'inf2.xlarge'];
  const caps = ['spot', 'on-demand', 'reserved'];
  const lines: [string, string, number][] = Array.from({ length: int(12) }, () => [types[int(5)] ?? '', caps[int(3)] ?? '', int(50_000_000_000) * 2 + 1]);
  const pods = Array.from({ length: int(30) }, (_, i) => {
    const charged = int(9_000_000_000) * 2 + 1;
    return pod(`p${i}`, [types[int(5)] ?? '', caps[int(3)] ?? ''], charged, int(charged));
  });
  return fixtureBudget('ns', `b${seed}`, { settled: lines.reduce((s, l) => s + l[2], 0), lines, pods });
}

