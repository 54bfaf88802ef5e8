// exec and attach over WebSocket (kubelet-protocol.md §4.6; kubelet remotecommand/websocket.go):
// the upgraded socket becomes a RemoteCommandChannel. Channels 0 stdin (client → server), 1 stdout,
// 2 stderr, 3 error (server → client), 4 resize (client → server); an empty message on the lowest
// channel the server writes says the streams are ready; the end is a Status (v4, v5) or a text
// (older protocols) on the error channel, then a normal close.
import type { Writable } from 'node:stream';
import type { WebSocket } from 'ws';
import type { ContainerIo, ExecOutcome, ExecRequest, TerminalSize } from '../../provider/provider.js';
import type { RemoteCommandChannel } from '../streams/model.js';
import { execStatus, execStatusText } from '../streams/status.js';
import { ChannelSocket, type ChannelSocketOptions } from './channel-socket.js';
import { inboundReadable, outboundWritable, type Inbound } from './channel-streams.js';
import { LatestQueue } from './latest-queue.js';
import {
  CloseCode, parseResizeMessage, protocolTraits, RemoteChannel, type IncomingFrame, type ProtocolTraits, type Violation,
} from './protocols.js';

/** How long finish() waits for stdout and stderr to drain before it writes the status anyway. */
export const DEFAULT_FLUSH_TIMEOUT_MS = 30_000;

export interface RemoteCommandOptions extends ChannelSocketOptions {
  /** How long finish() waits for buffered output to reach the socket (default 30 s). */
  readonly flushTimeoutMs?: number;
}

const notWritable = (channel: number): Violation => ({ code: CloseCode.protocolError, reason: `channel ${String(channel)} is not writable by the client` });
const unknownChannel = (channel: number): Violation => ({ code: CloseCode.protocolError, reason: `unknown channel ${String(channel)}` });

/** Resolves when every stream finished (or failed), or after `ms`. */
async function settled(streams: readonly Writable[], ms: number): Promise<void> {
  const pending = streams.filter((s) => !s.writableFinished && !s.destroyed);
  if (pending.length === 0) return;
  let timer: NodeJS.Timeout | undefined = undefined;
  const done = pending.map((s) => new Promise<void>((resolve) => {
    s.once('finish', resolve);
    s.once('close', resolve);
  }));
  await Promise.race([Promise.all(done), new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); })]);
  clearTimeout(timer);
}

interface Streams {
  readonly io: ContainerIo;
  readonly stdin: Inbound | undefined;
  readonly resizes: LatestQueue<TerminalSize> | undefined;
  readonly outputs: Writable[];
}

/** The streams `request` asked for, over `socket`'s channels. */
function createStreams(socket: ChannelSocket, request: ExecRequest): Streams {
  const stdin = request.stdin ? inboundReadable(socket) : undefined;
  const stdout = request.stdout ? outboundWritable(socket, RemoteChannel.stdout) : undefined;
  const stderr = request.stderr ? outboundWritable(socket, RemoteChannel.stderr) : undefined;
  const resizes = request.tty ? new LatestQueue<TerminalSize>() : undefined;
  const io: ContainerIo = {
    ...(stdin === undefined ? {} : { stdin: stdin.stream }),
    ...(stdout === undefined ? {} : { stdout }),
    ...(stderr === undefined ? {} : { stderr }),
    ...(resizes === undefined ? {} : { resizes }),
  };
  return { io, stdin: stdin?.inbound, resizes, outputs: [stdout, stderr].filter((s) => s !== undefined) };
}

class WebSocketRemoteCommand implements RemoteCommandChannel {
  readonly io: ContainerIo;
  readonly #socket: ChannelSocket;
  readonly #traits: ProtocolTraits;
  readonly #request: ExecRequest;
  readonly #flushTimeoutMs: number;
  readonly #stdin: Inbound | undefined;
  readonly #resizes: LatestQueue<TerminalSize> | undefined;
  readonly #outputs: Writable[];
  #finishing: Promise<void> | undefined = undefined;

