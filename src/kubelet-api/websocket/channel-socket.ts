// The server's side of one channelled WebSocket (exec/attach or port-forward; kubelet-protocol.md
// §4.6, §4.7.2): it frames messages for the negotiated protocol, holds writers back while the
// socket's send buffer is above a high-water mark, pauses reading while a reader is full, turns a
// malformed message into a close whose code says why, closes an idle connection, and reports every
// way the connection ends through one AbortSignal. Nothing thrown escapes a socket event handler.
import type { RawData, WebSocket } from 'ws';
import {
  CloseCode, decodeMessage, encodeMessage, type IncomingFrame, type ProtocolTraits, type Violation,
} from './protocols.js';

/** Writers wait while more than this many bytes are queued on the socket (1 MiB). */
export const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;
/** Outgoing payloads are cut into messages of at most this many bytes. */
export const MAX_MESSAGE_PAYLOAD = 256 * 1024;
/** The upstream kubelet's streamingConnectionIdleTimeout (4 h). */
export const DEFAULT_IDLE_TIMEOUT_MS = 4 * 60 * 60 * 1000;

/** Options both transports share. */
export interface ChannelSocketOptions {
  /** Writers wait while the socket's bufferedAmount is above this (bytes; default 1 MiB). */
  readonly highWaterMark?: number;
  /** No message, ping or pong either way for this long closes the connection (default 4 h; 0 = never). */
  readonly idleTimeoutMs?: number;
}

interface SocketSettings extends ChannelSocketOptions {
  readonly traits: ProtocolTraits;
  /** One decoded message; a Violation closes the connection. */
  readonly onFrame: (frame: IncomingFrame) => Violation | undefined;
}

/** The connection ended: `code` is the WebSocket close code (1006 when it broke without one). */
export class ChannelClosedError extends Error {
  constructor(readonly code: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ChannelClosedError';
  }
}

/** The client sent a message the protocol does not allow; the connection was closed with `code`. */
export class ChannelProtocolError extends Error {
  readonly code: Violation['code'];
  constructor(violation: Violation) {
    super(violation.reason);
    this.code = violation.code;
    this.name = 'ChannelProtocolError';
  }
}

const toBuffer = (data: RawData): Buffer =>
  Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);

/** A close reason is at most 123 bytes (RFC 6455 §5.5: 125 minus the code). */
function closeReason(text: string): string {
  let out = text;
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}

export class ChannelSocket {
  readonly #ws: WebSocket;
  readonly #settings: SocketSettings;
  readonly #highWaterMark: number;
  readonly #controller = new AbortController();
  readonly #holds = new Set<object>();
  #waiters: (() => void)[] = [];
  #idle: NodeJS.Timeout | undefined = undefined;
  #closing: Promise<void> | undefined = undefined;

