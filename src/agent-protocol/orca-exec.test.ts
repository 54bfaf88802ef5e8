// The real exec helper (agent/orca-exec.py) driven by runExecHelper, end to end: the document's
// command runs under a real pty (util-linux `script`, which sits between its pipes and the command
// as the SSM agent sits between the data channel and the helper), with a `docker` on PATH that runs
// `docker exec` / `docker attach` locally.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex, PassThrough, Readable, Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerIo, ExecOutcome, TerminalSize } from '../provider/provider.js';
import { runExecHelper } from './exec-client.js';
import { EXEC_DOCUMENT_CONTENT, type HelperSpec } from './exec-helper.js';

const helperSource = readFileSync(new URL('../../agent/orca-exec.py', import.meta.url), 'utf8');
const command = (JSON.parse(EXEC_DOCUMENT_CONTENT) as { properties: { linux: { commands: string } } }).properties.linux.commands;
const which = (name: string): string => execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();

/** `docker exec [-i] [-t] [--detach-keys X] NAME cmd…` runs cmd…; attach echoes its name, then cat. Each call is logged (US between words, RS after each call). */
const fakeDocker = `#!/bin/sh
{ printf '%s\\037' "$@"; printf '\\036'; } >>"$ORCA_TEST_DIR/docker.log"
echo $$ >"$ORCA_TEST_DIR/docker.pid"
cmd=$1; shift
while :; do
  case \${1:-} in
    -i|-t|--no-stdin|--sig-proxy=false) shift ;;
    --detach-keys) shift 2 ;;
    *) break ;;
  esac
done
name=$1; shift
case $cmd in
  exec) exec "$@" ;;
  attach) echo "attached to $name"; exec cat ;;
esac
`;

let dir = '';
let withPython = '';
let withoutPython = '';
let script = '';
const children: ChildProcess[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'orca-exec-'));
  script = which('script');
  withPython = join(dir, 'bin');
  withoutPython = join(dir, 'nopython');
  mkdirSync(withPython);
  mkdirSync(withoutPython);
  writeFileSync(join(withPython, 'docker'), fakeDocker, { mode: 0o755 });
  symlinkSync(execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim(), join(withPython, 'python3'));
  for (const bin of [withPython, withoutPython]) symlinkSync(which('stty'), join(bin, 'stty'));
});
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

/** Every docker command line so far. */
function dockerLog(): string[][] {
  const text = existsSync(join(dir, 'docker.log')) ? readFileSync(join(dir, 'docker.log'), 'utf8') : '';
  return text.split('\x1e').slice(0, -1).map((call) => call.split('\x1f').slice(0, -1));
}
const lastCall = (): string[] => dockerLog().at(-1) ?? [];
const detachKeys = ['--detach-keys', 'ctrl-@,ctrl-^,ctrl-_,ctrl-@,ctrl-^,ctrl-_,ctrl-@,ctrl-^'];

/** The session's stream: the document's command under a pty; `sent` is every line ORCA wrote. */
function session(path: string): { stream: Duplex; sent: string[] } {
  const env = { PATH: path, SHELL: '/bin/sh', HOME: dir, ORCA_TEST_DIR: dir };
  const child = spawn(script, ['-qfec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const toHelper = new PassThrough();
  const sent: string[] = [];
  toHelper.on('data', (c: Buffer) => { sent.push(...c.toString('latin1').split('\n').filter((l) => l !== '')); });
  toHelper.pipe(child.stdin);
  child.stdin.on('error', () => undefined);
  return { stream: Duplex.from({ readable: child.stdout, writable: toHelper }), sent };
}

class Sink extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(chunk);
    cb();
  }

  get data(): Buffer { return Buffer.concat(this.chunks); }
  get text(): string { return this.data.toString('utf8'); }
}

/** An async iterable of sizes the test pushes. */
function sizes(): { readonly iterable: AsyncIterable<TerminalSize>; readonly add: (s: TerminalSize) => void } {
  const queue = new PassThrough({ objectMode: true });
  return { iterable: queue, add: (s) => { queue.write(s); } };
}

