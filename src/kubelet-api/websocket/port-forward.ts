// port-forward over WebSocket (kubelet-protocol.md §4.7.2; kubelet portforward/websocket.go): one
// connection per requested port, the i-th on channel 2i (data, both ways) and 2i+1 (error, server →
// client), each channel opened by the port as uint16 little-endian. The protocol has no per-channel
// close, so a port's connection ends locally; the socket closes once every port's connection ended.
import { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { PortConnection, PortForwardChannel } from '../streams/model.js';
import { ChannelSocket, type ChannelSocketOptions } from './channel-socket.js';
import { Inbound } from './channel-streams.js';
import {
  CloseCode, MAX_FORWARDED_PORTS, portChannels, portPrefix, protocolTraits, type IncomingFrame, type Violation,
} from './protocols.js';

export type PortForwardOptions = ChannelSocketOptions;

/** What a port's data stream needs from its connection. */
interface PortLink {
  pull(): void;
  write(chunk: Buffer): Promise<void>;
  ended(): void;
}

/** The bytes of one forwarded connection: writes go out on the data channel, incoming bytes are read. */
class PortData extends Duplex {
  readonly #link: PortLink;
  constructor(link: PortLink) {
    super({ allowHalfOpen: true });
    this.#link = link;
  }

  override _read(): void {
    this.#link.pull();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    void this.#link.write(chunk).then(() => { callback(); });
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#link.ended();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#link.ended();
    callback(error);
  }
}

class WebSocketPortConnection implements PortConnection {
  readonly port: number;
  readonly data: Duplex;
  readonly #socket: ChannelSocket;
  readonly #channels: { readonly data: number; readonly error: number };
  readonly #inbound: Inbound;
  readonly #onEnded: () => void;
  #ended = false;

  constructor(socket: ChannelSocket, port: number, index: number, onEnded: () => void) {
    this.port = port;
    this.#socket = socket;
    this.#channels = portChannels(index);
    this.#onEnded = onEnded;
    const data = new PortData({
      pull: () => { this.#inbound.pull(); },
      write: (chunk) => (this.#ended ? Promise.resolve() : socket.sendAll(this.#channels.data, chunk)),
      ended: () => { this.#end(); },
    });
    data.on('error', () => undefined); // destroy(err) by its user must not crash the server
    this.data = data;
    this.#inbound = new Inbound(data, socket);
  }

  /** Bytes from the client on the data channel. */
  deliver(chunk: Buffer): void {
    if (!this.#ended) this.#inbound.deliver(chunk);
  }

  fail(message: string): void {
    if (this.#ended) return;
    this.#socket.send(this.#channels.error, Buffer.from(message, 'utf8'));
    this.#end();
    this.data.destroy();
  }

  /** The connection is over: no more bytes either way. Idempotent. */
  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#inbound.end();
    this.#onEnded();
  }

  /** The socket went away: the client's bytes end here. */
  disconnect(): void {
    this.#inbound.end();
  }
}

class WebSocketPortForward implements PortForwardChannel {
  readonly #socket: ChannelSocket;
  readonly #connections: WebSocketPortConnection[];
  #open: number;

  constructor(ws: WebSocket, protocol: string, ports: readonly number[], options: PortForwardOptions) {
    this.#socket = new ChannelSocket(ws, { ...options, traits: protocolTraits(protocol), onFrame: (f) => this.#route(f) });
    this.#open = ports.length;
    this.#connections = ports.map((port, i) => new WebSocketPortConnection(this.#socket, port, i, () => { this.#connectionEnded(); }));
    ports.forEach((port, i) => {
      const { data, error } = portChannels(i);
      this.#socket.send(data, portPrefix(port));
      this.#socket.send(error, portPrefix(port));
    });
    const disconnect = (): void => { for (const c of this.#connections) c.disconnect(); };
    this.#socket.closed.addEventListener('abort', disconnect, { once: true });
    if (this.#socket.closed.aborted) disconnect();
  }

  get closed(): AbortSignal {
    return this.#socket.closed;
  }

  /** Every port's connection exists from the start, so each is announced at once. */
  onConnection(listener: (c: PortConnection) => void): void {
    for (const c of this.#connections) listener(c);
  }

  async close(): Promise<void> {
    for (const c of this.#connections) c.disconnect();
    await this.#socket.close(CloseCode.normal);
  }

  #connectionEnded(): void {
    this.#open -= 1;
    if (this.#open === 0) void this.#socket.close(CloseCode.normal);
  }

  #route(frame: IncomingFrame): Violation | undefined {
    if (frame.kind !== 'data') return undefined; // no CLOSE in these protocols (decodeMessage refuses it)
    const connection = this.#connections[frame.channel >> 1];
    if (connection === undefined) return { code: CloseCode.protocolError, reason: `unknown channel ${String(frame.channel)}` };
    if (frame.channel % 2 === 1) return { code: CloseCode.protocolError, reason: `channel ${String(frame.channel)} is not writable by the client` };
    connection.deliver(frame.payload);
    return undefined;
  }
}

function checkPorts(ports: readonly number[]): void {
  if (ports.length === 0 || ports.length > MAX_FORWARDED_PORTS) throw new RangeError(`a port-forward carries 1-${String(MAX_FORWARDED_PORTS)} ports, not ${String(ports.length)}`);
  const bad = ports.find((p) => !Number.isInteger(p) || p < 1 || p > 65535);
  if (bad !== undefined) throw new RangeError(`port ${String(bad)} is not 1-65535`);
}

/**
 * Turns an upgraded WebSocket (`protocol` as negotiated, see upgrade.ts) into one connection per
 * port of `ports` (parsePorts checked them; a bad list is a RangeError) and writes the port
 * prefixes. A malformed message from the client closes the socket (1002 or 1007) and aborts `closed`.
 */
export function acceptPortForward(ws: WebSocket, protocol: string, ports: readonly number[], options: PortForwardOptions = {}): PortForwardChannel {
  checkPorts(ports);
  return new WebSocketPortForward(ws, protocol, ports, options);
}
