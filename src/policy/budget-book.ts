// Pure: the book of one budget — its settled money and, per pod, the quote reserved at launch and what
// the instance has been charged since — as an immutable value. Every operation returns a new book
// and leaves the old one as it was, so decisions for one budget are serialized by threading one book
// through them: 500 launches decided one after another can never reserve past the limit. No clock
// and no I/O; the caller owns the book, persists snapshot(), and holds one book per budget.

import { decideLaunch, remainingOf } from './budget-decision.js';
import type { BudgetDecision, BudgetRules, BudgetUsage, LaunchRequest, MicroUsd } from './budget-types.js';
import { isMicroUsd } from './money.js';
import { err, ok, type Result } from '../domain/result.js';

/** One pod's launch as the book holds it. */
export interface PodCharge {
  readonly podUid: string;
  /** Reserved at launch: the price ceiling × the maximum runtime. */
  readonly quote: MicroUsd;
  /** Charged so far over the instance's whole life (the highest total reported by accrue). */
  readonly charged: MicroUsd;
  /** The part of `charged` that belonged to earlier periods (it left the book at rollOver). */
  readonly chargedEarlier: MicroUsd;
  /** Accelerators the instance brings, by resource name. */
  readonly accelerators: Readonly<Record<string, number>>;
  /** When the instance started, in ms since the epoch; absent while it is launching. */
  readonly startedAt?: number;
}

/** Everything a book holds besides its rules, to persist and restore it. */
export interface BookSnapshot {
  /** Charged for instances that ended this period. */
  readonly settled: MicroUsd;
  readonly pods: readonly PodCharge[];
}

/** Why an operation on a book was refused; the book is unchanged. */
export type BookError =
  | { readonly kind: 'unknown-pod'; readonly podUid: string; readonly message: string }
  | { readonly kind: 'invalid-amount'; readonly podUid: string; readonly amount: number; readonly message: string }
  | { readonly kind: 'invalid-time'; readonly podUid: string; readonly at: number; readonly message: string };

/** A decision and the book after it: with the pod's reservation when allowed, the same book when denied. */
export interface BookDecision {
  readonly decision: BudgetDecision;
  readonly book: BudgetBook;
}

interface BookState {
  readonly rules: BudgetRules;
  readonly settled: MicroUsd;
  readonly pods: ReadonlyMap<string, PodCharge>;
}

type BookResult = Result<BudgetBook, BookError>;

function periodCharge(pod: PodCharge): MicroUsd {
  return pod.charged - pod.chargedEarlier;
}

function usageOf(settled: MicroUsd, pods: ReadonlyMap<string, PodCharge>): BudgetUsage {
  let accruing = 0;
  let reserved = 0;
  const accelerators = new Map<string, number>();
  for (const pod of pods.values()) {
    accruing += periodCharge(pod);
    reserved += Math.max(0, pod.quote - pod.charged);
    for (const [kind, n] of Object.entries(pod.accelerators)) accelerators.set(kind, (accelerators.get(kind) ?? 0) + n);
  }
  // fromEntries defines own properties, so a resource named "__proto__" stays a plain count.
  return { settled, accruing, reserved, runningInstances: pods.size, accelerators: Object.fromEntries(accelerators) };
}

function unknownPod(podUid: string): BookResult {
  return err({ kind: 'unknown-pod', podUid, message: `pod ${podUid} holds no reservation in this budget` });
}

function invalidAmount(podUid: string, amount: number): BookResult {
  return err({
    kind: 'invalid-amount', podUid, amount,
    message: `charge for pod ${podUid} must be a non-negative whole number of micro-dollars, got ${amount}`,
  });
}

/**
 * The book of one budget. Immutable: every method returns a new book (or this one when nothing
 * changes) and never alters the receiver. Money moves like this for each pod:
 * decide (quote reserved) → start → accrue (reserved → accruing) → end (accruing → settled, the
 * unused reservation released), or release (a failed launch gives its reservation back).
 */
export class BudgetBook {
  /** The budget's rules the book decides by. */
  readonly rules: BudgetRules;
  /** Charged for instances that ended this period. */
  readonly settled: MicroUsd;
  /** settled, accruing, reserved, instances launching or running, and their accelerators. */
  readonly usage: BudgetUsage;
  readonly #pods: ReadonlyMap<string, PodCharge>;

  private constructor(state: BookState) {
    this.rules = state.rules;
    this.settled = state.settled;
    this.#pods = state.pods;
    this.usage = usageOf(state.settled, state.pods);
  }

  /** A book for `rules`, empty or restored from a snapshot() of an earlier book. */
  static create(rules: BudgetRules, snapshot?: BookSnapshot): BudgetBook {
    const pods = new Map((snapshot?.pods ?? []).map((p) => [p.podUid, p] as const));
    return new BudgetBook({ rules, settled: snapshot?.settled ?? 0, pods });
  }

