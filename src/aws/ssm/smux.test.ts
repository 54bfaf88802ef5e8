// The smux v1 frame codec and client, against an in-test smux server end (the agent's side) on an
// in-memory byte stream.
import { once } from 'node:events';
import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SessionError } from '../../domain/errors.js';
import { encodeSmuxFrame, SmuxCmd, SmuxFrameReader, type SmuxCommand, type SmuxFrame } from './smux-frame.js';
import { SmuxClient } from './smux.js';
import { seeded } from '../../../test/fakes/random.js';

const frame = (cmd: SmuxCommand, streamId: number, payload: string | Buffer = ''): SmuxFrame => ({ cmd, streamId, payload: Buffer.from(payload) });


/** The agent's end: parses what the client writes, and pushes bytes or frames back. */
class FakeServer {
  readonly frames: SmuxFrame[] = [];
  readonly transport: Duplex;
  onFrame: (f: SmuxFrame) => void = () => undefined;
  readonly #reader = new SmuxFrameReader();
  #held: (() => void)[] | undefined = undefined;

  constructor(o: { highWaterMark?: number } = {}) {
    this.transport = new Duplex({
      writableHighWaterMark: o.highWaterMark ?? 16_384,
      read: () => undefined,
      write: (chunk: Buffer, _e, cb) => {
        for (const f of this.#reader.push(chunk)) {
          this.frames.push(f);
          this.onFrame(f);
        }
        if (this.#held === undefined) cb();
        else this.#held.push(() => { cb(); });
      },
    });
  }

  send(f: SmuxFrame | Buffer): void {
    this.transport.push(Buffer.isBuffer(f) ? f : encodeSmuxFrame(f));
  }

  /** Until release(), writes are not confirmed (the transport's buffer fills up). */
  hold(): void {
    this.#held = [];
  }

  release(): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const h of held) h();
  }

  of(streamId: number, cmd?: SmuxCommand): SmuxFrame[] {
    return this.frames.filter((f) => f.streamId === streamId && (cmd === undefined || f.cmd === cmd));
  }

  /** Echoes PSH upper-cased and answers FIN with FIN, as a well-behaved target would. */
  echo(): void {
    this.onFrame = (f) => {
      if (f.cmd === SmuxCmd.psh) this.send(frame(SmuxCmd.psh, f.streamId, f.payload.toString().toUpperCase()));
      if (f.cmd === SmuxCmd.fin) this.send(frame(SmuxCmd.fin, f.streamId));
    };
  }
}

