// One Session Manager data channel over a `ws` WebSocket (shared/reference/ssm-session.md §2, §9.5):
// opens the StreamUrl, sends the text open frame with the session token, answers the handshake,
// then carries the session's bytes as sequenced, acknowledged AgentMessages (inbound.ts,
// outbound.ts). The session's byte stream is a Duplex: its readable side is the agent's Output in
// order, its writable side is sent as input. Ending the writable side does not end the session;
// destroying the Duplex closes the channel. Every timer is cancelled when the channel closes.
import { randomUUID } from 'node:crypto';
import { Duplex } from 'node:stream';
import WebSocket, { type RawData } from 'ws';
import { SessionError } from '../../domain/errors.js';
import {
  channelClosedReason, decodeAcknowledgement, decodeAgentMessage, decodeFlag, encodeFlag, encodeSize, MessageType, PayloadType, type AgentMessage,
} from './agent-message.js';
import {
  defaultClientVersion, defaultTuning, newMessageId, silentLog, systemTimers, type ChannelTimers, type ChannelTuning, type SessionLog,
} from './channel-config.js';
import { answerHandshake, handshakeCustomerMessage } from './handshake.js';
import { Inbound, type InboundStats } from './inbound.js';
import { Outbound, type OutboundStats } from './outbound.js';

export interface DataChannelOptions {
  /** StartSession's StreamUrl, dialled verbatim. */
  readonly streamUrl: string;
  /** StartSession's TokenValue. */
  readonly tokenValue: string;
  /** Stable per ORCA process; a fresh UUID when absent. */
  readonly clientId?: string | undefined;
  /** The plugin version announced (open frame and handshake); 1.2.677.0 when absent. */
  readonly clientVersion?: string | undefined;
  /** Accepts ws:// URLs (the test bed's loopback stand-in); otherwise only wss:// is dialled. */
  readonly allowPlainWebSocket?: boolean | undefined;
  readonly timers?: ChannelTimers | undefined;
  readonly log?: SessionLog | undefined;
  readonly tuning?: Partial<ChannelTuning> | undefined;
  /** Aborts the opening (not the open channel). */
  readonly signal?: AbortSignal | undefined;
}

/** How a channel ended: `error` is absent for a clean end (channel_closed, or closed by ORCA). */
export interface ChannelEnd {
  readonly reason: string;
  readonly error?: SessionError;
}

export interface ChannelStats {
  readonly outbound: Readonly<OutboundStats>;
  readonly inbound: Readonly<InboundStats>;
  readonly malformed: number;
}

type Phase = 'connecting' | 'awaiting-agent' | 'handshake' | 'streaming' | 'closed';

function schemeOf(url: string): string {
  try {
    return new URL(url).protocol;
  } catch (e) {
    throw new SessionError('protocol', 'the data-channel URL is not a URL', { cause: e });
  }
}

/** ws:// is refused unless allowed; anything but ws(s) always is. */
export function checkStreamUrl(url: string, allowPlain: boolean): void {
  const scheme = schemeOf(url);
  if (scheme === 'wss:' || (scheme === 'ws:' && allowPlain)) return;
  throw new SessionError('protocol', scheme === 'ws:'
    ? 'refusing an unencrypted ws:// data-channel URL (only wss:// is dialled unless allowPlainWebSocket is set)'
    : `the data-channel URL has the unsupported scheme ${scheme}`);
}

const toBuffer = (d: RawData): Buffer => (Buffer.isBuffer(d) ? d : Array.isArray(d) ? Buffer.concat(d) : Buffer.from(d));

/** Grace for the WebSocket closing handshake before the socket is destroyed. */
const closeGraceMs = 1000;

/**
 * A data channel. Input written before the agent's first message is held: if that message is a
 * HandshakeRequest, until HandshakeComplete (the agent discards earlier input); otherwise it is
 * the first Output and input flows from then on.
 */
export class DataChannel {
  /** The session's bytes; destroyed with a SessionError when the channel breaks (listen for 'error'). */
  readonly stream: Duplex;
  /** Settles (never rejects) when the channel has ended. */
  readonly done: Promise<ChannelEnd>;
  readonly #ws: WebSocket;
  readonly #o: DataChannelOptions;
  readonly #timers: ChannelTimers;
  readonly #log: SessionLog;
  readonly #tuning: ChannelTuning;
  readonly #outbound: Outbound;
  readonly #inbound: Inbound;
  readonly #flagListeners: ((flag: number) => void)[] = [];
  readonly #cancels: (() => void)[] = [];
  readonly #opened: Promise<void>;
  #settleOpen: (error?: SessionError) => void = () => undefined;
  #resolveDone: (end: ChannelEnd) => void = () => undefined;
  #phase: Phase = 'connecting';
  #awaitingPong = false;
  #malformed = 0;

