// Pure: each namespace's decayed past spend, the fair-share factor of ORCA's queue of waiting pods
// (fair-queue.ts): among pods of equal priority, the namespace that spent less recently goes first.
// Spend decays exponentially, usage(t) = usage(t0) · 0.5^((t − t0) / halfLife), as Slurm's
// PriorityDecayHalfLife (default 7 days). A pod's quote is added as an entry penalty when it is
// admitted (Kueue's admission fair sharing), so a burst cannot get many pods in before its real spend
// arrives; real spend then replaces the penalty instead of adding to it. These figures only order
// the queue: no dollar charged to a budget is ever decayed. Immutable, and serialisable to a plain
// JSON object so it can be kept in a status and rebuilt after a restart.

import { err, ok, type Result } from '../domain/result.js';
import type { MicroUsd } from './budget-types.js';
import { assertMicroUsd } from './money.js';

/** The default half-life of past spend: 7 days, in ms (Slurm's PriorityDecayHalfLife default). */
export const DEFAULT_HALF_LIFE_MS = 7 * 24 * 60 * 60 * 1000;

/** One namespace's figures, both decayed to `at`. Fractional micro-dollars: they are scores, not money. */
export interface ShareAccount {
  /** Spend charged, decayed. */
  readonly spent: number;
  /** Entry penalties of admitted pods not yet replaced by spend or released, decayed. */
  readonly penalty: number;
  /** When the figures were last brought forward, ms since the epoch. */
  readonly at: number;
}

/** FairShare as a plain JSON object (FairShare.toJSON, FairShare.fromJSON). */
export interface FairShareJson {
  readonly halfLifeMs: number;
  readonly namespaces: Readonly<Record<string, ShareAccount>>;
}

export interface FairShareOptions {
  /** Half-life of past spend and penalties, ms; DEFAULT_HALF_LIFE_MS when absent. */
  readonly halfLifeMs?: number;
}

const EMPTY: Omit<ShareAccount, 'at'> = { spent: 0, penalty: 0 };

/** 0.5^(Δt / halfLife): what is left at t0 + Δt of one unit held at t0 (more than 1 when Δt < 0). */
function decay(dtMs: number, halfLifeMs: number): number {
  return 0.5 ** (dtMs / halfLifeMs);
}

function assertTime(at: number): void {
  if (!Number.isFinite(at)) throw new RangeError(`a time must be a finite number of ms, got ${at}`);
}

function assertHalfLife(halfLifeMs: number): void {
  if (!Number.isFinite(halfLifeMs) || halfLifeMs <= 0) {
    throw new RangeError(`the half-life must be a positive number of ms, got ${halfLifeMs}`);
  }
}

/**
 * The account brought to max(its time, `at`), and what one unit added at `at` is worth there: an
 * amount reported late (at < the account's time) is decayed forward, so the order of reports does
 * not change the result.
 */
function rebase(account: ShareAccount, at: number, halfLifeMs: number): { account: ShareAccount; unit: number } {
  if (at <= account.at) return { account, unit: decay(account.at - at, halfLifeMs) };
  const f = decay(at - account.at, halfLifeMs);
  return { account: { spent: account.spent * f, penalty: account.penalty * f, at }, unit: 1 };
}

/**
 * Each namespace's decayed spend plus outstanding entry penalties. Every operation returns a new
 * FairShare and leaves this one as it was. Amounts are MicroUsd; a bad amount or time is a defect
 * of the caller and throws a RangeError.
 */
export class FairShare {
  /** Half-life of past spend and penalties, ms. */
  readonly halfLifeMs: number;
  #accounts: ReadonlyMap<string, ShareAccount> = new Map();

  /** An empty share: no namespace has spent anything. Throws a RangeError for a half-life that is not a positive number. */
  constructor(options: FairShareOptions = {}) {
    const halfLifeMs = options.halfLifeMs ?? DEFAULT_HALF_LIFE_MS;
    assertHalfLife(halfLifeMs);
    this.halfLifeMs = halfLifeMs;
  }

