// An in-memory LogStore that pages as CloudWatch does (small pages here, so paging is exercised),
// counts its calls, and can fail on demand.
import type { EventPage, LogStore, StoredEvent, StreamRead } from '../../src/ports/log-store.js';
import { filterStreamsMax } from '../../src/ports/log-store.js';

export class FakeLogStore implements LogStore {
  readonly #streams = new Map<string, StoredEvent[]>();
  readonly calls: { readonly op: 'forward' | 'backward' | 'filter'; readonly streams: readonly string[]; readonly startTime?: number }[] = [];
  /** Events per page (CloudWatch: 10,000 or 1 MB). */
  pageSize = 3;
  /** The next calls throw this (one call each). */
  readonly failures: Error[] = [];

  constructor(readonly group = '/orca/test') {}

  /** Lines written to a stream at `timestamp` (ms), oldest first. */
  put(stream: string, ...events: readonly (readonly [number, string])[]): void {
    const list = this.#streams.get(stream) ?? [];
    list.push(...events.map(([timestamp, message]) => ({ stream, timestamp, message })));
    list.sort((a, b) => a.timestamp - b.timestamp);
    this.#streams.set(stream, list);
  }

  #take(op: 'forward' | 'backward' | 'filter', streams: readonly string[], startTime: number | undefined): void {
    this.calls.push({ op, streams, ...(startTime === undefined ? {} : { startTime }) });
    const failure = this.failures.shift();
    if (failure !== undefined) throw failure;
  }

  #events(group: string, stream: string, startTime: number | undefined): StoredEvent[] {
    if (group !== this.group) return [];
    return (this.#streams.get(stream) ?? []).filter((e) => startTime === undefined || e.timestamp >= startTime);
  }

  readForward(group: string, stream: string, read: StreamRead): Promise<EventPage> {
    this.#take('forward', [stream], read.startTime);
    const all = this.#events(group, stream, read.startTime);
    const from = read.token === undefined ? 0 : Number(read.token);
    const page = all.slice(from, from + Math.min(this.pageSize, read.limit ?? Infinity));
    const end = from + page.length;
    return Promise.resolve({ events: page, ...(page.length === 0 ? {} : { next: String(end) }) });
  }

  readBackward(group: string, stream: string, read: StreamRead): Promise<EventPage> {
    this.#take('backward', [stream], read.startTime);
    const all = this.#events(group, stream, read.startTime);
    const to = read.token === undefined ? all.length : Number(read.token);
    const from = Math.max(0, to - Math.min(this.pageSize, read.limit ?? Infinity));
    const page = all.slice(from, to);
    return Promise.resolve({ events: page, ...(page.length === 0 || from === 0 ? {} : { next: String(from) }) });
  }

  filter(group: string, streams: readonly string[], read: Omit<StreamRead, 'limit'>): Promise<EventPage> {
    if (streams.length > filterStreamsMax) throw new RangeError('too many streams');
    this.#take('filter', streams, read.startTime);
    const all = streams.flatMap((s) => this.#events(group, s, read.startTime)).sort((a, b) => a.timestamp - b.timestamp);
    const from = read.token === undefined ? 0 : Number(read.token);
    const page = all.slice(from, from + this.pageSize);
    const end = from + page.length;
    return Promise.resolve({ events: page, ...(end < all.length ? { next: String(end) } : {}) });
  }
}
