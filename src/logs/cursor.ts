// Pure: how far a reader has got in one log stream. CloudWatch keeps milliseconds and several lines
// may share one, so the position is a time and how many of that millisecond's lines were read.
// Reading again from the position's time gives those lines again; `fresh` drops them.
import type { StoredEvent } from '../ports/log-store.js';

export interface Cursor {
  /** The newest time read (ms). */
  readonly ts: number;
  /** How many lines of that millisecond were read. */
  readonly seen: number;
}

/** A stream read from `startTime` on: nothing read yet. */
export const cursorAt = (startTime: number | undefined): Cursor => ({ ts: startTime ?? Number.NEGATIVE_INFINITY, seen: 0 });

/**
 * The cursor after reading `events` (one stream, oldest first). `complete` says the read holds every
 * line of its first millisecond (a tail cut inside a millisecond does not): else the lines of that
 * millisecond are taken as all read, so none comes twice.
 */
export function cursorAfter(cursor: Cursor, events: readonly StoredEvent[], complete = true): Cursor {
  const last = events.at(-1);
  if (last === undefined) return cursor;
  let seen = 0;
  for (const e of events) if (e.timestamp === last.timestamp) seen += 1;
  if (!complete && events[0]?.timestamp === last.timestamp) return { ts: last.timestamp, seen: Number.POSITIVE_INFINITY };
  return last.timestamp === cursor.ts ? { ts: cursor.ts, seen: cursor.seen + seen } : { ts: last.timestamp, seen };
}

/**
 * The lines of `events` (one stream, oldest first, read from a time at or before the cursor's) the
 * reader has not had yet, and its cursor after them.
 */
export function fresh(cursor: Cursor, events: readonly StoredEvent[]): { readonly events: readonly StoredEvent[]; readonly cursor: Cursor } {
  const out: StoredEvent[] = [];
  let atCursor = 0;
  for (const e of events) {
    if (e.timestamp < cursor.ts) continue;
    if (e.timestamp === cursor.ts && atCursor++ < cursor.seen) continue;
    out.push(e);
  }
  return { events: out, cursor: cursorAfter(cursor, out) };
}
