// Exact money for the reports: integer micro-dollars summed as they are, formatted only at the end —
// to six places (exact) or to the cent, where a group of amounts is rounded so that the rounded
// parts add up to the rounded whole (largest remainder), never off by a cent.

import { centsOf } from '../policy/money.js';

const MICRO_PER_CENT = 10_000;

/**
 * Each amount in cents, such that the cents add up to `centsOf(sum of the amounts)`: every amount
 * is rounded down, then the cents still missing go to the amounts with the largest remainders (the
 * first of equal ones). Each result is within a cent of its exact amount.
 */
export function apportionCents(microUSD: readonly number[]): number[] {
  const floors = microUSD.map((m) => Math.floor(m / MICRO_PER_CENT));
  const total = centsOf(microUSD.reduce((a, m) => a + m, 0));
  let missing = total - floors.reduce((a, c) => a + c, 0);
  const byRemainder = microUSD.map((m, i) => ({ i, rest: m - (floors[i] ?? 0) * MICRO_PER_CENT }))
    .sort((a, b) => b.rest - a.rest || a.i - b.i);
  const cents = [...floors];
  for (const { i } of byRemainder) {
    if (missing <= 0) break;
    cents[i] = (cents[i] ?? 0) + 1;
    missing -= 1;
  }
  return cents;
}

function decimal(units: number, places: number): string {
  const scale = 10 ** places;
  const abs = Math.abs(units);
  const whole = Math.floor(abs / scale);
  const frac = String(abs - whole * scale).padStart(places, '0');
  return `${units < 0 ? '-' : ''}${whole}.${frac}`;
}

/** Dollars to the micro-dollar, exact: 6 places ("812.400000"). */
export function exactDollars(microUSD: number): string {
  return decimal(microUSD, 6);
}

/** Dollars from cents ("812.40"). */
export function centDollars(cents: number): string {
  return decimal(cents, 2);
}
