// The transport-neutral side of exec, attach and port-forward: SPDY (spdy/) and WebSocket
// (websocket/) both turn one upgraded connection into these, and the handlers (exec-handler.ts,
// port-forward-handler.ts) never see which transport carried them.
import type { Duplex } from 'node:stream';
import type { ContainerIo, ExecOutcome } from '../../provider/provider.js';

/** One exec or attach connection, its streams created as the request asked. */
export interface RemoteCommandChannel {
  readonly io: ContainerIo;
  /**
   * Writes how it ended (v4 and later: a Status on the error stream; older protocols: the message
   * as text, nothing on success), ends every stream and closes the connection. Idempotent.
   */
  finish(outcome: ExecOutcome): Promise<void>;
  /** Aborts when the client goes away (or the connection fails). */
  readonly closed: AbortSignal;
}

/** One client connection to a forwarded port. */
export interface PortConnection {
  readonly port: number;
  /** The connection's bytes both ways; ending it closes the client's side. */
  readonly data: Duplex;
  /** Writes `message` on the port's error stream, then closes the connection's streams. */
  fail(message: string): void;
}

/** One port-forward request: its connections, as the client opens them. */
export interface PortForwardChannel {
  /** Called once per connection the client opens. */
  onConnection(listener: (c: PortConnection) => void): void;
  /** Closes every stream and the connection. */
  close(): Promise<void>;
  readonly closed: AbortSignal;
}
