// The reliability engine: RTO arithmetic, the send and receive windows, the sending and receiving
// halves, and a seeded simulation of two peers over links that lose, duplicate, delay and reorder
// messages (seeds are printed in every failure message).
import { describe, expect, it } from 'vitest';
import { SessionError } from '../../domain/errors.js';
import { decodeAcknowledgement, decodeAgentMessage, encodeAgentMessage, MessageType, PayloadType, type AgentMessage } from './agent-message.js';
import { Inbound } from './inbound.js';
import { Outbound } from './outbound.js';
import { ReceiveWindow, RetransmissionTimeout, SendWindow } from './reliability.js';
import { seeded } from '../../../test/fakes/random.js';


/** CreatedDate 0 is invalid on the wire, so simulated time starts at a real-looking epoch. */
const epoch = 1_700_000_000_000;
let ids = 0;
const newId = (): string => `00000000-0000-4000-8000-${(ids++).toString(16).padStart(12, '0')}`;

describe('the retransmission timeout', () => {
  it('starts at 200 ms and follows the plugin\'s EWMA', () => {
    const t = new RetransmissionTimeout();
    expect(t.ms).toBe(200);
    t.sample(100);
    expect(t.ms).toBe(110);
    t.sample(300);
    // RTTVAR = ¼·200 = 50; SRTT = ⅞·100 + ⅛·300 = 125; RTO = 125 + 200
    expect(t.ms).toBe(325);
  });

  it('is clamped to 1 s and to 10 ms', () => {
    const t = new RetransmissionTimeout();
    t.sample(5000);
    expect(t.ms).toBe(1000);
    for (let i = 0; i < 400; i++) t.sample(0);
    expect(t.ms).toBeCloseTo(10, 6);
    expect(t.ms).toBeGreaterThanOrEqual(10);
  });
});

describe('the send window', () => {
  it('counts unacknowledged bytes and lets a lone message exceed the cap', () => {
    const w = new SendWindow();
    expect(w.fits(5000, 100)).toBe(true);
    w.add(w.take(), Buffer.alloc(0), 60, 0);
    expect(w.fits(40, 100)).toBe(true);
    expect(w.fits(41, 100)).toBe(false);
    expect(w.acknowledge(0, 10)).toBe(true);
    expect(w.acknowledge(0, 10)).toBe(false);
    expect(w.bytes).toBe(0);
  });

  it('resends everything older than the RTO, in order, and samples no RTT from a resent message (Karn)', () => {
    const w = new SendWindow();
    for (let i = 0; i < 3; i++) w.add(w.take(), Buffer.from([i]), 1, i * 100);
    expect(w.due(199).map((e) => e.seq)).toEqual([]);
    expect(w.due(250).map((e) => e.seq)).toEqual([0]);
    expect(w.due(400).map((e) => e.seq)).toEqual([1, 2]);
    w.acknowledge(0, 420);
    expect(w.rtoMs).toBe(200);
    w.add(w.take(), Buffer.from([3]), 1, 500);
    w.acknowledge(3, 600);
    expect(w.rtoMs).toBe(110);
  });

  it('measures how long the agent has acknowledged nothing', () => {
    const w = new SendWindow();
    expect(w.stalledFor(1000)).toBe(0);
    w.add(w.take(), Buffer.alloc(0), 1, 1000);
    w.add(w.take(), Buffer.alloc(0), 1, 1500);
    expect(w.stalledFor(3000)).toBe(2000);
    w.acknowledge(1, 3000);
    expect(w.stalledFor(3500)).toBe(500);
    w.restartClock(3500);
    expect(w.stalledFor(3600)).toBe(100);
  });
});

describe('the receive window', () => {
  it('delivers in order, buffers the future, and names duplicates', () => {
    const w = new ReceiveWindow<string>(10);
    expect(w.accept(2, 'c')).toEqual({ kind: 'buffered' });
    expect(w.accept(2, 'c')).toEqual({ kind: 'duplicate' });
    expect(w.accept(0, 'a')).toEqual({ kind: 'in-order', ready: ['a'] });
    expect(w.accept(0, 'a')).toEqual({ kind: 'duplicate' });
    expect(w.accept(1, 'b')).toEqual({ kind: 'in-order', ready: ['b', 'c'] });
    expect(w.expected).toBe(3);
    expect(w.buffered).toBe(0);
  });

  it('refuses to buffer beyond its cap but always takes the next in order', () => {
    const w = new ReceiveWindow<number>(2);
    w.accept(1, 1);
    w.accept(2, 2);
    expect(w.accept(3, 3)).toEqual({ kind: 'full' });
    expect(w.accept(0, 0)).toEqual({ kind: 'in-order', ready: [0, 1, 2] });
  });
});

