// The data channel against a fake agent peer: a `ws` server on loopback that speaks the wire
// protocol with the project's codec, records everything the client sends, and can drop, withhold,
// reorder or duplicate messages on demand.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { SessionError } from '../../domain/errors.js';
import {
  acknowledgementOf, decodeAcknowledgement, decodeAgentMessage, encodeAgentMessage, encodeFlag, MessageType, PayloadType, type AgentMessage,
} from './agent-message.js';
import { newMessageId, systemTimers, type ChannelTimers, type ChannelTuning } from './channel-config.js';
import { checkStreamUrl, DataChannel, type DataChannelOptions } from './data-channel.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class FakeAgent {
  readonly openFrames: Record<string, unknown>[] = [];
  readonly received: AgentMessage[] = [];
  ackInput = true;
  readonly dropFirstCopyOf = new Set<number>();
  connections = 0;
  socket: WebSocket | undefined = undefined;
  readonly #server: WebSocketServer;
  private constructor(server: WebSocketServer) {
    this.#server = server;
    server.on('connection', (ws) => {
      this.connections += 1;
      this.socket = ws;
      ws.on('message', (data: Buffer, binary: boolean) => { this.#onMessage(data, binary); });
    });
  }
  static async start(o: { autoPong?: boolean } = {}): Promise<FakeAgent> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong: o.autoPong ?? true });
    await once(server, 'listening');
    return new FakeAgent(server);
  }
  get url(): string { return `ws://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1/data-channel/s-1?role=publish_subscribe`; }
  /** Client input messages (every copy, in arrival order). */
  inputs(payloadType?: number): AgentMessage[] {
    return this.received.filter((m) => m.messageType === MessageType.input && (payloadType === undefined || m.payloadType === payloadType));
  }
  /** Sequence numbers the client acknowledged, in order. */
  acks(): number[] {
    return this.received.filter((m) => m.messageType === MessageType.acknowledge).map((m) => decodeAcknowledgement(m.payload).sequenceNumber);
  }
  copiesOf(seq: number): number { return this.inputs().filter((m) => m.sequenceNumber === seq).length; }
  text(payloadType = PayloadType.output): string {
    const seen = new Set<number>();
    return this.inputs(payloadType).filter((m) => !seen.has(m.sequenceNumber) && seen.add(m.sequenceNumber)).map((m) => m.payload.toString()).join('');
  }
  message(over: Partial<AgentMessage>): AgentMessage {
    return { messageType: MessageType.output, schemaVersion: 1, createdDate: Date.now(), sequenceNumber: 0, flags: 0, messageId: newMessageId(), payloadType: 1, payload: Buffer.alloc(0), ...over };
  }
  sendFrame(frame: Buffer): void { this.socket?.send(frame); }
  output(seq: number, payload: string | Buffer, payloadType: number = PayloadType.output): void {
    this.sendFrame(encodeAgentMessage(this.message({ sequenceNumber: seq, payloadType, payload: Buffer.from(payload), flags: seq === 0 ? 1 : 0 })));
  }
  control(messageType: string, payload = ''): void { this.sendFrame(encodeAgentMessage(this.message({ messageType, payloadType: 0, payload: Buffer.from(payload) }))); }
  ack(m: AgentMessage): void { this.sendFrame(encodeAgentMessage(acknowledgementOf(m, { messageId: newMessageId(), createdDate: Date.now() }))); }
  async until(what: string, ok: () => boolean, ms = 3000): Promise<void> {
    const end = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await sleep(5);
    }
  }
  async close(): Promise<void> {
    for (const c of this.#server.clients) c.terminate();
    await new Promise((r) => { this.#server.close(r); });
  }
  #onMessage(data: Buffer, binary: boolean): void {
    if (!binary) {
      this.openFrames.push(JSON.parse(data.toString()) as Record<string, unknown>);
      return;
    }
    const m = decodeAgentMessage(data);
    this.received.push(m);
    if (m.messageType !== MessageType.input) return;
    if (this.dropFirstCopyOf.delete(m.sequenceNumber)) return;
    if (this.ackInput) this.ack(m);
  }
}

const fast: Partial<ChannelTuning> = { resendScanMs: 20 };

async function open(agent: FakeAgent, over: Partial<DataChannelOptions> = {}): Promise<{ channel: DataChannel; read: () => string; errors: unknown[] }> {
  const channel = await DataChannel.open({ streamUrl: agent.url, tokenValue: 'token-1', allowPlainWebSocket: true, tuning: fast, ...over });
  const chunks: Buffer[] = [];
  const errors: unknown[] = [];
  channel.stream.on('data', (c: Buffer) => chunks.push(c));
  channel.stream.on('error', (e) => errors.push(e));
  await agent.until('the open frame', () => agent.openFrames.length === 1);
  return { channel, read: () => Buffer.concat(chunks).toString(), errors };
}

let agent: FakeAgent;
beforeEach(async () => { agent = await FakeAgent.start(); });
afterEach(async () => { await agent.close(); });

describe('opening the data channel', () => {
  it('sends the text open frame with the token, a request id, the client id and version 1.2.677.0', async () => {
    const { channel } = await open(agent, { clientId: 'c0ffee00-0000-4000-8000-000000000001' });
    expect(agent.openFrames[0]).toEqual({
      MessageSchemaVersion: '1.0', RequestId: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown, TokenValue: 'token-1',
      ClientId: 'c0ffee00-0000-4000-8000-000000000001', ClientVersion: '1.2.677.0',
    });
    channel.close();
    expect(await channel.done).toEqual({ reason: 'closed by ORCA' });
  });

  it('refuses ws:// without the explicit switch and never dials', async () => {
    const attempt = DataChannel.open({ streamUrl: agent.url, tokenValue: 't' });
    await expect(attempt).rejects.toMatchObject({ kind: 'protocol', message: expect.stringMatching(/refusing an unencrypted ws:\/\/ data-channel URL/) as unknown });
    await sleep(50);
    expect(agent.connections).toBe(0);
    expect(() => { checkStreamUrl('https://example.com/', true); }).toThrow(/unsupported scheme https:/);
    expect(() => { checkStreamUrl('::', true); }).toThrow(/not a URL/);
    expect(() => { checkStreamUrl('wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/s?role=publish_subscribe', false); }).not.toThrow();
  });

  it('rejects with a closed SessionError when nothing listens, and with the reason when aborted', async () => {
    const gone = await FakeAgent.start();
    const url = gone.url;
    await gone.close();
    await expect(DataChannel.open({ streamUrl: url, tokenValue: 't', allowPlainWebSocket: true })).rejects.toMatchObject({ kind: 'closed', message: expect.stringMatching(/could not open the data channel/) as unknown });
    const ac = new AbortController();
    ac.abort(new Error('caller gave up'));
    await expect(DataChannel.open({ streamUrl: url, tokenValue: 't', allowPlainWebSocket: true, signal: ac.signal })).rejects.toThrow('caller gave up');
  });
});

describe('receiving', () => {
  it('delivers Output in order and acknowledges each message', async () => {
    const { read } = await open(agent);
    for (const [i, t] of ['a', 'b', 'c'].entries()) agent.output(i, t);
    await agent.until('three acks', () => agent.acks().length === 3);
    expect(read()).toBe('abc');
    expect(agent.acks()).toEqual([0, 1, 2]);
    const ack = agent.received.find((m) => m.messageType === MessageType.acknowledge);
    expect(ack).toMatchObject({ flags: 3, sequenceNumber: 0, payloadType: 0 });
  });

  it('re-acknowledges a duplicate without delivering it twice', async () => {
    const { read, channel } = await open(agent);
    agent.output(0, 'one');
    agent.output(1, 'two');
    agent.output(0, 'one');
    await agent.until('three acks', () => agent.acks().length === 3);
    expect(agent.acks()).toEqual([0, 1, 0]);
    expect(read()).toBe('onetwo');
    expect(channel.stats.inbound.duplicates).toBe(1);
  });

  it('buffers out-of-order messages, acknowledging them at once, and delivers them in order', async () => {
    const { read } = await open(agent);
    agent.output(2, 'c');
    await agent.until('the ack of 2', () => agent.acks().length === 1);
    expect(read()).toBe('');
    agent.output(0, 'a');
    agent.output(1, 'b');
    await agent.until('three acks', () => agent.acks().length === 3);
    expect(agent.acks()).toEqual([2, 0, 1]);
    expect(read()).toBe('abc');
  });

  it('drops a message with a bad digest unacknowledged and takes the resent copy', async () => {
    const { read, channel } = await open(agent);
    const bad = encodeAgentMessage(agent.message({ payload: Buffer.from('data') }));
    bad[bad.length - 1] = 0x21;
    agent.sendFrame(bad);
    await agent.until('the malformed count', () => channel.stats.malformed === 1);
    expect(agent.acks()).toEqual([]);
    agent.output(0, 'data');
    await agent.until('the ack', () => agent.acks().length === 1);
    expect(read()).toBe('data');
  });

  it('leaves the next message unacknowledged while the reader is behind, and takes it when resent', async () => {
    const channel = await DataChannel.open({ streamUrl: agent.url, tokenValue: 't', allowPlainWebSocket: true, tuning: { maxBufferedOutputBytes: 10 } });
    await agent.until('the open frame', () => agent.openFrames.length === 1);
    agent.output(0, 'x'.repeat(12));
    agent.output(1, 'y');
    await agent.until('the ack of 0', () => agent.acks().length === 1);
    await sleep(50);
    expect(agent.acks()).toEqual([0]);
    expect((channel.stream.read() as Buffer).toString()).toBe('x'.repeat(12));
    agent.output(1, 'y');
    await agent.until('the ack of 1', () => agent.acks().length === 2);
    expect((channel.stream.read() as Buffer).toString()).toBe('y');
    channel.close();
  });

  it('surfaces Flag payloads to the channel\'s listeners', async () => {
    const { channel } = await open(agent);
    const flags: number[] = [];
    channel.onFlag((f) => flags.push(f));
    agent.output(0, encodeFlag(3), PayloadType.flag);
    await agent.until('the flag', () => flags.length === 1);
    expect(flags).toEqual([3]);
    expect(agent.acks()).toEqual([0]);
  });

  it('ends cleanly on channel_closed with its Output as the reason', async () => {
    const { channel, read, errors } = await open(agent);
    agent.output(0, 'bye');
    agent.control(MessageType.channelClosed, JSON.stringify({ MessageType: 'channel_closed', Output: 'Exiting session with sessionId: s-1.', SessionId: 's-1' }));
    const ended = once(channel.stream, 'end');
    expect(await channel.done).toEqual({ reason: 'Exiting session with sessionId: s-1.' });
    await ended;
    expect(read()).toBe('bye');
    expect(errors).toEqual([]);
  });
});

/** Makes the agent speak first without a handshake, which opens the gate for input. */
async function streaming(agent: FakeAgent, over: Partial<DataChannelOptions> = {}): Promise<Awaited<ReturnType<typeof open>>> {
  const opened = await open(agent, over);
  agent.output(0, 'ORCA1 HELLO\n');
  await agent.until('the greeting ack', () => agent.acks().length === 1);
  return opened;
}

describe('sending', () => {
  it('holds input until the agent speaks, then sends it in messages of at most 1024 bytes from sequence 0', async () => {
    const { channel } = await open(agent);
    const data = Buffer.from(Array.from({ length: 3000 }, (_, i) => 65 + (i % 26)));
    channel.stream.write(data);
    await sleep(60);
    expect(agent.inputs()).toEqual([]);
    agent.output(0, 'hello');
    await agent.until('three inputs', () => agent.inputs().length === 3);
    expect(agent.inputs().map((m) => [m.sequenceNumber, m.payload.length, m.payloadType, m.flags])).toEqual([[0, 1024, 1, 0], [1, 1024, 1, 0], [2, 952, 1, 0]]);
    expect(agent.text()).toBe(data.toString());
  });

  it('resends a lost message after the RTO, with the same id, until it is acknowledged', async () => {
    const { channel } = await streaming(agent);
    agent.dropFirstCopyOf.add(0);
    channel.stream.write('lost once');
    await agent.until('the resent copy', () => agent.copiesOf(0) === 2, 2000);
    const [first, second] = agent.inputs();
    expect(second?.messageId).toBe(first?.messageId);
    await sleep(400);
    expect(agent.copiesOf(0)).toBe(2);
    expect(channel.stats.outbound).toMatchObject({ sent: 1, resent: 1, acknowledged: 1 });
  });

  it('fails with a timeout SessionError when the agent never acknowledges', async () => {
    const { channel, errors } = await streaming(agent, { tuning: { ...fast, noProgressTimeoutMs: 400 } });
    agent.ackInput = false;
    channel.stream.write('anyone?');
    const end = await channel.done;
    expect(end.error).toBeInstanceOf(SessionError);
    expect(end.error?.kind).toBe('timeout');
    expect(errors).toEqual([end.error]);
    expect(agent.copiesOf(0)).toBeGreaterThan(1);
  });

  it('makes writers wait while unacknowledged bytes are at the cap', async () => {
    const { channel } = await streaming(agent, { tuning: { ...fast, maxUnackedBytes: 4096 } });
    agent.ackInput = false;
    let written = false;
    channel.stream.write(Buffer.alloc(10 * 1024, 0x61), () => { written = true; });
    await agent.until('four messages', () => agent.inputs().length >= 4);
    await sleep(100);
    expect(new Set(agent.inputs().map((m) => m.sequenceNumber))).toEqual(new Set([0, 1, 2, 3]));
    expect(written).toBe(false);
    agent.ackInput = true;
    for (const m of agent.inputs()) agent.ack(m);
    await agent.until('the write callback', () => written);
    await agent.until('every byte', () => agent.text().length === 10 * 1024);
  });

  it('sends terminal sizes as Size payloads', async () => {
    const { channel } = await streaming(agent);
    channel.sendSize(120, 40);
    await agent.until('the size', () => agent.inputs(PayloadType.size).length === 1);
    expect(agent.inputs(PayloadType.size)[0]?.payload.toString()).toBe('{"cols":120,"rows":40}');
  });
});

describe('pause_publication', () => {
  it('stops sending until start_publication', async () => {
    const { channel } = await streaming(agent);
    agent.control(MessageType.pausePublication);
    await sleep(30);
    channel.stream.write('later');
    await sleep(150);
    expect(agent.inputs()).toEqual([]);
    agent.control(MessageType.startPublication);
    await agent.until('the input', () => agent.text() === 'later');
  });

  it('stops resending too, and any agent stream message resumes', async () => {
    const { channel } = await streaming(agent);
    agent.ackInput = false;
    channel.stream.write('x');
    await agent.until('the first copy', () => agent.copiesOf(0) === 1);
    agent.control(MessageType.pausePublication);
    await sleep(500);
    const copies = agent.copiesOf(0);
    await sleep(500);
    expect(agent.copiesOf(0)).toBe(copies);
    agent.output(1, 'still here');
    await agent.until('a resend', () => agent.copiesOf(0) > copies, 2000);
  });
});

const portHandshake = JSON.stringify({
  AgentVersion: '3.3.1142.0', RequestedClientActions: [{ ActionType: 'SessionType', ActionParameters: { SessionType: 'Port', Properties: { portNumber: '80', type: 'LocalPortForwarding' } } }],
});

describe('the handshake', () => {
  it('answers a Port HandshakeRequest and sends data only after HandshakeComplete', async () => {
    const { channel } = await open(agent);
    channel.stream.write('early data');
    agent.output(0, portHandshake, PayloadType.handshakeRequest);
    await agent.until('the response', () => agent.inputs(PayloadType.handshakeResponse).length === 1);
    const response = agent.inputs(PayloadType.handshakeResponse)[0] as AgentMessage;
    expect(response.sequenceNumber).toBe(0);
    expect(JSON.parse(response.payload.toString())).toEqual({
      ClientVersion: '1.2.677.0', ProcessedClientActions: [{ ActionType: 'SessionType', ActionStatus: 1, ActionResult: null, Error: '' }], Errors: null,
    });
    await sleep(100);
    expect(agent.inputs(PayloadType.output)).toEqual([]);
    agent.output(1, JSON.stringify({ HandshakeTimeToComplete: 1_000_000, CustomerMessage: '' }), PayloadType.handshakeComplete);
    await agent.until('the data', () => agent.text() === 'early data');
    expect(agent.inputs(PayloadType.output)[0]?.sequenceNumber).toBe(1);
    expect(agent.acks()).toEqual([0, 1]);
  });
});

describe('the socket', () => {
  it('ends the channel with a closed SessionError when the socket drops without channel_closed', async () => {
    const { channel } = await streaming(agent);
    agent.socket?.close(1011, 'gone');
    const end = await channel.done;
    expect(end.error?.kind).toBe('closed');
    expect(end.error?.message).toMatch(/WebSocket closed \(1011: gone\) before the session ended/);
  });

  it('ends the channel when pings go unanswered', async () => {
    const silent = await FakeAgent.start({ autoPong: false });
    const { channel } = await open(silent, { tuning: { ...fast, pingIntervalMs: 50 } });
    expect((await channel.done).error?.message).toMatch(/stopped answering WebSocket pings/);
    await silent.close();
  });

  it('keeps the session after end() of the writable side', async () => {
    const { channel, read } = await streaming(agent);
    channel.stream.end('last words');
    await agent.until('the input', () => agent.text() === 'last words');
    agent.output(1, ' and more');
    await agent.until('the output', () => read().endsWith(' and more'));
    expect(agent.socket?.readyState).toBe(1);
  });

  it('closes the socket and cancels every timer when the stream is destroyed', async () => {
    const active = new Set<() => void>();
    const track = (cancel: () => void): (() => void) => { const c = (): void => { active.delete(c); cancel(); }; active.add(c); return c; };
    const timers: ChannelTimers = { now: () => Date.now(), every: (ms, task) => track(systemTimers.every(ms, task)), after: (ms, task) => track(systemTimers.after(ms, task)) };
    const { channel } = await streaming(agent, { timers });
    agent.ackInput = false;
    channel.stream.write('unacked');
    expect(active.size).toBe(2);
    const serverSide = agent.socket as WebSocket;
    channel.stream.destroy();
    expect(await channel.done).toEqual({ reason: 'the session stream was destroyed' });
    await once(serverSide, 'close');
    const copies = agent.copiesOf(0);
    await sleep(400);
    expect(agent.copiesOf(0)).toBe(copies);
    await agent.until('no timers', () => active.size === 0);
  });
});

describe('a session over a bad network (seeded)', () => {
  it('delivers every byte once and in order despite reordering, duplicates and lost input', async () => {
    const seed = Date.now() % 100_000;
    let s = seed || 1;
    const rand = (): number => ((s = (s * 16_807) % 2_147_483_647) / 2_147_483_647);
    const { channel, read } = await streaming(agent);
    const pieces = Array.from({ length: 60 }, (_, i) => `<${i}:${'z'.repeat(Math.floor(rand() * 40))}>`);
    const order = pieces.map((_, i) => i + 1).sort(() => rand() - 0.5);
    for (const seq of order) {
      agent.output(seq, pieces[seq - 1] ?? '');
      if (rand() < 0.3) agent.output(seq, pieces[seq - 1] ?? '');
    }
    for (let i = 0; i < 20; i++) if (rand() < 0.5) agent.dropFirstCopyOf.add(i);
    const input = Array.from({ length: 20 }, (_, i) => `[${i}]`.repeat(1 + Math.floor(rand() * 300)));
    for (const p of input) channel.stream.write(p);
    await agent.until(`all output (seed ${seed})`, () => read() === `ORCA1 HELLO\n${pieces.join('')}`);
    await agent.until(`all input (seed ${seed})`, () => agent.text() === input.join(''), 5000);
    await agent.until(`an ack of every output (seed ${seed})`, () => new Set(agent.acks()).size === 61);
    expect(Math.max(...agent.acks()), `seed ${seed}`).toBe(60);
    expect(channel.stats.inbound.delivered, `seed ${seed}`).toBe(61);
  });
});
