// Drives one exec helper (agent/orca-exec.py) over a command session's byte stream, for kubectl
// exec, attach and cp: waits for the document's boot marker, delivers the helper, checks its
// greeting, sends the spec, then relays the client's stdin and terminal sizes as frames and the
// command's output frames to the client — awaiting each side, so a slow client slows the helper
// and a slow session slows stdin, rather than anything growing in memory. ORCA sends nothing before
// a line it waits for (the pty is raw by then). Everything it starts ends when it returns; the
// caller closes the session.
import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { Duplex, Writable } from 'node:stream';
import { SessionError } from '../domain/errors.js';
import type { ContainerIo, ExecOutcome, TerminalSize } from '../provider/provider.js';
import {
  closeStdinFrame, helperLine, HelperOutputParser, quitFrame, resizeFrame, signalFrame, specFrame, stdinFrames,
  type HelperEvent, type HelperSpec,
} from './exec-helper.js';
import { finish, pull, put } from './stream-io.js';

/** How long the helper may take to start the command, by default. */
export const defaultStartTimeoutMs = 30_000;

/** How long a last frame (K after the client left) may take to be sent. */
const lastWordMs = 1000;

export interface ExecHelperRun {
  /** The command session's stream (ports/sessions.ts CommandSession.stream), on ORCA-Exec-v1. */
  readonly stream: Duplex;
  /** agent/orca-exec.py. */
  readonly helperSource: string;
  readonly spec: HelperSpec;
  readonly io: ContainerIo;
  /** Aborts when the client goes away: the command is sent SIGHUP. */
  readonly signal: AbortSignal;
  /** From the call until the helper has started the command (default 30 s). */
  readonly startTimeoutMs?: number;
}

type Terminal =
  | { readonly type: 'exit'; readonly code: number }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'end' | 'cancelled' | 'timeout' }
  | { readonly type: 'error'; readonly message: string };

type Step = Exclude<HelperEvent, { type: 'exit' | 'failed' }> | Terminal;

const failed = (message: string): ExecOutcome => ({ kind: 'failed', message });
const cancelled = failed('the exec was cancelled: the client went away');
const needsPython = /python3.*(?:not found|no such file or directory)/i;

/** Runs the spec through the helper; resolves with the command's exit code or why it could not run. */
export async function runExecHelper(run: ExecHelperRun): Promise<ExecOutcome> {
  if (run.signal.aborted) return cancelled;
  let spec: string;
  try {
    spec = specFrame(run.spec);
  } catch (e) {
    if (e instanceof SessionError) return failed(e.message);
    throw e;
  }
  const session = new HelperSession(run, spec);
  try {
    return await session.run();
  } finally {
    await session.close();
  }
}

class HelperSession {
  readonly #run: ExecHelperRun;
  readonly #spec: string;
  readonly #parser: HelperOutputParser;
  readonly #nonce = randomBytes(16).toString('hex');
  /** Aborted when the session is over: ends the pumps and every wait. */
  readonly #stop = new AbortController();
  readonly #startTimer = new AbortController();
  /** Sends and pumps: until the end or the client going away. */
  readonly #live: AbortSignal;
  /** Reading the session: also until the start deadline. */
  readonly #reading: AbortSignal;
  readonly #timer: NodeJS.Timeout;
  readonly #recent: string[] = [];
  readonly #pumps: Promise<void>[] = [];
  readonly #guarded: EventEmitter[];
  #started = false;