interface Harness {
  readonly sent: AgentMessage[];
  readonly out: Outbound;
  time: number;
}

function outbound(maxUnackedBytes = 4096, noProgressTimeoutMs = 10_000): Harness {
  const h: Harness = { sent: [], time: 0, out: undefined as unknown as Outbound };
  const out = new Outbound({
    messageType: MessageType.input, transmit: (f) => { h.sent.push(decodeAgentMessage(f)); }, now: () => epoch + h.time, newId, maxUnackedBytes, noProgressTimeoutMs,
  });
  return Object.assign(h, { out });
}

describe('the sending half', () => {
  it('holds data until the gate opens but sends the urgent handshake response at once', () => {
    const h = outbound();
    h.out.write(PayloadType.output, Buffer.from('early'));
    h.out.urgent(PayloadType.handshakeResponse, Buffer.from('{}'));
    expect(h.sent.map((m) => [m.sequenceNumber, m.payloadType])).toEqual([[0, PayloadType.handshakeResponse]]);
    h.out.open();
    expect(h.sent.map((m) => [m.sequenceNumber, m.payloadType, m.payload.toString()])).toEqual([[0, 6, '{}'], [1, 1, 'early']]);
  });

  it('cuts writes into messages of at most 1024 bytes with consecutive sequence numbers', () => {
    const h = outbound(1 << 20);
    h.out.open();
    const data = Buffer.from(Array.from({ length: 2500 }, (_, i) => i % 251));
    h.out.write(PayloadType.output, data);
    expect(h.sent.map((m) => [m.sequenceNumber, m.payload.length, m.flags, m.messageType])).toEqual([
      [0, 1024, 0, 'input_stream_data'], [1, 1024, 0, 'input_stream_data'], [2, 452, 0, 'input_stream_data'],
    ]);
    expect(Buffer.concat(h.sent.map((m) => m.payload))).toEqual(data);
  });

  it('makes the writer wait while unacknowledged bytes are at the cap', () => {
    const h = outbound(2048);
    h.out.open();
    let done = 0;
    h.out.write(PayloadType.output, Buffer.alloc(5000), () => { done += 1; });
    expect(h.sent).toHaveLength(2);
    expect(done).toBe(0);
    expect(h.out.queuedBytes).toBe(5000 - 2048);
    h.out.acknowledge(0);
    expect(h.sent).toHaveLength(3);
    h.out.acknowledge(1);
    h.out.acknowledge(2);
    expect(h.sent).toHaveLength(5);
    expect(done).toBe(1);
  });

  it('resends each unacknowledged message once its RTO has passed, and stops after the ack', () => {
    const h = outbound();
    h.out.open();
    h.out.write(PayloadType.output, Buffer.from('x'));
    h.time = 150;
    h.out.tick();
    expect(h.sent).toHaveLength(1);
    h.time = 200;
    h.out.tick();
    expect(h.sent).toHaveLength(2);
    expect(h.sent[1]?.messageId).toBe(h.sent[0]?.messageId);
    h.out.acknowledge(0);
    h.time = 2000;
    h.out.tick();
    expect(h.sent).toHaveLength(2);
    expect(h.out.stats).toEqual({ sent: 1, resent: 1, acknowledged: 1 });
  });

  it('neither sends nor resends while paused, and does not count a pause against the agent', () => {
    const h = outbound(4096, 1000);
    h.out.open();
    h.out.write(PayloadType.output, Buffer.from('a'));
    h.out.pause();
    h.out.write(PayloadType.output, Buffer.from('b'));
    for (h.time = 100; h.time <= 5000; h.time += 100) expect(h.out.tick()).toBeUndefined();
    expect(h.sent).toHaveLength(1);
    h.out.resume();
    expect(h.sent.map((m) => m.payload.toString())).toEqual(['a', 'b']);
    h.time += 900;
    expect(h.out.tick()).toBeUndefined();
  });

  it('gives up with a timeout error after the configured time without progress', () => {
    const h = outbound(4096, 1000);
    h.out.open();
    h.out.write(PayloadType.output, Buffer.from('a'));
    h.time = 999;
    expect(h.out.tick()).toBeUndefined();
    h.time = 1000;
    const e = h.out.tick();
    expect(e).toBeInstanceOf(SessionError);
    expect(e?.kind).toBe('timeout');
  });

  it('fails waiting writers with the closing error, or drops their data silently on a clean close', () => {
    const h = outbound(10);
    h.out.open();
    const results: unknown[] = [];
    h.out.write(PayloadType.output, Buffer.alloc(20));
    h.out.write(PayloadType.output, Buffer.alloc(20), (e) => results.push(e));
    const boom = new SessionError('closed', 'gone');
    h.out.close(boom);
    h.out.write(PayloadType.output, Buffer.alloc(1), (e) => results.push(e));
    expect(results).toEqual([boom, boom]);
    const quiet = outbound(10);
    quiet.out.open();
    quiet.out.write(PayloadType.output, Buffer.alloc(20));
    quiet.out.write(PayloadType.output, Buffer.alloc(20), (e) => results.push(e ?? 'ok'));
    quiet.out.close();
    expect(results.at(-1)).toBe('ok');
  });
});

