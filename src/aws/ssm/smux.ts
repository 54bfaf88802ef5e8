// An smux v1 client over a port session's byte stream (shared/reference/ssm-session.md §4.3–4.4):
// each openStream() is one TCP connection the agent dials on the instance — SYN with the next odd
// stream id (3, 5, 7 …), writes become PSH frames of at most 32 768 bytes, end() sends FIN. There
// is no half-close: when the agent FINs a stream its readable side ends and ORCA FINs it too. The
// agent reports a failed dial only as a ConnectToPortError flag on the data channel, without a
// stream id; refuseYoungestPending() gives that error to the youngest stream that has not received
// data yet.
import { Duplex } from 'node:stream';
import { SessionError } from '../../domain/errors.js';
import { silentLog, type SessionLog } from './channel-config.js';
import { encodeSmuxFrame, maxFramePayload, SmuxCmd, SmuxFrameReader, type SmuxFrame } from './smux-frame.js';

export interface SmuxClientOptions {
  /** The session's byte stream (the data channel's Duplex). */
  readonly transport: Duplex;
  readonly log?: SessionLog | undefined;
}

interface StreamState {
  readonly id: number;
  readonly stream: Duplex;
  receivedData: boolean;
  peerFinished: boolean;
  finSent: boolean;
}

const lastStreamId = 0xffff_ffff;

const asSessionError = (e: unknown, fallback: string): SessionError =>
  (e instanceof SessionError ? e : new SessionError('closed', fallback, { cause: e }));

export class SmuxClient {
  readonly #transport: Duplex;
  readonly #log: SessionLog;
  readonly #reader = new SmuxFrameReader();
  readonly #streams = new Map<number, StreamState>();
  readonly #drainWaiters: (() => void)[] = [];
  #lastId = 1;
  #closed: SessionError | undefined = undefined;

  constructor(o: SmuxClientOptions) {
    this.#transport = o.transport;
    this.#log = o.log ?? silentLog;
    const t = o.transport;
    t.on('data', (chunk: Buffer) => { this.#onData(chunk); });
    t.on('drain', () => { this.#wakeWriters(); });
    t.on('end', () => { this.close(new SessionError('closed', 'the port session ended')); });
    t.on('error', (e: unknown) => { this.close(asSessionError(e, 'the port session failed')); });
    t.on('close', () => { this.close(new SessionError('closed', 'the port session closed')); });
  }

  /** Streams open now. */
  get streamCount(): number {
    return this.#streams.size;
  }

  /** Why the client is closed, if it is. */
  get closedBy(): SessionError | undefined {
    return this.#closed;
  }

  /** A new stream (SYN sent). On a closed client it is returned destroyed with the reason. */
  openStream(): Duplex {
    const closed = this.#closed ?? (this.#lastId + 2 > lastStreamId ? new SessionError('closed', 'the port session has used up its stream ids') : undefined);
    const id = closed === undefined ? (this.#lastId += 2) : 0;
    const state: StreamState = { id, stream: this.#makeStream(() => state), receivedData: false, peerFinished: false, finSent: closed !== undefined };
    if (closed !== undefined) {
      state.stream.destroy(closed);
      return state.stream;
    }
    this.#streams.set(id, state);
    this.#send({ cmd: SmuxCmd.syn, streamId: id, payload: Buffer.alloc(0) });
    return state.stream;
  }

  /**
   * Fails the youngest open stream that has received no data with `error` (one ConnectToPortError
   * flag is one failed dial). False when there is no such stream.
   */
  refuseYoungestPending(error: SessionError): boolean {
    const waiting = [...this.#streams.values()].filter((s) => !s.receivedData && !s.peerFinished);
    const youngest = waiting.at(-1);
    if (youngest === undefined) return false;
    youngest.stream.destroy(error);
    return true;
  }

  /** Destroys every stream with `error` (a 'closed' SessionError when none); idempotent. */
  close(error?: SessionError): void {
    if (this.#closed !== undefined) return;
    this.#closed = error ?? new SessionError('closed', 'the port session has ended');
    const open = [...this.#streams.values()];
    this.#streams.clear();
    for (const s of open) s.stream.destroy(this.#closed);
    this.#wakeWriters();
  }

  #makeStream(state: () => StreamState): Duplex {
    return new Duplex({
      allowHalfOpen: false,
      read: () => undefined,
      write: (chunk: Buffer, _encoding, callback) => { this.#writeData(state(), chunk, callback); },
      final: (callback) => {
        this.#sendFin(state());
        callback();
      },
      destroy: (error, callback) => {
        const s = state();
        this.#sendFin(s);
        this.#streams.delete(s.id);
        callback(error);
      },
    });
  }

  #writeData(s: StreamState, chunk: Buffer, callback: (error?: Error | null) => void): void {
    if (this.#closed !== undefined) {
      callback(this.#closed);
      return;
    }
    // The agent has closed this connection: what is written now has nowhere to go.
    if (s.finSent) {
      callback();
      return;
    }
    let flowing = true;
    for (let at = 0; at < chunk.length; at += maxFramePayload) {
      flowing = this.#send({ cmd: SmuxCmd.psh, streamId: s.id, payload: chunk.subarray(at, at + maxFramePayload) });
    }
    if (flowing) callback();
    else this.#drainWaiters.push(() => { callback(this.#closed ?? null); });
  }

  #sendFin(s: StreamState): void {
    if (s.finSent || this.#closed !== undefined) return;
    s.finSent = true;
    this.#send({ cmd: SmuxCmd.fin, streamId: s.id, payload: Buffer.alloc(0) });
  }

  #send(f: SmuxFrame): boolean {
    const t = this.#transport;
    if (t.destroyed || t.writableEnded) return true;
    return t.write(encodeSmuxFrame(f));
  }

  #wakeWriters(): void {
    for (const w of this.#drainWaiters.splice(0)) w();
  }

  #onData(chunk: Buffer): void {
    if (this.#closed !== undefined) return;
    for (const f of this.#frames(chunk)) this.#onFrame(f);
  }

  /** The frames `chunk` completes; a malformed one closes the client and the session. */
  #frames(chunk: Buffer): SmuxFrame[] {
    try {
      return this.#reader.push(chunk);
    } catch (e) {
      const error = asSessionError(e, 'the port session sent a malformed smux frame');
      this.close(error);
      this.#transport.destroy(error);
      return [];
    }
  }

  #onFrame(f: SmuxFrame): void {
    const s = this.#streams.get(f.streamId);
    switch (f.cmd) {
      case SmuxCmd.psh:
        if (s === undefined) return;
        s.receivedData = true;
        s.stream.push(f.payload);
        return;
      case SmuxCmd.fin:
        if (s === undefined) return;
        s.peerFinished = true;
        this.#streams.delete(s.id);
        s.stream.push(null);
        this.#sendFin(s);
        return;
      case SmuxCmd.syn:
        this.#log.debug({ streamId: f.streamId }, 'refused a stream the instance tried to open');
        this.#send({ cmd: SmuxCmd.fin, streamId: f.streamId, payload: Buffer.alloc(0) });
        return;
      default:
        return;
    }
  }
}
