// A small async queue for terminal resizes: the reader takes sizes as they come, and when it falls
// behind only the newest few are kept (an old size is worth nothing once a newer one arrived).
/** One reader; `push` after `end` is ignored. */
export class LatestQueue<T> implements AsyncIterable<T> {
  readonly #limit: number;
  #items: T[] = [];
  #ended = false;
  #waiter: ((r: IteratorResult<T, undefined>) => void) | undefined = undefined;

  /** Keeps at most `limit` unread items (the newest). */
  constructor(limit = 16) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('LatestQueue limit must be a positive integer');
    this.#limit = limit;
  }

  push(item: T): void {
    if (this.#ended) return;
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      waiter({ done: false, value: item });
      return;
    }
    this.#items.push(item);
    if (this.#items.length > this.#limit) this.#items.shift();
  }

  /** No more items; the reader gets what is queued, then the end. */
  end(): void {
    this.#ended = true;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    return {
      next: () => this.#next(),
      return: () => {
        this.#items = [];
        this.end();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  #next(): Promise<IteratorResult<T, undefined>> {
    if (this.#items.length > 0) return Promise.resolve({ done: false, value: this.#items.shift() as T });
    if (this.#ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve) => { this.#waiter = resolve; });
  }
}
