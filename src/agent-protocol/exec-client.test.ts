// runExecHelper against a scripted helper on an in-memory stream: the order of what ORCA sends, the
// outcome of every way a session can end, backpressure. agent/orca-exec.py itself, under a real pty,
// is in orca-exec.test.ts.
import { Duplex, PassThrough, Readable, Writable } from 'node:stream';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { ContainerIo, ExecOutcome } from '../provider/provider.js';
import { runExecHelper } from './exec-client.js';
import { bootMarker, type HelperSpec } from './exec-helper.js';

const spec: HelperSpec = { mode: 'exec', container: 'orca-main-0', argv: ['true'], stdin: false, stdout: true, stderr: true, tty: false };
const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');

/** The helper's end of a session: what ORCA sent, line by line, and a way to answer. */
class ScriptedHelper {
  readonly toHelper = new PassThrough();
  readonly fromHelper = new PassThrough();
  readonly stream = Duplex.from({ readable: this.fromHelper, writable: this.toHelper });
  readonly sent: string[] = [];
  #buffer = '';
  #waiters: (() => void)[] = [];

  constructor() {
    this.toHelper.on('data', (c: Buffer) => {
      this.#buffer += c.toString('latin1');
      const lines = this.#buffer.split('\n');
      this.#buffer = lines.pop() ?? '';
      this.sent.push(...lines);
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  say(text: string): void {
    this.fromHelper.write(text);
  }

  /** Waits until ORCA has sent `n` lines; returns the last. */
  async line(n: number): Promise<string> {
    while (this.sent.length < n) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    return this.sent[n - 1] ?? '';
  }

  /** Plays boot and greeting; returns the nonce ORCA chose. */
  async greet(): Promise<string> {
    this.say(`\r\n${bootMarker}\n`);
    const nonce = (await this.line(1)).split(' ')[0] ?? '';
    this.say(`ORCA1 HELLO ${nonce} 1\n`);
    await this.line(2);
    return nonce;
  }
}

function sink(o: { highWaterMark?: number; delayMs?: number } = {}): Writable & { readonly data: () => Buffer; readonly most: () => number } {
  const chunks: Buffer[] = [];
  let most = 0;
  const w = new Writable({
    highWaterMark: o.highWaterMark ?? 16 * 1024,
    write(chunk: Buffer, _enc, cb) {
      most = Math.max(most, w.writableLength);
      chunks.push(chunk);
      if (o.delayMs === undefined) cb();
      else setTimeout(cb, o.delayMs);
    },
  });
  return Object.assign(w, { data: () => Buffer.concat(chunks), most: () => most });
}

function start(h: ScriptedHelper, o: { io?: ContainerIo; signal?: AbortSignal; startTimeoutMs?: number; spec?: Partial<HelperSpec> } = {}): Promise<ExecOutcome> {
  return runExecHelper({
    stream: h.stream, helperSource: 'print("helper")\n', spec: { ...spec, ...o.spec }, io: o.io ?? {}, signal: o.signal ?? new AbortController().signal,
    ...(o.startTimeoutMs === undefined ? {} : { startTimeoutMs: o.startTimeoutMs }),
  });
}

describe('runExecHelper', () => {
  it('sends the helper only after the marker and the spec only after the greeting with its nonce, then relays output until X', async () => {
    const h = new ScriptedHelper();
    const stdout = sink();
    const stderr = sink();
    const outcome = start(h, { io: { stdout, stderr } });
    h.say('Last login: never\r\n');
    await new Promise((r) => setTimeout(r, 20));
    expect(h.sent).toEqual([]);
    h.say(`${bootMarker}\n`);
    const [nonce = '', payload = ''] = (await h.line(1)).split(' ');
    expect(nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(inflateSync(Buffer.from(payload, 'base64')).toString()).toBe('print("helper")\n');
    h.say(`ORCA1 HELLO ${'0'.repeat(32)} 1\nsome stray line\n`);
    await new Promise((r) => setTimeout(r, 20));
    expect(h.sent).toHaveLength(1);
    h.say(`ORCA1 HELLO ${nonce} 1\n`);
    expect(JSON.parse(Buffer.from((await h.line(2)).slice(2), 'base64url').toString())).toMatchObject({ v: 1, argv: ['true'], container: 'orca-main-0' });
    h.say(`R\nO ${b64('out\n')}\nE ${b64(Buffer.from([0xef, 0xbf, 0xbd]))}\nO ${b64('more')}\nX 3\n`);
    expect(await outcome).toEqual({ kind: 'exited', code: 3 });
    expect(stdout.data().toString()).toBe('out\nmore');
    expect(stderr.data()).toEqual(Buffer.from([0xef, 0xbf, 0xbd]));
    expect(stdout.writableFinished && stderr.writableFinished).toBe(true);
    expect(h.sent.slice(2)).toEqual(['Q']);
  });

  it('sends stdin as frames and its end as C, and resizes as W, only after R', async () => {
    const h = new ScriptedHelper();
    const stdin = new PassThrough();
    const resizes = new PassThrough({ objectMode: true });
    stdin.write('early');
    resizes.write({ cols: 100, rows: 30 });
    const outcome = start(h, { spec: { stdin: true, tty: true, cols: 90, rows: 20 }, io: { stdin, resizes: resizes as AsyncIterable<{ cols: number; rows: number }> } });
    await h.greet();
    await new Promise((r) => setTimeout(r, 20));
    expect(h.sent).toHaveLength(2);
    h.say('R\n');
    await new Promise((r) => setTimeout(r, 20));
    stdin.end(Buffer.from([0, 0xff, 0x0a]));
    await h.line(6);
    const frames = h.sent.slice(2);
    expect(frames.filter((l) => l.startsWith('W '))).toEqual(['W 100 30']);
    const input = frames.filter((l) => l.startsWith('I ')).map((l) => Buffer.from(l.slice(2), 'base64'));
    expect(Buffer.concat(input)).toEqual(Buffer.concat([Buffer.from('early'), Buffer.from([0, 0xff, 0x0a])]));
    expect(frames.at(-1)).toBe('C');
    h.say('X 0\n');
    expect(await outcome).toEqual({ kind: 'exited', code: 0 });
  });

  it('reports F as the failure and answers it with Q', async () => {
    const h = new ScriptedHelper();
    const outcome = start(h);
    await h.greet();
    h.say(`F ${b64("exec helper: refusing container name 'web'")}\n`);
    expect(await outcome).toEqual({ kind: 'failed', message: "exec helper: refusing container name 'web'" });
    expect(h.sent[2]).toBe('Q');
  });

  it('says python3 is missing when the shell could not run it', async () => {
    const h = new ScriptedHelper();
    const outcome = start(h);
    h.say(`${bootMarker}\nsh: 1: exec: python3: not found\n`);
    await h.line(1);
    h.fromHelper.end();
    expect(await outcome).toEqual({ kind: 'failed', message: 'the exec helper needs python3 on the instance: sh: 1: exec: python3: not found' });
  });

  it.each([
    ['before the marker', '', /^the exec session ended before the exec helper's shell started: sh: stty: not found$/],
    ['after the marker', `${bootMarker}\nTraceback (most recent call last):\nzlib.error: bad data`, /^the exec helper did not start: Traceback \(most recent call last\): \| zlib.error: bad data$/],
  ])('names what the shell said when the session ends %s', async (_, text, message) => {
    const h = new ScriptedHelper();
    const outcome = start(h);
    h.say(text === '' ? 'sh: stty: not found\n' : text);
    if (text !== '') await h.line(1);
    h.fromHelper.end();
    expect(await outcome).toEqual({ kind: 'failed', message: expect.stringMatching(message) as unknown });
  });

  it('fails when the session ends after the greeting, before R or X', async () => {
    const h1 = new ScriptedHelper();
    const o1 = start(h1);
    await h1.greet();
    h1.fromHelper.end();
    expect(await o1).toEqual({ kind: 'failed', message: 'the exec session ended before the exec helper started the command' });
    const h2 = new ScriptedHelper();
    const o2 = start(h2);
    await h2.greet();
    h2.say('R\n');
    await new Promise((r) => setTimeout(r, 20));
    h2.fromHelper.destroy(new Error('socket hang up'));
    expect(await o2).toEqual({ kind: 'failed', message: 'the exec session ended before the command\'s exit status arrived' });
  });

  it('gives up when the helper has not started within the start timeout', async () => {
    const h = new ScriptedHelper();
    const outcome = start(h, { startTimeoutMs: 100 });
    h.say(`${bootMarker}\n`);
    expect(await outcome).toEqual({ kind: 'failed', message: 'the exec helper did not start within 0.1 s' });
  });

  it('fails on a line that is no frame, and hangs up the command', async () => {
    const h = new ScriptedHelper();
    const stdout = sink();
    const outcome = start(h, { io: { stdout } });
    await h.greet();
    h.say(`R\nO ${b64('kept')}\nTraceback (most recent call last):\n`);
    expect(await outcome).toEqual({ kind: 'failed', message: 'the exec helper sent a line that is not a frame: "Traceback (most recent call last):"' });
    expect(stdout.data().toString()).toBe('kept');
    expect(h.sent[2]).toBe('K HUP');
  });

  it('sends K HUP when the client goes away, and nothing at all when it was gone before', async () => {
    const h = new ScriptedHelper();
    const client = new AbortController();
    const stdout = sink();
    const outcome = start(h, { signal: client.signal, io: { stdout } });
    await h.greet();
    h.say('R\n');
    await new Promise((r) => setTimeout(r, 20));
    client.abort();
    expect(await outcome).toEqual({ kind: 'failed', message: 'the exec was cancelled: the client went away' });
    expect(h.sent[2]).toBe('K HUP');
    expect(stdout.writableEnded).toBe(true);
    const h2 = new ScriptedHelper();
    expect(await start(h2, { signal: AbortSignal.abort() })).toMatchObject({ kind: 'failed' });
    expect(h2.sent).toEqual([]);
  });

  it('holds the helper\'s output while the client is slow: memory stays at one frame over the high-water mark', async () => {
    const h = new ScriptedHelper();
    const stdout = sink({ highWaterMark: 4096, delayMs: 1 });
    const outcome = start(h, { io: { stdout } });
    await h.greet();
    const frame = `O ${b64(Buffer.alloc(8192, 7))}\n`;
    h.say(`R\n${frame.repeat(200)}X 0\n`);
    expect(await outcome).toEqual({ kind: 'exited', code: 0 });
    expect(stdout.data().length).toBe(200 * 8192);
    expect(stdout.most()).toBeLessThanOrEqual(4096 + 8192);
    // The session stream was read no faster than the client took the output.
    expect(h.fromHelper.readableLength + h.stream.readableLength).toBeLessThan(200 * frame.length);
  });

  it('refuses a command too long for the helper before sending anything', async () => {
    const h = new ScriptedHelper();
    expect(await start(h, { spec: { argv: ['x'.repeat(3 * 1024 * 1024)] } })).toEqual({ kind: 'failed', message: expect.stringMatching(/^the command is too long for the exec helper/) as unknown });
    expect(h.sent).toEqual([]);
  });

  it('leaves no listener behind on the streams it was given', async () => {
    const h = new ScriptedHelper();
    const stdin = Readable.from([Buffer.from('x')]);
    const stdout = sink();
    const before = [h.stream.listenerCount('error'), stdin.listenerCount('error'), stdout.listenerCount('error')];
    const outcome = start(h, { spec: { stdin: true }, io: { stdin, stdout } });
    await h.greet();
    h.say('R\n');
    await h.line(4);
    h.say('X 0\n');
    await outcome;
    expect([h.stream.listenerCount('error'), stdin.listenerCount('error'), stdout.listenerCount('error')]).toEqual(before);
    expect(h.stream.listenerCount('readable') + h.stream.listenerCount('drain')).toBe(0);
  });
});