const output = (seq: number, text: string): AgentMessage => ({
  messageType: MessageType.output, schemaVersion: 1, createdDate: 1, sequenceNumber: seq, flags: 0, messageId: newId(), payloadType: 1, payload: Buffer.from(text),
});

describe('the receiving half', () => {
  it('acknowledges what it takes, re-acknowledges duplicates and delivers each message once, in order', () => {
    const acks: number[] = [];
    const got: string[] = [];
    const room = { ok: true };
    const inb = new Inbound({
      transmit: (f) => acks.push(decodeAcknowledgement(decodeAgentMessage(f).payload).sequenceNumber), now: () => 1, newId, maxOutOfOrder: 1,
      hasRoom: () => room.ok, deliver: (m) => got.push(m.payload.toString()),
    });
    expect(inb.receive(output(1, 'b'))).toBe('buffered');
    expect(inb.receive(output(2, 'c'))).toBe('dropped');
    room.ok = false;
    expect(inb.receive(output(0, 'a'))).toBe('dropped');
    room.ok = true;
    expect(inb.receive(output(0, 'a'))).toBe('delivered');
    expect(inb.receive(output(0, 'a'))).toBe('duplicate');
    expect(inb.receive(output(2, 'c'))).toBe('delivered');
    expect(got).toEqual(['a', 'b', 'c']);
    expect(acks).toEqual([1, 0, 0, 2]);
    expect(inb.stats).toEqual({ delivered: 3, buffered: 1, duplicates: 1, dropped: 2 });
  });
});

/** One direction of a simulated link: each frame may be lost, duplicated and delayed (hence reordered). */
interface Link {
  readonly loss: number;
  readonly dup: number;
  readonly maxDelayMs: number;
}

interface Peer {
  readonly out: Outbound;
  readonly inb: Inbound;
  readonly received: Buffer[];
}

class Simulation {
  time = 0;
  readonly #events: { at: number; order: number; run: () => void }[] = [];
  #order = 0;
  readonly rand: () => number;

  constructor(seed: number) {
    this.rand = seeded(seed);
  }

  schedule(delay: number, run: () => void): void {
    this.#events.push({ at: this.time + delay, order: this.#order++, run });
  }

  /** Runs events and 100 ms resend scans until `until` holds or `limitMs` of simulated time passed. */
  run(peers: readonly Peer[], until: () => boolean, limitMs: number): void {
    let nextScan = 100;
    while (!until() && this.time < limitMs) {
      this.#events.sort((a, b) => a.at - b.at || a.order - b.order);
      const next = this.#events[0];
      if (next !== undefined && next.at <= nextScan) {
        this.#events.shift();
        this.time = next.at;
        next.run();
        continue;
      }
      this.time = nextScan;
      nextScan += 100;
      for (const p of peers) {
        const e = p.out.tick();
        if (e !== undefined) throw e;
      }
    }
  }

  send(link: Link, frame: Buffer, to: () => Peer): void {
    if (this.rand() < link.loss) return;
    const copies = this.rand() < link.dup ? 2 : 1;
    for (let i = 0; i < copies; i++) this.schedule(1 + this.rand() * link.maxDelayMs, () => { receive(to(), frame); });
  }
}

