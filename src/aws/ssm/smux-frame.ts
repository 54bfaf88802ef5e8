// smux protocol version 1 frames, as the SSM agent's port-forwarding multiplexer speaks them
// (xtaci/smux v1.5.15, shared/reference/ssm-session.md §4.3): an 8-byte header — version 1, command,
// payload length (uint16 LE), stream id (uint32 LE) — then the payload, which only PSH carries.
// The reader reassembles frames from any split of the byte stream; malformed input is a
// SessionError('protocol').
import { SessionError } from '../../domain/errors.js';

export const SmuxCmd = { syn: 0, fin: 1, psh: 2, nop: 3 } as const;
export type SmuxCommand = (typeof SmuxCmd)[keyof typeof SmuxCmd];

export const smuxVersion = 1;
export const smuxHeaderBytes = 8;
/** smux's default MaxFrameSize; ORCA never writes a larger frame. */
export const maxFramePayload = 32_768;

export interface SmuxFrame {
  readonly cmd: SmuxCommand;
  readonly streamId: number;
  readonly payload: Buffer;
}

const commandNames = ['SYN', 'FIN', 'PSH', 'NOP'] as const;

const protocolError = (message: string): SessionError => new SessionError('protocol', `malformed smux frame: ${message}`);

export function encodeSmuxFrame(f: SmuxFrame): Buffer {
  if (f.payload.length > maxFramePayload) throw protocolError(`payload of ${f.payload.length} bytes exceeds ${maxFramePayload}`);
  if (f.cmd !== SmuxCmd.psh && f.payload.length > 0) throw protocolError(`${commandNames[f.cmd]} carries no payload`);
  if (!Number.isInteger(f.streamId) || f.streamId < 0 || f.streamId > 0xffff_ffff) throw protocolError(`stream id ${f.streamId} is out of range`);
  const out = Buffer.alloc(smuxHeaderBytes + f.payload.length);
  out.writeUInt8(smuxVersion, 0);
  out.writeUInt8(f.cmd, 1);
  out.writeUInt16LE(f.payload.length, 2);
  out.writeUInt32LE(f.streamId, 4);
  out.set(f.payload, smuxHeaderBytes);
  return out;
}

interface Header {
  readonly cmd: SmuxCommand;
  readonly length: number;
  readonly streamId: number;
}

function parseHeader(h: Buffer): Header {
  const version = h.readUInt8(0);
  if (version !== smuxVersion) throw protocolError(`version ${version}, expected ${smuxVersion}`);
  const cmd = h.readUInt8(1);
  if (cmd > SmuxCmd.nop) throw protocolError(cmd === 4 ? 'UPD (version 2 only)' : `unknown command ${cmd}`);
  const length = h.readUInt16LE(2);
  // smux v1 reads a payload only for PSH, so a length on another command would desynchronise it.
  if (cmd !== SmuxCmd.psh && length !== 0) throw protocolError(`${commandNames[cmd as SmuxCommand]} with a ${length}-byte payload`);
  return { cmd: cmd as SmuxCommand, length, streamId: h.readUInt32LE(4) };
}

/** Turns a byte stream into frames. Accepts PSH payloads up to 65 535 bytes (the field's range). */
export class SmuxFrameReader {
  readonly #chunks: Buffer[] = [];
  #available = 0;
  #header: Header | undefined = undefined;

  /** Bytes received but not yet part of a whole frame. */
  get pending(): number {
    return this.#available;
  }

  /** Every frame completed by `chunk`; throws SessionError('protocol') on a malformed header. */
  push(chunk: Buffer): SmuxFrame[] {
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#available += chunk.length;
    }
    const frames: SmuxFrame[] = [];
    for (let f = this.#next(); f !== undefined; f = this.#next()) frames.push(f);
    return frames;
  }

  #next(): SmuxFrame | undefined {
    if (this.#header === undefined) {
      if (this.#available < smuxHeaderBytes) return undefined;
      this.#header = parseHeader(this.#take(smuxHeaderBytes));
    }
    const h = this.#header;
    if (this.#available < h.length) return undefined;
    this.#header = undefined;
    return { cmd: h.cmd, streamId: h.streamId, payload: h.length === 0 ? Buffer.alloc(0) : this.#take(h.length) };
  }

  /** The next `n` bytes (n ≤ available), copied only when they span chunks. */
  #take(n: number): Buffer {
    this.#available -= n;
    const first = this.#chunks[0];
    if (first !== undefined && first.length >= n) {
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.alloc(n);
    let at = 0;
    while (at < n) {
      const c = this.#chunks[0] as Buffer;
      const used = Math.min(c.length, n - at);
      c.copy(out, at, 0, used);
      at += used;
      if (used === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(used);
    }
    return out;
  }
}
