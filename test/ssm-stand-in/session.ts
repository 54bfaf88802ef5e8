// Test double of AWS Session Manager: one session of the stand-in, from StartSession to its end. It
// holds the one-use token (valid for a minute), takes the client's open-data-channel text frame,
// then wires the data channel to the session plugin the document asks for (a pty shell, or port
// forwarding). It ends when the plugin ends — after waiting up to 2 s for the client to acknowledge
// the last output, then channel_closed —, on TerminateSession, when the client's socket goes (the
// stand-in has no ResumeSession), when its token expires unused, or when the stand-in stops.
// Nothing it started outlives it.
import type { WebSocket } from 'ws';
import type { AgentEnd, SessionAgent } from './agent.js';
import { DataChannel, type Faults } from './data-channel.js';
import type { SessionPlan } from './documents.js';
import { PortAgent } from './port-agent.js';
import { ShellAgent, type AgentContext } from './shell-agent.js';

/** Timings of the stand-in, all configurable for tests. */
export interface SessionSettings {
  /** The pty output pump's start delay (the agent sleeps 1 s). */
  readonly outputDelayMs: number;
  /** Retransmission timeout of output. */
  readonly resendMs: number;
  /** How long a token stays usable after StartSession. */
  readonly tokenTtlMs: number;
  readonly handshakeTimeoutMs: number;
  /** How long the agent waits for acknowledgements when the session ends. */
  readonly closeGraceMs: number;
}

/** How a session ended. */
export type SessionEnd = 'completed' | 'failed' | 'terminated' | 'disconnected' | 'stopped';

/** What a session reports to the stand-in. */
export interface SessionEvents {
  violation(text: string): void;
  resent(): void;
  ended(how: SessionEnd): void;
}

export interface SessionOptions {
  readonly id: string;
  readonly token: string;
  readonly target: string;
  readonly plan: SessionPlan;
  readonly settings: SessionSettings;
  readonly faults: () => Faults;
  /** The target's agent, looked up again when the socket opens (the instance may be gone). */
  readonly context: () => AgentContext | undefined;
  readonly events: SessionEvents;
}

interface OpenFrame {
  readonly MessageSchemaVersion?: unknown;
  readonly RequestId?: unknown;
  readonly TokenValue?: unknown;
  readonly ClientId?: unknown;
}

export class Session {
  readonly id: string;
  readonly #o: SessionOptions;
  readonly #expiresAt: number;
  readonly #expiry: NodeJS.Timeout;
  #state: 'waiting' | 'open' | 'ending' | 'ended' = 'waiting';
  #channel: DataChannel | undefined = undefined;
  #agent: SessionAgent | undefined = undefined;
  #exitCode: number | null | undefined = undefined;
  #closing: Promise<void> = Promise.resolve();

