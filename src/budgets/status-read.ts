// Reads back what ORCA wrote in a BurstBudget's status (after a restart): the exact ledger and when
// it was written. The status is ORCA's own, but it arrives as JSON anyone with the permission could
// have edited: anything that does not have the expected shape is not trusted and counts as absent.
import type { BudgetCondition, BudgetLedgerStatus, LedgerPod, SpendLine } from '../ports/budgets.js';

type Json = Record<string, unknown>;

const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isMoney = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function counts(v: unknown): Record<string, number> | undefined {
  if (!isRecord(v)) return undefined;
  const entries = Object.entries(v).filter((e): e is [string, number] => isMoney(e[1]));
  return Object.fromEntries(entries);
}

function pod(v: unknown): LedgerPod | undefined {
  if (!isRecord(v)) return undefined;
  const { uid, namespace, name, quoteMicroUSD, chargedMicroUSD, chargedEarlierMicroUSD } = v;
  if (typeof uid !== 'string' || uid === '' || !isMoney(quoteMicroUSD) || !isMoney(chargedMicroUSD) || !isMoney(chargedEarlierMicroUSD)) return undefined;
  const optional = {
    instanceType: text(v['instanceType']), capacityType: text(v['capacityType']), startedAt: text(v['startedAt']), accelerators: counts(v['accelerators']),
    chargedThrough: text(v['chargedThrough']),
  };
  const defined = Object.fromEntries(Object.entries(optional).filter(([, x]) => x !== undefined));
  return { uid, namespace: text(namespace) ?? '', name: text(name) ?? '', quoteMicroUSD, chargedMicroUSD, chargedEarlierMicroUSD, ...defined };
}

function line(v: unknown): SpendLine | undefined {
  if (!isRecord(v) || !isMoney(v['microUSD'])) return undefined;
  return { instanceType: text(v['instanceType']) ?? '', capacityType: text(v['capacityType']) ?? '', microUSD: v['microUSD'] };
}

function list<T>(v: unknown, read: (x: unknown) => T | undefined): T[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const items = v.map(read);
  const kept = items.filter((x): x is T => x !== undefined);
  return kept.length === items.length ? kept : undefined;
}

function ledgerOf(l: Json): BudgetLedgerStatus | undefined {
  const pods = list(l['pods'], pod);
  const settledByType = list(l['settledByType'] ?? [], line);
  const warned = list(l['warnedAtPercent'] ?? [], (x) => (typeof x === 'number' ? x : undefined));
  const settled = l['settledMicroUSD'];
  if (!isMoney(settled) || pods === undefined || settledByType === undefined || warned === undefined) return undefined;
  const periodStart = text(l['periodStart']);
  return { ...(periodStart === undefined ? {} : { periodStart }), settledMicroUSD: settled, settledByType, pods, warnedAtPercent: warned };
}

/** The ledger of a status ORCA wrote and when it wrote it; undefined when there is none or it is not trusted. */
export function restoredLedger(status: unknown): { readonly ledger: BudgetLedgerStatus; readonly lastUpdated?: number } | undefined {
  if (!isRecord(status) || !isRecord(status['ledger'])) return undefined;
  const ledger = ledgerOf(status['ledger']);
  if (ledger === undefined) return undefined;
  const at = Date.parse(text(status['lastUpdated']) ?? '');
  return Number.isFinite(at) ? { ledger, lastUpdated: at } : { ledger };
}

/** The conditions of a status, to carry their transition times over. */
export function previousConditions(status: unknown): readonly BudgetCondition[] | undefined {
  if (!isRecord(status) || !Array.isArray(status['conditions'])) return undefined;
  return status['conditions'].filter((c): c is BudgetCondition => isRecord(c) && typeof c['type'] === 'string' && typeof c['status'] === 'string');
}

/** The fair-share standing a status carried (µUSD); undefined when it has none. */
export function restoredShare(status: unknown): number | undefined {
  if (!isRecord(status)) return undefined;
  const usd = status['fairShareUSD'];
  return typeof usd === 'number' && Number.isFinite(usd) && usd >= 0 ? Math.round(usd * 1_000_000) : undefined;
}