const collect = (s: Duplex): { text: () => string; errors: unknown[] } => {
  const chunks: Buffer[] = [];
  const errors: unknown[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  s.on('error', (e) => errors.push(e));
  return { text: () => Buffer.concat(chunks).toString(), errors };
};

const kindOf = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    return e instanceof SessionError ? e.kind : String(e);
  }
};

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('smux frames', () => {
  it('encodes the v1 header: version, command, length LE, stream id LE', () => {
    expect(encodeSmuxFrame(frame(SmuxCmd.syn, 3)).toString('hex')).toBe('0100000003000000');
    expect(encodeSmuxFrame(frame(SmuxCmd.psh, 5, 'hi')).toString('hex')).toBe('01020200050000006869');
    expect(encodeSmuxFrame(frame(SmuxCmd.fin, 0x01020304)).toString('hex')).toBe('0101000004030201');
    expect(encodeSmuxFrame(frame(SmuxCmd.nop, 0)).toString('hex')).toBe('0103000000000000');
    expect(encodeSmuxFrame(frame(SmuxCmd.psh, 3, Buffer.alloc(300))).subarray(0, 4).toString('hex')).toBe('01022c01');
  });

  it('refuses to encode oversized payloads and payloads on SYN/FIN/NOP', () => {
    expect(() => encodeSmuxFrame(frame(SmuxCmd.psh, 3, Buffer.alloc(32_769)))).toThrow(/exceeds 32768/);
    expect(() => encodeSmuxFrame(frame(SmuxCmd.syn, 3, 'x'))).toThrow(/SYN carries no payload/);
    expect(() => encodeSmuxFrame(frame(SmuxCmd.fin, -1))).toThrow(SessionError);
  });

  it('reassembles frames from any split of the byte stream', () => {
    const seed = Date.now() % 100_000;
    const rand = seeded(seed);
    const frames = Array.from({ length: 200 }, (_, i) => (i % 3 === 0 ? frame(SmuxCmd.syn, 2 * i + 3) : frame(SmuxCmd.psh, 2 * i + 3, Buffer.alloc(Math.floor(rand() * 5000), i))));
    const bytes = Buffer.concat(frames.map(encodeSmuxFrame));
    for (let round = 0; round < 20; round++) {
      const reader = new SmuxFrameReader();
      const got: SmuxFrame[] = [];
      for (let at = 0; at < bytes.length;) {
        const n = rand() < 0.3 ? 1 : Math.floor(rand() * 9000);
        got.push(...reader.push(bytes.subarray(at, at + n)));
        at += n;
      }
      expect(got.map((f) => [f.cmd, f.streamId, f.payload.length]), `seed ${seed}, round ${round}`).toEqual(frames.map((f) => [f.cmd, f.streamId, f.payload.length]));
      expect(Buffer.concat(got.map(encodeSmuxFrame)).equals(bytes), `seed ${seed}, round ${round}`).toBe(true);
      expect(reader.pending, `seed ${seed}`).toBe(0);
    }
  });

  it('rejects version 2, UPD, unknown commands and payloads on non-PSH frames as protocol errors', () => {
    const cases: [string, RegExp][] = [
      ['0200000003000000', /version 2, expected 1/],
      ['0104000003000000', /UPD \(version 2 only\)/],
      ['0109000003000000', /unknown command 9/],
      ['0101020003000000', /FIN with a 2-byte payload/],
    ];
    for (const [hex, text] of cases) {
      const push = (): SmuxFrame[] => new SmuxFrameReader().push(Buffer.from(hex, 'hex'));
      expect(push, hex).toThrow(text);
      expect(push, hex).toThrow(SessionError);
      expect(kindOf(push), hex).toBe('protocol');
    }
  });
});

