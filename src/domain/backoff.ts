// Exponential back-off as arithmetic: how long to wait before the next try. Pure: no timers — the
// caller waits on its injected Clock.

export interface BackoffPolicy {
  /** The delay before the first retry. */
  readonly baseMs: number;
  /** No delay is longer. */
  readonly maxMs: number;
  /** Growth per consecutive failure (default 2). */
  readonly factor?: number;
}

/** The delay before retry number `attempt` (1 = the first): base × factor^(attempt − 1), at most max. */
export function backoffDelay(attempt: number, policy: BackoffPolicy): number {
  const delay = policy.baseMs * (policy.factor ?? 2) ** Math.max(0, attempt - 1);
  return Number.isNaN(delay) ? 0 : Math.min(delay, policy.maxMs);
}

/** Consecutive failures of one thing: each `next()` is one more, `reset()` after a success. */
export class Backoff {
  readonly #policy: BackoffPolicy;
  #failures = 0;

  constructor(policy: BackoffPolicy) {
    this.#policy = policy;
  }

  /** Consecutive failures since the last reset. */
  get failures(): number {
    return this.#failures;
  }

  /** Counts one more failure and returns the delay before the next try. */
  next(): number {
    this.#failures++;
    return backoffDelay(this.#failures, this.#policy);
  }

  reset(): void {
    this.#failures = 0;
  }
}
