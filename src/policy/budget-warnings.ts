// Pure: the warning thresholds of a budget (warnAtPercent, e.g. [50, 80, 100]) a change of spend
// crossed, so the caller can emit one Event at each threshold, once per period. Spend here is what
// was charged (settled + accruing), not what is reserved: a launch that reserves 90% of the limit
// has spent nothing yet. Integer arithmetic in BigInt, so "exactly 80%" is exact.

import type { BudgetBook } from './budget-book.js';
import { spentOf } from './budget-decision.js';
import type { BudgetRules, MicroUsd } from './budget-types.js';
import { formatUsd } from './money.js';

/** Thousandths of a percent: a threshold such as 12.5% is exact. */
const MILLI_PERCENT = 1000;

/**
 * The spend at which `percent` of `limit` is reached: limit × percent / 100, rounded up to the
 * micro-dollar (a threshold is reached only when the spend really is at or past it).
 */
export function thresholdAmount(limit: MicroUsd, percent: number): MicroUsd {
  const scaled = BigInt(Math.round(percent * MILLI_PERCENT));
  const divisor = BigInt(100 * MILLI_PERCENT);
  const product = BigInt(limit) * scaled;
  return Number((product + divisor - 1n) / divisor);
}

/**
 * The thresholds of `rules.warnAtPercent` that spend reached going from `spentBefore` to
 * `spentAfter` (before < threshold amount ≤ after), in ascending order, each once. Percentages that
 * are not finite or not above zero, and every threshold of a budget whose limit is zero, are never
 * reached. Spend that went down crosses nothing.
 */
export function thresholdsCrossed(rules: BudgetRules, spentBefore: MicroUsd, spentAfter: MicroUsd): readonly number[] {
  if (rules.limit <= 0) return [];
  const percents = [...new Set(rules.warnAtPercent ?? [])].filter((p) => Number.isFinite(p) && p > 0);
  return percents
    .filter((p) => {
      const amount = thresholdAmount(rules.limit, p);
      return spentBefore < amount && amount <= spentAfter;
    })
    .sort((a, b) => a - b);
}

/** The thresholds crossed between two states of one budget's book, by the rules of the later one. */
export function warningsBetween(before: BudgetBook, after: BudgetBook): readonly number[] {
  return thresholdsCrossed(after.rules, spentOf(before.usage), spentOf(after.usage));
}

/** The Event message for a threshold reached: names the budget, the percentage and the figures. */
export function warningMessage(rules: BudgetRules, percent: number, spent: MicroUsd): string {
  return `budget ${rules.id}: ${percent}% of the limit reached: spent ${formatUsd(spent)} of ${formatUsd(rules.limit)}`;
}
