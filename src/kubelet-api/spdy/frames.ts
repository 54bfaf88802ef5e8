// Pure: the SPDY/3 frame codec as Kubernetes speaks it (moby/spdystream; kubelet-protocol.md §4.4).
// Frames carry header blocks still compressed: the zlib contexts live per connection (headers.ts),
// so this module stays stateless apart from the incremental parser's buffer.
import { err, ok, type Result } from '../../domain/result.js';

export const SPDY_VERSION = 3;
/** The largest payload a 24-bit length field can carry (16 MiB − 1). */
export const MAX_FRAME_LENGTH = 0xff_ffff;
const HEADER_LENGTH = 8;
const STREAM_ID_MASK = 0x7fff_ffff;

export const ControlType = { synStream: 1, synReply: 2, rstStream: 3, settings: 4, ping: 6, goAway: 7, headers: 8, windowUpdate: 9 } as const;

/** FIN on DATA, SYN_STREAM, SYN_REPLY and HEADERS; UNIDIRECTIONAL on SYN_STREAM only. */
export const Flag = { fin: 0x01, unidirectional: 0x02 } as const;

export const RstStatus = {
  protocolError: 1, invalidStream: 2, refusedStream: 3, unsupportedVersion: 4, cancel: 5, internalError: 6,
  flowControlError: 7, streamInUse: 8, streamAlreadyClosed: 9, frameTooLarge: 11,
} as const;

export const GoAwayStatus = { ok: 0, protocolError: 1, internalError: 2 } as const;

export interface SettingsEntry { readonly flags: number; readonly id: number; readonly value: number }

export type Frame =
  | { readonly kind: 'syn_stream'; readonly streamId: number; readonly associatedId: number; readonly priority: number; readonly slot: number; readonly flags: number; readonly headerBlock: Buffer }
  | { readonly kind: 'syn_reply'; readonly streamId: number; readonly flags: number; readonly headerBlock: Buffer }
  | { readonly kind: 'rst_stream'; readonly streamId: number; readonly status: number }
  | { readonly kind: 'settings'; readonly flags: number; readonly entries: readonly SettingsEntry[] }
  | { readonly kind: 'ping'; readonly id: number }
  | { readonly kind: 'goaway'; readonly lastGoodStreamId: number; readonly status: number }
  | { readonly kind: 'headers'; readonly streamId: number; readonly flags: number; readonly headerBlock: Buffer }
  | { readonly kind: 'window_update'; readonly streamId: number; readonly delta: number }
  | { readonly kind: 'data'; readonly streamId: number; readonly flags: number; readonly data: Buffer }
  /** A control frame of a type SPDY/3 does not define: receivers ignore it (SPDY/3 §2.2.1). */
  | { readonly kind: 'unknown'; readonly type: number; readonly flags: number; readonly payload: Buffer };

export type FrameKind = Frame['kind'];
export type FrameOf<K extends FrameKind> = Extract<Frame, { kind: K }>;

export type SpdyErrorReason =
  | 'unsupported-version' | 'bad-length' | 'zero-stream-id' | 'invalid-frame' | 'too-large' | 'bad-header-block' | 'compression';

/** Malformed input from the peer. A value, reported, never thrown out of a socket handler. */
export class SpdyProtocolError extends Error {
  constructor(readonly reason: SpdyErrorReason, message: string, readonly streamId?: number) {
    super(message);
    this.name = 'SpdyProtocolError';
  }
}

// ---- encoding -------------------------------------------------------------------------------

function lengthWord(flags: number, length: number): number {
  if (length > MAX_FRAME_LENGTH) throw new RangeError(`SPDY frame payload of ${String(length)} bytes exceeds ${String(MAX_FRAME_LENGTH)}`);
  return ((flags & 0xff) << 24 | length) >>> 0;
}

function control(type: number, flags: number, payload: Buffer): Buffer {
  const b = Buffer.allocUnsafe(HEADER_LENGTH + payload.length);
  b.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  b.writeUInt16BE(type, 2);
  b.writeUInt32BE(lengthWord(flags, payload.length), 4);
  payload.copy(b, HEADER_LENGTH);
  return b;
}

