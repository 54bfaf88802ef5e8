// Test double of AWS Session Manager: the smux v1 server the SSM agent runs inside a port-forwarding
// session (agent port_mux.go, xtaci/smux v1.5.15). The client's Output bytes are one smux byte
// stream; each SYN opens a stream the agent serves by dialling the target (emulated containers use
// the host network, so 127.0.0.1:<portNumber>, or the document's host). Both directions are piped;
// when either end closes, both are closed (the agent never half-closes). A failed dial is reported
// with a ConnectToPortError flag on the data channel and the stream is FINed. No keep-alive NOPs are
// sent, as with every client newer than 1.2.331.0.
import { connect, type Socket } from 'node:net';

/** smux commands of protocol version 1. */
export const Cmd = { syn: 0, fin: 1, psh: 2, nop: 3 } as const;
const version = 1;
const headerSize = 8;
/** smux's largest frame payload. */
export const maxFrame = 32_768;

/** One smux frame. */
export interface Frame {
  readonly cmd: number;
  readonly sid: number;
  readonly data: Buffer;
}

/** An smux byte stream that breaks the protocol: the agent's smux session dies with it. */
export class SmuxError extends Error {
  readonly code = 'SSM_STAND_IN_SMUX';
}

/** Encodes one frame: ver, cmd, length (uint16 LE), stream id (uint32 LE), data. */
export function encodeFrame(f: Frame): Buffer {
  const out = Buffer.alloc(headerSize + f.data.length);
  out.writeUInt8(version, 0);
  out.writeUInt8(f.cmd, 1);
  out.writeUInt16LE(f.data.length, 2);
  out.writeUInt32LE(f.sid, 4);
  f.data.copy(out, headerSize);
  return out;
}

/** Reassembles frames from arbitrary slices of the byte stream. */
export class FrameReader {
  #buf: Buffer = Buffer.alloc(0);

  /** Adds bytes; returns every frame now complete. Throws SmuxError on a frame smux v1 would refuse. */
  push(bytes: Buffer): Frame[] {
    this.#buf = Buffer.concat([this.#buf, bytes]);
    const frames: Frame[] = [];
    while (this.#buf.length >= headerSize) {
      const ver = this.#buf.readUInt8(0);
      const cmd = this.#buf.readUInt8(1);
      if (ver !== version) throw new SmuxError(`smux frame of version ${ver}, the agent speaks version ${version}`);
      if (cmd > Cmd.nop) throw new SmuxError(`smux command ${cmd} is not part of version ${version}`);
      const length = this.#buf.readUInt16LE(2);
      if (this.#buf.length < headerSize + length) break;
      frames.push({ cmd, sid: this.#buf.readUInt32LE(4), data: Buffer.from(this.#buf.subarray(headerSize, headerSize + length)) });
      this.#buf = this.#buf.subarray(headerSize + length);
    }
    return frames;
  }
}

/** What the server needs from its session. */
export interface SmuxServerOptions {
  readonly host: string;
  readonly port: number;
  /** Bytes of the smux stream towards the client (to be sent as Output payloads). */
  readonly write: (bytes: Buffer) => void;
  /** A dial failed: the agent sends ConnectToPortError. */
  readonly dialFailed: (error: Error) => void;
}

interface Stream {
  /** Writes made before the dial completes are queued by the socket itself. */
  readonly socket: Socket;
  connected: boolean;
}

export class SmuxServer {
  readonly #o: SmuxServerOptions;
  readonly #reader = new FrameReader();
  readonly #streams = new Map<number, Stream>();
  #closed = false;

  constructor(o: SmuxServerOptions) {
    this.#o = o;
  }

  /** Streams open now. */
  get streams(): number {
    return this.#streams.size;
  }

  /** Feeds client bytes; throws SmuxError on a protocol error. */
  input(bytes: Buffer): void {
    for (const f of this.#reader.push(bytes)) this.#frame(f);
  }

  /** Closes every stream and its connection. */
  close(): void {
    this.#closed = true;
    for (const s of this.#streams.values()) s.socket.destroy();
    this.#streams.clear();
  }

  #frame(f: Frame): void {
    if (f.cmd === Cmd.syn) this.#open(f.sid);
    else if (f.cmd === Cmd.psh) this.#data(f.sid, f.data);
    else if (f.cmd === Cmd.fin) this.#end(f.sid, false);
  }

  #open(sid: number): void {
    if (this.#closed || this.#streams.has(sid)) return;
    const socket = connect({ host: this.#o.host, port: this.#o.port });
    const stream: Stream = { socket, connected: false };
    this.#streams.set(sid, stream);
    socket.on('connect', () => { stream.connected = true; });
    socket.on('data', (b: Buffer) => { this.#send(sid, b); });
    socket.on('error', (e) => {
      if (!stream.connected && this.#streams.get(sid) === stream) this.#o.dialFailed(e);
    });
    socket.on('close', () => { this.#end(sid, true); });
  }

  #data(sid: number, data: Buffer): void {
    this.#streams.get(sid)?.socket.write(data);
  }

  /** Either end closed: both go (the socket after what was written to it is flushed). */
  #end(sid: number, fromTarget: boolean): void {
    const s = this.#streams.get(sid);
    if (s === undefined) return;
    this.#streams.delete(sid);
    s.socket.removeAllListeners('data');
    if (fromTarget) s.socket.destroy();
    else s.socket.destroySoon();
    if (!this.#closed) this.#o.write(encodeFrame({ cmd: Cmd.fin, sid, data: Buffer.alloc(0) }));
  }

  #send(sid: number, bytes: Buffer): void {
    for (let off = 0; off < bytes.length; off += maxFrame) {
      this.#o.write(encodeFrame({ cmd: Cmd.psh, sid, data: bytes.subarray(off, off + maxFrame) }));
    }
  }
}