  constructor(run: ExecHelperRun, spec: string) {
    this.#run = run;
    this.#spec = spec;
    this.#parser = new HelperOutputParser(this.#nonce);
    this.#live = AbortSignal.any([run.signal, this.#stop.signal]);
    this.#reading = AbortSignal.any([this.#live, this.#startTimer.signal]);
    this.#timer = setTimeout(() => { this.#startTimer.abort(); }, run.startTimeoutMs ?? defaultStartTimeoutMs);
    // A stream that fails while nobody waits on it must not bring the process down: its failure is
    // seen as its end by the next read or write.
    this.#guarded = [run.stream, run.io.stdin, run.io.stdout, run.io.stderr].filter((s) => s !== undefined);
    for (const s of this.#guarded) s.on('error', ignore);
  }

  async run(): Promise<ExecOutcome> {
    for (;;) {
      const step = await this.#next();
      const outcome = await this.#on(step);
      if (outcome !== undefined) return outcome;
    }
  }

  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#stop.abort();
    await Promise.allSettled(this.#pumps);
    await Promise.all([finish(this.#run.io.stdout, this.#run.signal), finish(this.#run.io.stderr, this.#run.signal)]);
    for (const s of this.#guarded) s.off('error', ignore);
  }

  async #next(): Promise<Step> {
    for (;;) {
      try {
        const event = this.#parser.next();
        if (event !== undefined) return event;
      } catch (e) {
        return { type: 'error', message: e instanceof SessionError ? e.message : String(e) };
      }
      const chunk = await pull(this.#run.stream, this.#reading);
      if (chunk === 'end') return { type: 'end' };
      if (chunk === 'stopped') return { type: this.#run.signal.aborted ? 'cancelled' : 'timeout' };
      this.#parser.push(chunk);
    }
  }

  async #on(step: Step): Promise<ExecOutcome | undefined> {
    switch (step.type) {
      case 'noise':
        this.#remember(step.text);
        return undefined;
      case 'boot':
        await this.#send(helperLine(this.#run.helperSource, this.#nonce));
        return undefined;
      case 'hello':
        await this.#send(this.#spec);
        return undefined;
      case 'ready':
        this.#begin();
        return undefined;
      case 'stdout':
      case 'stderr':
        await this.#output(step.type === 'stdout' ? this.#run.io.stdout : this.#run.io.stderr, step.data);
        return undefined;
      default:
        return this.#end(step);
    }
  }

  async #end(step: Terminal): Promise<ExecOutcome> {
    switch (step.type) {
      case 'exit':
        await this.#send(quitFrame);
        return { kind: 'exited', code: step.code };
      case 'failed':
        await this.#send(quitFrame);
        return failed(step.message);
      case 'end':
        return failed(this.#endMessage());
      case 'timeout':
        return failed(`the exec helper did not start within ${String((this.#run.startTimeoutMs ?? defaultStartTimeoutMs) / 1000)} s${this.#tail()}`);
      case 'cancelled':
        await this.#hangUp();
        return cancelled;
      case 'error':
        await this.#hangUp();
        return failed(step.message);
    }
  }

  #begin(): void {
    clearTimeout(this.#timer);
    this.#started = true;
    const { spec, io } = this.#run;
    if (spec.stdin) this.#pumps.push(this.#pumpStdin());
    if (spec.tty && io.resizes !== undefined) this.#pumps.push(this.#pumpResizes(io.resizes));
  }

  async #send(line: string, signal = this.#live): Promise<boolean> {
    return put(this.#run.stream, line, signal);
  }

  /** To the client, waiting for it to take it; dropped when the client did not ask for it or is gone. */
  async #output(to: Writable | undefined, data: Buffer): Promise<void> {
    if (to !== undefined) await put(to, data, this.#run.signal);
  }

  /** The command gets SIGHUP (the client is gone), if it runs. */
  async #hangUp(): Promise<void> {
    if (this.#started) await this.#send(signalFrame('HUP'), AbortSignal.timeout(lastWordMs));
  }

  async #pumpStdin(): Promise<void> {
    const stdin = this.#run.io.stdin;
    for (;;) {
      const chunk = stdin === undefined ? 'end' : await pull(stdin, this.#live);
      if (chunk === 'stopped') return;
      if (chunk === 'end') break;
      if (chunk.length > 0 && !(await this.#send(stdinFrames(chunk)))) return;
    }
    await this.#send(closeStdinFrame);
  }

  async #pumpResizes(resizes: AsyncIterable<TerminalSize>): Promise<void> {
    const it = resizes[Symbol.asyncIterator]();
    const stopped = new Promise<undefined>((resolve) => { this.#live.addEventListener('abort', () => { resolve(undefined); }, { once: true }); });
    try {
      for (;;) {
        const next = it.next();
        next.catch(ignore);
        const r = await Promise.race([next, stopped]);
        if (r === undefined || r.done === true || !(await this.#send(resizeFrame(r.value)))) break;
      }
    } catch {
      // The client's resize stream failed: no more resizes.
    }
    // Ends the client's iterator once its pending read settles (it is the caller's to end otherwise).
    if (this.#live.aborted) it.return?.().catch(ignore);
  }

  #remember(text: string): void {
    const line = text.trim();
    if (line === '') return;
    this.#recent.push(line.length > 200 ? `${line.slice(0, 200)}…` : line);
    if (this.#recent.length > 5) this.#recent.shift();
  }

  #tail(): string {
    this.#remember(this.#parser.rest);
    return this.#recent.length === 0 ? '' : `: ${this.#recent.join(' | ')}`;
  }

  #endMessage(): string {
    switch (this.#parser.phase) {
      case 'starting':
        return `the exec session ended before the exec helper's shell started${this.#tail()}`;
      case 'loading': {
        const tail = this.#tail();
        return needsPython.test(tail) ? `the exec helper needs python3 on the instance${tail}` : `the exec helper did not start${tail}`;
      }
      case 'greeted':
        return this.#started ? 'the exec session ended before the command\'s exit status arrived' : 'the exec session ended before the exec helper started the command';
    }
  }
}

function ignore(): void {
  // Seen as the stream's end by the next read or write.
}
