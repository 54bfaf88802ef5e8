// ORCA's half of the exec helper protocol (agent/orca-exec.py is the other): the Session document
// ORCA-Exec-v1, the line that delivers the helper, the frames ORCA sends, and an incremental parser
// of what comes back. The helper runs under the SSM agent's pty, whose output path alters some byte
// sequences and may drop trailing bytes (shared/reference/ssm-session.md §2.11), so everything is an
// ASCII line and binary data is base64. The helper is delivered in-band at each session start (not
// installed by user data, which stays within EC2's 16 KB, and so it is always ORCA's own version).
// An O/E frame carries up to 32 KiB: the agent cuts output into 1 KiB messages whatever the frame
// size and the parser joins lines of any length, so bigger frames only save per-frame work. Pure.
import { deflateSync } from 'node:zlib';
import { SessionError } from '../domain/errors.js';
import type { TerminalSize } from '../provider/provider.js';

/** The Session document's name: a new protocol gets a new name, never a new content under this one. */
export const EXEC_DOCUMENT_NAME = 'ORCA-Exec-v1';

/** What the document's shell prints once the pty is raw: ORCA sends nothing before it. */
export const bootMarker = 'ORCA-EXEC-BOOT';

/** Raw bytes per I, O or E frame at most. */
export const maxFrameBytes = 32 * 1024;

/** The longest line ORCA accepts from the helper (a 32 KiB frame is 43,692 characters). */
export const maxLineChars = 64 * 1024;

/** The longest spec line the helper accepts. */
export const maxSpecChars = 2 * 1024 * 1024;

/** Reads one line (a nonce and the helper, zlib-compressed and base64-encoded) and runs it. No single quote: it sits in one. */
const loader = 'import sys,zlib,base64;n,s=sys.stdin.buffer.readline().split();'
  + 'exec(compile(zlib.decompress(base64.b64decode(s)),"orca-exec.py","exec"),{"__name__":"__main__","ORCA_NONCE":n.decode()})';

/** The document's command, run by the SSM agent as `sh -c` on its pty. */
export const execCommand = `stty raw -echo; echo ${bootMarker}; exec python3 -c '${loader}'`;

/** The content of the ORCA-Exec-v1 Session document (JSON). */
export const EXEC_DOCUMENT_CONTENT: string = JSON.stringify({
  schemaVersion: '1.0',
  description: 'ORCA exec helper: kubectl exec, attach and cp on a burst instance (the helper arrives in-band)',
  sessionType: 'InteractiveCommands',
  properties: { linux: { commands: execCommand, runAsElevated: true } },
});

const noncePattern = /^[A-Za-z0-9]{16,64}$/;

/** The line that delivers the helper's source; the helper greets with `nonce`, which stray output cannot know. */
export function helperLine(source: string, nonce: string): string {
  if (!noncePattern.test(nonce)) throw new SessionError('protocol', 'an exec helper nonce is 16 to 64 letters and digits');
  return `${nonce} ${deflateSync(Buffer.from(source, 'utf8'), { level: 9 }).toString('base64')}\n`;
}

/** What the helper runs: `docker exec` of argv, or `docker attach` (argv empty), in the named container run. */
export interface HelperSpec {
  readonly mode: 'exec' | 'attach';
  /** The container run's docker name (orca-<container>-<run>). */
  readonly container: string;
  readonly argv: readonly string[];
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly tty: boolean;
  /** The terminal's first size (tty only; 80 × 24 when absent). */
  readonly cols?: number;
  readonly rows?: number;
}

const cells = (n: number | undefined, fallback: number): number => (n === undefined || !Number.isFinite(n) ? fallback : Math.min(65535, Math.max(1, Math.floor(n))));

/** `S <base64url JSON>`: the spec, ORCA's first frame after the greeting. */
export function specFrame(spec: HelperSpec): string {
  const body = {
    v: 1, mode: spec.mode, container: spec.container, argv: [...spec.argv],
    stdin: spec.stdin, stdout: spec.stdout, stderr: spec.stderr && !spec.tty, tty: spec.tty,
    ...(spec.tty ? { cols: cells(spec.cols, 80), rows: cells(spec.rows, 24) } : {}),
  };
  const line = `S ${Buffer.from(JSON.stringify(body), 'utf8').toString('base64url')}\n`;
  if (line.length > maxSpecChars) throw new SessionError('helper', `the command is too long for the exec helper (${String(line.length)} characters encoded; at most ${String(maxSpecChars)})`);
  return line;
}

/** `I <base64>` lines carrying `data` (empty for no data). */
export function stdinFrames(data: Uint8Array): string {
  const lines: string[] = [];
  for (let at = 0; at < data.length; at += maxFrameBytes) {
    lines.push(`I ${Buffer.from(data.buffer, data.byteOffset + at, Math.min(maxFrameBytes, data.length - at)).toString('base64')}\n`);
  }
  return lines.join('');
}

/** `C`: stdin's end. */
export const closeStdinFrame = 'C\n';

/** `Q`: ORCA has the exit status; the helper may go. */
export const quitFrame = 'Q\n';

/** `W <cols> <rows>`: the terminal's new size. */
export const resizeFrame = (size: TerminalSize): string => `W ${String(cells(size.cols, 80))} ${String(cells(size.rows, 24))}\n`;