  constructor(ws: WebSocket, protocol: string, request: ExecRequest, options: RemoteCommandOptions) {
    this.#traits = protocolTraits(protocol);
    this.#request = request;
    this.#flushTimeoutMs = options.flushTimeoutMs ?? DEFAULT_FLUSH_TIMEOUT_MS;
    this.#socket = new ChannelSocket(ws, { ...options, traits: this.#traits, onFrame: (f) => this.#route(f) });
    const streams = createStreams(this.#socket, request);
    this.io = streams.io;
    this.#stdin = streams.stdin;
    this.#resizes = streams.resizes;
    this.#outputs = streams.outputs;
    this.#socket.closed.addEventListener('abort', () => { this.#endInputs(); }, { once: true });
    if (this.#socket.closed.aborted) this.#endInputs();
    this.#socket.send(this.#readyChannel(), Buffer.alloc(0));
  }

  get closed(): AbortSignal {
    return this.#socket.closed;
  }

  finish(outcome: ExecOutcome): Promise<void> {
    this.#finishing ??= this.#finish(outcome);
    return this.#finishing;
  }

  async #finish(outcome: ExecOutcome): Promise<void> {
    for (const s of this.#outputs) if (!s.writableEnded && !s.destroyed) s.end();
    await settled(this.#outputs, this.#flushTimeoutMs);
    const text = this.#traits.statusJson ? JSON.stringify(execStatus(outcome)) : execStatusText(outcome);
    if (text !== '') this.#socket.send(RemoteChannel.error, Buffer.from(text, 'utf8'));
    this.#endInputs();
    await this.#socket.close(CloseCode.normal);
  }

  /** The lowest channel the server writes: stdout, else stderr, else error. */
  #readyChannel(): number {
    if (this.#request.stdout) return RemoteChannel.stdout;
    return this.#request.stderr ? RemoteChannel.stderr : RemoteChannel.error;
  }

  #endInputs(): void {
    this.#stdin?.end();
    this.#resizes?.end();
  }

  #route(frame: IncomingFrame): Violation | undefined {
    if (frame.kind === 'empty') return undefined;
    if (frame.kind === 'close') return this.#halfClose(frame.channel);
    switch (frame.channel) {
      case RemoteChannel.stdin:
        this.#stdin?.deliver(frame.payload);
        return undefined;
      case RemoteChannel.resize:
        return this.#resize(frame.payload);
      case RemoteChannel.stdout:
      case RemoteChannel.stderr:
      case RemoteChannel.error:
        return notWritable(frame.channel);
      default:
        return unknownChannel(frame.channel);
    }
  }

  /** v5 CLOSE: the client will write no more on `channel`. */
  #halfClose(channel: number): Violation | undefined {
    if (channel === RemoteChannel.stdin) this.#stdin?.end();
    else if (channel === RemoteChannel.resize) this.#resizes?.end();
    else return channel <= RemoteChannel.resize ? notWritable(channel) : unknownChannel(channel);
    return undefined;
  }

  /** Resize messages count only with a terminal (as upstream, the channel exists either way). */
  #resize(payload: Buffer): Violation | undefined {
    if (this.#resizes === undefined) return undefined;
    const sizes = parseResizeMessage(payload);
    if (!sizes.ok) return sizes.error;
    for (const size of sizes.value) if (size.cols > 0 && size.rows > 0) this.#resizes.push(size);
    return undefined;
  }
}

/**
 * Turns an upgraded WebSocket (`protocol` as negotiated, see upgrade.ts) into the streams `request`
 * asked for, and sends the ready message. A malformed message from the client closes the socket
 * (1002 or 1007, with the reason) and aborts `closed`.
 */
export function acceptRemoteCommand(ws: WebSocket, protocol: string, request: ExecRequest, options: RemoteCommandOptions = {}): RemoteCommandChannel {
  return new WebSocketRemoteCommand(ws, protocol, request, options);
}
