// Test double of AWS Session Manager: the agent's end of one session's data channel, as the client
// sees it through the Message Gateway Service. Output is sequenced from 0 (SYN flag on 0), kept until
// acknowledged, and the oldest unacknowledged message is resent every RTO; client input is delivered
// in order, acknowledged when accepted (duplicates re-acknowledged, early messages acknowledged and
// buffered, input the session cannot take yet left unacknowledged so the client resends it). Faults
// for tests of ORCA's client: dropped first transmissions, duplicates, reordering, withheld acks and
// pause_publication / start_publication.
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket, type RawData } from 'ws';
import { ackOf, ackedSequence, decode, encode, FrameError, message, MessageType, type AgentMessage } from './agent-message.js';

/** Faults injected into a session; read at every message, so a test may change them mid-session. */
export interface Faults {
  /** The first transmission of every Nth output message is not sent (its resend is). */
  readonly dropEvery?: number;
  /** Every Nth output message is sent twice. */
  readonly duplicateEvery?: number;
  /** Every Nth output message is sent after the one that follows it (or at the next resend scan). */
  readonly reorderEvery?: number;
  /** The acknowledgement of every Nth client message accepted is not sent (a resend of it is re-acked). */
  readonly withholdAckEvery?: number;
}

/** What the channel calls back into. */
export interface ChannelHooks {
  /** A client stream message, in sequence order. False: the session cannot take it yet (no ack). */
  deliver(m: AgentMessage): boolean;
  /** A protocol problem seen on the client's frames. */
  violation(text: string): void;
  /** An output message was sent again. */
  resent(): void;
}

export interface DataChannelOptions {
  readonly socket: WebSocket;
  readonly sessionId: string;
  /** The client id from the open frame (channel_closed's DestinationId). */
  readonly clientId: string;
  /** Retransmission timeout, also the resend scan period. */
  readonly resendMs: number;
  readonly faults: () => Faults;
  readonly hooks: ChannelHooks;
}

interface Unacked {
  readonly frame: Buffer;
  /** When it was last (re)transmitted; undefined until its first transmission. */
  sentAt: number | undefined;
}

const every = (n: number | undefined, count: number): boolean => n !== undefined && n > 0 && count % n === 0;

