// The server side of a SPDY/3.1 connection as Kubernetes' clients open it (moby/spdystream; see
// kubelet-protocol.md §4.4): the socket after the 101. The client opens every stream (odd ids); we
// answer each with SYN_REPLY unless the handler resets it, echo the client's PINGs, ignore SETTINGS
// and WINDOW_UPDATE (spdystream never sends window updates, so we never hold data back for a send
// window), and close in the order FIN the streams, GOAWAY, end the socket once written.
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { finished } from 'node:stream/promises';
import {
  encodeFrame, Flag, FrameParser, GoAwayStatus, RstStatus, SpdyProtocolError,
  type Frame, type FrameKind, type FrameOf, type ParserLimits,
} from './frames.js';
import { decodeHeaderBlock, encodeHeaderBlock, HeaderCompressor, HeaderDecompressor, type HeaderBlock } from './headers.js';
import { OrderedOutput } from './output.js';
import { SpdyStream, type StreamSink } from './stream.js';

/** The upstream kubelet's streamingConnectionIdleTimeout. */
export const DEFAULT_IDLE_TIMEOUT_MS = 4 * 60 * 60 * 1000;
export const DEFAULT_CLOSE_TIMEOUT_MS = 30_000;

export interface SessionLog {
  warn(obj: object, msg: string): void;
}

export interface SessionOptions {
  /**
   * Called once per accepted stream, with its headers. Reset the stream here to refuse it (no
   * SYN_REPLY is then sent); otherwise the reply follows as soon as this returns.
   */
  readonly onStream: (stream: SpdyStream) => void;
  /** No frame either way for this long ends the session (default 4 h). */
  readonly idleTimeoutMs?: number;
  /** How long close() waits for streams to finish, and for the peer to close, before cutting the socket. */
  readonly closeTimeoutMs?: number;
  /** Bytes that arrived with the upgrade request, after its head (Node's 'upgrade' head). */
  readonly initialBytes?: Buffer;
  readonly limits?: ParserLimits;
  readonly log?: SessionLog;
}

export type SessionEndReason = 'closed' | 'peer-closed' | 'idle-timeout' | 'protocol-error' | 'socket-error';
export interface SessionEnd {
  readonly reason: SessionEndReason;
  readonly error?: Error;
}

const EMPTY = Buffer.alloc(0);
const EMPTY_HEADERS = encodeHeaderBlock(new Map<string, readonly string[]>());

type Handlers = { readonly [K in FrameKind]: (f: FrameOf<K>) => Promise<void> | undefined };

function timer(ms: number, run: () => void): NodeJS.Timeout {
  return setTimeout(run, ms).unref();
}

export class SpdySession {
  /** Settles when the socket has closed, with why the session ended. */
  readonly ended: Promise<SessionEnd>;
  private settle: (end: SessionEnd) => void = () => undefined;
  private readonly streams = new Map<number, SpdyStream>();
  private readonly blocked = new Set<SpdyStream>();
  private readonly parser: FrameParser;
  private readonly inflater = new HeaderDecompressor();
  private readonly deflater = new HeaderCompressor();
  private readonly out: OrderedOutput;
  private readonly idle: NodeJS.Timeout;
  private readonly closeTimeoutMs: number;
  private cutOff: NodeJS.Timeout | undefined;
  private inbox: (Frame | SpdyProtocolError)[] = [];
  private busy = false;
  private dead = false;
  private lastStreamId = 0;
  private goingAway = false;
  private endReason: SessionEnd | undefined;
  private closing: Promise<SessionEnd> | undefined;

