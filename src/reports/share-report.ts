// `orca share`: each BurstBudget's figures as ORCA last wrote them in its status (dollars to the
// cent, instances, pending pods, period end, Ready). Pure: plain BurstBudget objects in, text out.
import type { BurstBudgetObject } from '../ports/budgets.js';
import { NO_STATUS_NOTE } from './cost-report.js';
import { alignedTable } from './text.js';

export interface BudgetShare {
  readonly namespace: string;
  readonly budget: string;
  readonly limitUSD?: number;
  readonly spentUSD?: number;
  readonly reservedUSD?: number;
  readonly remainingUSD?: number;
  /** The namespace's fair-share standing (USD): the lower, the sooner its pods go. */
  readonly fairShareUSD?: number;
  readonly runningInstances?: number;
  readonly pendingPods?: number;
  readonly periodEnd?: string;
  /** The Ready condition: "True" or "False", with its reason. */
  readonly ready?: { readonly status: string; readonly reason: string; readonly message: string };
  readonly note?: string;
}

export const MALFORMED_FIGURES_NOTE = 'status figures are missing or malformed';

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const FIGURES = ['limitUSD', 'spentUSD', 'reservedUSD', 'remainingUSD', 'runningInstances', 'pendingPods'] as const;

function readyOf(status: Json): BudgetShare['ready'] {
  const conditions = Array.isArray(status['conditions']) ? status['conditions'] : [];
  const c: unknown = conditions.find((x) => isRecord(x) && x['type'] === 'Ready');
  if (!isRecord(c) || typeof c['status'] !== 'string') return undefined;
  return { status: c['status'], reason: typeof c['reason'] === 'string' ? c['reason'] : '', message: typeof c['message'] === 'string' ? c['message'] : '' };
}

function budgetShare(b: BurstBudgetObject): BudgetShare {
  const id = { namespace: b.namespace, budget: b.name };
  if (!isRecord(b.status)) return { ...id, note: NO_STATUS_NOTE };
  const status = b.status;
  const figures = FIGURES.filter((k) => typeof status[k] === 'number' && Number.isFinite(status[k])).map((k) => [k, status[k] as number] as const);
  const periodEnd = typeof status['periodEnd'] === 'string' ? status['periodEnd'] : undefined;
  const ready = readyOf(status);
  const share = typeof status['fairShareUSD'] === 'number' ? { fairShareUSD: status['fairShareUSD'] } : {};
  return {
    ...id, ...Object.fromEntries(figures), ...share, ...(periodEnd === undefined ? {} : { periodEnd }), ...(ready === undefined ? {} : { ready }),
    ...(figures.length === FIGURES.length ? {} : { note: MALFORMED_FIGURES_NOTE }),
  };
}

/** Every budget's figures, by namespace and name; a budget without status keeps its place, with a note. */
export function shareReport(budgets: readonly BurstBudgetObject[]): BudgetShare[] {
  return [...budgets].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name)).map(budgetShare);
}

const usd = (n: number | undefined): string => (n === undefined ? '-' : n.toFixed(2));
const count = (n: number | undefined): string => (n === undefined ? '-' : String(n));

export function renderShareTable(report: readonly BudgetShare[]): string {
  const rows = report.map((s) => [
    s.namespace, s.budget, usd(s.limitUSD), usd(s.spentUSD), usd(s.reservedUSD), usd(s.remainingUSD), usd(s.fairShareUSD), count(s.runningInstances), count(s.pendingPods),
    s.periodEnd ?? (s.note === undefined ? 'never (Total)' : '-'), s.ready === undefined ? '-' : `${s.ready.status} (${s.ready.reason})`, s.note ?? '',
  ]);
  const header = ['NAMESPACE', 'BUDGET', 'LIMIT', 'SPENT', 'RESERVED', 'REMAINING', 'FAIR-SHARE', 'INSTANCES', 'PENDING', 'PERIOD-END', 'READY', 'NOTE'];
  return alignedTable(header, rows, new Set([2, 3, 4, 5, 6, 7, 8]));
}

export function renderShareJson(report: readonly BudgetShare[]): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
