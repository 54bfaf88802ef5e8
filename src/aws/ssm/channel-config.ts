// What a data channel is tuned and driven by: its timers (injectable, unref'd by default so an idle
// channel never keeps the process alive), its logger and the reliability constants of
// shared/reference/ssm-session.md §2.6 and §9.5.
import { randomUUID } from 'node:crypto';

/** The timers a channel uses; every one is cancelled when the channel closes. */
export interface ChannelTimers {
  /** Milliseconds on a monotonic-enough clock (also used as CreatedDate). */
  now(): number;
  /** Runs `task` every `ms`; returns its cancel function. */
  every(ms: number, task: () => void): () => void;
  /** Runs `task` once after `ms`; returns its cancel function. */
  after(ms: number, task: () => void): () => void;
}

/** Node's timers, unref'd. */
export const systemTimers: ChannelTimers = Object.freeze({
  now: () => Date.now(),
  every(ms: number, task: () => void): () => void {
    const t = setInterval(task, ms);
    t.unref();
    return () => { clearInterval(t); };
  },
  after(ms: number, task: () => void): () => void {
    const t = setTimeout(task, ms);
    t.unref();
    return () => { clearTimeout(t); };
  },
});

/** The part of a pino logger the session code uses. */
export interface SessionLog {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

/** A logger that drops everything. */
export const silentLog: SessionLog = Object.freeze({ warn: () => undefined, debug: () => undefined });

/** The reliability and liveness constants of one channel. */
export interface ChannelTuning {
  /** How often unacknowledged messages are checked for resending (the plugin: 100 ms). */
  readonly resendScanMs: number;
  /** The session fails with SessionError('timeout') when the agent acknowledges nothing for this long. */
  readonly noProgressTimeoutMs: number;
  /** Input payload bytes sent but not yet acknowledged; writers wait above it. */
  readonly maxUnackedBytes: number;
  /** Out-of-order agent messages kept; more are dropped unacknowledged (the agent resends them). */
  readonly maxOutOfOrder: number;
  /** Output bytes waiting for the reader; above it the next message is left unacknowledged. */
  readonly maxBufferedOutputBytes: number;
  /** WebSocket ping interval; a ping without a pong by the next one ends the channel. */
  readonly pingIntervalMs: number;
}

export const defaultTuning: ChannelTuning = Object.freeze({
  resendScanMs: 100,
  noProgressTimeoutMs: 5 * 60_000,
  maxUnackedBytes: 256 * 1024,
  maxOutOfOrder: 10_000,
  maxBufferedOutputBytes: 4 * 1024 * 1024,
  pingIntervalMs: 30_000,
});

/** Payload bytes per stream message, as both the plugin and the agent chunk. */
export const chunkBytes = 1024;

/** The plugin version whose behaviour ORCA implements; the agent decides smux and keep-alive by it. */
export const defaultClientVersion = '1.2.677.0';

/** Fresh message ids (random UUIDs). */
export const newMessageId = (): string => randomUUID();