function words(...values: readonly number[]): Buffer {
  const b = Buffer.allocUnsafe(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
}

const encoders: { readonly [K in FrameKind]: (f: FrameOf<K>) => Buffer } = {
  syn_stream: (f) => {
    const fixed = Buffer.alloc(10);
    fixed.writeUInt32BE(f.streamId & STREAM_ID_MASK, 0);
    fixed.writeUInt32BE(f.associatedId & STREAM_ID_MASK, 4);
    fixed[8] = (f.priority & 0x07) << 5;
    fixed[9] = f.slot & 0xff;
    return control(ControlType.synStream, f.flags, Buffer.concat([fixed, f.headerBlock]));
  },
  syn_reply: (f) => control(ControlType.synReply, f.flags, Buffer.concat([words(f.streamId & STREAM_ID_MASK), f.headerBlock])),
  rst_stream: (f) => control(ControlType.rstStream, 0, words(f.streamId & STREAM_ID_MASK, f.status)),
  settings: (f) => control(ControlType.settings, f.flags, words(f.entries.length, ...f.entries.flatMap((e) => [((e.flags & 0xff) << 24 | (e.id & 0xff_ffff)) >>> 0, e.value]))),
  ping: (f) => control(ControlType.ping, 0, words(f.id)),
  goaway: (f) => control(ControlType.goAway, 0, words(f.lastGoodStreamId & STREAM_ID_MASK, f.status)),
  headers: (f) => control(ControlType.headers, f.flags, Buffer.concat([words(f.streamId & STREAM_ID_MASK), f.headerBlock])),
  window_update: (f) => control(ControlType.windowUpdate, 0, words(f.streamId & STREAM_ID_MASK, f.delta & STREAM_ID_MASK)),
  data: (f) => {
    const b = Buffer.allocUnsafe(HEADER_LENGTH + f.data.length);
    b.writeUInt32BE(f.streamId & STREAM_ID_MASK, 0);
    b.writeUInt32BE(lengthWord(f.flags, f.data.length), 4);
    f.data.copy(b, HEADER_LENGTH);
    return b;
  },
  unknown: (f) => control(f.type, f.flags, f.payload),
};

/** The frame's wire bytes. Throws RangeError only for a payload no SPDY frame can carry (a caller bug). */
export function encodeFrame(frame: Frame): Buffer {
  return (encoders[frame.kind] as (f: Frame) => Buffer)(frame);
}

// ---- decoding -------------------------------------------------------------------------------

type Decoded = Result<Frame, SpdyProtocolError>;
type ControlDecoder = (p: Buffer, flags: number) => Decoded;

const fail = (reason: SpdyErrorReason, message: string, streamId?: number): Decoded => err(new SpdyProtocolError(reason, message, streamId));
const badLength = (name: string, length: number): Decoded => fail('bad-length', `${name} frame with a ${String(length)}-byte payload`);
const sid = (p: Buffer, at = 0): number => p.readUInt32BE(at) & STREAM_ID_MASK;

function withStream(name: string, min: number, build: (p: Buffer, streamId: number, flags: number) => Frame, exact = false): ControlDecoder {
  return (p, flags) => {
    if (p.length < min || (exact && p.length !== min)) return badLength(name, p.length);
    const streamId = sid(p);
    return streamId === 0 ? fail('zero-stream-id', `${name} frame on stream 0`) : ok(build(p, streamId, flags));
  };
}

function decodeSettings(p: Buffer, flags: number): Decoded {
  if (p.length < 4 || p.length !== 4 + 8 * p.readUInt32BE(0)) return badLength('SETTINGS', p.length);
  const entries: SettingsEntry[] = [];
  for (let at = 4; at < p.length; at += 8) {
    const word = p.readUInt32BE(at);
    entries.push({ flags: word >>> 24, id: word & 0xff_ffff, value: p.readUInt32BE(at + 4) });
  }
  return ok({ kind: 'settings', flags, entries });
}

function decodeRst(p: Buffer): Decoded {
  if (p.length !== 8) return badLength('RST_STREAM', p.length);
  const streamId = sid(p);
  if (streamId === 0) return fail('zero-stream-id', 'RST_STREAM frame on stream 0');
  const status = p.readUInt32BE(4);
  return status === 0 ? fail('invalid-frame', 'RST_STREAM frame with status 0', streamId) : ok({ kind: 'rst_stream', streamId, status });
}

const decoders: ReadonlyMap<number, ControlDecoder> = new Map<number, ControlDecoder>([
  [ControlType.synStream, withStream('SYN_STREAM', 10, (p, streamId, flags) => ({
    kind: 'syn_stream', streamId, associatedId: sid(p, 4), priority: (p[8] ?? 0) >> 5, slot: p[9] ?? 0, flags, headerBlock: p.subarray(10),
  }))],
  [ControlType.synReply, withStream('SYN_REPLY', 4, (p, streamId, flags) => ({ kind: 'syn_reply', streamId, flags, headerBlock: p.subarray(4) }))],
  [ControlType.rstStream, decodeRst],
  [ControlType.settings, decodeSettings],
  [ControlType.ping, (p) => (p.length === 4 ? ok({ kind: 'ping', id: p.readUInt32BE(0) }) : badLength('PING', p.length))],
  [ControlType.goAway, (p) => (p.length === 8 ? ok({ kind: 'goaway', lastGoodStreamId: sid(p), status: p.readUInt32BE(4) }) : badLength('GOAWAY', p.length))],
  [ControlType.headers, withStream('HEADERS', 4, (p, streamId, flags) => ({ kind: 'headers', streamId, flags, headerBlock: p.subarray(4) }))],
  [ControlType.windowUpdate, (p) => (p.length === 8 ? ok({ kind: 'window_update', streamId: sid(p), delta: sid(p, 4) }) : badLength('WINDOW_UPDATE', p.length))],
]);

/** Decodes exactly one frame (header and payload). */
export function decodeFrame(bytes: Buffer): Decoded {
  if (bytes.length < HEADER_LENGTH) return fail('bad-length', `a frame needs ${String(HEADER_LENGTH)} bytes, got ${String(bytes.length)}`);
  const word = bytes.readUInt32BE(0);
  const flags = bytes[4] ?? 0;
  const length = bytes.readUInt32BE(4) & 0xff_ffff;
  if (bytes.length !== HEADER_LENGTH + length) return fail('bad-length', `frame declares ${String(length)} payload bytes, has ${String(bytes.length - HEADER_LENGTH)}`);
  const payload = bytes.subarray(HEADER_LENGTH);
  if ((word & 0x8000_0000) === 0) {
    const streamId = word & STREAM_ID_MASK;
    return streamId === 0 ? fail('zero-stream-id', 'DATA frame on stream 0') : ok({ kind: 'data', streamId, flags, data: payload });
  }
  const version = (word >>> 16) & 0x7fff;
  if (version !== SPDY_VERSION) return fail('unsupported-version', `SPDY version ${String(version)} (only ${String(SPDY_VERSION)} is spoken)`);
  const type = word & 0xffff;
  return decoders.get(type)?.(payload, flags) ?? ok({ kind: 'unknown', type, flags, payload });
}

// ---- incremental parser ---------------------------------------------------------------------

export interface ParserLimits {
  /** Largest DATA payload accepted (default and maximum 16 MiB − 1). */
  readonly maxDataLength?: number;
  /** Largest control-frame payload accepted (default and maximum 16 MiB − 1). */
  readonly maxControlLength?: number;
}

export interface ParseOutcome {
  /** Every complete frame in arrival order, up to the first malformed one. */
  readonly frames: readonly Frame[];
  /** Set once the input is malformed; the parser then refuses all further input with it. */
  readonly error?: SpdyProtocolError;
}

/** Takes the byte stream in arbitrary chunks (frames split across reads, many frames per read). */
export class FrameParser {
  private chunks: Buffer[] = [];
  private size = 0;
  private failure: SpdyProtocolError | undefined;
  private readonly maxData: number;
  private readonly maxControl: number;

  constructor(limits: ParserLimits = {}) {
    this.maxData = Math.min(limits.maxDataLength ?? MAX_FRAME_LENGTH, MAX_FRAME_LENGTH);
    this.maxControl = Math.min(limits.maxControlLength ?? MAX_FRAME_LENGTH, MAX_FRAME_LENGTH);
  }

  /** Bytes received but not yet part of a complete frame. */
  get buffered(): number {
    return this.size;
  }

  push(chunk: Buffer): ParseOutcome {
    if (this.failure !== undefined) return { frames: [], error: this.failure };
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.size += chunk.length;
    }
    const frames: Frame[] = [];
    for (;;) {
      const next = this.next();
      if (next === undefined) return { frames };
      if (!next.ok) {
        this.failure = next.error;
        this.chunks = [];
        this.size = 0;
        return { frames, error: next.error };
      }
      frames.push(next.value);
    }
  }

  private next(): Decoded | undefined {
    if (this.size < HEADER_LENGTH) return undefined;
    const head = this.peek(HEADER_LENGTH);
    const length = head.readUInt32BE(4) & 0xff_ffff;
    const isControl = (head.readUInt32BE(0) & 0x8000_0000) !== 0;
    const limit = isControl ? this.maxControl : this.maxData;
    if (length > limit) return fail('too-large', `${isControl ? 'control' : 'DATA'} frame of ${String(length)} bytes exceeds the ${String(limit)}-byte limit`);
    if (this.size < HEADER_LENGTH + length) return undefined;
    return decodeFrame(this.take(HEADER_LENGTH + length));
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0];
    if (first !== undefined && first.length >= n) return first;
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined;
  }

  private take(n: number): Buffer {
    const all = this.peek(n);
    const frame = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks.splice(0, 1, ...(rest.length > 0 ? [rest] : []));
    this.size -= n;
    return frame;
  }
}