describe('the smux client', () => {
  it('opens streams with odd ids from 3, each with a SYN', () => {
    const server = new FakeServer();
    const mux = new SmuxClient({ transport: server.transport });
    for (let i = 0; i < 3; i++) mux.openStream();
    expect(server.frames).toEqual([frame(SmuxCmd.syn, 3), frame(SmuxCmd.syn, 5), frame(SmuxCmd.syn, 7)]);
    expect(mux.streamCount).toBe(3);
  });

  it('sends writes as PSH frames of at most 32 768 bytes', async () => {
    const server = new FakeServer();
    const s = new SmuxClient({ transport: server.transport }).openStream();
    const data = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 256));
    await new Promise<void>((r) => s.write(data, () => { r(); }));
    expect(server.of(3, SmuxCmd.psh).map((f) => f.payload.length)).toEqual([32_768, 32_768, 32_768, 1696]);
    expect(Buffer.concat(server.of(3, SmuxCmd.psh).map((f) => f.payload)).equals(data)).toBe(true);
  });

  it('keeps concurrent streams apart when the server interleaves their data', async () => {
    const server = new FakeServer();
    const mux = new SmuxClient({ transport: server.transport });
    const streams = [mux.openStream(), mux.openStream(), mux.openStream()].map(collect);
    for (let round = 0; round < 5; round++) for (const id of [7, 3, 5]) server.send(frame(SmuxCmd.psh, id, `${id}.${round};`));
    server.send(frame(SmuxCmd.nop, 0));
    server.send(frame(SmuxCmd.psh, 99, 'nobody'));
    await tick();
    expect(streams.map((s) => s.text())).toEqual([3, 5, 7].map((id) => [0, 1, 2, 3, 4].map((r) => `${id}.${r};`).join('')));
  });

  it('sends FIN on end() and closes the stream when the agent answers FIN', async () => {
    const server = new FakeServer();
    server.echo();
    const s = new SmuxClient({ transport: server.transport }).openStream();
    const got = collect(s);
    s.end('bye');
    await once(s, 'close');
    expect(server.of(3).map((f) => f.cmd)).toEqual([SmuxCmd.syn, SmuxCmd.psh, SmuxCmd.fin]);
    expect(got.text()).toBe('BYE');
    expect(got.errors).toEqual([]);
  });

  it('ends the readable side on the agent\'s FIN and closes our side too (no half-close)', async () => {
    const server = new FakeServer();
    const mux = new SmuxClient({ transport: server.transport });
    const s = mux.openStream();
    const got = collect(s);
    server.send(frame(SmuxCmd.psh, 3, 'response'));
    server.send(frame(SmuxCmd.fin, 3));
    await once(s, 'close');
    expect(got.text()).toBe('response');
    expect(server.of(3, SmuxCmd.fin)).toHaveLength(1);
    expect(mux.streamCount).toBe(0);
    expect(got.errors).toEqual([]);
  });

  it('fails every stream and the transport with a protocol error on a malformed frame', async () => {
    const server = new FakeServer();
    const mux = new SmuxClient({ transport: server.transport });
    const streams = [mux.openStream(), mux.openStream()].map(collect);
    server.send(Buffer.from('0204000003000000', 'hex'));
    await tick();
    for (const s of streams) expect(s.errors).toEqual([expect.objectContaining({ kind: 'protocol' })]);
    expect(server.transport.destroyed).toBe(true);
    expect(mux.closedBy?.kind).toBe('protocol');
  });

  it('carries many concurrent connections to completion', async () => {
    const server = new FakeServer();
    server.echo();
    const mux = new SmuxClient({ transport: server.transport });
    const payloads = Array.from({ length: 300 }, (_, i) => `conn-${i}-`.repeat(1 + (i % 50)));
    const streams = payloads.map(() => mux.openStream());
    const got = streams.map(collect);
    streams.forEach((s, i) => s.end(payloads[i]));
    await Promise.all(streams.map((s) => once(s, 'close')));
    expect(got.map((g) => g.text())).toEqual(payloads.map((p) => p.toUpperCase()));
    expect(new Set(server.frames.filter((f) => f.cmd === SmuxCmd.syn).map((f) => f.streamId)).size).toBe(300);
    expect(mux.streamCount).toBe(0);
  });

  it('gives a refused connection\'s error to the youngest stream that has received nothing', async () => {
    const server = new FakeServer();
    const mux = new SmuxClient({ transport: server.transport });
    const streams = [mux.openStream(), mux.openStream(), mux.openStream(), mux.openStream()].map(collect);
    server.send(frame(SmuxCmd.psh, 9, 'data'));
    await tick();
    const refused = (): SessionError => new SessionError('closed', 'connection refused by the instance (port 8080)');
    expect(mux.refuseYoungestPending(refused())).toBe(true);
    expect(mux.refuseYoungestPending(refused())).toBe(true);
    await tick();
    expect(streams.map((s) => s.errors.length)).toEqual([0, 1, 1, 0]);
    expect(streams[2]?.errors[0]).toMatchObject({ kind: 'closed', message: 'connection refused by the instance (port 8080)' });
    expect(mux.refuseYoungestPending(refused())).toBe(true);
    expect(mux.refuseYoungestPending(refused())).toBe(false);
  });

  it('fails open streams and new ones once the session has ended', async () => {
    const server = new FakeServer();
    const mux = new SmuxClient({ transport: server.transport });
    const s = collect(mux.openStream());
    server.transport.push(null);
    server.transport.resume();
    await tick();
    await tick();
    expect(s.errors).toEqual([expect.objectContaining({ kind: 'closed' })]);
    const late = collect(mux.openStream());
    await tick();
    expect(late.errors).toEqual([expect.objectContaining({ kind: 'closed' })]);
  });

  it('makes a stream\'s writer wait while the session\'s byte stream is full', async () => {
    const server = new FakeServer({ highWaterMark: 64 });
    server.hold();
    const s = new SmuxClient({ transport: server.transport }).openStream();
    let written = false;
    s.write(Buffer.alloc(1000), () => { written = true; });
    await tick();
    expect(written).toBe(false);
    server.release();
    await tick();
    expect(written).toBe(true);
  });
});
