// Test double of AWS Session Manager: what the stand-in's session plugins (the shell pty and port
// forwarding of the real SSM agent) have in common, and the few helpers both use.
import type { AgentMessage } from './agent-message.js';

/** The on-instance side of one session. */
export interface SessionAgent {
  /** A client stream message, in sequence order; false when it cannot be taken yet (it stays unacknowledged). */
  input(m: AgentMessage): boolean;
  /** Ends the session's work at once: the process is killed, connections closed. Resolves when all is gone. */
  kill(): Promise<void>;
}

/** How a session ended on the agent's side. */
export interface AgentEnd {
  /** channel_closed's Output: empty, or why the session failed. */
  readonly output: string;
  /** Wait (at most the close grace) for the client to acknowledge all output before closing. */
  readonly waitForAcks: boolean;
  /** The command's exit code (shell sessions; null when a signal ended it). */
  readonly exitCode?: number | null;
  /** The client asked for the end (TerminateSession flag). */
  readonly byClient?: boolean;
}

/** Largest payload of one output_stream_data message. */
export const chunkSize = 1024;

/** `bytes` in pieces of at most chunkSize. */
export function chunks(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < bytes.length; off += chunkSize) out.push(bytes.subarray(off, off + chunkSize));
  return out;
}

/** Whether dotted version `v` is at least `min` (missing parts count as 0, garbage as -1). */
export function versionAtLeast(v: string, min: string): boolean {
  const parse = (s: string): number[] => s.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : -1));
  const a = parse(v);
  const b = parse(min);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}
