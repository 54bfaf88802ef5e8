// The budgets of the composition root: the BurstBudget API, the ledger that owns every budget's money
// (decided from ORCA's config: what a namespace without a budget may do, the default budget, the
// cluster-wide cap) and its metrics.
import { BudgetLedger } from './budgets/ledger.js';
import type { LedgerSettings } from './budgets/budget-entries.js';
import type { Config } from './config/schema.js';
import { createBudgetApi } from './k8s/budget-api.js';
import { createConfigBookStore } from './k8s/config-book-store.js';
import type { Logger } from './observability/logger.js';
import type { Metrics } from './observability/metrics.js';
import { parseBudgetSpec, type BudgetSpec } from './policy/budget-spec.js';
import { systemClock } from './system-clock.js';
import { remaining } from './policy/budget-book.js';
import { spentOf } from './policy/budget-decision.js';
import type { BudgetFigures } from './ports/budgets.js';

type ConfigBudget = NonNullable<Config['budgets']['default']>;

/** A budget of the config as the rules of one namespace's book (the config loader already checked it). */
function rulesOf(namespace: string, name: string, spec: ConfigBudget): BudgetSpec {
  const r = parseBudgetSpec(namespace, name, spec);
  if (!r.ok) throw new Error(`budgets.${name}: ${r.error.join('; ')}`);
  return r.value;
}

export function ledgerSettings(config: Config): LedgerSettings {
  const b = config.budgets;
  const fallback = b.default;
  return {
    withoutBudget: b.withoutBudget, statusIntervalMs: b.statusIntervalSeconds * 1000,
    ...(fallback === undefined ? {} : { defaultRules: (ns: string) => rulesOf(ns, '(default)', fallback) }),
    ...(b.clusterLimit === undefined ? {} : { clusterRules: { ...rulesOf('', '(cluster)', b.clusterLimit), allowChargesFrom: ['*'] } }),
  };
}

/** Each budget's figures now, in dollars. */
function figures(ledger: BudgetLedger): BudgetFigures[] {
  return [...ledger.entries.all()].map((e) => {
    const u = e.book.usage;
    const slash = e.id.lastIndexOf('/');
    return {
      namespace: slash < 0 ? '' : e.id.slice(0, slash), budget: slash < 0 ? e.id : e.id.slice(slash + 1), limitUSD: e.book.rules.limit / 1e6,
      spentUSD: spentOf(u) / 1e6, reservedUSD: u.reserved / 1e6, remainingUSD: remaining(e.book) / 1e6,
    };
  });
}

export function buildLedger(d: { readonly config: Config; readonly kc: Parameters<typeof createBudgetApi>[0]['kc']; readonly log: Logger; readonly metrics: Metrics }): BudgetLedger {
  const api = createBudgetApi({ kc: d.kc, log: d.log, clock: systemClock, onRestart: () => { d.metrics.informerRestarts.inc({ resource: 'burstbudgets' }); } });
  const b = d.config.budgets;
  // Only a config with books of its own keeps a ledger outside the BurstBudgets (and needs the ConfigMap's RBAC).
  const store = b.clusterLimit !== undefined || b.withoutBudget === 'Default'
    ? createConfigBookStore({ kc: d.kc, namespace: b.ledgerNamespace, name: `orca-ledger-${d.config.node.name}` })
    : undefined;
  const ledger = new BudgetLedger({
    source: api, writer: api, events: api, settings: ledgerSettings(d.config), clock: systemClock, log: d.log, ...(store === undefined ? {} : { store }),
    halfLifeMs: d.config.budgets.fairShareHalfLifeHours * 3600_000,
    onDecision: (decision, reason) => { d.metrics.budgetDecisions.inc({ decision, reason }); },
  });
  d.metrics.trackBudgets(() => ({ budgets: figures(ledger), pending: ledger.pendingByReason(), share: new Map([...ledger.fairShare()].map(([ns, v]) => [ns, v / 1e6] as const)) }));
  return ledger;
}