  /** Dials the StreamUrl and sends the open frame; rejects with a SessionError. */
  static async open(o: DataChannelOptions): Promise<DataChannel> {
    checkStreamUrl(o.streamUrl, o.allowPlainWebSocket === true);
    o.signal?.throwIfAborted();
    const channel = new DataChannel(o);
    await channel.#whenOpen(o.signal);
    return channel;
  }

  private constructor(o: DataChannelOptions) {
    this.#o = o;
    this.#timers = o.timers ?? systemTimers;
    this.#log = o.log ?? silentLog;
    this.#tuning = { ...defaultTuning, ...o.tuning };
    this.#opened = new Promise((resolve, reject) => {
      this.#settleOpen = (e) => { if (e === undefined) resolve(); else reject(e); };
    });
    this.#opened.catch(() => undefined);
    this.done = new Promise((resolve) => { this.#resolveDone = resolve; });
    const transmit = (frame: Buffer): void => { this.#transmit(frame); };
    const now = (): number => this.#timers.now();
    this.#outbound = new Outbound({
      messageType: MessageType.input, transmit, now, newId: newMessageId, maxUnackedBytes: this.#tuning.maxUnackedBytes, noProgressTimeoutMs: this.#tuning.noProgressTimeoutMs,
    });
    this.#inbound = new Inbound({
      transmit, now, newId: newMessageId, maxOutOfOrder: this.#tuning.maxOutOfOrder,
      hasRoom: () => this.stream.readableLength < this.#tuning.maxBufferedOutputBytes, deliver: (m) => { this.#deliver(m); },
    });
    this.stream = this.#makeStream();
    this.#ws = new WebSocket(o.streamUrl, { perMessageDeflate: false, handshakeTimeout: 15_000 });
    this.#listen();
  }

  get stats(): ChannelStats {
    return { outbound: { ...this.#outbound.stats }, inbound: { ...this.#inbound.stats }, malformed: this.#malformed };
  }

  /** Called with every Flag payload the agent sends (ConnectToPortError for port sessions). */
  onFlag(listener: (flag: number) => void): void {
    this.#flagListeners.push(listener);
  }

  /** Sends a terminal size (Size payload). */
  sendSize(cols: number, rows: number): void {
    this.#outbound.write(PayloadType.size, encodeSize(cols, rows));
  }

  /** Sends a Flag payload (TerminateSession, DisconnectToPort). */
  sendFlag(flag: number): void {
    this.#outbound.write(PayloadType.flag, encodeFlag(flag));
  }

  /** Ends the channel cleanly (the readable side ends); idempotent. */
  close(reason = 'closed by ORCA'): void {
    this.#finish(reason);
  }

  #makeStream(): Duplex {
    return new Duplex({
      allowHalfOpen: true,
      read: () => undefined,
      write: (chunk: Buffer, _encoding, callback) => {
        this.#outbound.write(PayloadType.output, chunk, (e) => { callback(e ?? null); });
      },
      final: (callback) => { callback(); },
      destroy: (error, callback) => {
        this.#finish('the session stream was destroyed');
        callback(error);
      },
    });
  }

  #listen(): void {
    const ws = this.#ws;
    ws.on('open', () => { this.#onOpen(); });
    ws.on('message', (data: RawData) => { this.#onFrame(toBuffer(data)); });
    ws.on('pong', () => { this.#awaitingPong = false; });
    ws.on('error', (e: Error) => { this.#onSocketEnd(`failed: ${e.message}`, e); });
    ws.on('close', (code: number, reason: Buffer) => {
      this.#onSocketEnd(`closed (${code}${reason.length > 0 ? `: ${reason.toString('utf8')}` : ''})`);
    });
  }

  async #whenOpen(signal: AbortSignal | undefined): Promise<void> {
    if (signal === undefined) return this.#opened;
    const onAbort = (): void => { this.#finish('aborted'); };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await this.#opened;
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      throw e;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  #onOpen(): void {
    if (this.#phase !== 'connecting') return;
    this.#phase = 'awaiting-agent';
    this.#ws.send(JSON.stringify({
      MessageSchemaVersion: '1.0', RequestId: randomUUID(), TokenValue: this.#o.tokenValue,
      ClientId: this.#o.clientId ?? randomUUID(), ClientVersion: this.#o.clientVersion ?? defaultClientVersion,
    }));
    this.#cancels.push(this.#timers.every(this.#tuning.resendScanMs, () => { this.#scan(); }));
    this.#cancels.push(this.#timers.every(this.#tuning.pingIntervalMs, () => { this.#ping(); }));
    this.#settleOpen();
  }

  #onSocketEnd(what: string, cause?: Error): void {
    if (this.#phase === 'closed') return;
    const opening = this.#phase === 'connecting';
    const error = new SessionError('closed', opening ? `could not open the data channel: the WebSocket ${what}` : `the data channel's WebSocket ${what} before the session ended`, cause === undefined ? undefined : { cause });
    this.#finish('', error);
  }

  #transmit(frame: Buffer): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(frame);
  }

  #scan(): void {
    const error = this.#outbound.tick();
    if (error !== undefined) this.#finish('', error);
  }

  #ping(): void {
    if (this.#awaitingPong) {
      this.#finish('', new SessionError('closed', 'the data channel stopped answering WebSocket pings'));
      return;
    }
    this.#awaitingPong = true;
    this.#ws.ping();
  }

  #onFrame(data: Buffer): void {
    if (this.#phase === 'closed' || this.#phase === 'connecting') return;
    const m = this.#decode(data);
    if (m !== undefined) this.#dispatch(m);
  }

  /** A malformed message is dropped unacknowledged: the agent resends it. */
  #decode(data: Buffer): AgentMessage | undefined {
    try {
      return decodeAgentMessage(data);
    } catch (e) {
      this.#malformed += 1;
      this.#log.warn({ err: e, bytes: data.length }, 'dropped a malformed data-channel message');
      return undefined;
    }
  }

  #dispatch(m: AgentMessage): void {
    switch (m.messageType) {
      case MessageType.output:
        this.#outbound.resume();
        this.#inbound.receive(m);
        return;
      case MessageType.acknowledge:
        this.#outbound.resume();
        this.#onAcknowledge(m);
        return;
      case MessageType.channelClosed:
        this.#finish(channelClosedReason(m.payload) || 'the session ended');
        return;
      case MessageType.startPublication:
        this.#outbound.resume();
        return;
      case MessageType.pausePublication:
        this.#outbound.pause();
        return;
      default:
        this.#log.debug({ messageType: m.messageType }, 'ignored a data-channel message type');
    }
  }

  #onAcknowledge(m: AgentMessage): void {
    try {
      this.#outbound.acknowledge(decodeAcknowledgement(m.payload).sequenceNumber);
    } catch (e) {
      this.#log.warn({ err: e }, 'dropped an unreadable acknowledgement');
    }
  }

  /** One agent stream message, in sequence order. */
  #deliver(m: AgentMessage): void {
    if (this.#phase === 'closed') return;
    switch (m.payloadType) {
      case PayloadType.output:
        if (this.#phase === 'awaiting-agent') this.#startStreaming();
        this.stream.push(m.payload);
        return;
      case PayloadType.handshakeRequest:
        this.#onHandshakeRequest(m.payload);
        return;
      case PayloadType.handshakeComplete:
        this.#log.debug({ customerMessage: handshakeCustomerMessage(m.payload) }, 'data-channel handshake complete');
        this.#startStreaming();
        return;
      case PayloadType.flag:
        this.#onFlag(m.payload);
        return;
      case PayloadType.encChallengeRequest:
        this.#finish('', new SessionError('encryption-unsupported', 'the instance\'s agent started a KMS encryption challenge, which ORCA does not support yet'));
        return;
      default:
        this.#log.debug({ payloadType: m.payloadType }, 'ignored a payload type the session does not use');
    }
  }

  #startStreaming(): void {
    this.#phase = 'streaming';
    this.#outbound.open();
  }

  #onHandshakeRequest(payload: Buffer): void {
    const answer = answerHandshake(payload, this.#o.clientVersion ?? defaultClientVersion);
    this.#phase = 'handshake';
    this.#log.debug({ agentVersion: answer.agentVersion, sessionType: answer.sessionType }, 'data-channel handshake requested');
    if (answer.response !== undefined) this.#outbound.urgent(PayloadType.handshakeResponse, answer.response);
    if (answer.error !== undefined) this.#finish('', answer.error);
  }

  #onFlag(payload: Buffer): void {
    if (payload.length !== 4) {
      this.#log.warn({ bytes: payload.length }, 'ignored an unreadable flag payload');
      return;
    }
    const flag = decodeFlag(payload);
    for (const l of this.#flagListeners) l(flag);
  }

  #finish(reason: string, error?: SessionError): void {
    if (this.#phase === 'closed') return;
    const opening = this.#phase === 'connecting';
    this.#phase = 'closed';
    for (const cancel of this.#cancels.splice(0)) cancel();
    this.#outbound.close(error);
    this.#closeSocket();
    this.#settleOpen(error ?? new SessionError('closed', `the data channel closed while opening (${reason})`));
    // A channel that never opened was never handed out: its error goes to open()'s caller only.
    if (opening) this.stream.destroy();
    else if (error === undefined) this.stream.push(null);
    else this.stream.destroy(error);
    this.#resolveDone(error === undefined ? { reason } : { reason: error.message, error });
  }

  #closeSocket(): void {
    const ws = this.#ws;
    if (ws.readyState === WebSocket.CLOSED) return;
    if (ws.readyState === WebSocket.CONNECTING) {
      ws.terminate();
      return;
    }
    ws.close(1000);
    const cancel = this.#timers.after(closeGraceMs, () => { ws.terminate(); });
    ws.once('close', cancel);
  }
}
