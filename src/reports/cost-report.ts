// `orca cost`: each BurstBudget's spend this period by instance type and capacity type, from the
// exact ledger ORCA writes in its status (the settled lines, plus each running pod's charge this
// period, charged − chargedEarlier). Pure: plain BurstBudget objects in, rows and text out. Amounts
// stay integer micro-dollars until they are printed: exact to 6 places in CSV and JSON, and to the
// cent in the table, where each budget's rows are rounded so they add up to its total (which is the
// status's spentUSD), and the grand total is the sum of the budgets' printed totals.
import { restoredLedger } from '../budgets/status-read.js';
import type { BudgetLedgerStatus, BurstBudgetObject } from '../ports/budgets.js';
import { centsOf } from '../policy/money.js';
import { apportionCents, centDollars, exactDollars } from './money.js';
import { alignedTable, csv } from './text.js';

/** Spend of one budget on one instance type and capacity type this period. */
export interface CostRow {
  readonly instanceType: string;
  readonly capacityType: string;
  readonly microUSD: number;
}

/** One budget's spend this period; `note` says why there are no figures (or that nothing was spent). */
export interface BudgetCost {
  readonly namespace: string;
  readonly budget: string;
  /** The period (RFC 3339); absent for a Total budget. */
  readonly periodStart?: string;
  readonly periodEnd?: string;
  /** When ORCA wrote the figures (RFC 3339). */
  readonly asOf?: string;
  readonly rows: readonly CostRow[];
  /** settledMicroUSD + Σ(charged − chargedEarlier): the budget's spent figure, exact. */
  readonly totalMicroUSD: number;
  readonly note?: string;
}

export const NO_STATUS_NOTE = 'no status yet: ORCA has not written figures for this budget (is ORCA running and watching it?)';
export const REFUSED_NOTE = 'status.ledger is missing or malformed (ORCA does not trust it either): no figures';
export const NO_SPEND_NOTE = 'nothing spent this period';

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The spend lines of a ledger, summed by instance type and capacity type, largest first. */
export function spendRows(ledger: BudgetLedgerStatus): CostRow[] {
  const sums = new Map<string, CostRow>();
  const add = (instanceType: string, capacityType: string, microUSD: number): void => {
    const key = JSON.stringify([instanceType, capacityType]);
    const known = sums.get(key)?.microUSD ?? 0;
    sums.set(key, { instanceType, capacityType, microUSD: known + microUSD });
  };
  for (const l of ledger.settledByType) add(l.instanceType, l.capacityType, l.microUSD);
  for (const p of ledger.pods) add(p.instanceType ?? '', p.capacityType ?? '', p.chargedMicroUSD - p.chargedEarlierMicroUSD);
  return [...sums.values()].filter((r) => r.microUSD !== 0)
    .sort((a, b) => b.microUSD - a.microUSD || a.instanceType.localeCompare(b.instanceType) || a.capacityType.localeCompare(b.capacityType));
}

/** The spent figure of a ledger, exact: settled plus every held pod's charge this period. */
export function spentMicroUSD(ledger: BudgetLedgerStatus): number {
  return ledger.pods.reduce((sum, p) => sum + p.chargedMicroUSD - p.chargedEarlierMicroUSD, ledger.settledMicroUSD);
}

function budgetCost(b: BurstBudgetObject): BudgetCost {
  const id = { namespace: b.namespace, budget: b.name };
  if (b.status === undefined || b.status === null) return { ...id, rows: [], totalMicroUSD: 0, note: NO_STATUS_NOTE };
  const restored = restoredLedger(b.status);
  if (restored === undefined) return { ...id, rows: [], totalMicroUSD: 0, note: REFUSED_NOTE };
  const status = isRecord(b.status) ? b.status : {};
  const { periodStart } = restored.ledger;
  const periodEnd = text(status['periodEnd']);
  const asOf = text(status['lastUpdated']);
  const rows = spendRows(restored.ledger);
  return {
    ...id, ...(periodStart === undefined ? {} : { periodStart }), ...(periodEnd === undefined ? {} : { periodEnd }),
    ...(asOf === undefined ? {} : { asOf }), rows, totalMicroUSD: spentMicroUSD(restored.ledger), ...(rows.length === 0 ? { note: NO_SPEND_NOTE } : {}),
  };
}

const byId = (a: BurstBudgetObject, b: BurstBudgetObject): number => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);

/** Every budget's spend this period, by namespace and name; a budget without trusted figures keeps its place, with a note. */
export function costReport(budgets: readonly BurstBudgetObject[]): BudgetCost[] {
  return [...budgets].sort(byId).map(budgetCost);
}

/** FOCUS 1.x PricingCategory of ORCA's capacity types (x_CapacityType keeps ORCA's own value). */
const PRICING_CATEGORY: Readonly<Record<string, string>> = { 'on-demand': 'Standard', spot: 'Dynamic', reserved: 'Committed' };

