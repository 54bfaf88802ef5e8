// Collects items with the same key for a short window and sends them in one call: identical pod
// launches go out as one RunInstances call (architecture §2), terminations as one
// TerminateInstances call. A batch is sent when its window ends or when it is full. Time comes from
// the injected clock; close() aborts the calls in flight.
import type { Clock } from '../ports/clock.js';

export interface BatcherDeps<T> {
  readonly clock: Clock;
  readonly windowMs: number;
  readonly maxSize: number;
  /** Sends one batch; the items share `key`. `signal` aborts when the batcher closes. Errors go to onError. */
  readonly send: (key: string, items: readonly T[], signal: AbortSignal) => Promise<void>;
  readonly onError: (err: unknown) => void;
}

export class Batcher<T> {
  readonly #d: BatcherDeps<T>;
  readonly #open = new Map<string, T[]>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #stop = new AbortController();

  constructor(deps: BatcherDeps<T>) {
    this.#d = deps;
  }

  /** Adds `item` to the open batch of `key`, opening one (and its window) if there is none. */
  add(key: string, item: T): void {
    if (this.#stop.signal.aborted) return;
    let batch = this.#open.get(key);
    if (batch === undefined) {
      batch = [];
      this.#open.set(key, batch);
      void this.#afterWindow(key, batch);
    }
    batch.push(item);
    if (batch.length >= this.#d.maxSize) this.#send(key, batch);
  }

  /** Items waiting in open batches. */
  get waiting(): number {
    let n = 0;
    for (const b of this.#open.values()) n += b.length;
    return n;
  }

  /** Sends every open batch now and waits until no batch is in flight. */
  async flush(): Promise<void> {
    for (const [key, batch] of [...this.#open]) this.#send(key, batch);
    await this.idle();
  }

  /** Waits until no batch is in flight. */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** Drops the open batches (their items are not sent), aborts the batches in flight and waits for them. */
  async close(): Promise<void> {
    this.#stop.abort();
    this.#open.clear();
    await this.idle();
  }

  async #afterWindow(key: string, batch: T[]): Promise<void> {
    try {
      await this.#d.clock.sleep(this.#d.windowMs, this.#stop.signal);
    } catch {
      return;
    }
    if (this.#open.get(key) === batch) this.#send(key, batch);
  }

  #send(key: string, batch: T[]): void {
    if (this.#open.get(key) === batch) this.#open.delete(key);
    const sent: Promise<void> = this.#d.send(key, batch, this.#stop.signal)
      .catch((err: unknown) => { this.#d.onError(err); })
      .finally(() => { this.#inFlight.delete(sent); });
    this.#inFlight.add(sent);
  }
}