  /**
   * Rebuilds a FairShare from toJSON's output (e.g. read back from a status). Every problem is
   * reported, with its path; nothing is defaulted silently.
   */
  static fromJSON(raw: unknown): Result<FairShare, readonly string[]> {
    if (!isRecord(raw)) return err(['fair share: expected an object']);
    const problems: string[] = [];
    const halfLifeMs = raw['halfLifeMs'];
    if (typeof halfLifeMs !== 'number' || !Number.isFinite(halfLifeMs) || halfLifeMs <= 0) {
      problems.push('halfLifeMs: expected a positive number');
    }
    const accounts = parseAccounts(raw['namespaces'], problems);
    if (problems.length > 0 || typeof halfLifeMs !== 'number') return err(problems);
    return ok(new FairShare({ halfLifeMs }).#withAccounts(accounts));
  }

  /**
   * The namespace's decayed spend plus outstanding penalties at `at`: the lower, the sooner its pods
   * go. 0 for a namespace never seen. A time before the namespace's last report is projected back by
   * the same formula (the value grows), so namespaces compared at one time stay comparable.
   */
  usage(namespace: string, at: number): number {
    assertTime(at);
    const a = this.#accounts.get(namespace);
    if (a === undefined || a.spent + a.penalty === 0) return 0;
    return (a.spent + a.penalty) * decay(at - a.at, this.halfLifeMs);
  }

  /** Real spend of the namespace, reported at `at`; it replaces as much outstanding penalty, so an admitted pod's quote is not counted twice. */
  charge(namespace: string, amount: MicroUsd, at: number): FairShare {
    return this.#update(namespace, amount, at, (a, v) => ({ ...a, spent: a.spent + v, penalty: Math.max(0, a.penalty - v) }));
  }

  /** The entry penalty: the quote of a pod of the namespace admitted at `at`, counted until real spend replaces it. */
  admitted(namespace: string, quote: MicroUsd, at: number): FairShare {
    return this.#update(namespace, quote, at, (a, v) => ({ ...a, penalty: a.penalty + v }));
  }

  /** Drops up to `amount` of the namespace's outstanding penalty: the unspent rest of a quote, when a pod ends or its launch fails. */
  release(namespace: string, amount: MicroUsd, at: number): FairShare {
    return this.#update(namespace, amount, at, (a, v) => ({ ...a, penalty: Math.max(0, a.penalty - v) }));
  }

  /** Without the namespaces whose usage at `at` is below `below` (default 1 µUSD), so a persisted status does not grow forever. */
  compact(at: number, below = 1): FairShare {
    const kept = [...this.#accounts].filter(([ns]) => this.usage(ns, at) >= below);
    return this.#withAccounts(new Map(kept));
  }

  /** A plain JSON object that fromJSON turns back into an equal FairShare. */
  toJSON(): FairShareJson {
    return { halfLifeMs: this.halfLifeMs, namespaces: Object.fromEntries(this.#accounts) };
  }

  #update(namespace: string, amount: MicroUsd, at: number, apply: (a: ShareAccount, value: number) => ShareAccount): FairShare {
    assertMicroUsd(amount, 'a fair-share amount');
    assertTime(at);
    const current = this.#accounts.get(namespace) ?? { ...EMPTY, at };
    const { account, unit } = rebase(current, at, this.halfLifeMs);
    const accounts = new Map(this.#accounts);
    accounts.set(namespace, apply(account, amount * unit));
    return this.#withAccounts(accounts);
  }

  #withAccounts(accounts: ReadonlyMap<string, ShareAccount>): FairShare {
    const next = new FairShare({ halfLifeMs: this.halfLifeMs });
    next.#accounts = accounts;
    return next;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNonNegative(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

function parseAccounts(raw: unknown, problems: string[]): Map<string, ShareAccount> {
  const accounts = new Map<string, ShareAccount>();
  if (!isRecord(raw)) {
    problems.push('namespaces: expected an object');
    return accounts;
  }
  for (const [ns, value] of Object.entries(raw)) {
    const account = parseAccount(value);
    if (typeof account === 'string') problems.push(`namespaces.${ns}: ${account}`);
    else accounts.set(ns, account);
  }
  return accounts;
}

/** The account, or what is wrong with it. */
function parseAccount(v: unknown): ShareAccount | string {
  if (!isRecord(v)) return 'expected an object';
  const { spent, penalty, at } = v;
  if (!isNonNegative(spent)) return 'spent: expected a non-negative number';
  if (!isNonNegative(penalty)) return 'penalty: expected a non-negative number';
  if (typeof at !== 'number' || !Number.isFinite(at)) return 'at: expected a finite number';
  return { spent, penalty, at };
}