function receive(p: Peer, frame: Buffer): void {
  const m = decodeAgentMessage(frame);
  if (m.messageType === MessageType.acknowledge) p.out.acknowledge(decodeAcknowledgement(m.payload).sequenceNumber);
  else p.inb.receive(m);
}

function peer(sim: Simulation, o: { type: string; link: Link; other: () => Peer; slowReader: number; maxOutOfOrder: number }): Peer {
  const received: Buffer[] = [];
  const transmit = (f: Buffer): void => { sim.send(o.link, f, o.other); };
  const now = (): number => epoch + sim.time;
  const out = new Outbound({ messageType: o.type, transmit, now, newId, maxUnackedBytes: 8192, noProgressTimeoutMs: 300_000 });
  const inb = new Inbound({
    transmit, now, newId, maxOutOfOrder: o.maxOutOfOrder, hasRoom: () => sim.rand() >= o.slowReader, deliver: (m) => received.push(m.payload),
  });
  out.open();
  return { out, inb, received };
}

function randomBytes(rand: () => number, n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
}

function simulate(seed: number, link: Link): void {
  const sim = new Simulation(seed);
  const peers: { client?: Peer; agent?: Peer } = {};
  const client = peer(sim, { type: MessageType.input, link, other: () => peers.agent as Peer, slowReader: 0.1, maxOutOfOrder: 8 });
  const agent = peer(sim, { type: MessageType.output, link, other: () => peers.client as Peer, slowReader: 0.1, maxOutOfOrder: 8 });
  Object.assign(peers, { client, agent });
  const up = randomBytes(sim.rand, 40_000);
  const down = randomBytes(sim.rand, 60_000);
  let writesDone = 0;
  for (const [p, data] of [[client, up], [agent, down]] as const) {
    for (let at = 0; at < data.length;) {
      const n = 1 + Math.floor(sim.rand() * 3000);
      p.out.write(PayloadType.output, data.subarray(at, at + n), (e) => { if (e === undefined) writesDone += 1; });
      at += n;
    }
  }
  const complete = (): boolean => Buffer.concat(agent.received).length >= up.length && Buffer.concat(client.received).length >= down.length
    && client.out.unackedCount === 0 && agent.out.unackedCount === 0;
  sim.run([client, agent], complete, 30 * 60_000);
  const context = `seed ${seed}, link ${JSON.stringify(link)}, simulated ${sim.time} ms`;
  expect(Buffer.concat(agent.received).equals(up), `client→agent bytes differ (${context})`).toBe(true);
  expect(Buffer.concat(client.received).equals(down), `agent→client bytes differ (${context})`).toBe(true);
  expect(client.out.unackedCount + agent.out.unackedCount, `unacknowledged left (${context})`).toBe(0);
  expect(writesDone, `writers still waiting (${context})`).toBeGreaterThan(0);
  expect(client.out.queuedBytes + agent.out.queuedBytes, `queued left (${context})`).toBe(0);
}

describe('two peers over a bad link (seeded simulation)', () => {
  const base = Date.now() % 100_000;
  const links: Link[] = [
    { loss: 0, dup: 0, maxDelayMs: 1 },
    { loss: 0.2, dup: 0, maxDelayMs: 5 },
    { loss: 0, dup: 0.3, maxDelayMs: 80 },
    { loss: 0.3, dup: 0.3, maxDelayMs: 200 },
  ];
  for (const [i, link] of links.entries()) {
    it(`delivers every byte exactly once and in order: loss ${link.loss}, duplication ${link.dup}, delay ≤ ${link.maxDelayMs} ms`, () => {
      for (let k = 0; k < 4; k++) simulate(base + i * 10 + k, link);
    });
  }

  it('an encoded frame is sent identically on every retransmission', () => {
    const frames: Buffer[] = [];
    let time = 0;
    const out = new Outbound({ messageType: MessageType.input, transmit: (f) => frames.push(f), now: () => epoch + time, newId, maxUnackedBytes: 100, noProgressTimeoutMs: 1e9 });
    out.open();
    out.write(PayloadType.output, Buffer.from('same'));
    for (time = 200; time <= 1000; time += 200) out.tick();
    expect(frames.length).toBeGreaterThan(2);
    for (const f of frames) expect(f.equals(frames[0] ?? Buffer.alloc(0))).toBe(true);
    expect(encodeAgentMessage(decodeAgentMessage(frames[0] ?? Buffer.alloc(0))).equals(frames[0] ?? Buffer.alloc(0))).toBe(true);
  });
});
