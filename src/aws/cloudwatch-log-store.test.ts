// The CloudWatch log store: the calls it makes, the end of a stream (CloudWatch gives back the
// token it was given), a missing group or stream read as empty, other errors passed on.
import { CloudWatchLogsClient, FilterLogEventsCommand, GetLogEventsCommand, ResourceNotFoundException } from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createCloudWatchLogStore } from './cloudwatch-log-store.js';

const cw = mockClient(CloudWatchLogsClient);
const signal = new AbortController().signal;
const store = () => createCloudWatchLogStore(new CloudWatchLogsClient({ region: 'us-east-1' }));

beforeEach(() => { cw.reset(); });

describe('the CloudWatch log store', () => {
  it('reads one stream oldest first from startTime, and ends when CloudWatch gives back the same token', async () => {
    cw.on(GetLogEventsCommand).resolvesOnce({ events: [{ timestamp: 1, message: 'a' }], nextForwardToken: 'f/1' }).resolvesOnce({ events: [], nextForwardToken: 'f/1' });
    const s = store();
    const first = await s.readForward('/orca/c', 'ns/p/u/c/0', { startTime: 1000 }, signal);
    expect(first).toEqual({ events: [{ stream: 'ns/p/u/c/0', timestamp: 1, message: 'a' }], next: 'f/1' });
    expect(await s.readForward('/orca/c', 'ns/p/u/c/0', { startTime: 1000, token: 'f/1' }, signal)).toEqual({ events: [] });
    expect(cw.commandCalls(GetLogEventsCommand).map((c) => c.args[0].input)).toEqual([
      { logGroupName: '/orca/c', logStreamName: 'ns/p/u/c/0', startFromHead: true, startTime: 1000 },
      { logGroupName: '/orca/c', logStreamName: 'ns/p/u/c/0', startFromHead: true, startTime: 1000, nextToken: 'f/1' },
    ]);
  });

  it('reads a stream newest first with a limit, and ends at an empty page', async () => {
    cw.on(GetLogEventsCommand).resolvesOnce({ events: [{ timestamp: 5, message: 'e' }], nextBackwardToken: 'b/4' }).resolvesOnce({ events: [], nextBackwardToken: 'b/0' });
    const s = store();
    expect(await s.readBackward('/orca/c', 's', { limit: 1 }, signal)).toEqual({ events: [{ stream: 's', timestamp: 5, message: 'e' }], next: 'b/4' });
    expect(await s.readBackward('/orca/c', 's', { limit: 1, token: 'b/4' }, signal)).toEqual({ events: [] });
    expect(cw.commandCalls(GetLogEventsCommand)[0]?.args[0].input).toEqual({ logGroupName: '/orca/c', logStreamName: 's', startFromHead: false, limit: 1 });
  });

  it('filters up to 100 named streams of the group from startTime, page by page', async () => {
    cw.on(FilterLogEventsCommand).resolves({ events: [{ logStreamName: 'b', timestamp: 3, message: 'x' }], nextToken: 'n1' });
    const got = await store().filter('/orca/c', ['a', 'b'], { startTime: 2 }, signal);
    expect(got).toEqual({ events: [{ stream: 'b', timestamp: 3, message: 'x' }], next: 'n1' });
    expect(cw.commandCalls(FilterLogEventsCommand)[0]?.args[0].input).toEqual({ logGroupName: '/orca/c', logStreamNames: ['a', 'b'], startTime: 2 });
    await expect(store().filter('/orca/c', Array.from({ length: 101 }, (_, i) => String(i)), {}, signal)).rejects.toThrow(/at most 100 streams/);
    expect(await store().filter('/orca/c', [], {}, signal)).toEqual({ events: [] });
    expect(cw.commandCalls(FilterLogEventsCommand)).toHaveLength(1);
  });

  it('reads a group or stream that does not exist yet as empty, and passes any other error on', async () => {
    cw.on(GetLogEventsCommand).rejectsOnce(new ResourceNotFoundException({ message: 'The specified log stream does not exist.', $metadata: {} }))
      .rejectsOnce(Object.assign(new Error('User is not authorized to perform: logs:GetLogEvents'), { name: 'AccessDeniedException' }));
    expect(await store().readForward('/orca/c', 's', {}, signal)).toEqual({ events: [] });
    await expect(store().readForward('/orca/c', 's', {}, signal)).rejects.toThrow(/not authorized/);
  });
});