  constructor(ws: WebSocket, settings: SocketSettings) {
    this.#ws = ws;
    this.#settings = settings;
    this.#highWaterMark = settings.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    ws.on('message', (data, isBinary) => { this.#onMessage(data, isBinary); });
    ws.on('close', (code, reason) => { this.#onClose(code, reason.toString('utf8')); });
    ws.on('error', (e) => { this.#abort(new ChannelClosedError(1006, `WebSocket error: ${e.message}`, { cause: e })); });
    ws.on('ping', () => { this.#touch(); });
    ws.on('pong', () => { this.#touch(); });
    this.#startIdleTimer(settings.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
    if (ws.readyState !== ws.OPEN) this.#abort(new ChannelClosedError(1006, 'the WebSocket was not open'));
    ws.resume(); // handed over paused (upgrade.ts) so nothing arrives before these listeners
  }

  /** Aborts when the connection ends, whoever ended it; the reason is a ChannelClosedError or ChannelProtocolError. */
  get closed(): AbortSignal {
    return this.#controller.signal;
  }

  /** Sends one message now (no waiting); dropped once the connection is ending. */
  send(channel: number, payload: Uint8Array): void {
    if (!this.#writable()) return;
    this.#touch();
    this.#ws.send(encodeMessage(channel, payload, this.#settings.traits.base64), () => { this.#wake(); });
  }

  /** Sends `payload` as messages of at most MAX_MESSAGE_PAYLOAD bytes, waiting for room between them. */
  async sendAll(channel: number, payload: Uint8Array): Promise<void> {
    for (let at = 0; at < payload.byteLength && this.#writable(); at += MAX_MESSAGE_PAYLOAD) {
      this.send(channel, payload.subarray(at, at + MAX_MESSAGE_PAYLOAD));
      await this.whenWritable();
    }
  }

  /** Resolves once the socket's send buffer is at or below the high-water mark, or the connection is ending. */
  whenWritable(): Promise<void> {
    if (!this.#writable() || this.#ws.bufferedAmount <= this.#highWaterMark) return Promise.resolve();
    return new Promise((resolve) => { this.#waiters.push(resolve); });
  }

  /** Stops reading from the socket until every holder released (a reader's buffer is full). */
  hold(holder: object): void {
    this.#holds.add(holder);
    if (!this.#ws.isPaused && !this.#controller.signal.aborted) this.#ws.pause();
  }

  release(holder: object): void {
    if (!this.#holds.delete(holder) || this.#holds.size > 0) return;
    this.#ws.resume();
  }

  /** Closes the connection because of what the client sent. */
  fail(violation: Violation): void {
    if (this.#closing !== undefined) return;
    this.#abort(new ChannelProtocolError(violation));
    void this.close(violation.code, violation.reason);
  }

  /** Starts the closing handshake (after everything already sent); resolves once the socket is closed. */
  close(code: number = CloseCode.normal, reason = ''): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      if (this.#ws.readyState === this.#ws.CLOSED) {
        resolve();
        return;
      }
      this.#ws.once('close', () => { resolve(); });
      this.#holds.clear();
      this.#ws.resume(); // the client's close frame must be read
      this.#ws.close(code, closeReason(reason));
    });
    return this.#closing;
  }

  #writable(): boolean {
    return this.#closing === undefined && !this.#controller.signal.aborted && this.#ws.readyState === this.#ws.OPEN;
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    this.#touch();
    if (this.#closing !== undefined || this.#controller.signal.aborted) return;
    try {
      const decoded = decodeMessage(toBuffer(data), this.#settings.traits);
      const violation = decoded.ok ? this.#settings.onFrame(decoded.value) : decoded.error;
      if (violation !== undefined) this.fail(violation);
    } catch (e) {
      this.#abort(new ChannelClosedError(CloseCode.internalError, 'internal error handling a message', { cause: e }));
      void this.close(CloseCode.internalError, `internal error handling a ${isBinary ? 'binary' : 'text'} message`);
    }
  }

  #onClose(code: number, reason: string): void {
    clearTimeout(this.#idle);
    this.#idle = undefined;
    this.#abort(new ChannelClosedError(code, reason === '' ? `WebSocket closed (${String(code)})` : `WebSocket closed (${String(code)}): ${reason}`));
    this.#wake();
  }

  #abort(reason: Error): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
    this.#wake();
  }

  #startIdleTimer(ms: number): void {
    if (ms <= 0) return;
    this.#idle = setTimeout(() => {
      this.#abort(new ChannelClosedError(CloseCode.goingAway, `idle for ${String(ms)} ms`));
      void this.close(CloseCode.goingAway, 'idle timeout');
    }, ms);
    this.#idle.unref();
  }

  #touch(): void {
    this.#idle?.refresh();
  }

  #wake(): void {
    if (this.#writable() && this.#ws.bufferedAmount > this.#highWaterMark) return;
    const waiting = this.#waiters;
    this.#waiters = [];
    for (const w of waiting) w();
  }
}