function bufferOf(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

export class DataChannel {
  readonly #o: DataChannelOptions;
  readonly #unacked = new Map<number, Unacked>();
  readonly #early = new Map<number, AgentMessage>();
  readonly #timer: NodeJS.Timeout;
  #nextOut = 0;
  #expected = 0;
  #transmitted = 0;
  #accepted = 0;
  #paused = false;
  #held: Buffer | undefined = undefined;
  #abandoned = false;

  constructor(o: DataChannelOptions) {
    this.#o = o;
    o.socket.on('message', (data: RawData, isBinary: boolean) => { this.#receive(bufferOf(data), isBinary); });
    this.#timer = setInterval(() => { this.#scan(); }, o.resendMs);
  }

  /** Output messages sent and not acknowledged yet. */
  get unacknowledged(): number {
    return this.#unacked.size;
  }

  /** Sends a sequenced output_stream_data message; empty payloads are skipped, as the agent does. */
  send(payloadType: number, payload: Buffer): void {
    if (payload.length === 0) return;
    const sequenceNumber = this.#nextOut++;
    const frame = encode(message({ messageType: MessageType.output, sequenceNumber, flags: sequenceNumber === 0 ? 1 : 0, payloadType, payload }));
    const entry: Unacked = { frame, sentAt: undefined };
    this.#unacked.set(sequenceNumber, entry);
    if (!this.#paused) this.#transmit(entry);
  }

  /** Resolves true once every output message is acknowledged, false after `ms`, when the socket closes or on abandon(). */
  async drained(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    const waiting = (): boolean => this.#unacked.size > 0 && !this.#abandoned && this.#o.socket.readyState === WebSocket.OPEN;
    while (waiting() && Date.now() < deadline) await sleep(10);
    return this.#unacked.size === 0;
  }

  /** Injects pause_publication: the client is told the agent is away; output waits until resume(). */
  pause(): void {
    this.#control(MessageType.pausePublication, Buffer.alloc(0));
    this.#paused = true;
  }

  /** Injects start_publication and sends what waited. */
  resume(): void {
    this.#control(MessageType.startPublication, Buffer.alloc(0));
    this.#paused = false;
    for (const entry of this.#unacked.values()) if (entry.sentAt === undefined) this.#transmit(entry);
  }

  /** Delivers buffered client messages the session could not take before. */
  retry(): void {
    this.#drain();
  }

  /** Sends channel_closed (as MGS does when the agent leaves) and closes the socket. */
  close(output: string): void {
    clearInterval(this.#timer);
    const m = message({ messageType: MessageType.channelClosed });
    const content = {
      MessageId: m.messageId, CreatedDate: new Date(m.createdDate).toISOString(), DestinationId: this.#o.clientId,
      SessionId: this.#o.sessionId, MessageType: MessageType.channelClosed, SchemaVersion: 1, Output: output,
    };
    this.#raw(encode({ ...m, payload: Buffer.from(JSON.stringify(content)) }));
    if (this.#o.socket.readyState === WebSocket.OPEN) this.#o.socket.close(1000);
  }

  /** Stops resending and waiting for acknowledgements (the socket is gone, or the stand-in stops). */
  abandon(): void {
    this.#abandoned = true;
    clearInterval(this.#timer);
  }

  #control(messageType: string, payload: Buffer): void {
    this.#raw(encode(message({ messageType, payload })));
  }

  #raw(frame: Buffer): void {
    if (this.#o.socket.readyState === WebSocket.OPEN) this.#o.socket.send(frame, { binary: true });
  }

  #transmit(entry: Unacked): void {
    const n = ++this.#transmitted;
    const f = this.#o.faults();
    entry.sentAt = Date.now();
    if (every(f.dropEvery, n)) return;
    if (every(f.reorderEvery, n) && this.#held === undefined) {
      this.#held = entry.frame;
      return;
    }
    this.#raw(entry.frame);
    if (every(f.duplicateEvery, n)) this.#raw(entry.frame);
    this.#flushHeld();
  }

  #flushHeld(): void {
    if (this.#held === undefined) return;
    const held = this.#held;
    this.#held = undefined;
    this.#raw(held);
  }

  /** Resends the oldest unacknowledged message once it is older than the RTO. */
  #scan(): void {
    this.#flushHeld();
    if (this.#paused) return;
    const oldest = this.#unacked.values().next();
    if (oldest.done === true || oldest.value.sentAt === undefined) return;
    if (Date.now() - oldest.value.sentAt < this.#o.resendMs) return;
    oldest.value.sentAt = Date.now();
    this.#raw(oldest.value.frame);
    this.#o.hooks.resent();
  }

  #receive(frame: Buffer, isBinary: boolean): void {
    const { hooks } = this.#o;
    if (!isBinary) {
      hooks.violation('text frame after the open-data-channel frame (all later frames are binary)');
      return;
    }
    let m: AgentMessage;
    try {
      const d = decode(frame);
      d.problems.forEach((p) => { hooks.violation(p); });
      m = d.message;
    } catch (e) {
      hooks.violation(e instanceof FrameError ? e.message : String(e));
      return;
    }
    if (m.messageType === MessageType.input) this.#input(m);
    else if (m.messageType === MessageType.ack) this.#ack(m);
    else hooks.violation(`unexpected ${m.messageType} from the client`);
  }

  #input(m: AgentMessage): void {
    const seq = m.sequenceNumber;
    if (seq < this.#expected) {
      this.#acknowledge(m);
    } else if (seq > this.#expected) {
      if (this.#early.has(seq)) this.#acknowledge(m);
      else this.#accept(m);
      this.#early.set(seq, m);
    } else if (this.#o.hooks.deliver(m)) {
      this.#expected++;
      this.#accept(m);
      this.#drain();
    }
  }

  #drain(): void {
    for (let m = this.#early.get(this.#expected); m !== undefined; m = this.#early.get(this.#expected)) {
      if (!this.#o.hooks.deliver(m)) return;
      this.#early.delete(this.#expected);
      this.#expected++;
    }
  }

  /** First acknowledgement of a message (the one the withholding fault may skip). */
  #accept(m: AgentMessage): void {
    if (!every(this.#o.faults().withholdAckEvery, ++this.#accepted)) this.#acknowledge(m);
  }

  #acknowledge(m: AgentMessage): void {
    this.#raw(encode(ackOf(m)));
  }

  #ack(m: AgentMessage): void {
    const seq = ackedSequence(m);
    if (seq === undefined) this.#o.hooks.violation(`acknowledge without a sequence number: ${m.payload.toString('utf8')}`);
    else this.#unacked.delete(seq);
  }
}
