// One stream read once: all of it (from a time on), or its last N lines. Every page is one read
// against the budget. CloudWatch pages hold at most 10,000 events (or 1 MB), so a tail of more than
// that reads several pages backwards.
import type { LogStore, StoredEvent } from '../ports/log-store.js';
import type { ReadBudget } from './read-budget.js';

export interface StreamReader {
  readonly store: LogStore;
  readonly budget: Pick<ReadBudget, 'take'>;
  readonly group: string;
}

/** GetLogEvents returns at most this many events per call. */
export const pageEventsMax = 10_000;

/**
 * A page of fewer events than asked that is well under CloudWatch's 1 MB page cap holds the
 * stream's oldest events: no older page to ask for (saves a read per `--tail`).
 */
const pageBytesCap = 512 * 1024;
const reachedStart = (events: readonly StoredEvent[], asked: number): boolean =>
  events.length < asked && events.reduce((n, e) => n + e.message.length + 26, 0) < pageBytesCap;

/** Every event of the stream at or after `startTime`, page by page, oldest first. */
export async function* readAll(r: StreamReader, stream: string, startTime: number | undefined, signal: AbortSignal): AsyncGenerator<readonly StoredEvent[]> {
  let token: string | undefined;
  for (;;) {
    await r.budget.take(signal);
    const page = await r.store.readForward(r.group, stream, { ...(startTime === undefined ? {} : { startTime }), ...(token === undefined ? {} : { token }) }, signal);
    if (page.events.length > 0) yield page.events;
    if (page.next === undefined) return;
    token = page.next;
  }
}

/** The stream's last `lines` events at or after `startTime`, oldest first. */
export async function readTail(r: StreamReader, tail: { readonly stream: string; readonly lines: number; readonly startTime: number | undefined }, signal: AbortSignal): Promise<readonly StoredEvent[]> {
  const { stream, lines, startTime } = tail;
  const pages: (readonly StoredEvent[])[] = [];
  let have = 0;
  let token: string | undefined;
  while (have < lines) {
    await r.budget.take(signal);
    const read = { limit: Math.min(pageEventsMax, lines - have), ...(startTime === undefined ? {} : { startTime }), ...(token === undefined ? {} : { token }) };
    const page = await r.store.readBackward(r.group, stream, read, signal);
    pages.unshift(page.events);
    have += page.events.length;
    if (page.next === undefined || reachedStart(page.events, read.limit)) break;
    token = page.next;
  }
  return lines === 0 ? [] : pages.flat().slice(-lines);
}