/** The columns of `orca cost -o csv` (and the keys of its JSON rows): FOCUS names, and ORCA's own prefixed x_. */
export const COST_COLUMNS = [
  'BillingPeriodStart', 'BillingPeriodEnd', 'ChargePeriodStart', 'ChargePeriodEnd', 'BilledCost', 'BillingCurrency',
  'ResourceType', 'PricingCategory', 'x_Namespace', 'x_Budget', 'x_CapacityType', 'x_Note',
] as const;
export type CostRecord = Readonly<Record<(typeof COST_COLUMNS)[number], string>>;

function record(c: BudgetCost, row: CostRow | undefined): CostRecord {
  const period = { BillingPeriodStart: c.periodStart ?? '', BillingPeriodEnd: c.periodEnd ?? '', ChargePeriodStart: c.periodStart ?? '', ChargePeriodEnd: c.asOf ?? '' };
  const who = { x_Namespace: c.namespace, x_Budget: c.budget };
  if (row === undefined) {
    const billed = c.note === NO_SPEND_NOTE ? exactDollars(0) : '';
    return { ...period, BilledCost: billed, BillingCurrency: 'USD', ResourceType: '', PricingCategory: '', ...who, x_CapacityType: '', x_Note: c.note ?? '' };
  }
  return {
    ...period, BilledCost: exactDollars(row.microUSD), BillingCurrency: 'USD', ResourceType: row.instanceType,
    PricingCategory: PRICING_CATEGORY[row.capacityType] ?? (row.capacityType === '' ? '' : 'Other'), ...who, x_CapacityType: row.capacityType, x_Note: '',
  };
}

/** One record per spend row; a budget without rows has one record carrying its note. */
export function costRecords(report: readonly BudgetCost[]): CostRecord[] {
  return report.flatMap((c) => (c.rows.length === 0 ? [record(c, undefined)] : c.rows.map((r) => record(c, r))));
}

export function renderCostCsv(report: readonly BudgetCost[]): string {
  return csv(COST_COLUMNS, costRecords(report).map((r) => COST_COLUMNS.map((k) => r[k])));
}

/** The rows, each budget's total (with its note) and the grand total; amounts are exact decimal strings. */
export function renderCostJson(report: readonly BudgetCost[]): string {
  const budgets = report.map((c) => ({
    x_Namespace: c.namespace, x_Budget: c.budget, BillingPeriodStart: c.periodStart ?? null, BillingPeriodEnd: c.periodEnd ?? null,
    ChargePeriodEnd: c.asOf ?? null, BilledCost: c.note === NO_STATUS_NOTE || c.note === REFUSED_NOTE ? null : exactDollars(c.totalMicroUSD),
    BillingCurrency: 'USD', ...(c.note === undefined ? {} : { x_Note: c.note }),
  }));
  const total = exactDollars(report.reduce((sum, c) => sum + c.totalMicroUSD, 0));
  return `${JSON.stringify({ rows: costRecords(report), budgets, total: { BilledCost: total, BillingCurrency: 'USD' } }, null, 2)}\n`;
}

const periodText = (c: BudgetCost): string => (c.periodStart === undefined ? 'total' : `${c.periodStart}..${c.periodEnd ?? ''}`);

/** One budget's lines in the table: its rows (rounded to add up to its total), then its total. */
function budgetLines(c: BudgetCost): { lines: string[][]; cents: number } {
  const id = [c.namespace, c.budget];
  if (c.note === NO_STATUS_NOTE || c.note === REFUSED_NOTE) return { lines: [[...id, '-', '-', '-', '-', c.note]], cents: 0 };
  const cents = apportionCents(c.rows.map((r) => r.microUSD));
  const lines = c.rows.map((r, i) => [...id, periodText(c), r.instanceType || '(unknown)', r.capacityType || '(unknown)', centDollars(cents[i] ?? 0), '']);
  const total = centsOf(c.totalMicroUSD);
  lines.push([...id, periodText(c), '(total)', '', centDollars(total), c.note ?? '']);
  return { lines, cents: total };
}

/** The table of `orca cost`: dollars to the cent; each budget's rows add up to its total, the budgets' totals to the TOTAL. */
export function renderCostTable(report: readonly BudgetCost[]): string {
  const parts = report.map(budgetLines);
  const grand = parts.reduce((sum, p) => sum + p.cents, 0);
  const rows = [...parts.flatMap((p) => p.lines), ['TOTAL', '', '', '', '', centDollars(grand), '']];
  return alignedTable(['NAMESPACE', 'BUDGET', 'PERIOD', 'INSTANCE-TYPE', 'CAPACITY', 'USD', 'NOTE'], rows, new Set([5]));
}