  constructor(o: SessionOptions) {
    this.id = o.id;
    this.#o = o;
    this.#expiresAt = Date.now() + o.settings.tokenTtlMs;
    this.#expiry = setTimeout(() => {
      if (this.#state === 'waiting') void this.#finish(() => Promise.resolve(), 'failed');
    }, o.settings.tokenTtlMs);
  }

  get state(): 'waiting' | 'open' | 'ending' | 'ended' {
    return this.#state;
  }

  /** The command's exit code once a shell session's process has exited (null: killed by a signal). */
  get exitCode(): number | null | undefined {
    return this.#exitCode;
  }

  /** Takes the open-data-channel frame; returns why the socket is refused, or undefined when the session runs. */
  open(socket: WebSocket, frame: Buffer, isBinary: boolean): string | undefined {
    let f: OpenFrame;
    try {
      f = JSON.parse(frame.toString('utf8')) as OpenFrame;
    } catch {
      return 'the open-data-channel frame is not JSON';
    }
    const refusal = this.#refusal(f);
    if (refusal !== undefined) return refusal;
    this.#check(f, isBinary);
    clearTimeout(this.#expiry);
    this.#state = 'open';
    const channel = new DataChannel({
      socket, sessionId: this.id, clientId: typeof f.ClientId === 'string' ? f.ClientId : '', resendMs: this.#o.settings.resendMs,
      faults: this.#o.faults, hooks: { deliver: (m) => this.#agent?.input(m) ?? false, violation: (t) => { this.#o.events.violation(t); }, resent: () => { this.#o.events.resent(); } },
    });
    this.#channel = channel;
    socket.on('close', () => { this.#lost(); });
    const context = this.#o.context();
    if (context === undefined) this.#end({ output: `${this.#o.target} is not connected.`, waitForAcks: false });
    else this.#agent = this.#start(channel, context);
    return undefined;
  }

  /** Injects pause_publication: output waits. */
  pause(): void {
    this.#channel?.pause();
  }

  /** Injects start_publication: output resumes. */
  resume(): void {
    this.#channel?.resume();
  }

  /** TerminateSession: the process is killed, the client gets channel_closed. Idempotent; false when it had already ended. */
  async terminate(): Promise<boolean> {
    if (this.#state === 'ending' || this.#state === 'ended') {
      await this.#closing;
      return false;
    }
    await this.#finish(async () => {
      await this.#agent?.kill();
      this.#channel?.close('');
    }, 'terminated');
    return true;
  }

  /** The stand-in stops: everything is closed without waiting for the client. */
  async stop(): Promise<void> {
    if (this.#state === 'ending' || this.#state === 'ended') {
      this.#channel?.abandon();
      await this.#closing;
      return;
    }
    await this.#finish(async () => {
      await this.#agent?.kill();
      this.#channel?.close('The Session Manager stand-in stopped.');
    }, 'stopped');
  }

  #refusal(f: OpenFrame): string | undefined {
    if (f.TokenValue !== this.#o.token) return 'the token is not the one StartSession returned';
    if (Date.now() > this.#expiresAt) return 'the token has expired';
    if (this.#state !== 'waiting') return 'the token has already been used';
    return undefined;
  }

  #check(f: OpenFrame, isBinary: boolean): void {
    const { events } = this.#o;
    if (isBinary) events.violation('the open-data-channel frame is binary, not text');
    if (f.MessageSchemaVersion !== '1.0') events.violation(`open-data-channel MessageSchemaVersion ${String(f.MessageSchemaVersion)}, not "1.0"`);
    if (typeof f.RequestId !== 'string' || f.RequestId.length < 16) events.violation('open-data-channel RequestId is not a UUID');
  }

  #start(channel: DataChannel, context: AgentContext): SessionAgent {
    const { plan, settings } = this.#o;
    const ended = (e: AgentEnd): void => { this.#end(e); };
    if (plan.kind === 'shell') return new ShellAgent({ command: plan.command, context, channel, outputDelayMs: settings.outputDelayMs, ended });
    return new PortAgent({ ...plan, channel, handshakeTimeoutMs: settings.handshakeTimeoutMs, ended });
  }

  /** The plugin ended the session. */
  #end(e: AgentEnd): void {
    if (this.#state !== 'open') return;
    if (e.exitCode !== undefined) this.#exitCode = e.exitCode;
    const how: SessionEnd = e.byClient === true ? 'terminated' : e.output === '' ? 'completed' : 'failed';
    void this.#finish(async () => {
      await this.#agent?.kill();
      if (e.waitForAcks) await this.#channel?.drained(this.#o.settings.closeGraceMs);
      this.#channel?.close(e.output);
    }, how);
  }

  /** The client's socket closed under a live session. */
  #lost(): void {
    if (this.#state !== 'open') return;
    void this.#finish(async () => {
      this.#channel?.abandon();
      await this.#agent?.kill();
    }, 'disconnected');
  }

  #finish(work: () => Promise<void>, how: SessionEnd): Promise<void> {
    const wasLive = this.#state !== 'ended';
    clearTimeout(this.#expiry);
    this.#state = 'ending';
    this.#closing = work().finally(() => {
      this.#channel?.abandon();
      this.#state = 'ended';
      if (wasLive) this.#o.events.ended(how);
    });
    return this.#closing;
  }
}
