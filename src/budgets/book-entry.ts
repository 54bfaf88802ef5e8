// One budget as the ledger holds it: its rules (or why its spec is refused), its book, the period it
// is in, what it has announced this period, and its settled money by instance type. Entries are
// replaced, never changed in place, so every change is one assignment in the ledger.
import type { BudgetBook, BookSnapshot, PodCharge } from '../policy/budget-book.js';
import { BudgetBook as Book } from '../policy/budget-book.js';
import type { BudgetSpec } from '../policy/budget-spec.js';
import type { BudgetRules, MicroUsd } from '../policy/budget-types.js';
import { periodWindow, type PeriodWindow } from '../policy/period.js';
import type { BudgetLedgerStatus, BurstBudgetObject, LedgerPod } from '../ports/budgets.js';

/** Where an entry's rules came from: a BurstBudget, the config's default for a namespace, or the cluster cap. */
export type EntryOrigin =
  | { readonly kind: 'object'; readonly object: Pick<BurstBudgetObject, 'namespace' | 'name' | 'uid' | 'generation'> }
  | { readonly kind: 'default' | 'cluster' };

/** What the ledger remembers of each pod a book holds, for the status and the chargeback lines. */
export interface PodFacts {
  readonly namespace: string;
  readonly name: string;
  readonly instanceType?: string;
  readonly capacityType?: string;
}

export interface BookEntry {
  readonly id: string;
  readonly origin: EntryOrigin;
  readonly spec?: BudgetSpec;
  /** Why the spec is refused (the budget then lets nothing start); empty when valid. */
  readonly problems: readonly string[];
  readonly book: BudgetBook;
  readonly window: PeriodWindow;
  readonly warned: readonly number[];
  /** Settled money this period by `${instanceType}/${capacityType}`. */
  readonly lines: ReadonlyMap<string, MicroUsd>;
  /** The status must be written again. */
  readonly dirty: boolean;
}

/** Rules that let nothing start, for a budget whose spec is refused. */
export function closedRules(id: string, namespace: string): BudgetRules {
  return { id, namespace, limit: 0, period: { kind: 'Total', resetDay: 1, timeZone: 'UTC' }, defaultMaxRuntimeSeconds: 3600 };
}

const ms = (iso: string | undefined): number | undefined => {
  const t = iso === undefined ? NaN : Date.parse(iso);
  return Number.isFinite(t) ? t : undefined;
};

function podCharge(p: LedgerPod): PodCharge {
  const startedAt = ms(p.startedAt);
  return {
    podUid: p.uid, quote: p.quoteMicroUSD, charged: p.chargedMicroUSD, chargedEarlier: p.chargedEarlierMicroUSD, accelerators: p.accelerators ?? {},
    ...(startedAt === undefined ? {} : { startedAt }),
  };
}

/** The status was written in the period `window` is. */
function samePeriod(ledger: BudgetLedgerStatus, window: PeriodWindow): boolean {
  return Number.isFinite(window.start) ? ms(ledger.periodStart) === window.start : ledger.periodStart === undefined;
}

/**
 * The book from a status the ledger wrote (a restart). Written in an earlier period: nothing settled
 * counts now, and what running pods were charged then stays in that period.
 */
export function restoredSnapshot(ledger: BudgetLedgerStatus | undefined, window: PeriodWindow): BookSnapshot | undefined {
  if (ledger === undefined) return undefined;
  if (!samePeriod(ledger, window)) return { settled: 0, pods: ledger.pods.map((p) => ({ ...podCharge(p), chargedEarlier: p.chargedMicroUSD })) };
  return { settled: ledger.settledMicroUSD, pods: ledger.pods.map(podCharge) };
}

export interface NewEntry {
  readonly id: string;
  readonly origin: EntryOrigin;
  readonly rules: BudgetRules;
  readonly spec?: BudgetSpec;
  readonly problems?: readonly string[];
  readonly ledger?: BudgetLedgerStatus;
  readonly now: number;
}

/** A new entry, its book restored from the status it carried (a restart) when that is for this period. */
export function newEntry(n: NewEntry): BookEntry {
  const window = periodWindow(n.rules.period, n.now);
  const snapshot = restoredSnapshot(n.ledger, window);
  const current = n.ledger !== undefined && samePeriod(n.ledger, window);
  const lines = current ? new Map(n.ledger.settledByType.map((l) => [`${l.instanceType}/${l.capacityType}`, l.microUSD] as const)) : new Map<string, number>();
  return {
    id: n.id, origin: n.origin, problems: n.problems ?? [], book: Book.create(n.rules, snapshot), window,
    warned: current ? n.ledger.warnedAtPercent : [], lines, dirty: true, ...(n.spec === undefined ? {} : { spec: n.spec }),
  };
}

/** The entry with settled money added to its instance type's line. */
export function withLine(e: BookEntry, facts: PodFacts | undefined, amount: MicroUsd): BookEntry {
  if (amount <= 0) return e;
  const key = `${facts?.instanceType ?? 'unknown'}/${facts?.capacityType ?? 'unknown'}`;
  const lines = new Map(e.lines);
  lines.set(key, (lines.get(key) ?? 0) + amount);
  return { ...e, lines, dirty: true };
}
