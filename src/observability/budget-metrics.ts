// The budget metrics: every budget's limit, spend, reservations and what is left (by namespace and
// budget), the pods waiting for their budgets by reason, each namespace's fair-share standing, all
// read from the ledger at each scrape; and the decisions counted as they are made.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { BudgetReadings } from '../ports/budgets.js';

export interface BudgetMetrics {
  readonly budgetDecisions: Counter<'decision' | 'reason'>;
  /** Where the orca_budget_*, orca_pending_pods and orca_fair_share gauges are read from at each scrape. */
  trackBudgets(source: () => BudgetReadings): void;
}

type Figure = 'limitUSD' | 'spentUSD' | 'reservedUSD' | 'remainingUSD';

export function createBudgetMetrics(registry: Registry): BudgetMetrics {
  const registers = [registry];
  let source: (() => BudgetReadings) | undefined;
  const gauge = (name: string, help: string, figure: Figure): void => {
    new Gauge({
      name, help, labelNames: ['namespace', 'budget'] as const, registers,
      collect() {
        this.reset();
        for (const b of source?.().budgets ?? []) this.set({ namespace: b.namespace, budget: b.budget }, b[figure]);
      },
    });
  };
  gauge('orca_budget_limit_usd', 'The budget\'s limit for its period, USD', 'limitUSD');
  gauge('orca_budget_spent_usd', 'Charged this period (ended and running instances), USD', 'spentUSD');
  gauge('orca_budget_reserved_usd', 'Reserved and not yet charged (the rest of each pod\'s quote), USD', 'reservedUSD');
  gauge('orca_budget_remaining_usd', 'Limit − spent − reserved, USD (negative when spend overran)', 'remainingUSD');
  new Gauge({
    name: 'orca_pending_pods', help: 'Pods waiting for their namespace\'s budgets, by reason', labelNames: ['reason'] as const, registers,
    collect() {
      this.reset();
      for (const [reason, n] of source?.().pending ?? []) this.set({ reason }, n);
    },
  });
  new Gauge({
    name: 'orca_fair_share', help: 'Each namespace\'s decayed recent spend plus entry penalties, USD: the lower, the sooner its pods go', labelNames: ['namespace'] as const, registers,
    collect() {
      this.reset();
      for (const [namespace, v] of source?.().share ?? []) this.set({ namespace }, v);
    },
  });
  return {
    budgetDecisions: new Counter({ name: 'orca_budget_decisions_total', help: 'Budget decisions on launches, by decision (allow, wait, refuse) and reason', labelNames: ['decision', 'reason'] as const, registers }),
    trackBudgets(s) { source = s; },
  };
}
