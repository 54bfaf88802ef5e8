// exec and attach over SPDY (kubelet-protocol.md §4.5): after the 101 the client opens one stream
// per channel, each named by its `streamtype` header — error, then stdin, stdout, stderr or resize
// as the request asked — and the command starts once all of them are there (30 s at most, as a
// kubelet's streamCreationTimeout). The channel ends with the Status (v4, v5) or the error text
// (older protocols) on the error stream, then the session closes.
import type { Duplex } from 'node:stream';
import type { ExecOutcome, ExecRequest, TerminalSize } from '../../provider/provider.js';
import type { RemoteCommandChannel } from '../streams/model.js';
import { execStatus, execStatusText } from '../streams/status.js';
import { RstStatus } from './frames.js';
import { SpdySession, type SessionLog } from './session.js';
import type { SpdyStream } from './stream.js';

/** The kubelet's streamCreationTimeout. */
export const STREAM_CREATION_TIMEOUT_MS = 30_000;

type StreamType = 'error' | 'stdin' | 'stdout' | 'stderr' | 'resize';

export interface SpdyRemoteCommandOptions {
  readonly socket: Duplex;
  /** Bytes that came with the upgrade request after its head. */
  readonly head: Buffer;
  /** The negotiated X-Stream-Protocol-Version. */
  readonly protocol: string;
  readonly request: ExecRequest;
  readonly idleTimeoutMs?: number;
  readonly creationTimeoutMs?: number;
  readonly log?: SessionLog;
}

/** Which streams the client opens for `request` under `protocol` (resize from v3, with a TTY). */
export function expectedStreams(protocol: string, request: ExecRequest): ReadonlySet<StreamType> {
  const wanted = new Set<StreamType>(['error']);
  if (request.stdin) wanted.add('stdin');
  if (request.stdout) wanted.add('stdout');
  if (request.stderr && !request.tty) wanted.add('stderr');
  if (request.tty && protocolVersion(protocol) >= 3) wanted.add('resize');
  return wanted;
}

/** 1 for channel.k8s.io, n for vn.channel.k8s.io. */
export function protocolVersion(protocol: string): number {
  const m = /^v(\d+)\.channel\.k8s\.io$/.exec(protocol);
  return m === null ? 1 : Number(m[1]);
}

/** `{"Width":…,"Height":…}` objects, one per line (Go's json.Encoder), as terminal sizes. */
export async function* terminalSizes(resize: AsyncIterable<Buffer | string>): AsyncGenerator<TerminalSize> {
  let pending = '';
  for await (const chunk of resize) {
    pending += chunk.toString();
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      const size = parseSize(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
      if (size !== undefined) yield size;
      nl = pending.indexOf('\n');
    }
  }
  const last = parseSize(pending);
  if (last !== undefined) yield last;
}

function parseSize(text: string): TerminalSize | undefined {
  if (text.trim() === '') return undefined;
  try {
    const v = JSON.parse(text) as { Width?: unknown; Height?: unknown };
    const cols = Number(v.Width);
    const rows = Number(v.Height);
    return Number.isInteger(cols) && Number.isInteger(rows) && cols > 0 && rows > 0 && cols < 65536 && rows < 65536 ? { cols, rows } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Serves the SPDY session on `o.socket` (the 101 is already written) and resolves with the channel
 * once every expected stream is open; rejects (and closes the session) when they do not all come
 * within the creation timeout or the connection ends first.
 */
export function acceptSpdyRemoteCommand(o: SpdyRemoteCommandOptions): Promise<RemoteCommandChannel> {
  const wanted = expectedStreams(o.protocol, o.request);
  const streams = new Map<StreamType, SpdyStream>();
  const closed = new AbortController();
  return new Promise<RemoteCommandChannel>((resolve, reject) => {
    let session: SpdySession | undefined = undefined;
    const timeout = setTimeout(() => {
      reject(new Error('timed out waiting for client to create streams'));
      void session?.close();
    }, o.creationTimeoutMs ?? STREAM_CREATION_TIMEOUT_MS);
    const onStream = (s: SpdyStream): void => {
      const type = s.headers.get('streamtype')?.[0] as StreamType | undefined;
      if (type === undefined || !wanted.has(type) || streams.has(type)) {
        s.reset(RstStatus.refusedStream);
        return;
      }
      streams.set(type, s);
      if (streams.size < wanted.size || session === undefined) return;
      clearTimeout(timeout);
      resolve(channelOf(session, streams, o.protocol, closed));
    };
    session = new SpdySession(o.socket, { onStream, initialBytes: o.head, ...(o.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: o.idleTimeoutMs }), ...(o.log === undefined ? {} : { log: o.log }) });
    const opened = session;
    void opened.ended.then((end) => {
      clearTimeout(timeout);
      closed.abort(end.error ?? new Error(`the connection ended (${end.reason})`));
      reject(new Error(`the connection ended before its streams were created (${end.reason})`));
    });
    // Streams that came with the upgrade's first bytes were seen before `session` was set.
    if (streams.size === wanted.size) {
      clearTimeout(timeout);
      resolve(channelOf(opened, streams, o.protocol, closed));
    }
  });
}

function channelOf(session: SpdySession, streams: ReadonlyMap<StreamType, SpdyStream>, protocol: string, closed: AbortController): RemoteCommandChannel {
  const error = streams.get('error');
  const stdin = streams.get('stdin');
  const resize = streams.get('resize');
  // Our side of stdin stays open until the command ends: client-go takes the server's end of stdin
  // as the session's end and stops sending (its copyStdin), which would cut the input short.
  error?.resume();
  let finishing: Promise<void> | undefined = undefined;
  const finish = (outcome: ExecOutcome): Promise<void> => {
    finishing ??= (async () => {
      const text = protocolVersion(protocol) >= 4 ? JSON.stringify(execStatus(outcome)) : execStatusText(outcome);
      if (error !== undefined && !error.destroyed) error.end(text);
      await session.close();
    })();
    return finishing;
  };
  const stdout = streams.get('stdout');
  const stderr = streams.get('stderr');
  // The client never writes on them; whatever comes is dropped so it cannot hold the connection back.
  stdout?.resume();
  stderr?.resume();
  const io = {
    ...(stdin === undefined ? {} : { stdin }),
    ...(stdout === undefined ? {} : { stdout }),
    ...(stderr === undefined ? {} : { stderr }),
    ...(resize === undefined ? {} : { resizes: terminalSizes(resize) }),
  };
  return { io, finish, closed: closed.signal };
}
