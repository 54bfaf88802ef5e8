// LogStore over CloudWatch Logs: GetLogEvents for one stream (oldest first, or newest first for a
// tail), FilterLogEvents for many streams at once (the followers' shared poll). CloudWatch answers
// the end of a stream by giving back the token it was given; a missing group or stream is a
// container that has not written yet, so it reads as empty.
import {
  FilterLogEventsCommand, GetLogEventsCommand,
  type CloudWatchLogsClient, type FilteredLogEvent, type OutputLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import type { EventPage, LogStore, StoredEvent, StreamRead } from '../ports/log-store.js';
import { filterStreamsMax } from '../ports/log-store.js';
import { withSignal } from './sdk-util.js';

const missing = (e: unknown): boolean => e instanceof Error && e.name === 'ResourceNotFoundException';

async function orEmpty(read: () => Promise<EventPage>): Promise<EventPage> {
  try {
    return await read();
  } catch (e) {
    if (missing(e)) return { events: [] };
    throw e;
  }
}

const streamEvent = (stream: string) => (e: OutputLogEvent): StoredEvent => ({ stream, timestamp: e.timestamp ?? 0, message: e.message ?? '' });
const filteredEvent = (e: FilteredLogEvent): StoredEvent => ({ stream: e.logStreamName ?? '', timestamp: e.timestamp ?? 0, message: e.message ?? '' });

/** The token for the next page, unless CloudWatch gave back the one it was given (the end). */
const nextOf = (given: string | undefined, got: string | undefined): { next?: string } => (got === undefined || got === given ? {} : { next: got });

export function createCloudWatchLogStore(logs: CloudWatchLogsClient): LogStore {
  const get = (at: { group: string; stream: string; head: boolean }, read: StreamRead, signal: AbortSignal) =>
    logs.send(new GetLogEventsCommand({
      logGroupName: at.group, logStreamName: at.stream, startFromHead: at.head,
      ...(read.startTime === undefined ? {} : { startTime: read.startTime }),
      ...(read.limit === undefined ? {} : { limit: read.limit }),
      ...(read.token === undefined ? {} : { nextToken: read.token }),
    }), withSignal(signal));
  return {
    readForward: (group, stream, read, signal) => orEmpty(async () => {
      const out = await get({ group, stream, head: true }, read, signal);
      return { events: (out.events ?? []).map(streamEvent(stream)), ...nextOf(read.token, out.nextForwardToken) };
    }),
    readBackward: (group, stream, read, signal) => orEmpty(async () => {
      const out = await get({ group, stream, head: false }, read, signal);
      const events = (out.events ?? []).map(streamEvent(stream));
      // Reading backwards ends with an empty page too: there is nothing older.
      return { events, ...(events.length === 0 ? {} : nextOf(read.token, out.nextBackwardToken)) };
    }),
    filter: (group, streams, read, signal) => orEmpty(async () => {
      if (streams.length > filterStreamsMax) throw new RangeError(`FilterLogEvents takes at most ${String(filterStreamsMax)} streams, not ${String(streams.length)}`);
      if (streams.length === 0) return { events: [] };
      const out = await logs.send(new FilterLogEventsCommand({
        logGroupName: group, logStreamNames: [...streams],
        ...(read.startTime === undefined ? {} : { startTime: read.startTime }),
        ...(read.token === undefined ? {} : { nextToken: read.token }),
      }), withSignal(signal));
      return { events: (out.events ?? []).map(filteredEvent), ...nextOf(read.token, out.nextToken) };
    }),
  };
}
