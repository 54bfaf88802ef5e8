// Node streams over the channels of a ChannelSocket: the side a client writes (stdin, a forwarded
// port's incoming bytes) is fed message by message and pauses the socket while its reader is
// behind; the side the server writes (stdout, stderr) sends a message per chunk and completes a
// write only once the socket's send buffer has room. After the connection ended, writes are
// dropped rather than failed: a late writer must not get an 'error' it may not listen for.
import { Readable, Writable } from 'node:stream';
import type { ChannelSocket } from './channel-socket.js';

/** Feeds one Readable from a channel's messages. */
export class Inbound {
  readonly #stream: Readable;
  readonly #socket: ChannelSocket;
  #ended = false;

  constructor(stream: Readable, socket: ChannelSocket) {
    this.#stream = stream;
    this.#socket = socket;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** One message's bytes; dropped after end. */
  deliver(chunk: Buffer): void {
    if (this.#ended || this.#stream.destroyed || chunk.length === 0) return;
    if (!this.#stream.push(chunk)) this.#socket.hold(this);
  }

  /** The reader wants more (the Readable's read()). */
  pull(): void {
    this.#socket.release(this);
  }

  /** End of input (the client's CLOSE, or the connection ended). Idempotent. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#socket.release(this);
    if (!this.#stream.destroyed) this.#stream.push(null);
  }
}

/** A Readable and the Inbound that feeds it. */
export function inboundReadable(socket: ChannelSocket): { readonly stream: Readable; readonly inbound: Inbound } {
  let inbound: Inbound | undefined = undefined;
  const stream = new ReadableChannel(() => inbound?.pull());
  inbound = new Inbound(stream, socket);
  return { stream, inbound };
}

class ReadableChannel extends Readable {
  readonly #pull: () => void;
  constructor(pull: () => void) {
    super();
    this.#pull = pull;
  }

  override _read(): void {
    this.#pull();
  }
}

/** A Writable whose chunks go out on `channel`. */
export function outboundWritable(socket: ChannelSocket, channel: number): Writable {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      void socket.sendAll(channel, chunk).then(() => { callback(); });
    },
  });
  // A write after end (a writer that outlived finish()) must not crash the server.
  stream.on('error', () => undefined);
  return stream;
}
