// The two transports of an upgraded exec, attach or port-forward connection: SPDY/3.1 (what the
// apiserver speaks to kubelets, translating kubectl's WebSocket) and WebSocket (direct clients and
// apiservers that pass WebSocket through). Each completes the upgrade — or answers the refusal, as
// a kubelet words it — and hands over the transport-neutral channel.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ExecRequest } from '../provider/provider.js';
import { refuseUpgrade } from './upgrade-refusal.js';
import { acceptSpdyPortForward } from './spdy/port-forward.js';
import { acceptSpdyRemoteCommand } from './spdy/remote-command.js';
import type { SessionLog } from './spdy/session.js';
import { negotiateUpgrade, PORT_FORWARD_PROTOCOLS, REMOTE_COMMAND_PROTOCOLS } from './spdy/upgrade.js';
import type { PortForwardChannel, RemoteCommandChannel } from './streams/model.js';
import { acceptPortForward } from './websocket/port-forward.js';
import { acceptRemoteCommand } from './websocket/remote-command.js';
import { isWebSocketUpgrade, WebSocketUpgradeError, WebSocketUpgrader, type AcceptedWebSocket } from './websocket/upgrade.js';

/** One upgrade request, as Node's 'upgrade' event gives it. */
export interface Upgrade {
  readonly req: IncomingMessage;
  readonly socket: Duplex;
  readonly head: Buffer;
}

export interface TransportOptions {
  /** No frame either way for this long ends a SPDY connection (the kubelet's streamingConnectionIdleTimeout). */
  readonly idleTimeoutMs: number;
  readonly log: SessionLog;
}

export class StreamTransports {
  readonly #o: TransportOptions;
  readonly #ws = new WebSocketUpgrader();

  constructor(o: TransportOptions) {
    this.#o = o;
  }

  /** The exec or attach channel, or undefined when the upgrade was refused (the answer is written). */
  async remoteCommand(u: Upgrade, request: ExecRequest): Promise<RemoteCommandChannel | undefined> {
    if (isWebSocketUpgrade(u.req)) {
      const accepted = await this.#webSocket(u, 'remoteCommand');
      return accepted === undefined ? undefined : acceptRemoteCommand(accepted.ws, accepted.protocol, request, { idleTimeoutMs: this.#o.idleTimeoutMs });
    }
    const protocol = this.#spdy(u, REMOTE_COMMAND_PROTOCOLS);
    if (protocol === undefined) return undefined;
    return acceptSpdyRemoteCommand({ socket: u.socket, head: u.head, protocol, request, idleTimeoutMs: this.#o.idleTimeoutMs, log: this.#o.log });
  }

  /** The port-forward channel (`ports` are the WebSocket query's), or undefined when refused. */
  async portForward(u: Upgrade, ports: readonly number[]): Promise<PortForwardChannel | undefined> {
    if (isWebSocketUpgrade(u.req)) {
      if (ports.length === 0) {
        refuseUpgrade(u.socket, 400, 'a WebSocket port-forward names its ports in the query (port=)');
        return undefined;
      }
      const accepted = await this.#webSocket(u, 'portForward');
      return accepted === undefined ? undefined : acceptPortForward(accepted.ws, accepted.protocol, ports, { idleTimeoutMs: this.#o.idleTimeoutMs });
    }
    if (this.#spdy(u, PORT_FORWARD_PROTOCOLS) === undefined) return undefined;
    return acceptSpdyPortForward({ socket: u.socket, head: u.head, idleTimeoutMs: this.#o.idleTimeoutMs, log: this.#o.log });
  }

  /** Completes a WebSocket upgrade; undefined when it was refused (the 400 is written). */
  async #webSocket(u: Upgrade, kind: 'remoteCommand' | 'portForward'): Promise<AcceptedWebSocket | undefined> {
    try {
      return await this.#ws.upgrade(u.req, u.socket, u.head, kind);
    } catch (e) {
      if (e instanceof WebSocketUpgradeError) return undefined;
      throw e;
    }
  }

  /** Negotiates SPDY/3.1 and writes the 101; undefined (after the refusal) when it cannot. */
  #spdy(u: Upgrade, supported: readonly string[]): string | undefined {
    const d = negotiateUpgrade(u.req.headers, supported);
    if (d.kind === 'refuse') {
      refuseUpgrade(u.socket, d.status, d.message, d.headers);
      return undefined;
    }
    u.socket.write(d.responseHead);
    return d.protocol;
  }
}
