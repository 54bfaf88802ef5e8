import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeFrame } from './frames.js';
import {
  decodeHeaderBlock, encodeHeaderBlock, HeaderCompressor, HeaderDecompressor, headerValue, SPDY3_DICTIONARY,
} from './headers.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Adler-32 (RFC 1950), the dictionary id a zlib stream names when it uses a preset dictionary. */
function adler32(b: Buffer): number {
  let a = 1;
  let s = 0;
  for (const byte of b) {
    a = (a + byte) % 65_521;
    s = (s + a) % 65_521;
  }
  return (s << 16 | a) >>> 0;
}

describe('SPDY3_DICTIONARY', () => {
  it('is the 1423 bytes of the SPDY/3 draft, dictionary id 0xe3c6a7c2', () => {
    expect(SPDY3_DICTIONARY).toHaveLength(1423);
    expect(createHash('sha256').update(SPDY3_DICTIONARY).digest('hex')).toBe('51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02');
    expect(adler32(SPDY3_DICTIONARY)).toBe(0xe3c6a7c2);
    expect(SPDY3_DICTIONARY.subarray(0, 13)).toEqual(hex('00000007 6f7074696f6e73 0000'));
    expect(SPDY3_DICTIONARY.subarray(-6).toString('latin1')).toBe('enq=0.');
  });
});

describe('encodeHeaderBlock / decodeHeaderBlock', () => {
  it('writes the name/value layout with lowercase names and NUL-joined values', () => {
    expect(encodeHeaderBlock({ StreamType: 'error', 'X-Multi': ['a', 'b'] })).toEqual(hex(
      '00000002  0000000a 73747265616d74797065  00000005 6572726f72  00000007 782d6d756c7469  00000003 610062',
    ));
    expect(encodeHeaderBlock(new Map())).toEqual(hex('00000000'));
  });

  it('reads names case-insensitively and splits values on NUL', () => {
    const r = decodeHeaderBlock(hex('00000002 00000004 506f7274 00000004 38303830 00000001 78 00000003 610062'));
    expect(r).toEqual({ ok: true, value: new Map([['port', ['8080']], ['x', ['a', 'b']]]) });
    if (r.ok) expect(headerValue(r.value, 'PORT')).toBe('8080');
  });

  it('round-trips a Map', () => {
    const h = new Map([['streamtype', ['data']], ['port', ['80']], ['requestid', ['0']], ['empty', ['']]]);
    expect(decodeHeaderBlock(encodeHeaderBlock(h))).toEqual({ ok: true, value: h });
  });

  it('refuses names it cannot write', () => {
    expect(() => encodeHeaderBlock({ '': 'x' })).toThrow(RangeError);
    expect(() => encodeHeaderBlock({ a: 'x\0y' })).toThrow(RangeError);
  });

  it.each([
    ['an empty buffer', ''],
    ['a truncated pair', '00000001 00000004 706f7274'],
    ['a length past the end', '00000001 00000010 706f7274 00000000'],
    ['an empty name', '00000001 00000000 00000001 78'],
    ['a repeated name (after lowercasing)', '00000002 00000001 61 00000000 00000001 41 00000000'],
    ['trailing bytes', '00000000 00'],
    ['too many pairs', '000003e9'],
  ])('rejects %s', (_name, bytes) => {
    const r = decodeHeaderBlock(hex(bytes));
    expect(r.ok ? 'accepted' : r.error.reason).toBe('bad-header-block');
  });
});

describe('header compression', () => {
  // Written by Go's spdystream v0.5.1 Framer (one compression context) for stream 1 {Streamtype: error}
  // then stream 3 {Streamtype: data, Port: 8080, Requestid: 0} with FIN.
  const goFrames = [
    '80030001000000290000000100000000000078f9e3c6a7c26260606004a7b392a2d4c45c6851c29a0a0a6800000000ffff',
    '800300010100002f0000000300000000000002a5470c295029930829b08bc079c3c2c0c280818181b30812c199a084cf6800000000ffff',
  ];

  it('inflates header blocks compressed by Go, in one context for the direction', async () => {
    const inflater = new HeaderDecompressor();
    const got = [];
    for (const f of goFrames) {
      const frame = decodeFrame(hex(f));
      if (!frame.ok || frame.value.kind !== 'syn_stream') throw new Error('not a SYN_STREAM');
      const raw = await inflater.decompress(frame.value.headerBlock);
      if (!raw.ok) throw raw.error;
      got.push(decodeHeaderBlock(raw.value));
    }
    inflater.close();
    expect(got).toEqual([
      { ok: true, value: new Map([['streamtype', ['error']]]) },
      { ok: true, value: new Map([['streamtype', ['data']], ['port', ['8080']], ['requestid', ['0']]]) },
    ]);
  });

  it('cannot inflate the second block without the first (the context is shared)', async () => {
    const inflater = new HeaderDecompressor();
    const second = decodeFrame(hex(goFrames[1] ?? ''));
    if (!second.ok || second.value.kind !== 'syn_stream') throw new Error('not a SYN_STREAM');
    const r = await inflater.decompress(second.value.headerBlock);
    inflater.close();
    expect(r.ok ? 'inflated' : r.error.reason).toBe('compression');
  });

  it('compresses with the dictionary and ends every block with a sync flush', async () => {
    const deflater = new HeaderCompressor();
    const first = await deflater.compress(encodeHeaderBlock({ streamtype: 'error' }));
    const second = await deflater.compress(encodeHeaderBlock({}));
    deflater.close();
    expect(first[0]).toBe(0x78); // deflate, 32 KiB window
    expect((first[1] ?? 0) & 0x20).toBe(0x20); // FDICT
    expect(first.readUInt32BE(2)).toBe(0xe3c6a7c2);
    expect(first.subarray(-4)).toEqual(hex('0000ffff'));
    expect(second.subarray(-4)).toEqual(hex('0000ffff'));
    expect(second.readUInt16BE(0)).not.toBe(0x78bb); // no second zlib header: same stream
  });

  it('round-trips many blocks through a compressor/decompressor pair', async () => {
    const deflater = new HeaderCompressor();
    const inflater = new HeaderDecompressor();
    const sent = Array.from({ length: 50 }, (_, i) => new Map([['streamtype', [i % 2 === 0 ? 'data' : 'error']], ['requestid', [String(i)]], ['port', ['8080']]]));
    const compressed = await Promise.all(sent.map((h) => deflater.compress(encodeHeaderBlock(h))));
    const back = [];
    for (const c of compressed) {
      const r = await inflater.decompress(c);
      if (!r.ok) throw r.error;
      back.push(decodeHeaderBlock(r.value));
    }
    deflater.close();
    inflater.close();
    expect(back).toEqual(sent.map((value) => ({ ok: true, value })));
  });

  it('fails on corrupt input and stays failed', async () => {
    const inflater = new HeaderDecompressor();
    const r = await inflater.decompress(hex('0102030405060708'));
    expect(r.ok ? 'inflated' : r.error.reason).toBe('compression');
    const again = await inflater.decompress(hex('78bbe3c6a7c2'));
    expect(again.ok).toBe(false);
    inflater.close();
  });

  it('refuses a block that inflates past its limit', async () => {
    const deflater = new HeaderCompressor();
    const big = await deflater.compress(encodeHeaderBlock({ big: 'x'.repeat(100_000) }));
    deflater.close();
    const inflater = new HeaderDecompressor(10_000);
    const r = await inflater.decompress(big);
    inflater.close();
    expect(r.ok ? 'inflated' : r.error.message).toMatch(/more than 10000 bytes/);
  });
});