  /** What to persist; BudgetBook.create(rules, snapshot) restores it. */
  snapshot(): BookSnapshot {
    return { settled: this.settled, pods: [...this.#pods.values()] };
  }

  /** The pod's launch as held, or undefined when it holds nothing here. */
  pod(podUid: string): PodCharge | undefined {
    return this.#pods.get(podUid);
  }

  /** The same usage under new rules (the budget was edited); running pods keep their reservations. */
  withRules(rules: BudgetRules): BudgetBook {
    return new BudgetBook({ rules, settled: this.settled, pods: this.#pods });
  }

  /**
   * Decides one launch (decideLaunch) against the usage of this book. When allowed, the returned book
   * holds the pod's reservation of the quote. A pod that already holds a reservation is allowed again
   * with its quote and nothing changes (a retried decision never reserves twice; to launch it
   * differently, release it first).
   */
  decide(request: LaunchRequest): BookDecision {
    const held = this.#pods.get(request.podUid);
    if (held !== undefined) return { decision: { kind: 'allow', quote: held.quote }, book: this };
    const decision = decideLaunch(this.rules, this.usage, request);
    if (decision.kind === 'deny') return { decision, book: this };
    const pod: PodCharge = { podUid: request.podUid, quote: decision.quote, charged: 0, chargedEarlier: 0, accelerators: request.accelerators };
    return { decision, book: this.#withPod(pod) };
  }

  /**
   * Holds a pod's charge as given, whatever the limit: a pod found running after a restart, whose money
   * is being spent whether or not it fits (its excess shows as over-spend, never hidden). A pod already
   * held is no change.
   */
  adopt(charge: PodCharge): Result<BudgetBook, BookError> {
    if (this.#pods.has(charge.podUid)) return ok(this);
    for (const amount of [charge.quote, charge.charged, charge.chargedEarlier]) {
      if (!isMicroUsd(amount)) return invalidAmount(charge.podUid, amount);
    }
    return ok(this.#withPod(charge));
  }

  /** Records that the pod's instance started at `at` (ms since the epoch). A second start keeps the first time. */
  start(podUid: string, at: number): BookResult {
    const pod = this.#pods.get(podUid);
    if (pod === undefined) return unknownPod(podUid);
    if (!Number.isFinite(at)) return err({ kind: 'invalid-time', podUid, at, message: `start time of pod ${podUid} must be finite, got ${at}` });
    if (pod.startedAt !== undefined) return ok(this);
    return ok(this.#withPod({ ...pod, startedAt: at }));
  }

  /**
   * Records what the pod's instance has been charged so far over its whole life (a running total, not
   * an increment). Money moves from reserved to accruing: the reservation shrinks by what was charged,
   * never below zero. A total beyond the quote (the spot price rose) keeps accruing: the excess shows
   * as over-spend (remaining goes down, below zero if need be), never hidden. A total lower than one
   * already recorded is ignored, so a late or repeated report cannot undo a charge.
   */
  accrue(podUid: string, charged: MicroUsd): BookResult {
    const pod = this.#pods.get(podUid);
    if (pod === undefined) return unknownPod(podUid);
    if (!isMicroUsd(charged)) return invalidAmount(podUid, charged);
    if (charged <= pod.charged) return ok(this);
    return ok(this.#withPod({ ...pod, charged }));
  }

  /**
   * The pod's instance ended and was charged `finalCharge` over its whole life (this total is final
   * and may be lower than what accrue reported). Its share for this period (what was not already
   * counted in earlier periods; never below zero) goes to settled, and the unused reservation is
   * released.
   */
  end(podUid: string, finalCharge: MicroUsd): BookResult {
    const pod = this.#pods.get(podUid);
    if (pod === undefined) return unknownPod(podUid);
    if (!isMicroUsd(finalCharge)) return invalidAmount(podUid, finalCharge);
    return ok(this.#withoutPod(podUid, Math.max(0, finalCharge - pod.chargedEarlier)));
  }

  /**
   * The pod's launch failed (or was abandoned): its reservation is released. Anything it was already
   * charged this period stays spent and moves to settled. A pod that holds nothing here is no change,
   * so a clean-up that runs twice is harmless.
   */
  release(podUid: string): BudgetBook {
    const pod = this.#pods.get(podUid);
    return pod === undefined ? this : this.#withoutPod(podUid, periodCharge(pod));
  }

  /**
   * Starts a new period. The old period's settled and accruing money leave the book; running pods keep
   * their reservations (the rest of their quotes) and accrue into the new period from here on.
   * The split rule is charge by time in each period: before calling, accrue each running pod's charge
   * up to the boundary instant (costForMillis of its rate × the time it ran before the boundary, or
   * splitByTime of a charge reported later), so that part stays in the old period and only what is
   * charged after the boundary counts in the new one.
   */
  rollOver(): BudgetBook {
    const pods = new Map([...this.#pods].map(([uid, pod]) => [uid, { ...pod, chargedEarlier: pod.charged }] as const));
    return new BudgetBook({ rules: this.rules, settled: 0, pods });
  }

  #withPod(pod: PodCharge): BudgetBook {
    const pods = new Map(this.#pods);
    pods.set(pod.podUid, pod);
    return new BudgetBook({ rules: this.rules, settled: this.settled, pods });
  }

  #withoutPod(podUid: string, settle: MicroUsd): BudgetBook {
    const pods = new Map(this.#pods);
    pods.delete(podUid);
    return new BudgetBook({ rules: this.rules, settled: this.settled + settle, pods });
  }
}

/** limit − settled − accruing − reserved of a book; negative when spend overran (a spot price rose). */
export function remaining(book: BudgetBook): MicroUsd {
  return remainingOf(book.rules.limit, book.usage);
}
