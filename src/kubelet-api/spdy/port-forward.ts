// port-forward over SPDY (kubelet-protocol.md §4.7.1): for each connection the client makes it
// opens a pair of streams sharing a `requestid` — `error` (which it half-closes at once) and `data`
// — both with the remote `port`. A stream with a bad port or type is reset; a pair whose second
// stream does not come within the creation timeout gets "timed out waiting for streams".
import type { Duplex } from 'node:stream';
import type { PortConnection, PortForwardChannel } from '../streams/model.js';
import { RstStatus } from './frames.js';
import { STREAM_CREATION_TIMEOUT_MS } from './remote-command.js';
import { SpdySession, type SessionLog } from './session.js';
import type { SpdyStream } from './stream.js';

export interface SpdyPortForwardOptions {
  readonly socket: Duplex;
  readonly head: Buffer;
  readonly idleTimeoutMs?: number;
  readonly creationTimeoutMs?: number;
  readonly log?: SessionLog;
}

interface Pair {
  readonly port: number;
  error?: SpdyStream;
  data?: SpdyStream;
  readonly timer: NodeJS.Timeout;
}

/** The `port` header as a TCP port, or undefined. */
export function portOf(header: string | undefined): number | undefined {
  if (header === undefined || !/^\d{1,5}$/.test(header)) return undefined;
  const port = Number(header);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** The pair a stream belongs to: its `requestid`, or for clients that send none, the error stream's id. */
function requestIdOf(s: SpdyStream, type: 'error' | 'data'): string {
  const id = s.headers.get('requestid')?.[0];
  if (id !== undefined) return id;
  return String(type === 'error' ? s.id : s.id - 2);
}

function connectionOf(port: number, error: SpdyStream, data: SpdyStream): PortConnection {
  return {
    port,
    data,
    fail(message: string): void {
      if (!error.destroyed) error.end(message);
      data.reset(RstStatus.cancel);
    },
  };
}

class SpdyPortForward implements PortForwardChannel {
  readonly #pairs = new Map<string, Pair>();
  readonly #ready: PortConnection[] = [];
  readonly #aborted = new AbortController();
  readonly #creationMs: number;
  readonly #session: SpdySession;
  #listener: ((c: PortConnection) => void) | undefined;

  constructor(o: SpdyPortForwardOptions) {
    this.#creationMs = o.creationTimeoutMs ?? STREAM_CREATION_TIMEOUT_MS;
    this.#session = new SpdySession(o.socket, {
      onStream: (s) => { this.#onStream(s); }, initialBytes: o.head,
      ...(o.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: o.idleTimeoutMs }), ...(o.log === undefined ? {} : { log: o.log }),
    });
    void this.#session.ended.then((end) => {
      for (const p of this.#pairs.values()) clearTimeout(p.timer);
      this.#pairs.clear();
      this.#aborted.abort(end.error ?? new Error(`the connection ended (${end.reason})`));
    });
  }

  get closed(): AbortSignal {
    return this.#aborted.signal;
  }

  onConnection(listener: (c: PortConnection) => void): void {
    this.#listener = listener;
    for (const c of this.#ready.splice(0)) listener(c);
  }

  async close(): Promise<void> {
    await this.#session.close();
  }

  #onStream(s: SpdyStream): void {
    const taken = this.#take(s);
    if (taken === undefined) {
      s.reset(RstStatus.refusedStream);
      return;
    }
    const { id, pair, type } = taken;
    pair[type] = s;
    if (type === 'error') s.resume();
    if (pair.error === undefined || pair.data === undefined) return;
    clearTimeout(pair.timer);
    this.#pairs.delete(id);
    this.#emit(connectionOf(pair.port, pair.error, pair.data));
  }

  /** The pair a valid stream completes, or undefined for a bad port or type, or a second stream of a kind. */
  #take(s: SpdyStream): { readonly id: string; readonly pair: Pair; readonly type: 'error' | 'data' } | undefined {
    const type = s.headers.get('streamtype')?.[0];
    const port = portOf(s.headers.get('port')?.[0]);
    if ((type !== 'error' && type !== 'data') || port === undefined) return undefined;
    const id = requestIdOf(s, type);
    const pair = this.#pairs.get(id) ?? this.#newPair(id, port);
    return pair[type] !== undefined || pair.port !== port ? undefined : { id, pair, type };
  }

  #newPair(id: string, port: number): Pair {
    const timer = setTimeout(() => {
      const p = this.#pairs.get(id);
      this.#pairs.delete(id);
      if (p?.error !== undefined) p.error.end('timed out waiting for streams');
      p?.data?.reset(RstStatus.cancel);
    }, this.#creationMs);
    timer.unref();
    const pair: Pair = { port, timer };
    this.#pairs.set(id, pair);
    return pair;
  }

  #emit(c: PortConnection): void {
    if (this.#listener === undefined) this.#ready.push(c);
    else this.#listener(c);
  }
}

/** Serves the SPDY session on `o.socket` (the 101 is already written) as a port-forward channel. */
export function acceptSpdyPortForward(o: SpdyPortForwardOptions): PortForwardChannel {
  return new SpdyPortForward(o);
}
