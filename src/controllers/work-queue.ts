// A keyed, de-duplicating, level-triggered work queue in the manner of client-go's workqueue:
// a key added many times is processed once; a key added while it is being processed is processed
// again afterwards; no key is processed by two workers at once; failures back off per key. Every
// delay is waited on the injected clock.
import { backoffDelay, type BackoffPolicy } from '../domain/backoff.js';
import type { Clock } from '../ports/clock.js';

export interface WorkQueueOptions {
  /** Retry delays per key: base after the first failure, growing per consecutive failure of that key. */
  readonly backoff: BackoffPolicy;
  readonly clock: Clock;
}

export type Handler<K> = (key: K) => Promise<Outcome>;

/** What a handler tells the queue: done, or look again after a delay (level-triggered polling). */
export type Outcome = { readonly kind: 'done' } | { readonly kind: 'requeue-after'; readonly ms: number };

export const done: Outcome = { kind: 'done' };
export const requeueAfter = (ms: number): Outcome => ({ kind: 'requeue-after', ms });

export class WorkQueue<K> {
  readonly #opts: WorkQueueOptions;
  readonly #queue: K[] = [];
  readonly #dirty = new Set<K>();
  readonly #processing = new Set<K>();
  readonly #failures = new Map<K, number>();
  /** Keys waiting out a delay before they are added, each with what cancels its wait. */
  readonly #delays = new Map<K, AbortController>();
  readonly #waiters: (() => void)[] = [];

  constructor(opts: WorkQueueOptions) {
    this.#opts = opts;
  }

  /** Keys waiting to be processed. */
  get depth(): number {
    return this.#queue.length;
  }

  add(key: K): void {
    if (this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (this.#processing.has(key)) return;
    this.#queue.push(key);
    this.#wakeOne();
  }

  #wakeOne(): void {
    this.#waiters.shift()?.();
  }

  /** Adds `key` after `ms`; an earlier pending delayed add of the same key wins. */
  addAfter(key: K, ms: number): void {
    if (ms <= 0) {
      this.add(key);
      return;
    }
    if (this.#delays.has(key)) return;
    const delay = new AbortController();
    this.#delays.set(key, delay);
    const settle = (): void => { if (this.#delays.get(key) === delay) this.#delays.delete(key); };
    this.#opts.clock.sleep(ms, delay.signal).then(() => {
      settle();
      this.add(key);
    }, settle);
  }

  /** Adds `key` after its back-off delay and returns the failure count so far. */
  retry(key: K): number {
    const n = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, n);
    this.addAfter(key, backoffDelay(n, this.#opts.backoff));
    return n;
  }

  failures(key: K): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Resets the back-off of `key` (after a success). */
  forget(key: K): void {
    this.#failures.delete(key);
  }

  async #next(signal: AbortSignal): Promise<K | undefined> {
    while (!signal.aborted) {
      const key = this.#queue.shift();
      if (key !== undefined) return key;
      await new Promise<void>((resolveWake) => { this.#waiters.push(resolveWake); });
    }
    return undefined;
  }

  async #process(key: K, handler: Handler<K>, onError: (key: K, e: unknown) => void): Promise<void> {
    this.#dirty.delete(key);
    this.#processing.add(key);
    try {
      const outcome = await handler(key);
      if (outcome.kind === 'requeue-after') this.addAfter(key, outcome.ms);
    } catch (e) {
      onError(key, e);
    } finally {
      this.#processing.delete(key);
      if (this.#dirty.has(key)) {
        this.#queue.push(key);
        this.#wakeOne();
      }
    }
  }

  /** Runs `workers` workers until `signal` aborts. Errors go to `onError`, which decides on retry. */
  async run(workers: number, handler: Handler<K>, onError: (key: K, e: unknown) => void, signal: AbortSignal): Promise<void> {
    // One abort listener for all workers: it wakes every idle one so that each sees the abort.
    signal.addEventListener('abort', () => { for (const w of this.#waiters.splice(0)) w(); }, { once: true });
    const worker = async (): Promise<void> => {
      for (let key = await this.#next(signal); key !== undefined; key = await this.#next(signal)) {
        await this.#process(key, handler, onError);
      }
    };
    await Promise.all(Array.from({ length: workers }, worker));
    for (const delay of this.#delays.values()) delay.abort();
    this.#delays.clear();
  }
}
