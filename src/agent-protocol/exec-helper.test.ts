import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SessionError } from '../domain/errors.js';
import {
  bootMarker, closeStdinFrame, EXEC_DOCUMENT_CONTENT, EXEC_DOCUMENT_NAME, execCommand, helperLine, HelperOutputParser, maxFrameBytes,
  maxSpecChars, parseFrame, quitFrame, resizeFrame, signalFrame, specFrame, stdinFrames, type HelperEvent,
} from './exec-helper.js';

const nonce = 'n0nce1234567890abcdef';
const spec = { mode: 'exec', container: 'orca-main-0', argv: ['sh', '-c', 'echo hi'], stdin: true, stdout: true, stderr: true, tty: false } as const;

function decodeSpec(line: string): unknown {
  expect(line).toMatch(/^S [A-Za-z0-9_-]+\n$/);
  return JSON.parse(Buffer.from(line.slice(2, -1), 'base64url').toString('utf8'));
}

/** Every event of `text` pushed in one chunk (or in the given chunking), until the first error. */
function events(text: string | Buffer, chunk = Infinity, p = new HelperOutputParser(nonce)): HelperEvent[] {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  for (let at = 0; at < bytes.length; at += chunk) p.push(bytes.subarray(at, Math.min(bytes.length, at + chunk)));
  const out: HelperEvent[] = [];
  for (let e = p.next(); e !== undefined; e = p.next()) out.push(e);
  return out;
}

/** Reads every event; each failure must be a SessionError (the parser goes on after a bad line). */
function drainAll(p: HelperOutputParser): void {
  for (let i = 0; i < 1000; i++) {
    try {
      if (p.next() === undefined) return;
    } catch (e) {
      expect(e).toBeInstanceOf(SessionError);
    }
  }
}

const greeted = `${bootMarker}\nORCA1 HELLO ${nonce} 1\n`;

describe('the ORCA-Exec-v1 document', () => {
  it('is an elevated InteractiveCommands session whose shell sets the pty raw, prints the marker, then runs python3', () => {
    expect(EXEC_DOCUMENT_NAME).toBe('ORCA-Exec-v1');
    expect(JSON.parse(EXEC_DOCUMENT_CONTENT)).toEqual({
      schemaVersion: '1.0', description: expect.any(String) as unknown, sessionType: 'InteractiveCommands',
      properties: { linux: { commands: execCommand, runAsElevated: true } },
    });
    expect(execCommand.startsWith(`stty raw -echo; echo ${bootMarker}; exec python3 -c '`)).toBe(true);
    // The loader sits inside one pair of single quotes: it may hold no other.
    expect(execCommand.split("'")).toHaveLength(3);
    execFileSync('sh', ['-n', '-c', execCommand]);
  });

  it('has a loader that reads the helper line and runs its source as __main__ with the nonce', () => {
    const loader = execCommand.split("'")[1] ?? '';
    const out = execFileSync('python3', ['-c', loader], { input: helperLine('import sys\nprint(ORCA_NONCE, __name__, "ünï")\nsys.stdout.flush()\n', nonce), encoding: 'utf8' });
    expect(out).toBe(`${nonce} __main__ ünï\n`);
  });
});

describe('helperLine', () => {
  it('is the nonce and the zlib-compressed source in base64, on one line', () => {
    const source = `# helper\n${'print("x")\n'.repeat(500)}`;
    const line = helperLine(source, nonce);
    const [n, payload, ...more] = line.slice(0, -1).split(' ');
    expect(line.endsWith('\n') && more.length === 0).toBe(true);
    expect(n).toBe(nonce);
    expect(payload).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(inflateSync(Buffer.from(payload ?? '', 'base64')).toString('utf8')).toBe(source);
    expect(line.length).toBeLessThan(source.length / 4);
  });

  it.each(['short', 'has space in it 1234567', 'x'.repeat(65), 'nonce-with-dash-1234'])('refuses the nonce %j', (bad) => {
    expect(() => helperLine('pass', bad)).toThrow(SessionError);
  });
});

describe('frames to the helper', () => {
  it('encodes the spec as base64url JSON, argv exactly as given', () => {
    const argv = ['printf', '%s\n', 'a b', 'c"d', '$HOME', '', 'ünï€', "it's"];
    expect(decodeSpec(specFrame({ ...spec, argv }))).toEqual({ v: 1, mode: 'exec', container: 'orca-main-0', argv, stdin: true, stdout: true, stderr: true, tty: false });
  });

  it('gives a terminal a size (80 × 24 by default, clamped to what a winsize holds) and no stderr', () => {
    expect(decodeSpec(specFrame({ ...spec, tty: true }))).toMatchObject({ tty: true, stderr: false, cols: 80, rows: 24 });
    expect(decodeSpec(specFrame({ ...spec, tty: true, cols: 132.7, rows: 0 }))).toMatchObject({ cols: 132, rows: 1 });
    expect(decodeSpec(specFrame({ ...spec, tty: true, cols: 1e9, rows: Number.NaN }))).toMatchObject({ cols: 65535, rows: 24 });
    expect(decodeSpec(specFrame({ ...spec, mode: 'attach', argv: [] }))).toMatchObject({ mode: 'attach', argv: [] });
  });

  it('refuses a command longer than the helper takes', () => {
    expect(() => specFrame({ ...spec, argv: ['x'.repeat(maxSpecChars)] })).toThrow(/too long for the exec helper/);
  });

  it('cuts stdin into base64 frames of at most 32 KiB, byte for byte', () => {
    expect(stdinFrames(new Uint8Array())).toBe('');
    expect(stdinFrames(Buffer.from([0xef, 0xbf, 0xbd]))).toBe('I 77+9\n');
    const data = randomBytes(2 * maxFrameBytes + 5);
    const lines = stdinFrames(data.subarray(1)).split('\n').slice(0, -1);
    expect(lines).toHaveLength(3);
    const parts = lines.map((l) => Buffer.from(l.slice(2), 'base64'));
    expect(parts.map((b) => b.length)).toEqual([maxFrameBytes, maxFrameBytes, 4]);
    expect(Buffer.concat(parts).equals(data.subarray(1))).toBe(true);
  });

  it('writes C, Q, W and K exactly', () => {
    expect([closeStdinFrame, quitFrame, resizeFrame({ cols: 120, rows: 40 }), resizeFrame({ cols: 0, rows: 70000 }), signalFrame('HUP')])
      .toEqual(['C\n', 'Q\n', 'W 120 40\n', 'W 1 65535\n', 'K HUP\n']);
  });
});

