// Session Manager, as ORCA uses it to reach into an instance without an inbound path: a command
// session whose process talks over one byte stream (the exec helper, under a pty), and port
// sessions carrying many TCP connections to one port. Implemented in aws/ssm/ (StartSession, the
// data channel, smux); see shared/reference/ssm-session.md.
import type { Duplex } from 'node:stream';

/** One command session: what the process writes is read from `stream`, what is written reaches its terminal. */
export interface CommandSession {
  readonly sessionId: string;
  /** Ends (readable side) when the session closes. Destroying it terminates the session. */
  readonly stream: Duplex;
  /** Ends the session (TerminateSession); idempotent, never throws. */
  terminate(): Promise<void>;
}

/** One port session: each connect() is one TCP connection to the port on the instance. */
export interface PortSession {
  readonly sessionId: string;
  /**
   * A new connection (one smux stream). The Duplex fails with a SessionError when the agent
   * reports it could not connect to the port.
   */
  connect(): Duplex;
  terminate(): Promise<void>;
}

export interface SessionManager {
  /** Makes sure the Session document `name` exists with `content` (JSON); created if missing. */
  ensureDocument(name: string, content: string, signal?: AbortSignal): Promise<void>;
  /** StartSession with the document on the instance; rejects with SessionError. */
  startCommand(instanceId: string, document: string, parameters: Readonly<Record<string, readonly string[]>>, signal?: AbortSignal): Promise<CommandSession>;
  /** AWS-StartPortForwardingSession to `port` on the instance; rejects with SessionError. */
  startPortForwarding(instanceId: string, port: number, signal?: AbortSignal): Promise<PortSession>;
}
