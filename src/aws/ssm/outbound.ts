// The sending half of a data channel: queues stream payloads in chunks of at most 1024 bytes, gives
// each its own sequence number when it is sent, keeps it until acknowledged, resends whatever is
// older than the RTO on every scan, and stops when the agent stays silent for too long. Sending
// waits for the gate (handshake done), for the end of a pause_publication, and for room under the
// unacknowledged-bytes cap; the `done` callbacks of queued writes are the writers' backpressure.
// No sockets or timers here: the channel passes `transmit` and calls tick() from its scan timer.
import { SessionError } from '../../domain/errors.js';
import { encodeAgentMessage } from './agent-message.js';
import { chunkBytes } from './channel-config.js';
import { SendWindow } from './reliability.js';

export interface OutboundDeps {
  /** The stream message type this side sends (`input_stream_data` for ORCA). */
  readonly messageType: string;
  readonly transmit: (frame: Buffer) => void;
  readonly now: () => number;
  readonly newId: () => string;
  readonly maxUnackedBytes: number;
  readonly noProgressTimeoutMs: number;
}

/** Called once the write's last chunk has been sent, or with the error that closed the channel. */
export type WriteDone = (error?: Error) => void;

interface Queued {
  readonly payloadType: number;
  readonly payload: Buffer;
  readonly done?: WriteDone | undefined;
}

/** Counters for metrics and tests. */
export interface OutboundStats {
  sent: number;
  resent: number;
  acknowledged: number;
}

export class Outbound {
  readonly stats: OutboundStats = { sent: 0, resent: 0, acknowledged: 0 };
  readonly #d: OutboundDeps;
  readonly #window = new SendWindow();
  readonly #urgent: Queued[] = [];
  readonly #queue: Queued[] = [];
  #queuedBytes = 0;
  #open = false;
  #paused = false;
  #closed = false;
  #closeError: Error | undefined = undefined;

  constructor(deps: OutboundDeps) {
    this.#d = deps;
  }

  /** Payload bytes sent and not yet acknowledged. */
  get unackedBytes(): number {
    return this.#window.bytes;
  }

  get unackedCount(): number {
    return this.#window.size;
  }

  /** Payload bytes waiting to be sent. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get rtoMs(): number {
    return this.#window.rtoMs;
  }

  /** Queues `payload` as stream messages of `payloadType`; `done` runs when all of it is sent. */
  write(payloadType: number, payload: Buffer, done?: WriteDone): void {
    if (this.#closed) {
      done?.(this.#closeError);
      return;
    }
    if (payload.length === 0) {
      done?.();
      return;
    }
    for (let at = 0; at < payload.length; at += chunkBytes) {
      const chunk = payload.subarray(at, at + chunkBytes);
      const last = at + chunkBytes >= payload.length;
      this.#queue.push({ payloadType, payload: chunk, done: last ? done : undefined });
      this.#queuedBytes += chunk.length;
    }
    this.#pump();
  }

  /** Sends ahead of queued data and before the gate opens (the handshake response); waits out a pause. */
  urgent(payloadType: number, payload: Buffer): void {
    if (this.#closed) return;
    this.#urgent.push({ payloadType, payload });
    this.#pump();
  }

  /** Lets queued data flow: the handshake completed, or the agent needed none. */
  open(): void {
    this.#open = true;
    this.#pump();
  }

  /** pause_publication: nothing is sent or resent until resume(). */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#window.restartClock(this.#d.now());
    this.#pump();
  }

  /** The agent acknowledged `seq`; frees its bytes and sends what now fits. */
  acknowledge(seq: number): boolean {
    if (!this.#window.acknowledge(seq, this.#d.now())) return false;
    this.stats.acknowledged += 1;
    this.#pump();
    return true;
  }

  /** One resend scan; returns the timeout error when the agent has acknowledged nothing for too long. */
  tick(): SessionError | undefined {
    if (this.#closed) return undefined;
    const now = this.#d.now();
    if (this.#paused) {
      this.#window.restartClock(now);
      return undefined;
    }
    const stalled = this.#window.stalledFor(now);
    if (stalled >= this.#d.noProgressTimeoutMs) {
      return new SessionError('timeout', `the instance's agent acknowledged none of ${this.#window.size} outstanding messages for ${Math.round(stalled / 1000)} s`);
    }
    for (const e of this.#window.due(now)) {
      this.#d.transmit(e.frame);
      this.stats.resent += 1;
    }
    return undefined;
  }

  /** Drops everything; pending and later writers get `error` (none: their data is silently dropped). */
  close(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeError = error;
    const pending = this.#queue.splice(0);
    this.#urgent.length = 0;
    this.#queuedBytes = 0;
    this.#window.clear();
    for (const q of pending) q.done?.(error);
  }

  #pump(): void {
    while (!this.#paused && !this.#closed) {
      const next = this.#nextSendable();
      if (next === undefined) return;
      this.#transmitNew(next);
      next.done?.();
    }
  }

  #nextSendable(): Queued | undefined {
    const urgent = this.#urgent.shift();
    if (urgent !== undefined) return urgent;
    const head = this.#queue[0];
    if (!this.#open || head === undefined || !this.#window.fits(head.payload.length, this.#d.maxUnackedBytes)) return undefined;
    this.#queue.shift();
    this.#queuedBytes -= head.payload.length;
    return head;
  }

  #transmitNew(q: Queued): void {
    const seq = this.#window.take();
    const now = this.#d.now();
    const frame = encodeAgentMessage({
      messageType: this.#d.messageType, schemaVersion: 1, createdDate: Math.floor(now), sequenceNumber: seq, flags: 0,
      messageId: this.#d.newId(), payloadType: q.payloadType, payload: q.payload,
    });
    this.#window.add(seq, frame, q.payload.length, now);
    this.stats.sent += 1;
    this.#d.transmit(frame);
  }
}