describe('HelperOutputParser', () => {
  it('treats everything before the marker, and before the greeting with its nonce, as noise', () => {
    const text = `\r\nWelcome\r\nORCA1 HELLO ${nonce} 1\r\n${bootMarker}\r\nORCA1 HELLO wrongnonce12345678 1\nORCA1 HELLO ${nonce} 1\nR\n`;
    const p = new HelperOutputParser(nonce);
    expect(p.phase).toBe('starting');
    expect(events(text, Infinity, p)).toEqual([
      { type: 'noise', text: '' }, { type: 'noise', text: 'Welcome' }, { type: 'noise', text: `ORCA1 HELLO ${nonce} 1` }, { type: 'boot' },
      { type: 'noise', text: 'ORCA1 HELLO wrongnonce12345678 1' }, { type: 'hello', version: '1' }, { type: 'ready' },
    ]);
    expect(p.phase).toBe('greeted');
  });

  it('decodes frames to exact bytes, whatever the chunking', () => {
    const text = `${greeted}R\nO 77+9\nE //79\nF c3RhcnQgZmFpbGVk\nX 137 KILL\nX 0\n`;
    const expected: HelperEvent[] = [
      { type: 'boot' }, { type: 'hello', version: '1' }, { type: 'ready' },
      { type: 'stdout', data: Buffer.from([0xef, 0xbf, 0xbd]) }, { type: 'stderr', data: Buffer.from([0xff, 0xfe, 0xfd]) },
      { type: 'failed', message: 'start failed' }, { type: 'exit', code: 137, signal: 'KILL' }, { type: 'exit', code: 0 },
    ];
    for (const chunk of [1, 2, 3, 7, 64, Infinity]) expect(events(text, chunk)).toEqual(expected);
  });

  it.each(['', 'R ', 'X', 'X 256', 'X -1', 'X 1 kill', 'X 1 KILL extra', 'O', 'O ', 'O abc', 'O ab!=', 'O\tYQ==', 'Z 1', `ORCA1 HELLO ${nonce} 1`, 'Traceback (most recent call last):', 'O YQ==\u00ff'])(
    'refuses %j after the greeting, after delivering what came before it', (line) => {
      const p = new HelperOutputParser(nonce);
      p.push(Buffer.from(`${greeted}O YQ==\n${line}\nO Yg==\n`, 'latin1'));
      expect([p.next(), p.next(), p.next()]).toEqual([{ type: 'boot' }, { type: 'hello', version: '1' }, { type: 'stdout', data: Buffer.from('a') }]);
      expect(() => p.next()).toThrow(SessionError);
    },
  );

  it('names the line it refuses, shortened, in a protocol error', () => {
    let error: unknown;
    try {
      parseFrame(`Traceback ${'x'.repeat(100)}`);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SessionError);
    expect(error).toMatchObject({ kind: 'protocol', message: expect.stringMatching(/not a frame: "Traceback x+…"$/) as unknown });
  });

  it('refuses a line longer than its cap, after the lines before it, and reads nothing after it', () => {
    const p = new HelperOutputParser(nonce, 100);
    p.push(Buffer.from(`${bootMarker}\n${'y'.repeat(60)}`));
    p.push(Buffer.from(`${'y'.repeat(60)}\nO YQ==\n`));
    expect(p.next()).toEqual({ type: 'boot' });
    expect(() => p.next()).toThrow('longer than 100 characters');
    expect(p.next()).toBeUndefined();
  });

  it('keeps the partial last line for a message, and is not fooled by the caller reusing its buffer', () => {
    const p = new HelperOutputParser(nonce);
    const buf = Buffer.from(`${bootMarker}\nsh: 1: exec: python3: not found`);
    p.push(buf);
    buf.fill(0x41);
    expect(p.next()).toEqual({ type: 'boot' });
    expect(p.rest).toBe('sh: 1: exec: python3: not found');
  });

  it('survives random input in random chunks: events or SessionErrors, never anything else', () => {
    const alphabet = ['O ', 'E ', 'X ', 'R', 'F ', 'YQ==', '77+9', ' ', '\n', '\r', '=', 'ORCA1 HELLO ', nonce, bootMarker, '\u00ff', '9', 'KILL'];
    for (let round = 0; round < 300; round++) {
      const words = Array.from({ length: 1 + (randomBytes(1)[0] ?? 0) }, () => alphabet[(randomBytes(1)[0] ?? 0) % alphabet.length]);
      const p = new HelperOutputParser(nonce, 64);
      const text = Buffer.concat([Buffer.from(greeted), Buffer.from(words.join(''), 'latin1'), randomBytes(32)]);
      for (let at = 0; at < text.length;) {
        const n = 1 + ((randomBytes(1)[0] ?? 0) % 17);
        p.push(text.subarray(at, at + n));
        at += n;
      }
      drainAll(p);
    }
  });
});
