// Interop with the real thing: a Go client built on moby/spdystream (what kubectl, client-go and the
// apiserver's stream translator use) against SpdySession on a loopback HTTP server. Go is required:
// without it this test fails rather than skips.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rename } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RstStatus } from './frames.js';
import { SpdySession, type SessionEnd } from './session.js';
import type { SpdyStream } from './stream.js';
import { negotiateUpgrade, REMOTE_COMMAND_PROTOCOLS } from './upgrade.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/spdy-interop/', import.meta.url));
const SOURCES = ['go.mod', 'go.sum', 'main.go'];

/** Builds the Go client once per source hash, cached under the OS temp dir. */
async function buildClient(): Promise<string> {
  const hash = createHash('sha256');
  for (const f of SOURCES) hash.update(f).update(await readFile(join(FIXTURE, f)));
  const bin = join(tmpdir(), `orca-spdy-interop-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(bin)) return bin;
  const partial = `${bin}.${String(process.pid)}.tmp`;
  await promisify(execFile)('go', ['build', '-buildvcs=false', '-o', partial, '.'], { cwd: FIXTURE, timeout: 120_000 });
  await rename(partial, bin);
  return bin;
}

function pattern(): Buffer {
  const b = Buffer.alloc(1 << 20);
  for (let i = 0; i < b.length; i++) b[i] = (i * 7) % 251;
  return b;
}

interface Observed {
  headers: Map<string, ReadonlyMap<string, readonly string[]>>;
  clientReset?: { by: string | undefined; status: number | undefined };
  refusedUpgrades: number;
  ends: Promise<SessionEnd>[];
}

type Handler = (s: SpdyStream, session: () => SpdySession, seen: Observed) => void;

const handlers: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ['error', (s) => { s.resume(); s.end('{"metadata":{},"status":"Success"}'); }],
  ['stdout', (s) => { s.resume(); s.end(pattern()); }],
  ['stdin', (s) => {
    const hash = createHash('sha256');
    let n = 0;
    s.on('data', (c: Buffer) => { n += c.length; hash.update(c); });
    s.on('end', () => { s.end(`${String(n)} ${hash.digest('hex')}`); });
  }],
  ['echo', (s) => { s.pipe(s); }],
  ['reject', (s) => { s.reset(); }],
  ['server-reset', (s) => { s.resume(); s.write('partial', () => { s.reset(); }); }],
  ['client-reset', (s, _session, seen) => {
    s.resume();
    s.on('close', () => { seen.clientReset = { by: s.resetBy, status: s.resetStatus }; });
  }],
  ['close-session', (s, session) => { s.resume(); s.write('bye'); void session().close(); }],
]);

function refuseRaw(socket: Duplex, status: number, message: string, headers: readonly (readonly [string, string])[]): void {
  const extra = headers.map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const body = `${message}\n`;
  socket.end(`HTTP/1.1 ${String(status)} ${status === 403 ? 'Forbidden' : 'Bad Request'}\r\n${extra}Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${String(Buffer.byteLength(body))}\r\nConnection: close\r\n\r\n${body}`);
}

function serve(seen: Observed): Server {
  const server = createServer((_req, res) => { res.writeHead(404).end(); });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const d = negotiateUpgrade(req.headers, REMOTE_COMMAND_PROTOCOLS);
    if (d.kind === 'refuse') {
      seen.refusedUpgrades++;
      refuseRaw(socket, d.status, d.message, d.headers);
      return;
    }
    socket.write(d.responseHead);
    const session: SpdySession = new SpdySession(socket, {
      initialBytes: head,
      onStream: (s) => {
        const type = s.headers.get('streamtype')?.[0] ?? '';
        seen.headers.set(type, s.headers);
        (handlers.get(type) ?? ((x: SpdyStream) => { x.reset(RstStatus.refusedStream); }))(s, () => session, seen);
      },
    });
    seen.ends.push(session.ended);
  });
  return server;
}

describe('interop with moby/spdystream (Go)', () => {
  const seen: Observed = { headers: new Map(), refusedUpgrades: 0, ends: [] };
  let server: Server;
  let bin: string;

  beforeAll(async () => {
    bin = await buildClient();
    server = serve(seen);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  }, 150_000);

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('serves a Go spdystream client: upgrade, headers, 1 MiB both ways, half-close, resets, ping, close', async () => {
    const port = (server.address() as AddressInfo).port;
    const started = Date.now();
    const child = spawn(bin, [`127.0.0.1:${String(port)}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let errOut = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { errOut += c.toString(); });
    const code = await new Promise<number | null>((resolve) => {
      const kill = setTimeout(() => { child.kill('SIGKILL'); }, 30_000);
      child.on('close', (c) => { clearTimeout(kill); resolve(c); });
    });
    const elapsed = Date.now() - started;
    expect({ code, errOut }).toEqual({ code: 0, errOut: '' });
    const checks = out.trim().split('\n').map((l) => l.split(' ')[1]);
    expect(checks).toEqual(['refused', 'upgrade', 'headers', 'download', 'upload', 'echo', 'rejected', 'server-reset', 'client-reset', 'ping', 'ping', 'ping', 'server-close']);
    expect(out).toContain('ok upgrade v4.channel.k8s.io');
    expect(out).toContain(`ok upload 1048576 ${createHash('sha256').update(pattern()).digest('hex')}`);

    expect(seen.refusedUpgrades).toBe(1);
    expect(seen.headers.get('error')).toEqual(new Map([['streamtype', ['error']], ['port', ['8080']], ['requestid', ['7']], ['x-multi', ['a', 'b']]]));
    expect(seen.headers.get('echo')).toEqual(new Map([['streamtype', ['echo']]]));
    await expect.poll(() => seen.clientReset).toEqual({ by: 'peer', status: RstStatus.cancel });
    expect(seen.ends).toHaveLength(1);
    await expect(seen.ends[0]).resolves.toEqual({ reason: 'closed' });
    console.info(`Go spdystream interop: ${String(elapsed)} ms\n${out}`);
  }, 60_000);
});
