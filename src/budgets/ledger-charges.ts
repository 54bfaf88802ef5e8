// How money moves in the ledger's entries at each poll: a running instance's charge accrues (the
// price paid now × the time since the last poll, so a spot price that changes mid-life is followed
// poll by poll), an ended instance's charge settles, a pod that holds a reservation and no longer
// launches gives it back, and a period that ended rolls over (charge by time in each period).
// Functions of entries and meters; the ledger applies what they return.
import { quoteFor } from '../policy/budget-decision.js';
import type { BudgetBook } from '../policy/budget-book.js';
import type { LaunchRequest, MicroUsd } from '../policy/budget-types.js';
import { costForMillis } from '../policy/money.js';
import { periodWindow } from '../policy/period.js';
import type { InstanceCharge } from '../ports/budget-gate.js';
import { withLine, type BookEntry, type PodFacts } from './book-entry.js';

/** One pod's charge over its whole life so far, and up to when it is counted. */
export interface Meter {
  readonly charged: MicroUsd;
  /** ms since the epoch. */
  readonly lastAt: number;
  /** The price paid an hour at the last poll. */
  readonly ratePerHour: MicroUsd;
  readonly facts: PodFacts;
  /** The rate is not known until the next poll gives it: read back from a status after a restart, or the pod waits for a new instance. */
  readonly restored?: boolean;
  /** `charged` is the instance's exact cost over its life (an ended spot instance priced from its pool's history). */
  readonly exact?: boolean;
}

const ok = (r: { ok: true; value: BudgetBook } | { ok: false }, fallback: BudgetBook): BudgetBook => (r.ok ? r.value : fallback);

/** The meter after a poll at `now`: the time since its last count (never before the launch) at the rate paid then. */
export function advance(meter: Meter | undefined, c: InstanceCharge, now: number): Meter {
  const from = Math.max(meter?.lastAt ?? c.launchedAt, c.launchedAt);
  const rate = meter === undefined || meter.restored === true ? c.ratePerHour : meter.ratePerHour;
  // A launch time after ORCA's now (clocks apart) charges nothing until now passes it.
  const charged = (meter?.charged ?? 0) + costForMillis(rate, Math.max(0, now - from));
  const facts = { namespace: c.namespace, name: c.name, instanceType: c.instanceType, capacityType: c.capacityType };
  return { charged, lastAt: Math.max(now, from), ratePerHour: c.ratePerHour, facts };
}

function requestOf(c: InstanceCharge): LaunchRequest {
  return {
    podUid: c.podUid, namespace: c.namespace, instanceType: c.instanceType, family: c.instanceType.split('.')[0] ?? '',
    capacityType: c.capacityType, accelerators: c.accelerators, ceilingPerHour: c.ratePerHour,
    ...(c.maxRuntimeSeconds === undefined ? {} : { maxRuntimeSeconds: c.maxRuntimeSeconds }),
  };
}

/**
 * The entry with the pod's running charge: a pod it does not hold (found running after a restart) is
 * adopted with a quote of its rate × its maximum runtime from its launch; the part of its charge from
 * before this period began stays in the earlier period.
 */
export function chargeRunning(e: BookEntry, c: InstanceCharge, meter: Meter): BookEntry {
  const held = e.book.pod(c.podUid);
  if (held === undefined) {
    const before = Number.isFinite(e.window.start) ? costForMillis(meter.ratePerHour, Math.max(0, e.window.start - c.launchedAt)) : 0;
    const quote = Math.max(meter.charged, quoteFor(e.book.rules, requestOf(c)));
    const charge = { podUid: c.podUid, quote, charged: meter.charged, chargedEarlier: Math.min(before, meter.charged), accelerators: c.accelerators, startedAt: c.launchedAt };
    return { ...e, book: ok(e.book.adopt(charge), e.book), dirty: true };
  }
  const started = ok(e.book.start(c.podUid, c.launchedAt), e.book);
  const book = ok(started.accrue(c.podUid, meter.charged), started);
  return book === e.book ? e : { ...e, book, dirty: true };
}

/**
 * The entry after the pod's instance ended with `meter`'s charge: its period's part settles, the rest
 * of its quote is released.
 */
export function chargeEnded(e: BookEntry, podUid: string, meter: Meter): BookEntry {
  const held = e.book.pod(podUid);
  if (held === undefined) return e;
  // An exact life cost stands even below what was followed poll by poll; else nothing charged is taken back.
  const charged = meter.exact === true ? meter.charged : Math.max(meter.charged, held.charged);
  const book = ok(e.book.end(podUid, charged), e.book);
  return withLine({ ...e, book, dirty: true }, meter.facts, Math.max(0, charged - held.chargedEarlier));
}

/** The entry after a pod that no longer launches gave its reservation back (what it was charged stays spent). */
export function released(e: BookEntry, podUid: string, facts: PodFacts | undefined): BookEntry {
  const held = e.book.pod(podUid);
  if (held === undefined) return e;
  return withLine({ ...e, book: e.book.release(podUid), dirty: true }, facts, held.charged - held.chargedEarlier);
}

/**
 * The entry in the period `now` is in. When its period ended, each running pod is charged up to the
 * boundary first (at the rate of its last poll), so that part stays in the old period; settled money,
 * the chargeback lines and the warnings start again.
 */
export function rolledOver(e: BookEntry, meters: ReadonlyMap<string, Meter>, now: number): BookEntry {
  if (now < e.window.end) return e;
  const boundary = e.window.end;
  let book = e.book;
  for (const p of book.snapshot().pods) {
    const m = meters.get(p.podUid);
    if (m === undefined || p.startedAt === undefined) continue;
    const upTo = m.charged + costForMillis(m.ratePerHour, Math.max(0, boundary - m.lastAt));
    book = ok(book.accrue(p.podUid, upTo), book);
  }
  return { ...e, book: book.rollOver(), window: periodWindow(book.rules.period, now), warned: [], lines: new Map(), dirty: true };
}
