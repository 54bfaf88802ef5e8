// Every `kubectl logs -f` on the node shares one poller: each round, one FilterLogEvents call (and
// its further pages) per 100 followed streams, spent from the read budget, fanned out to every
// follower of those streams. 100 followers of 100 pods cost one call a round, not 100. The poller
// runs only while someone follows: it stops, with its calls in flight, when the last follower
// goes (the run ended and its last lines are out, or the client went away).
import type { Logger } from '../observability/logger.js';
import type { Clock } from '../ports/clock.js';
import { filterStreamsMax, type LogStore, type StoredEvent } from '../ports/log-store.js';
import { fresh, type Cursor } from './cursor.js';
import type { ReadBudget } from './read-budget.js';

export interface FollowerTimings {
  /** Between the starts of two rounds. */
  readonly pollMs: number;
  /** How late CloudWatch may show a line after its time (the log driver batches): each round reads back this far. */
  readonly lateMs: number;
  /** After a run ended, its follower ends at the first round that starts this much later (the driver's last batch is in). */
  readonly drainMs: number;
}

export interface FollowersDeps {
  readonly store: LogStore;
  readonly budget: Pick<ReadBudget, 'take'>;
  readonly clock: Clock;
  readonly log: Logger;
  readonly group: string;
  readonly timings: FollowerTimings;
}

export interface FollowRequest {
  readonly stream: string;
  /** Where the reader is (after its first read). */
  readonly cursor: Cursor;
  /** When that first read started: every line ingested before then has been read. */
  readonly readAt: number;
  /** When the run stopped writing (ms); undefined while it runs. */
  readonly endedAt: () => number | undefined;
}

interface Follower {
  readonly stream: string;
  readonly endedAt: () => number | undefined;
  cursor: Cursor;
  /** Every line ingested before this time has been read. */
  coveredTo: number;
  readonly queue: (readonly StoredEvent[])[];
  wake: (() => void) | undefined;
  done: boolean;
}

export class LogFollowers {
  readonly #d: FollowersDeps;
  readonly #followers = new Set<Follower>();
  #stopPoller: AbortController | undefined;
  #rounds = 0;

  constructor(deps: FollowersDeps) {
    this.#d = deps;
  }

  /** Followers now (0 once every follow has ended). */
  get active(): number {
    return this.#followers.size;
  }

  /** Whether the shared poller is running. */
  get polling(): boolean {
    return this.#stopPoller !== undefined;
  }

  /** Rounds polled so far. */
  get rounds(): number {
    return this.#rounds;
  }

  /** The stream's new lines as they arrive, until the run has ended and its last lines are out, or `signal` aborts. */
  follow(req: FollowRequest, signal: AbortSignal): AsyncGenerator<readonly StoredEvent[]> {
    const f: Follower = { stream: req.stream, endedAt: req.endedAt, cursor: req.cursor, coveredTo: req.readAt, queue: [], wake: undefined, done: false };
    if (this.#finished(f, req.readAt) || signal.aborted) f.done = true;
    else this.#add(f, signal);
    return this.#drain(f);
  }

  async* #drain(f: Follower): AsyncGenerator<readonly StoredEvent[]> {
    try {
      for (;;) {
        const next = f.queue.shift();
        if (next !== undefined) yield next;
        else if (f.done) return;
        else await new Promise<void>((resolve) => { f.wake = resolve; });
      }
    } finally {
      this.#remove(f);
    }
  }

  #add(f: Follower, signal: AbortSignal): void {
    this.#followers.add(f);
    signal.addEventListener('abort', () => { this.#end(f); }, { once: true });
    if (this.#stopPoller === undefined) {
      const stop = new AbortController();
      this.#stopPoller = stop;
      void this.#poll(stop.signal);
    }
  }

  #end(f: Follower): void {
    f.done = true;
    f.wake?.();
    this.#remove(f);
  }

  #remove(f: Follower): void {
    this.#followers.delete(f);
    if (this.#followers.size > 0 || this.#stopPoller === undefined) return;
    this.#stopPoller.abort();
    this.#stopPoller = undefined;
  }

  /** A run that ended drainMs before everything was read has nothing more to give. */
  #finished(f: Follower, coveredTo: number): boolean {
    const ended = f.endedAt();
    return ended !== undefined && coveredTo >= ended + this.#d.timings.drainMs;
  }

  async #poll(stop: AbortSignal): Promise<void> {
    while (!stop.aborted) {
      try {
        await this.#d.clock.sleep(this.#d.timings.pollMs, stop);
      } catch {
        return;
      }
      const start = this.#d.clock.now().getTime();
      this.#rounds += 1;
      for (const chunk of chunks([...groupBy(this.#followers, (f) => f.stream).entries()])) await this.#pollChunk(chunk, start, stop);
    }
  }

  async #pollChunk(chunk: readonly (readonly [string, readonly Follower[]])[], start: number, stop: AbortSignal): Promise<void> {
    const followers = chunk.flatMap(([, fs]) => fs);
    const from = Math.min(...followers.map((f) => Math.max(f.cursor.ts, f.coveredTo - this.#d.timings.lateMs)));
    let events: StoredEvent[];
    try {
      events = await this.#readChunk(chunk.map(([s]) => s), from, stop);
    } catch (err) {
      if (!stop.aborted) this.#d.log.warn({ err, streams: chunk.length }, 'could not read followed container logs; trying again next round');
      return;
    }
    const byStream = groupBy(events, (e) => e.stream);
    for (const f of followers) this.#deliver(f, byStream.get(f.stream) ?? [], start);
  }

  async #readChunk(streams: readonly string[], startTime: number, stop: AbortSignal): Promise<StoredEvent[]> {
    const events: StoredEvent[] = [];
    let token: string | undefined;
    do {
      await this.#d.budget.take(stop);
      const page = await this.#d.store.filter(this.#d.group, streams, { startTime, ...(token === undefined ? {} : { token }) }, stop);
      events.push(...page.events);
      token = page.next;
    } while (token !== undefined);
    return events;
  }

  #deliver(f: Follower, events: readonly StoredEvent[], start: number): void {
    if (f.done) return;
    const got = fresh(f.cursor, events);
    f.cursor = got.cursor;
    f.coveredTo = start;
    if (got.events.length > 0) f.queue.push(got.events);
    if (this.#finished(f, start)) this.#end(f);
    else f.wake?.();
  }
}

function groupBy<T>(items: Iterable<T>, key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const t of items) {
    const list = m.get(key(t));
    if (list === undefined) m.set(key(t), [t]);
    else list.push(t);
  }
  return m;
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += filterStreamsMax) out.push(items.slice(i, i + filterStreamsMax));
  return out;
}
