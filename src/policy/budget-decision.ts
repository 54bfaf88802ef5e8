// Pure: whether one launch may go under one budget now, and if not, why. Every rule of the budget is
// checked in one pass against its usage: who may charge it, instance family, capacity type, the
// quote against the limit, concurrency and accelerators, and money (settled + accruing + reserved +
// quote ≤ limit). Denials come back in a fixed order, permanent ones first; decideLaunch reports the
// first. No clock and no I/O; BudgetBook (budget-book.ts) serializes the decisions of one budget.

import type { BudgetDecision, BudgetRules, BudgetUsage, DenialReason, LaunchRequest, MicroUsd } from './budget-types.js';
import { costForSeconds, formatUsd } from './money.js';

/** One rule a launch breaks: the reason (also the Event reason), whether it is final, and the message. */
export interface Denial {
  readonly reason: DenialReason;
  /** The pod can never run under this budget as it is specified: reject it rather than keep it waiting. */
  readonly permanent: boolean;
  /** Names the budget and the figures (dollars with cents, counts). */
  readonly message: string;
}

/** The quote for a launch and every rule it breaks, in the order they are reported. */
export interface LaunchEvaluation {
  readonly quote: MicroUsd;
  readonly denials: readonly Denial[];
}

interface Check {
  readonly rules: BudgetRules;
  readonly usage: BudgetUsage;
  readonly request: LaunchRequest;
  readonly quote: MicroUsd;
}

/** The runtime a launch is quoted for: the pod's maximum runtime, else the budget's default (seconds). */
export function runtimeSecondsFor(rules: BudgetRules, request: LaunchRequest): number {
  return request.maxRuntimeSeconds ?? rules.defaultMaxRuntimeSeconds;
}

/**
 * What a launch reserves: its price ceiling per hour × its maximum runtime, rounded up to the
 * micro-dollar. Throws a RangeError for a price or runtime that cannot be money (see costForSeconds).
 */
export function quoteFor(rules: BudgetRules, request: LaunchRequest): MicroUsd {
  return costForSeconds(request.ceilingPerHour, runtimeSecondsFor(rules, request));
}

/** Money spent this period: settled + accruing. */
export function spentOf(usage: BudgetUsage): MicroUsd {
  return usage.settled + usage.accruing;
}

/** Money spent or promised this period: settled + accruing + reserved. */
export function committedOf(usage: BudgetUsage): MicroUsd {
  return spentOf(usage) + usage.reserved;
}

/** limit − settled − accruing − reserved; negative when spend overran (a spot price rose). */
export function remainingOf(limit: MicroUsd, usage: BudgetUsage): MicroUsd {
  return limit - committedOf(usage);
}

/** A count from a record of counts, by own key only (a key such as "constructor" is not a count). */
export function countOf(counts: Readonly<Record<string, number>> | undefined, key: string): number | undefined {
  return counts !== undefined && Object.hasOwn(counts, key) ? counts[key] : undefined;
}

function deny(c: Check, reason: DenialReason, permanent: boolean, text: string): Denial {
  return { reason, permanent, message: `budget ${c.rules.id}: ${text}` };
}

function listed(items: readonly string[] | undefined): string {
  return items === undefined || items.length === 0 ? 'none' : items.join(', ');
}

