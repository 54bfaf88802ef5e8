// Where containers' output is kept and read back: CloudWatch Logs, implemented in aws/. Every call
// is one read against the account's regional read limit, so the logs service (logs/) spends them
// through one budget; a missing group or stream reads as empty, never as an error.

/** One line of a container's output. */
export interface StoredEvent {
  /** The log stream it belongs to. */
  readonly stream: string;
  /** When the line was written, in milliseconds since the epoch (the store keeps milliseconds). */
  readonly timestamp: number;
  readonly message: string;
}

export interface EventPage {
  /** Oldest first. */
  readonly events: readonly StoredEvent[];
  /** Where the next page starts; absent when this was the last page. */
  readonly next?: string;
}

export interface StreamRead {
  /** Events at or after this time (ms). */
  readonly startTime?: number;
  /** At most this many events (the store's page limit applies too). */
  readonly limit?: number;
  /** The page before (newest first reading) or after (oldest first) the one that gave this token. */
  readonly token?: string;
}

export interface LogStore {
  /** One stream's events from its oldest (or from startTime) onwards, one page. */
  readForward(group: string, stream: string, read: StreamRead, signal: AbortSignal): Promise<EventPage>;
  /** One stream's newest events, one page; `next` reads the page of older events before them. */
  readBackward(group: string, stream: string, read: StreamRead, signal: AbortSignal): Promise<EventPage>;
  /** The events of up to `filterStreamsMax` streams of a group from startTime, merged by time, one page. */
  filter(group: string, streams: readonly string[], read: Omit<StreamRead, 'limit'>, signal: AbortSignal): Promise<EventPage>;
}

/** FilterLogEvents names at most 100 streams per call. */
export const filterStreamsMax = 100;
