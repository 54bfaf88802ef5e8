// Test double of AWS Session Manager: the SSM agent's shell plugin for InteractiveCommands and
// Standard_Stream sessions. It runs `sh -c <commands>` under a cooked-mode pty (pty-relay.py) in
// the instance's agent environment and directory, writes client Output payloads to the pty, applies
// Size payloads with TIOCSWINSZ, and streams the pty's output — after the agent's start delay
// (1 s by default), in reads of at most 1024 bytes, through the agent's UTF-8 filter. No handshake
// (no KMS), no exit code on the wire; when the command exits the session ends. Input that arrives
// before the process has started is left unacknowledged, as the agent's "handler not ready".
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Writable } from 'node:stream';
import { PayloadType, type AgentMessage } from './agent-message.js';
import { chunks, type AgentEnd, type SessionAgent } from './agent.js';
import { Utf8Filter } from './utf8-filter.js';

const relayScript = fileURLToPath(new URL('./pty-relay.py', import.meta.url));
const systemPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** The relay gets this long after SIGTERM to kill its command and leave before SIGKILL. */
const killGraceMs = 1000;
const stderrLimit = 4096;

/** Where a session runs "on" an instance: its SSM agent's environment and working directory. */
export interface AgentContext {
  readonly env: Readonly<Record<string, string>>;
  readonly dir: string;
}

export interface ShellAgentOptions {
  readonly command: string;
  readonly context: AgentContext;
  /** The session's channel: sequenced output, and a retry of input refused before the start. */
  readonly channel: { send(payloadType: number, payload: Buffer): void; retry(): void };
  readonly outputDelayMs: number;
  readonly ended: (end: AgentEnd) => void;
}

/** The agent adds TERM and LANG when the environment lacks them. */
function shellEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  return { PATH: systemPath, ...env, TERM: env.TERM ?? 'xterm-256color', LANG: env.LANG ?? 'C.UTF-8' };
}

/** Parses a Size payload, {"cols":C,"rows":R}; undefined when it is not one. */
export function sizeOf(payload: Buffer): { readonly cols: number; readonly rows: number } | undefined {
  try {
    const v = JSON.parse(payload.toString('utf8')) as { cols?: unknown; rows?: unknown };
    const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0;
    return ok(v.cols) && ok(v.rows) ? { cols: v.cols, rows: v.rows } : undefined;
  } catch {
    return undefined;
  }
}

export class ShellAgent implements SessionAgent {
  readonly #o: ShellAgentOptions;
  readonly #relay: ChildProcess;
  readonly #gone: Promise<unknown>;
  readonly #filter = new Utf8Filter();
  readonly #early: Buffer[] = [];
  readonly #pumpTimer: NodeJS.Timeout;
  #stderr = '';
  #ready = false;
  #pumping = false;
  /** Killed, or its end reported: nothing more goes to the session. */
  #done = false;
  /** Set once the relay has exited: its exit code, null after a signal. */
  #exit: { readonly code: number | null; readonly failure: string } | undefined = undefined;

  constructor(o: ShellAgentOptions) {
    this.#o = o;
    this.#relay = spawn('python3', [relayScript, '3', o.command], {
      cwd: o.context.dir, env: shellEnv(o.context.env), stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    this.#gone = Promise.race([once(this.#relay, 'close'), once(this.#relay, 'error')]).catch(() => undefined);
    this.#relay.on('spawn', () => {
      this.#ready = true;
      o.channel.retry();
    });
    this.#relay.on('error', (e) => { this.#exited(null, `the pty relay failed: ${e.message}`); });
    this.#relay.on('close', (code: number | null) => { this.#exited(code, this.#stderr.trim()); });
    this.#relay.stdout?.on('data', (b: Buffer) => { this.#output(b); });
    this.#relay.stderr?.on('data', (b: Buffer) => { if (this.#stderr.length < stderrLimit) this.#stderr += b.toString('utf8'); });
    for (const s of [this.#relay.stdin, this.#relay.stdio[3]]) (s as Writable | null)?.on('error', () => undefined);
    this.#pumpTimer = setTimeout(() => { this.#startPump(); }, o.outputDelayMs);
  }

  input(m: AgentMessage): boolean {
    if (!this.#ready) return false;
    if (this.#exit !== undefined || this.#done) return true;
    if (m.payloadType === PayloadType.output) {
      this.#relay.stdin?.write(m.payload);
    } else if (m.payloadType === PayloadType.size) {
      const size = sizeOf(m.payload);
      if (size !== undefined) (this.#relay.stdio[3] as Writable | null)?.write(`${size.cols} ${size.rows}\n`);
    }
    return true;
  }

  async kill(): Promise<void> {
    this.#done = true;
    clearTimeout(this.#pumpTimer);
    if (this.#exit === undefined && this.#relay.exitCode === null && this.#relay.signalCode === null) {
      this.#relay.kill('SIGTERM');
      const hard = setTimeout(() => { this.#relay.kill('SIGKILL'); }, killGraceMs);
      await this.#gone;
      clearTimeout(hard);
    }
  }

  #output(bytes: Buffer): void {
    if (!this.#pumping) {
      this.#early.push(bytes);
      return;
    }
    for (const read of chunks(bytes)) {
      for (const piece of chunks(this.#filter.push(read))) this.#o.channel.send(PayloadType.output, piece);
    }
  }

  #startPump(): void {
    this.#pumping = true;
    this.#output(Buffer.concat(this.#early.splice(0)));
    this.#finish();
  }

  #exited(code: number | null, failure: string): void {
    this.#exit ??= { code, failure };
    this.#finish();
  }

  /** Ends the session once the relay has exited and its output has gone out. */
  #finish(): void {
    if (this.#exit === undefined || !this.#pumping || this.#done) return;
    this.#done = true;
    const failed = this.#exit.code === null || this.#exit.failure !== '';
    this.#o.ended({ output: failed ? this.#exit.failure : '', waitForAcks: true, exitCode: this.#exit.code });
  }
}
