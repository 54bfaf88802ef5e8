// Pure: money arithmetic for ORCA's budgets. Amounts are integer micro-dollars (MicroUsd); this file
// turns an hourly price and a duration into a cost (always rounded UP to the micro-dollar, so a
// reservation is never short), splits a charge across a period boundary by time, and formats amounts
// as dollars with cents ("$1,234.56") for Events and pod conditions. Products are computed in BigInt,
// so a large price × a long runtime cannot lose precision.

import { USD, type MicroUsd } from './budget-types.js';

const MS_PER_HOUR = 3_600_000n;
const MICRO_PER_CENT = 10_000;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** How an amount becomes whole cents: to the nearest cent (half away from zero), or up (away from zero). */
export type CentRounding = 'nearest' | 'up';

/** True when `amount` is a valid MicroUsd amount: a non-negative safe integer. */
export function isMicroUsd(amount: number): boolean {
  return Number.isSafeInteger(amount) && amount >= 0;
}

/**
 * Throws a RangeError unless `amount` is a non-negative safe integer. For amounts ORCA computes
 * itself (prices, quotes): a bad one is a defect, not an input to recover from.
 */
export function assertMicroUsd(amount: number, what: string): void {
  if (!isMicroUsd(amount)) throw new RangeError(`${what} must be a non-negative whole number of micro-dollars, got ${amount}`);
}

/** Dollars (98.32) → micro-dollars (98_320_000), rounded to the nearest micro-dollar. Throws a RangeError when not finite. */
export function microUsdFromUsd(usd: number): MicroUsd {
  if (!Number.isFinite(usd)) throw new RangeError(`a dollar amount must be finite, got ${usd}`);
  return Math.round(usd * USD);
}

/**
 * The cost of `ms` milliseconds at `perHour`, rounded up to the micro-dollar. Throws a RangeError when
 * the price is not a MicroUsd amount, the duration is negative or not finite, or the cost is too large
 * to be exact.
 */
export function costForMillis(perHour: MicroUsd, ms: number): MicroUsd {
  assertMicroUsd(perHour, 'an hourly price');
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`a duration must be a non-negative finite number, got ${ms} ms`);
  const product = BigInt(perHour) * BigInt(Math.ceil(ms));
  const cost = (product + MS_PER_HOUR - 1n) / MS_PER_HOUR;
  if (cost > MAX_SAFE) throw new RangeError(`the cost of ${ms} ms at ${perHour} µUSD/h is too large to be exact`);
  return Number(cost);
}

/**
 * The cost of `seconds` at `perHour`, rounded up to the micro-dollar ($98.32/h × 1 s = $0.027312 →
 * 27,312 µUSD; $1/h × 1 s = 277.7… → 278 µUSD). A fractional second counts as a whole one. Throws as
 * costForMillis does.
 */
export function costForSeconds(perHour: MicroUsd, seconds: number): MicroUsd {
  if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError(`a duration must be a non-negative finite number, got ${seconds} s`);
  return costForMillis(perHour, Math.ceil(seconds) * 1000);
}

/** A charge split at a period boundary; `before + after` is always the whole charge. */
export interface ChargeSplit {
  readonly before: MicroUsd;
  readonly after: MicroUsd;
}

/** An instance's running interval and the boundary between two periods, in ms since the epoch. */
export interface SplitTimes {
  readonly startMs: number;
  readonly endMs: number;
  readonly boundaryMs: number;
}

/**
 * Splits `charge` for an instance that ran from `startMs` to `endMs` across `boundaryMs` by time: each
 * period gets the share of the charge for the time the instance ran in it. The earlier share is
 * rounded down and the later one takes the rest, so no micro-dollar is lost or made up. A boundary
 * at or before the start puts everything after it; at or after the end, everything before it.
 * Throws a RangeError when the charge is not a MicroUsd amount or a time is not finite.
 */
export function splitByTime(charge: MicroUsd, times: SplitTimes): ChargeSplit {
  assertMicroUsd(charge, 'a charge');
  const { startMs, endMs, boundaryMs } = times;
  if (![startMs, endMs, boundaryMs].every(Number.isFinite)) throw new RangeError('split times must be finite');
  if (boundaryMs <= startMs) return { before: 0, after: charge };
  if (boundaryMs >= endMs) return { before: charge, after: 0 };
  const ranMs = BigInt(Math.round(endMs - startMs));
  const beforeMs = BigInt(Math.round(boundaryMs - startMs));
  const before = Number((BigInt(charge) * beforeMs) / ranMs);
  return { before, after: charge - before };
}

/**
 * Whole cents of a micro-dollar amount, by exact integer arithmetic: to the nearest cent (half away
 * from zero), or up (away from zero). The one rounding of money to cents: Events, the budgets'
 * status and the reports all show what this gives.
 */
export function centsOf(amount: number, rounding: CentRounding = 'nearest'): number {
  const abs = Math.abs(amount);
  const whole = Math.floor(abs / MICRO_PER_CENT);
  const rest = abs - whole * MICRO_PER_CENT;
  const roundUp = rounding === 'up' ? rest > 0 : rest >= MICRO_PER_CENT / 2;
  const cents = whole + (roundUp ? 1 : 0);
  return amount < 0 && cents > 0 ? -cents : cents;
}

/** Dollars to the cent as a number (1_234_565_000 → 1234.57), for JSON and the status. */
export function usdToTheCent(amount: number): number {
  return centsOf(amount) / 100;
}

function groupThousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * Formats micro-dollars as dollars with cents and thousands separators: 1_234_560_000 → "$1,234.56",
 * −12_340_000 → "-$12.34". Rounds to the nearest cent unless `rounding` is 'up' (away from zero: one
 * micro-dollar shows as "$0.01", for amounts a reader must not see as zero).
 */
export function formatUsd(amount: MicroUsd, rounding: CentRounding = 'nearest'): string {
  const cents = Math.abs(centsOf(amount, rounding));
  const sign = amount < 0 && cents > 0 ? '-' : '';
  const dollars = Math.floor(cents / 100);
  const rest = String(cents % 100).padStart(2, '0');
  return `${sign}$${groupThousands(dollars)}.${rest}`;
}

/** A price from the time it took effect (ms since the epoch), in micro-dollars an hour. */
export interface PriceSpan {
  readonly at: number;
  readonly perHour: MicroUsd;
}

/**
 * The cost of running from `fromMs` to `toMs` under prices that change over time (a spot pool's
 * history): each stretch at the price in effect then — before the first price, the first one. Each
 * stretch is rounded up to the micro-dollar. Undefined without any price. Throws a RangeError as
 * costForMillis does.
 */
export function costOverTime(prices: readonly PriceSpan[], fromMs: number, toMs: number): MicroUsd | undefined {
  const sorted = [...prices].sort((a, b) => a.at - b.at);
  if (sorted.length === 0) return undefined;
  let total = 0;
  for (const [i, p] of sorted.entries()) {
    const start = i === 0 ? fromMs : Math.max(fromMs, p.at);
    const end = Math.min(toMs, sorted[i + 1]?.at ?? toMs);
    if (end > start) total += costForMillis(p.perHour, end - start);
  }
  return total;
}
