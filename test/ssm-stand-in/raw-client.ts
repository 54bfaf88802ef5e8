// A minimal raw client of the SSM data channel, for the unit tests of the Session Manager stand-in
// (a test double of AWS Session Manager) only. It is written independently of the stand-in's codec
// and of ORCA's client, so that neither vouches for itself: it frames input and acknowledgements,
// reads output by sequence number, and records every frame it receives for the tests to inspect.
import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket, type RawData } from 'ws';

/** A received frame, as the raw client reads it. */
export interface Msg { readonly type: string; readonly seq: number; readonly flags: number; readonly id: string; readonly payloadType: number; readonly payload: Buffer }

/** A client frame: HL 116, space-padded type, schema 1, now, seq, flags (3 on acks), swapped id halves, SHA-256. */
export function frame(type: string, seq: number, payloadType: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(120, 0);
  const id = Buffer.from(randomUUID().replace(/-/g, ''), 'hex');
  h.writeUInt32BE(116, 0);
  h.write(type.padEnd(32, ' '), 4, 'ascii');
  h.writeUInt32BE(1, 36);
  h.writeBigUInt64BE(BigInt(Date.now()), 40);
  h.writeBigInt64BE(BigInt(seq), 48);
  h.writeBigUInt64BE(type === 'acknowledge' ? 3n : 0n, 56);
  Buffer.concat([id.subarray(8), id.subarray(0, 8), createHash('sha256').update(payload).digest()]).copy(h, 64);
  h.writeUInt32BE(payloadType, 112);
  h.writeUInt32BE(payload.length, 116);
  return Buffer.concat([h, payload]);
}

/** Reads a frame: payload from HL + 4 to the end, MessageId halves swapped back. */
export function parse(b: Buffer): Msg {
  const hex = Buffer.concat([b.subarray(72, 80), b.subarray(64, 72)]).toString('hex');
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { type: b.subarray(4, 36).toString('ascii').trim(), seq: Number(b.readBigInt64BE(48)), flags: Number(b.readBigUInt64BE(56)), id, payloadType: b.readUInt32BE(112), payload: b.subarray(b.readUInt32BE(0) + 4) };
}

/** A message's payload as JSON. */
export const json = (m: Msg | undefined): Record<string, unknown> => JSON.parse(m?.payload.toString('utf8') ?? 'null') as Record<string, unknown>;
/** An smux v1 frame: ver 1, cmd, length (uint16 LE), stream id (uint32 LE), data. */
export const smux = (cmd: number, sid: number, data = Buffer.alloc(0)): Buffer => Buffer.concat([
  Buffer.from([1, cmd, data.length & 0xff, data.length >> 8, sid & 0xff, (sid >> 8) & 0xff, (sid >> 16) & 0xff, sid >>> 24]), data]);

/** One client session: opens the socket, acknowledges output (unless told not to), sends input. */
export class RawClient {
  readonly frames: Msg[] = [];
  readonly #outputs = new Map<number, Msg>();
  readonly closed: Promise<number>;
  /** Acknowledge output as it arrives. */
  ack = true;
  #seq = 0;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => { ws.on('close', (code) => { resolve(code); }); });
    ws.on('message', (data: RawData) => { this.#receive(parse(data as Buffer)); });
  }

  /** Opens the StreamUrl and sends the open-data-channel text frame. */
  static async open(url: string, token: string): Promise<RawClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const c = new RawClient(ws);
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    ws.send(JSON.stringify({ MessageSchemaVersion: '1.0', RequestId: randomUUID(), TokenValue: token, ClientId: randomUUID(), ClientVersion: '1.2.677.0' }));
    return c;
  }

  /** Output messages in sequence order, contiguous from 0. */
  get ordered(): Msg[] {
    const out: Msg[] = [];
    for (let m = this.#outputs.get(0); m !== undefined; m = this.#outputs.get(out.length)) out.push(m);
    return out;
  }

  /** The Output (type 1) bytes received, in order. */
  get stream(): Buffer { return Buffer.concat(this.ordered.filter((m) => m.payloadType === 1).map((m) => m.payload)); }
  get channelClosed(): Msg | undefined { return this.frames.find((m) => m.type === 'channel_closed'); }
  /** Acknowledgements received for input `seq`. */
  acksOf(seq: number): number { return this.frames.filter((m) => m.type === 'acknowledge' && json(m).AcknowledgedMessageSequenceNumber === seq).length; }

  /** Sends input_stream_data with the next sequence number (or `seq`); returns the frame for resending. */
  send(payloadType: number, payload: Buffer | string, seq = this.#seq++): Buffer {
    const f = frame('input_stream_data', seq, payloadType, Buffer.from(payload));
    this.ws.send(f);
    return f;
  }

  /** Sends and resends (every 100 ms, as a client would) until acknowledged. */
  async sendReliably(payloadType: number, payload: string): Promise<void> {
    const seq = this.#seq;
    const f = this.send(payloadType, payload);
    for (let i = 0; i < 50 && this.acksOf(seq) === 0; i++) {
      await sleep(100);
      if (this.acksOf(seq) === 0) this.ws.send(f);
    }
  }

  /** Waits until `pred` holds. */
  async until(what: string, pred: () => boolean, ms = 8000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.stream.toString('latin1'))}`);
      await sleep(10);
    }
  }

  #receive(m: Msg): void {
    this.frames.push(m);
    if (m.type !== 'output_stream_data') return;
    this.#outputs.set(m.seq, m);
    if (this.ack) {
      const content = { AcknowledgedMessageType: m.type, AcknowledgedMessageId: m.id, AcknowledgedMessageSequenceNumber: m.seq, IsSequentialMessage: true };
      this.ws.send(frame('acknowledge', 0, 0, Buffer.from(JSON.stringify(content))));
    }
  }
}