const base: HelperSpec = { mode: 'exec', container: 'orca-main-0', argv: [], stdin: false, stdout: true, stderr: true, tty: false };

interface Options { readonly io?: Omit<ContainerIo, 'stdout' | 'stderr'>; readonly stdout?: Sink; readonly path?: string; readonly signal?: AbortSignal; readonly s?: ReturnType<typeof session> }

async function exec(spec: Partial<HelperSpec>, o: Options = {}): Promise<{ outcome: ExecOutcome; stdout: Sink; stderr: Sink }> {
  const stdout = o.stdout ?? new Sink();
  const stderr = new Sink();
  const s = o.s ?? session(o.path ?? `${withPython}:/usr/bin:/bin`);
  const io = { stdout, stderr, ...o.io };
  const outcome = await runExecHelper({ stream: s.stream, helperSource, spec: { ...base, ...spec }, io, signal: o.signal ?? new AbortController().signal, startTimeoutMs: 10_000 });
  return { outcome, stdout, stderr };
}

const until = async (what: () => boolean): Promise<void> => {
  for (let i = 0; i < 500 && !what(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(what()).toBe(true);
};

describe('the exec helper under a pty', () => {
  it('passes argv exactly: no joining, no shell', async () => {
    const r = await exec({ argv: ['printf', '%s\n', 'a b', 'c"d', '$HOME', ''] });
    expect(r.outcome).toEqual({ kind: 'exited', code: 0 });
    expect(r.stdout.text).toBe('a b\nc"d\n$HOME\n\n');
    expect(lastCall()).toEqual(['exec', ...detachKeys, 'orca-main-0', 'printf', '%s\n', 'a b', 'c"d', '$HOME', '']);
  });

  it('keeps stdout and stderr apart and returns the exit code', async () => {
    const r = await exec({ argv: ['sh', '-c', 'echo out; echo err >&2; exit 7'] });
    expect(r.outcome).toEqual({ kind: 'exited', code: 7 });
    expect([r.stdout.text, r.stderr.text]).toEqual(['out\n', 'err\n']);
  });

  it('reads 5 MiB of stdin to its end (wc -c)', async () => {
    const r = await exec({ argv: ['wc', '-c'], stdin: true }, { io: { stdin: Readable.from([randomBytes(5 * 1024 * 1024)]) } });
    expect(r.outcome).toEqual({ kind: 'exited', code: 0 });
    expect(r.stdout.text.trim()).toBe('5242880');
    expect(lastCall()).toEqual(['exec', '-i', ...detachKeys, 'orca-main-0', 'wc', '-c']);
  });

  it('round-trips binary stdin byte for byte (cat), bytes the pty path alters included', async () => {
    const data = Buffer.concat([Buffer.from([0xef, 0xbf, 0xbd, 0xff, 0xfe, 0xc3, 0x0d, 0x0a, 0x04, 0x03]), randomBytes(5 * 1024 * 1024), Buffer.from([0xef, 0xbf, 0xbd, 0xf0, 0x9f, 0x98])]);
    const r = await exec({ argv: ['cat'], stdin: true }, { io: { stdin: Readable.from([data.subarray(0, 1000), data.subarray(1000)]) } });
    expect(r.outcome).toEqual({ kind: 'exited', code: 0 });
    expect(r.stdout.data.length).toBe(data.length);
    expect(r.stdout.data.equals(data)).toBe(true);
  });

  it('gives a TTY its size, resizes it, and ends its input with VEOF', async () => {
    const stdin = new PassThrough();
    const resizes = sizes();
    const stdout = new Sink();
    const s = session(`${withPython}:/usr/bin:/bin`);
    const run = exec({ argv: ['sh', '-c', 'stty size; read x; stty size; cat; echo done'], stdin: true, tty: true, cols: 91, rows: 27 }, { io: { stdin, resizes: resizes.iterable }, stdout, s });
    await until(() => stdout.text.includes('27 91'));
    resizes.add({ cols: 120, rows: 40 });
    await until(() => s.sent.includes('W 120 40'));
    stdin.end('go\nlast line\n');
    const r = await run;
    expect(r.outcome).toEqual({ kind: 'exited', code: 0 });
    // The inner terminal is cooked here (the real docker CLI makes it raw): input is echoed, and cat's
    // end (done) comes from the VEOF that C became.
    expect(r.stdout.text.startsWith('27 91\r\n')).toBe(true);
    expect(r.stdout.text).toContain('\r\n40 120\r\n');
    expect(r.stdout.text.split('last line\r\n')).toHaveLength(3);
    expect(r.stdout.text.endsWith('last line\r\ndone\r\n')).toBe(true);
    expect(r.stderr.text).toBe('');
    expect(lastCall()).toEqual(['exec', '-i', '-t', ...detachKeys, 'orca-main-0', 'sh', '-c', 'stty size; read x; stty size; cat; echo done']);
    expect(s.sent.at(-1)).toBe('Q');
  });

  it('reports a command killed by a signal as 128 + its number', async () => {
    expect((await exec({ argv: ['sh', '-c', 'kill -9 $$'] })).outcome).toEqual({ kind: 'exited', code: 137 });
  });

  it('attaches with --sig-proxy=false and stdin only when asked for', async () => {
    const r = await exec({ mode: 'attach', stdin: true }, { io: { stdin: Readable.from([Buffer.from('ping\n')]) } });
    expect(r.outcome).toEqual({ kind: 'exited', code: 0 });
    expect(r.stdout.text).toBe('attached to orca-main-0\nping\n');
    expect(lastCall()).toEqual(['attach', '--sig-proxy=false', ...detachKeys, 'orca-main-0']);
    const quiet = await exec({ mode: 'attach', stdin: false });
    expect(quiet.outcome).toEqual({ kind: 'exited', code: 0 });
    expect(lastCall()).toEqual(['attach', '--sig-proxy=false', ...detachKeys, '--no-stdin', 'orca-main-0']);
  });

  it('refuses a container name the ORCA agent would not give, without running docker', async () => {
    const calls = dockerLog().length;
    const r = await exec({ container: 'web', argv: ['true'] });
    expect(r.outcome).toEqual({ kind: 'failed', message: "exec helper: refusing container name 'web': not one the ORCA agent gives" });
    expect(dockerLog()).toHaveLength(calls);
  });

  it('says so when the instance has no python3', async () => {
    const r = await exec({ argv: ['true'] }, { path: withoutPython });
    expect(r.outcome).toMatchObject({ kind: 'failed', message: expect.stringMatching(/^the exec helper needs python3 on the instance: .*python3: not found/) as unknown });
  });

  it('hangs up the command when the client goes away', async () => {
    const client = new AbortController();
    const s = session(`${withPython}:/usr/bin:/bin`);
    const run = exec({ argv: ['sleep', '30'] }, { s, signal: client.signal });
    await until(() => lastCall().join(' ').endsWith('sleep 30'));
    await new Promise((r) => setTimeout(r, 100));
    const pid = Number(readFileSync(join(dir, 'docker.pid'), 'utf8'));
    client.abort();
    expect((await run).outcome).toEqual({ kind: 'failed', message: 'the exec was cancelled: the client went away' });
    expect(s.sent.at(-1)).toBe('K HUP');
    await until(() => { try { process.kill(pid, 0); return false; } catch { return true; } });
  });
});

describe('the exec helper source', () => {
  it('is Python 3.8 grammar (Amazon Linux 2023 has 3.9, older DLAMIs 3.8)', () => {
    execFileSync('python3', ['-c', 'import ast, sys; ast.parse(sys.stdin.read(), feature_version=(3, 8))'], { input: helperSource });
  });
});
