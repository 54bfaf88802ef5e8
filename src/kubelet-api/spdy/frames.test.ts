import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, FrameParser, MAX_FRAME_LENGTH, SpdyProtocolError, type Frame } from './frames.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const block = hex('78bbe3c6a7c2'); // any bytes: the codec does not look inside header blocks

// Expected bytes written by hand from the SPDY/3 layouts (kubelet-protocol.md §4.4).
const golden: readonly (readonly [string, Frame, string])[] = [
  ['SYN_STREAM', { kind: 'syn_stream', streamId: 3, associatedId: 1, priority: 5, slot: 0, flags: 0x03, headerBlock: block },
    '8003 0001 03 000010  00000003 00000001 a0 00 78bbe3c6a7c2'],
  ['SYN_REPLY', { kind: 'syn_reply', streamId: 1, flags: 0x01, headerBlock: block }, '8003 0002 01 00000a  00000001 78bbe3c6a7c2'],
  ['RST_STREAM', { kind: 'rst_stream', streamId: 5, status: 5 }, '8003 0003 00 000008  00000005 00000005'],
  ['SETTINGS', { kind: 'settings', flags: 0x01, entries: [{ flags: 0x01, id: 4, value: 100 }, { flags: 0, id: 7, value: 65536 }] },
    '8003 0004 01 000014  00000002 01000004 00000064 00000007 00010000'],
  ['PING', { kind: 'ping', id: 0xffff_fffe }, '8003 0006 00 000004  fffffffe'],
  ['GOAWAY', { kind: 'goaway', lastGoodStreamId: 9, status: 1 }, '8003 0007 00 000008  00000009 00000001'],
  ['HEADERS', { kind: 'headers', streamId: 7, flags: 0, headerBlock: block }, '8003 0008 00 00000a  00000007 78bbe3c6a7c2'],
  ['WINDOW_UPDATE', { kind: 'window_update', streamId: 3, delta: 0x1_0000 }, '8003 0009 00 000008  00000003 00010000'],
  ['DATA', { kind: 'data', streamId: 0x7fff_ffff, flags: 0x01, data: Buffer.from('hi') }, '7fffffff 01 000002 6869'],
  ['empty DATA+FIN', { kind: 'data', streamId: 1, flags: 0x01, data: Buffer.alloc(0) }, '00000001 01 000000'],
];

describe('encodeFrame / decodeFrame', () => {
  it.each(golden)('%s has the spec layout and round-trips', (_name, frame, bytes) => {
    expect(encodeFrame(frame).toString('hex')).toBe(hex(bytes).toString('hex'));
    expect(decodeFrame(hex(bytes))).toEqual({ ok: true, value: frame });
  });

  it('keeps an unknown control type (SPDY/3 says receivers ignore it)', () => {
    expect(decodeFrame(hex('8003 0005 00 000002 abcd'))).toEqual({ ok: true, value: { kind: 'unknown', type: 5, flags: 0, payload: hex('abcd') } });
  });

  it('masks the reserved top bit of stream ids', () => {
    const r = decodeFrame(hex('8003 0003 00 000008 80000005 00000005'));
    expect(r).toEqual({ ok: true, value: { kind: 'rst_stream', streamId: 5, status: 5 } });
  });

  it('refuses a payload no 24-bit length can carry', () => {
    expect(() => encodeFrame({ kind: 'data', streamId: 1, flags: 0, data: Buffer.alloc(MAX_FRAME_LENGTH + 1) })).toThrow(RangeError);
    expect(encodeFrame({ kind: 'data', streamId: 1, flags: 0, data: Buffer.alloc(MAX_FRAME_LENGTH) }).subarray(4, 8).toString('hex')).toBe('00ffffff');
  });

  it.each([
    ['SPDY/2', '8002 0006 00 000004 00000001', 'unsupported-version'],
    ['SPDY/4', '8004 0003 00 000008 00000001 00000001', 'unsupported-version'],
    ['a short SYN_STREAM', '8003 0001 00 000009 00000001 00000000 00', 'bad-length'],
    ['a short SYN_REPLY', '8003 0002 00 000003 000000', 'bad-length'],
    ['a long RST_STREAM', '8003 0003 00 00000c 00000001 00000001 00000000', 'bad-length'],
    ['RST_STREAM with status 0', '8003 0003 00 000008 00000001 00000000', 'invalid-frame'],
    ['SETTINGS whose count disagrees', '8003 0004 00 00000c 00000002 00000001 00000001', 'bad-length'],
    ['a 2-byte PING', '8003 0006 00 000002 0001', 'bad-length'],
    ['a SPDY/2-size GOAWAY', '8003 0007 00 000004 00000001', 'bad-length'],
    ['a short WINDOW_UPDATE', '8003 0009 00 000004 00000001', 'bad-length'],
    ['SYN_STREAM on stream 0', '8003 0001 00 00000a 00000000 00000000 0000', 'zero-stream-id'],
    ['RST_STREAM on stream 0', '8003 0003 00 000008 00000000 00000005', 'zero-stream-id'],
    ['HEADERS on stream 0', '8003 0008 00 000004 00000000', 'zero-stream-id'],
    ['DATA on stream 0', '00000000 00 000001 ff', 'zero-stream-id'],
    ['a truncated frame', '00000001 00 000004 ffff', 'bad-length'],
    ['a header fragment', '800300', 'bad-length'],
  ])('rejects %s', (_name, bytes, reason) => {
    const r = decodeFrame(hex(bytes));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toBeInstanceOf(SpdyProtocolError);
      expect(r.error.reason).toBe(reason);
    }
  });
});