/** The signals ORCA may ask the helper to send its command. */
export type HelperSignal = 'HUP' | 'INT' | 'QUIT' | 'TERM' | 'KILL';

/** `K <signal>`: signal the command (HUP when the client went away). */
export const signalFrame = (signal: HelperSignal): string => `K ${signal}\n`;

/** One thing read from the session: before the greeting any line (`noise`), after it only frames. */
export type HelperEvent =
  | { readonly type: 'noise'; readonly text: string }
  | { readonly type: 'boot' }
  | { readonly type: 'hello'; readonly version: string }
  | { readonly type: 'ready' }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'stdout' | 'stderr'; readonly data: Buffer }
  | { readonly type: 'exit'; readonly code: number; readonly signal?: string };

/** Where the session is: before the boot marker, between it and the greeting, or speaking frames. */
export type HelperPhase = 'starting' | 'loading' | 'greeted';

const base64Text = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function bad(line: string): SessionError {
  const shown = line.length > 60 ? `${line.slice(0, 60)}…` : line;
  return new SessionError('protocol', `the exec helper sent a line that is not a frame: ${JSON.stringify(shown)}`);
}

function data(line: string): Buffer {
  const text = line.slice(2);
  if (text === '' || !base64Text.test(text)) throw bad(line);
  return Buffer.from(text, 'base64');
}

function exitFrame(line: string): HelperEvent {
  const m = /^X (\d{1,3})(?: ([A-Z0-9]{1,12}))?$/.exec(line);
  const code = Number(m?.[1] ?? 'NaN');
  if (m === null || code > 255) throw bad(line);
  return m[2] === undefined ? { type: 'exit', code } : { type: 'exit', code, signal: m[2] };
}

/** One frame after the greeting; anything else is a SessionError of kind `protocol`. */
export function parseFrame(line: string): HelperEvent {
  switch (line.slice(0, 2)) {
    case 'O ': return { type: 'stdout', data: data(line) };
    case 'E ': return { type: 'stderr', data: data(line) };
    case 'F ': return { type: 'failed', message: data(line).toString('utf8') };
    case 'X ': return exitFrame(line);
    default:
      if (line === 'R') return { type: 'ready' };
      throw bad(line);
  }
}

/**
 * The helper's output, fed in chunks of any size: `push` splits lines (a line over `maxLine`
 * characters is an error), `next` gives one event at a time and throws the SessionError of a line
 * that is not a frame when it reaches it, so every event before it is still delivered.
 */
export class HelperOutputParser {
  readonly #hello: string;
  readonly #maxLine: number;
  readonly #lines: (Buffer | SessionError)[] = [];
  #parts: Buffer[] = [];
  #partLength = 0;
  #poisoned = false;
  #phase: HelperPhase = 'starting';

  constructor(nonce: string, maxLine = maxLineChars) {
    this.#hello = `ORCA1 HELLO ${nonce} `;
    this.#maxLine = maxLine;
  }

  get phase(): HelperPhase {
    return this.#phase;
  }

  push(chunk: Uint8Array): void {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    let start = 0;
    while (!this.#poisoned) {
      const nl = buf.indexOf(0x0a, start);
      if (nl < 0) {
        // Kept past this call: a copy, so the caller may reuse its buffer.
        this.#add(Buffer.from(buf.subarray(start)));
        return;
      }
      if (this.#add(buf.subarray(start, nl))) this.#lines.push(Buffer.concat(this.#parts, this.#partLength));
      this.#parts = [];
      this.#partLength = 0;
      start = nl + 1;
    }
  }

  /** The partial line after the last newline, as text (for a message when the session ends). */
  get rest(): string {
    return this.#poisoned ? '' : Buffer.concat(this.#parts, this.#partLength).toString('utf8');
  }

  next(): HelperEvent | undefined {
    const raw = this.#lines.shift();
    if (raw === undefined) return undefined;
    if (raw instanceof SessionError) throw raw;
    const end = raw.at(-1) === 0x0d ? raw.length - 1 : raw.length;
    const line = raw.toString(this.#phase === 'greeted' ? 'latin1' : 'utf8', 0, end);
    return this.#event(line);
  }

  #event(line: string): HelperEvent {
    if (this.#phase === 'greeted') return parseFrame(line);
    if (this.#phase === 'starting' && line === bootMarker) {
      this.#phase = 'loading';
      return { type: 'boot' };
    }
    const version = this.#phase === 'loading' && line.startsWith(this.#hello) ? line.slice(this.#hello.length) : '';
    if (!/^[A-Za-z0-9.-]{1,16}$/.test(version)) return { type: 'noise', text: line };
    this.#phase = 'greeted';
    return { type: 'hello', version };
  }

  /** Adds to the current line; false once the line is too long (nothing after it is read). */
  #add(part: Buffer): boolean {
    this.#parts.push(part);
    this.#partLength += part.length;
    if (this.#partLength <= this.#maxLine) return true;
    this.#poisoned = true;
    this.#parts = [];
    this.#partLength = 0;
    this.#lines.push(new SessionError('protocol', `the exec helper sent a line longer than ${String(this.#maxLine)} characters`));
    return false;
  }
}