function runtimeText(seconds: number): string {
  if (seconds > 0 && seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds > 0 && seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

function quoteText(c: Check): string {
  const runtime = runtimeText(runtimeSecondsFor(c.rules, c.request));
  return `${formatUsd(c.quote)} (${formatUsd(c.request.ceilingPerHour)}/h for ${runtime})`;
}

function chargeCheck(c: Check): readonly Denial[] {
  const from = c.request.namespace;
  const allowed = c.rules.allowChargesFrom ?? [];
  if (from === c.rules.namespace || allowed.includes(from) || allowed.includes('*')) return [];
  return [deny(c, 'BudgetChargeNotAllowed', true,
    `pods of namespace ${from} may not charge it (it allows charges from: ${listed(c.rules.allowChargesFrom)})`)];
}

function familyCheck(c: Check): readonly Denial[] {
  const { family, instanceType } = c.request;
  const { allowedFamilies, deniedFamilies } = c.rules;
  if (allowedFamilies !== undefined && !allowedFamilies.includes(family)) {
    return [deny(c, 'InstanceFamilyNotAllowed', true,
      `instance family ${family} (${instanceType}) is not allowed (allowed: ${listed(allowedFamilies)})`)];
  }
  if (deniedFamilies?.includes(family) === true) {
    return [deny(c, 'InstanceFamilyNotAllowed', true, `instance family ${family} (${instanceType}) is denied`)];
  }
  return [];
}

function capacityTypeCheck(c: Check): readonly Denial[] {
  const allowed = c.rules.allowedCapacityTypes;
  if (allowed === undefined || allowed.includes(c.request.capacityType)) return [];
  return [deny(c, 'CapacityTypeNotAllowed', true,
    `capacity type ${c.request.capacityType} is not allowed (allowed: ${listed(allowed)})`)];
}

function quoteCheck(c: Check): readonly Denial[] {
  if (c.quote <= c.rules.limit) return [];
  return [deny(c, 'QuoteExceedsBudget', true,
    `this launch's quote ${quoteText(c)} alone exceeds the whole limit ${formatUsd(c.rules.limit)}`)];
}

function acceleratorDenial(c: Check, kind: string, wanted: number): Denial | undefined {
  const max = countOf(c.rules.maxAccelerators, kind);
  if (max === undefined || wanted <= 0) return undefined;
  if (wanted > max) {
    return deny(c, 'NamespaceMaxAccelerators', true,
      `this launch brings ${wanted} ${kind}, more than the maximum of ${max} at once`);
  }
  const inUse = countOf(c.usage.accelerators, kind) ?? 0;
  if (inUse + wanted <= max) return undefined;
  return deny(c, 'NamespaceMaxAccelerators', false,
    `${inUse} ${kind} in use + ${wanted} for this launch = ${inUse + wanted}, over the maximum of ${max}`);
}

function acceleratorChecks(c: Check, permanent: boolean): readonly Denial[] {
  return Object.entries(c.request.accelerators)
    .map(([kind, wanted]) => acceleratorDenial(c, kind, wanted))
    .filter((d): d is Denial => d !== undefined && d.permanent === permanent);
}

function instancesCheck(c: Check): readonly Denial[] {
  const max = c.rules.maxConcurrentInstances;
  if (max === undefined) return [];
  if (max < 1) return [deny(c, 'NamespaceMaxInstances', true, `allows at most ${max} instances at once`)];
  const inUse = c.usage.runningInstances;
  if (inUse + 1 <= max) return [];
  return [deny(c, 'NamespaceMaxInstances', false, `${inUse} instances in use, the maximum is ${max}`)];
}

function moneyCheck(c: Check): readonly Denial[] {
  const over = committedOf(c.usage) + c.quote - c.rules.limit;
  if (over <= 0) return [];
  const spent = formatUsd(spentOf(c.usage));
  const reserved = formatUsd(c.usage.reserved);
  return [deny(c, 'NamespaceBudgetExceeded', false,
    `spent ${spent} + reserved ${reserved} + this launch's quote ${quoteText(c)} exceeds the limit ` +
    `${formatUsd(c.rules.limit)} by ${formatUsd(over, 'up')}`)];
}

/** The checks in the order their denials are reported: the permanent ones first. */
const CHECKS: readonly ((c: Check) => readonly Denial[])[] = [
  chargeCheck,
  familyCheck,
  capacityTypeCheck,
  quoteCheck,
  (c) => acceleratorChecks(c, true),
  instancesCheck,
  (c) => acceleratorChecks(c, false),
  moneyCheck,
];

/**
 * Checks one launch against every rule of a budget and its usage now, in one pass. Returns the
 * launch's quote and every denial, permanent ones first (an empty list: the launch may go). Throws a
 * RangeError when the price or runtime cannot be money (see quoteFor).
 */
export function evaluateLaunch(rules: BudgetRules, usage: BudgetUsage, request: LaunchRequest): LaunchEvaluation {
  const check: Check = { rules, usage, request, quote: quoteFor(rules, request) };
  return { quote: check.quote, denials: CHECKS.flatMap((run) => run(check)) };
}

/**
 * Whether one launch may go under a budget with this usage: allowed only when every rule holds,
 * money included (settled + accruing + reserved + quote ≤ limit; exactly at the limit is allowed).
 * A denial reports the first broken rule of evaluateLaunch. Does not record the reservation:
 * BudgetBook.decide does.
 */
export function decideLaunch(rules: BudgetRules, usage: BudgetUsage, request: LaunchRequest): BudgetDecision {
  const { quote, denials } = evaluateLaunch(rules, usage, request);
  const first = denials[0];
  if (first === undefined) return { kind: 'allow', quote };
  return { kind: 'deny', reason: first.reason, permanent: first.permanent, message: first.message };
}