  constructor(private readonly socket: Duplex, private readonly options: SessionOptions) {
    this.ended = new Promise((resolve) => { this.settle = resolve; });
    this.parser = new FrameParser(options.limits);
    this.closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    this.idle = timer(options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, () => { this.onIdle(); });
    this.out = new OrderedOutput(socket, () => { this.idle.refresh(); }, (e) => { this.fail(new SpdyProtocolError('compression', `header compression failed: ${String(e)}`)); });
    if (socket instanceof Socket) socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => { this.receiveBytes(chunk); });
    socket.on('end', () => { this.onPeerEnd(); });
    socket.on('error', (error: Error) => { this.noteEnd({ reason: 'socket-error', error }); });
    socket.on('close', () => { this.teardown(); });
    if (options.initialBytes !== undefined && options.initialBytes.length > 0) this.receiveBytes(options.initialBytes);
  }

  /** Streams open now (accepted, not yet closed or reset). */
  get openStreams(): number {
    return this.streams.size;
  }

  /** FIN every open stream (after its pending writes), GOAWAY, end the socket once written. */
  close(): Promise<SessionEnd> {
    this.closing ??= this.closeGracefully();
    return this.closing;
  }

  /** Cut the connection now: no GOAWAY, streams lose their connection. */
  destroy(error?: Error): void {
    if (error !== undefined) this.noteEnd({ reason: 'socket-error', error });
    this.socket.destroy();
  }

  // ---- incoming -------------------------------------------------------------------------------

  private receiveBytes(chunk: Buffer): void {
    if (this.dead) return;
    this.idle.refresh();
    const { frames, error } = this.parser.push(chunk);
    for (const f of frames) this.inbox.push(f);
    if (error !== undefined) this.inbox.push(error);
    this.pump();
  }

  /** Handles frames strictly in order; a SYN_STREAM waits for its headers to inflate. */
  private pump(): void {
    while (!this.busy && !this.dead) {
      const item = this.inbox.shift();
      if (item === undefined) return;
      if (item instanceof SpdyProtocolError) {
        this.fail(item);
        return;
      }
      const pending = (this.handlers[item.kind] as (f: Frame) => Promise<void> | undefined)(item);
      if (pending !== undefined) {
        this.busy = true;
        pending.then(() => { this.busy = false; this.pump(); }, (e: unknown) => { this.fail(new SpdyProtocolError('invalid-frame', String(e))); });
      }
    }
  }

  private readonly handlers: Handlers = {
    syn_stream: (f) => this.onSynStream(f),
    // We open no streams; the block is inflated only to keep the context in step.
    syn_reply: (f) => this.inflate(f.headerBlock).then(() => undefined),
    headers: (f) => this.onHeaders(f),
    data: (f) => { this.onData(f); return undefined; },
    rst_stream: (f) => { this.streams.get(f.streamId)?.receivedReset(f.status); return undefined; },
    ping: (f) => { this.onPing(f.id); return undefined; },
    goaway: () => { this.goingAway = true; return undefined; },
    settings: () => undefined,
    window_update: () => undefined,
    unknown: () => undefined,
  };

  private async onSynStream(f: FrameOf<'syn_stream'>): Promise<void> {
    const block = await this.inflate(f.headerBlock);
    if (block === undefined) return;
    const refusal = this.refusal(f.streamId);
    if (refusal !== undefined) {
      this.sendReset(f.streamId, refusal);
      return;
    }
    this.lastStreamId = f.streamId;
    const headers = decodeHeaderBlock(block);
    if (headers.ok) this.open(f, headers.value);
    else this.sendReset(f.streamId, RstStatus.protocolError);
  }

  private refusal(streamId: number): number | undefined {
    if (streamId % 2 === 0 || streamId <= this.lastStreamId) return RstStatus.protocolError;
    return this.goingAway ? RstStatus.refusedStream : undefined;
  }

  private open(f: FrameOf<'syn_stream'>, headers: HeaderBlock): void {
    const stream = new SpdyStream(this.sink, f.streamId, headers, (f.flags & Flag.unidirectional) !== 0);
    this.streams.set(f.streamId, stream);
    if ((f.flags & Flag.fin) !== 0) stream.receive(EMPTY, true);
    try {
      this.options.onStream(stream);
    } catch (error) {
      this.options.log?.warn({ err: error, streamId: f.streamId }, 'SPDY stream handler threw; stream reset');
      stream.reset(RstStatus.internalError);
    }
    if (stream.destroyed) return;
    this.out.write(this.deflater.compress(EMPTY_HEADERS).then((headerBlock) => encodeFrame({ kind: 'syn_reply', streamId: f.streamId, flags: 0, headerBlock })));
    stream.replySent();
  }

  private async onHeaders(f: FrameOf<'headers'>): Promise<void> {
    if ((await this.inflate(f.headerBlock)) === undefined) return;
    if ((f.flags & Flag.fin) !== 0) this.streams.get(f.streamId)?.receive(EMPTY, true);
  }

  private onData(f: FrameOf<'data'>): void {
    const stream = this.streams.get(f.streamId);
    if (stream === undefined) {
      // Late frames for a stream that closed or was reset are dropped; a stream never opened is refused.
      if (f.streamId % 2 === 0 || f.streamId > this.lastStreamId) this.sendReset(f.streamId, RstStatus.invalidStream);
      return;
    }
    if (stream.remoteClosed) {
      stream.reset(RstStatus.streamAlreadyClosed);
      return;
    }
    if (!stream.receive(f.data, (f.flags & Flag.fin) !== 0)) {
      this.blocked.add(stream);
      this.socket.pause();
    }
  }

  /** Client pings have odd ids and are echoed unchanged; even ids would answer pings we never send. */
  private onPing(id: number): void {
    if (id % 2 === 1) this.send({ kind: 'ping', id });
  }

  private async inflate(block: Buffer): Promise<Buffer | undefined> {
    const r = await this.inflater.decompress(block);
    if (r.ok) return r.value;
    this.fail(r.error);
    return undefined;
  }

  // ---- outgoing -------------------------------------------------------------------------------

  private readonly sink: StreamSink = {
    sendData: (streamId, data, fin) => this.dead || this.out.write(encodeFrame({ kind: 'data', streamId, flags: fin ? Flag.fin : 0, data })),
    whenWritable: (callback) => { this.out.whenWritable(callback); },
    sendReset: (streamId, status) => { this.sendReset(streamId, status); },
    wantsData: (stream) => { this.unblock(stream); },
    released: (stream) => {
      if (this.streams.get(stream.id) === stream) this.streams.delete(stream.id);
      this.unblock(stream);
    },
  };

  private unblock(stream: SpdyStream): void {
    if (this.blocked.delete(stream) && this.blocked.size === 0 && !this.dead) this.socket.resume();
  }

  private send(frame: Frame): void {
    if (!this.dead) this.out.write(encodeFrame(frame));
  }

  private sendReset(streamId: number, status: number): void {
    this.send({ kind: 'rst_stream', streamId, status });
  }

  // ---- ending ---------------------------------------------------------------------------------

  private async closeGracefully(): Promise<SessionEnd> {
    this.goingAway = true;
    const open = [...this.streams.values()];
    for (const s of open) if (!s.writableEnded) s.end();
    let waited: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(open.map((s) => finished(s, { readable: false }).catch(() => undefined))),
      new Promise((resolve) => { waited = timer(this.closeTimeoutMs, () => { resolve(undefined); }); }),
    ]);
    clearTimeout(waited);
    this.finish({ reason: 'closed' }, GoAwayStatus.ok);
    return this.ended;
  }

  /** GOAWAY with `status`, then end the socket once everything queued is written. */
  private finish(end: SessionEnd, status: number): void {
    this.noteEnd(end);
    this.goingAway = true;
    this.send({ kind: 'goaway', lastGoodStreamId: this.lastStreamId, status });
    this.out.end();
    this.cutOff ??= timer(this.closeTimeoutMs, () => { this.socket.destroy(); });
  }

  /** Malformed input is a connection error: every stream loses the connection, GOAWAY PROTOCOL_ERROR. */
  private fail(error: SpdyProtocolError): void {
    if (this.dead || this.endReason?.reason === 'protocol-error') return;
    this.noteEnd({ reason: 'protocol-error', error });
    this.inbox = [];
    this.busy = true;
    for (const s of [...this.streams.values()]) s.connectionLost();
    this.finish({ reason: 'protocol-error', error }, GoAwayStatus.protocolError);
  }

  private onIdle(): void {
    if (this.dead) return;
    for (const s of [...this.streams.values()]) s.reset(RstStatus.cancel);
    this.finish({ reason: 'idle-timeout' }, GoAwayStatus.ok);
  }

  private onPeerEnd(): void {
    this.goingAway = true;
    this.out.end();
  }

  private noteEnd(end: SessionEnd): void {
    this.endReason ??= end;
  }

  private teardown(): void {
    if (this.dead) return;
    this.dead = true;
    clearTimeout(this.idle);
    clearTimeout(this.cutOff);
    this.out.kill();
    for (const s of [...this.streams.values()]) s.connectionLost();
    this.inflater.close();
    this.deflater.close();
    this.settle(this.endReason ?? { reason: 'peer-closed' });
  }
}
