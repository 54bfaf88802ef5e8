// One budget for every CloudWatch Logs read ORCA makes in a region: GetLogEvents and
// FilterLogEvents are limited per account and region (5 and 25 calls a second, limits that cannot
// be raised) and shared with every other tool of the account. A token bucket: `perSecond` calls a
// second on average, `burst` at once; callers wait their turn in order, and a caller that gives up
// (its signal aborts) leaves the queue without spending a token.
import type { Clock } from '../ports/clock.js';

export interface ReadBudgetDeps {
  readonly clock: Clock;
  readonly perSecond: number;
  readonly burst: number;
  /** Called for every read spent (a metric). */
  readonly onSpend?: () => void;
}

export class ReadBudget {
  readonly #d: ReadBudgetDeps;
  #tokens: number;
  #at: number;
  #queue: Promise<void> = Promise.resolve();
  #spent = 0;

  constructor(deps: ReadBudgetDeps) {
    if (!(deps.perSecond > 0) || !(deps.burst >= 1)) throw new RangeError('a read budget needs perSecond > 0 and burst >= 1');
    this.#d = deps;
    this.#tokens = deps.burst;
    this.#at = deps.clock.now().getTime();
  }

  /** Reads spent so far (for metrics and the logs benchmark). */
  get spent(): number {
    return this.#spent;
  }

  /** Resolves when the caller may make one read; rejects with the signal's reason if it aborts first. */
  take(signal: AbortSignal): Promise<void> {
    const turn = this.#queue.then(() => this.#wait(signal));
    this.#queue = turn.catch(() => undefined);
    return turn;
  }

  #refill(): void {
    const now = this.#d.clock.now().getTime();
    this.#tokens = Math.min(this.#d.burst, this.#tokens + ((now - this.#at) / 1000) * this.#d.perSecond);
    this.#at = now;
  }

  async #wait(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#refill();
    if (this.#tokens < 1) {
      await this.#d.clock.sleep(Math.ceil(((1 - this.#tokens) / this.#d.perSecond) * 1000), signal);
      this.#refill();
    }
    this.#tokens = Math.max(0, this.#tokens - 1);
    this.#spent += 1;
    this.#d.onSpend?.();
  }
}
