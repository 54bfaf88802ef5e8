// One SPDY stream as a Node Duplex (kubelet-protocol.md §4.4 "Stream lifecycle"): readable = the
// peer's DATA, writable = our DATA frames. end() half-closes with an empty DATA+FIN; the peer's FIN
// ends the readable side. reset() (or destroy() before both sides closed) sends RST_STREAM; a reset
// by the peer destroys the stream without an error event (readers see a premature close).
import { Duplex } from 'node:stream';
import { RstStatus } from './frames.js';
import type { HeaderBlock } from './headers.js';

/** What a stream needs from its session. */
export interface StreamSink {
  /** Queues one DATA frame; false when the writer should wait for whenWritable. */
  sendData(streamId: number, data: Buffer, fin: boolean): boolean;
  whenWritable(callback: () => void): void;
  sendReset(streamId: number, status: number): void;
  /** The stream's reader wants more: the session may resume reading the socket. */
  wantsData(stream: SpdyStream): void;
  released(stream: SpdyStream): void;
}

const EMPTY = Buffer.alloc(0);
/** DATA frames we send carry at most this much (no flow control, so only fairness between streams). */
export const DATA_CHUNK = 64 * 1024;

export class SpdyStream extends Duplex {
  /** Set when the stream ended early: by whose RST_STREAM (and its status), or by losing the connection. */
  resetBy: 'peer' | 'local' | 'connection' | undefined;
  resetStatus: number | undefined;
  private replied = false;
  private held: (() => void) | undefined;
  private finSent: boolean;
  private finReceived = false;

  constructor(private readonly sink: StreamSink, readonly id: number, readonly headers: HeaderBlock, unidirectional = false) {
    super({ allowHalfOpen: true, readableHighWaterMark: DATA_CHUNK, writableHighWaterMark: DATA_CHUNK });
    this.finSent = unidirectional;
    if (unidirectional) this.end();
  }

  /** Whether the peer has half-closed (sent FIN). */
  get remoteClosed(): boolean {
    return this.finReceived;
  }

  /** RST_STREAM with `status` (CANCEL by default) and destroy. No-op once the stream is gone. */
  reset(status: number = RstStatus.cancel): void {
    if (this.destroyed) return;
    this.markReset('local', status);
    this.sink.sendReset(this.id, status);
    this.destroy();
  }

  /** Session side: our SYN_REPLY is queued, so DATA may follow it. */
  replySent(): void {
    this.replied = true;
    const held = this.held;
    this.held = undefined;
    held?.();
  }

  /** Session side: the peer's DATA. Returns false when the reader is full (stop reading the socket). */
  receive(data: Buffer, fin: boolean): boolean {
    const more = data.length > 0 ? this.push(data) : true;
    if (!fin) return more;
    // Nothing more will arrive for this stream, so it never holds the socket back.
    this.finReceived = true;
    this.push(null);
    return true;
  }

  /** Session side: the peer's RST_STREAM. */
  receivedReset(status: number): void {
    if (this.destroyed) return;
    this.markReset('peer', status);
    this.destroy();
  }

  /** Session side: the connection ended under the stream; nothing more can be sent. */
  connectionLost(): void {
    if (this.destroyed) return;
    this.resetBy = 'connection';
    this.destroy();
  }

  override _read(): void {
    this.sink.wantsData(this);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (!this.replied) {
      this.held = () => { this._write(chunk, _encoding, callback); };
      return;
    }
    let ready = true;
    for (let at = 0; at < chunk.length; at += DATA_CHUNK) {
      ready = this.sink.sendData(this.id, chunk.subarray(at, at + DATA_CHUNK), false) && ready;
    }
    if (ready) callback();
    else this.sink.whenWritable(() => { callback(); });
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.replied) {
      this.held = () => { this._final(callback); };
      return;
    }
    if (!this.finSent) this.sink.sendData(this.id, EMPTY, true);
    this.finSent = true;
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.resetBy === undefined && !(this.finSent && this.finReceived)) {
      this.markReset('local', RstStatus.cancel);
      this.sink.sendReset(this.id, RstStatus.cancel);
    }
    this.sink.released(this);
    callback(error);
  }

  private markReset(by: 'peer' | 'local', status: number): void {
    this.resetBy = by;
    this.resetStatus = status;
  }
}