describe('FrameParser', () => {
  const stream = Buffer.concat(golden.map(([, f]) => encodeFrame(f)));
  const frames = golden.map(([, f]) => f);

  it('parses several frames from one chunk', () => {
    const p = new FrameParser();
    expect(p.push(stream)).toEqual({ frames });
    expect(p.buffered).toBe(0);
  });

  it('parses frames fed one byte at a time', () => {
    const p = new FrameParser();
    const got: Frame[] = [];
    for (let i = 0; i < stream.length; i++) {
      const r = p.push(stream.subarray(i, i + 1));
      expect(r.error).toBeUndefined();
      got.push(...r.frames);
    }
    expect(got).toEqual(frames);
  });

  it('parses frames split at every possible boundary', () => {
    for (let cut = 1; cut < stream.length; cut += 7) {
      const p = new FrameParser();
      const got = [...p.push(stream.subarray(0, cut)).frames, ...p.push(stream.subarray(cut)).frames];
      expect(got).toEqual(frames);
    }
  });

  it('reassembles a 1 MiB DATA frame from 64 KiB reads', () => {
    const data = Buffer.alloc(1 << 20, 0xab);
    const bytes = encodeFrame({ kind: 'data', streamId: 1, flags: 0, data });
    const p = new FrameParser();
    const got: Frame[] = [];
    for (let at = 0; at < bytes.length; at += 65_536) got.push(...p.push(bytes.subarray(at, at + 65_536)).frames);
    expect(got).toEqual([{ kind: 'data', streamId: 1, flags: 0, data }]);
  });

  it('waits for the rest of a partial frame', () => {
    const p = new FrameParser();
    expect(p.push(hex('00000001 00 000004 ff'))).toEqual({ frames: [] });
    expect(p.buffered).toBe(9);
  });

  it('delivers the frames before a malformed one, then refuses all further input', () => {
    const p = new FrameParser();
    const good = encodeFrame({ kind: 'ping', id: 1 });
    const r = p.push(Buffer.concat([good, hex('8002 0006 00 000004 00000003'), good]));
    expect(r.frames).toEqual([{ kind: 'ping', id: 1 }]);
    expect(r.error?.reason).toBe('unsupported-version');
    expect(p.push(good)).toEqual({ frames: [], error: r.error });
  });

  it('rejects an oversize frame as soon as its header arrives', () => {
    const p = new FrameParser({ maxDataLength: 1024, maxControlLength: 64 });
    expect(p.push(hex('00000001 00 000401')).error?.reason).toBe('too-large');
    const q = new FrameParser({ maxDataLength: 1024, maxControlLength: 64 });
    expect(q.push(hex('8003 0001 00 000041')).error?.reason).toBe('too-large');
    const ok = new FrameParser({ maxDataLength: 1024 });
    expect(ok.push(encodeFrame({ kind: 'data', streamId: 1, flags: 0, data: Buffer.alloc(1024) })).frames).toHaveLength(1);
  });

  it('never throws on random input', () => {
    let seed = 42;
    const rand = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let run = 0; run < 200; run++) {
      const junk = Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)));
      const p = new FrameParser({ maxControlLength: 1 << 16, maxDataLength: 1 << 16 });
      expect(() => p.push(junk)).not.toThrow();
    }
  });
});
