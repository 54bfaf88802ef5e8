// The WebSocket handshake of exec, attach and port-forward (kubelet-protocol.md §4.6, §4.7.2): tells
// a WebSocket upgrade from a SPDY one, checks the request and negotiates the subprotocol before any
// byte of a 101 is written, so a bad request gets a clear HTTP 400 instead of a socket that dies.
// The accepted socket is handed over paused: acceptRemoteCommand/acceptPortForward resume it once
// their listeners are in place, so no message is lost while the caller gets ready.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { err, type Result } from '../../domain/result.js';
import { negotiateProtocol, offeredProtocols, WS_PROTOCOLS, type StreamKind } from './protocols.js';
import { refuseUpgrade } from '../upgrade-refusal.js';

/** The largest message a client may send (16 MiB); a larger one closes the socket with 1009. */
export const DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024;

/** The request cannot become a WebSocket; a 400 with `message` was written. */
export class WebSocketUpgradeError extends Error {
  readonly status = 400;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'WebSocketUpgradeError';
  }
}

export interface AcceptedWebSocket {
  readonly ws: WebSocket;
  /** The negotiated subprotocol; `''` when the client offered none. */
  readonly protocol: string;
}

export interface WebSocketUpgraderOptions {
  /** The largest message accepted from a client, in bytes (default 16 MiB). */
  readonly maxPayload?: number;
}

const KEY = /^[+/0-9A-Za-z]{22}==$/;

/** `Upgrade: websocket` and a Connection header naming `upgrade` (wsstream IsWebSocketRequest). */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  if (req.headers.upgrade?.toLowerCase() !== 'websocket') return false;
  return /(^|,)\s*upgrade\s*(,|$)/i.test(req.headers.connection ?? '');
}

/** The negotiated protocol, or why the handshake cannot go ahead. */
export function checkUpgradeRequest(req: IncomingMessage, kind: StreamKind): Result<string, string> {
  if (req.method !== 'GET') return err(`a WebSocket upgrade must be a GET, not ${req.method ?? 'a request without a method'}`);
  if (!isWebSocketUpgrade(req)) return err('not a WebSocket upgrade: Upgrade: websocket and Connection: Upgrade are required');
  const version = req.headers['sec-websocket-version'];
  if (version !== '13' && version !== '8') return err('missing or unsupported Sec-WebSocket-Version (13 is required)');
  const key = req.headers['sec-websocket-key'];
  if (key === undefined || !KEY.test(key)) return err('missing or invalid Sec-WebSocket-Key');
  return negotiateProtocol(offeredProtocols(req.headers['sec-websocket-protocol']), WS_PROTOCOLS[kind]);
}


/** One WebSocket server (no listener of its own) for every exec, attach and port-forward upgrade. */
export class WebSocketUpgrader {
  readonly #server: WebSocketServer;
  readonly #negotiated = new WeakMap<IncomingMessage, string>();
  readonly #pending = new WeakMap<IncomingMessage, (e: Error) => void>();

  constructor(options: WebSocketUpgraderOptions = {}) {
    this.#server = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      clientTracking: false,
      maxPayload: options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
      handleProtocols: (_offered, req) => this.#negotiated.get(req) ?? false,
    });
    // Anything ws itself refuses (say, a Sec-WebSocket-Protocol it cannot parse) is answered here.
    this.#server.on('wsClientError', (e, socket, req) => {
      refuseUpgrade(socket, 400, e.message);
      this.#pending.get(req)?.(new WebSocketUpgradeError(e.message, { cause: e }));
    });
  }

  /**
   * Completes the handshake of `req` (its 'upgrade' socket and head) with the protocol negotiated
   * for `kind`. Rejects with WebSocketUpgradeError, having written a 400, when the request is bad,
   * or when the connection closes first.
   */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, kind: StreamKind): Promise<AcceptedWebSocket> {
    return new Promise<AcceptedWebSocket>((resolve, reject) => {
      const checked = checkUpgradeRequest(req, kind);
      if (!checked.ok) {
        refuseUpgrade(socket, 400, checked.error);
        reject(new WebSocketUpgradeError(checked.error));
        return;
      }
      const onClose = (): void => { reject(new WebSocketUpgradeError('the connection closed before the WebSocket handshake completed')); };
      if (socket.destroyed || !socket.readable || !socket.writable) {
        socket.destroy();
        onClose();
        return;
      }
      socket.once('close', onClose);
      this.#negotiated.set(req, checked.value);
      this.#pending.set(req, reject);
      this.#server.handleUpgrade(req, socket, head, (ws) => {
        socket.off('close', onClose);
        this.#pending.delete(req);
        ws.pause();
        resolve({ ws, protocol: checked.value });
      });
    });
  }
}
