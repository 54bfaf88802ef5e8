import { connect as netConnect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExecRequest } from '../../provider/provider.js';
import { acceptPortForward } from './port-forward.js';
import { acceptRemoteCommand } from './remote-command.js';
import { connect, prng, startServer, whenAborted, type TestServer } from '../../../test/fixtures/websocket-harness.js';

const servers: TestServer<unknown>[] = [];
afterEach(async () => { await Promise.all(servers.splice(0).map((s) => s.close())); });

const REMOTE = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io', 'channel.k8s.io', 'base64.channel.k8s.io'];
const FORWARD = ['v4.channel.k8s.io', 'v4.base64.channel.k8s.io'];
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=';

type Rand = () => number;
const int = (rand: Rand, n: number): number => Math.floor(rand() * n);
const bytes = (rand: Rand, n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(rand, 256)));
const cut = (rand: Rand, s: string): string => s.slice(0, int(rand, s.length + 1));

/** A random message: noise, valid-looking frames, and valid frames cut short. */
function randomMessage(rand: Rand, channels: number): Buffer | string {
  switch (int(rand, 9)) {
    case 0: return bytes(rand, int(rand, 48));
    case 1: return Buffer.concat([Buffer.from([int(rand, channels)]), bytes(rand, int(rand, 32))]);
    case 2: return Buffer.from([0xff]);
    case 3: return Buffer.from([0xff, int(rand, 256)]);
    case 4: return Buffer.concat([Buffer.from([4]), Buffer.from(cut(rand, '{"Width":120,"Height":40}'))]);
    case 5: return String.fromCharCode(48 + int(rand, channels)) + cut(rand, Buffer.from(bytes(rand, 12)).toString('base64'));
    case 6: return String.fromCharCode(40 + int(rand, 20)) + Array.from({ length: int(rand, 12) }, () => B64[int(rand, B64.length)]).join('');
    case 7: return Buffer.alloc(0);
    default: return Buffer.concat([Buffer.from([4]), Buffer.from('{"Width":80,"Height":24}')]);
  }
}

const drainQuietly = (r: Readable | undefined): void => { r?.resume(); };

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined = undefined;
  const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`${what} did not happen within ${String(ms)} ms`)); }, ms); });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('fuzz: random and truncated messages', () => {
  it('remote command: never crashes, always ends with the socket closed', async () => {
    const s = await startServer('remoteCommand', ({ ws, protocol }, req) => {
      const flags = new URL(req.url ?? '/', 'http://x').searchParams;
      const request: ExecRequest = { container: 'c', command: ['sh'], stdin: flags.has('i'), stdout: true, stderr: !flags.has('t'), tty: flags.has('t') };
      const channel = acceptRemoteCommand(ws, protocol, request);
      drainQuietly(channel.io.stdin);
      void (async () => { const sizes = []; for await (const size of channel.io.resizes ?? []) sizes.push(size); })();
      return channel;
    });
    servers.push(s);
    for (let seed = 1; seed <= 120; seed++) {
      const rand = prng(seed);
      const query = `${rand() < 0.5 ? 'i' : ''}&${rand() < 0.5 ? 't' : ''}`;
      const client = await connect(`${s.url}/?${query}`, [REMOTE[int(rand, REMOTE.length)] ?? '']);
      const { value } = await s.next();
      const channel = value;
      for (let n = int(rand, 12) + 1; n > 0; n--) client.ws.send(randomMessage(rand, 6));
      if (rand() < 0.3) client.ws.terminate();
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (!channel.closed.aborted) await channel.finish({ kind: 'exited', code: int(rand, 3) });
      const closed = await withTimeout(client.closed, 5000, `seed ${String(seed)}: client close`);
      expect([1000, 1002, 1006, 1007], `seed ${String(seed)}`).toContain(closed.code);
      if (closed.code === 1002 || closed.code === 1007) expect(closed.reason).not.toBe('');
      await withTimeout(whenAborted(channel.closed), 5000, `seed ${String(seed)}: server close`);
    }
  });

  it('port-forward: never crashes, always ends with the socket closed', async () => {
    const s = await startServer('portForward', ({ ws, protocol }, req) => {
      const count = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('n'));
      const channel = acceptPortForward(ws, protocol, Array.from({ length: count }, (_, i) => 8000 + i));
      channel.onConnection((c) => { c.data.resume(); });
      return channel;
    });
    servers.push(s);
    for (let seed = 1; seed <= 80; seed++) {
      const rand = prng(1000 + seed);
      const ports = int(rand, 3) + 1;
      const client = await connect(`${s.url}/?n=${String(ports)}`, [FORWARD[int(rand, FORWARD.length)] ?? '']);
      const channel = (await s.next()).value;
      for (let n = int(rand, 12) + 1; n > 0; n--) client.ws.send(randomMessage(rand, 2 * ports + 1));
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (!channel.closed.aborted) await channel.close();
      const closed = await withTimeout(client.closed, 5000, `seed ${String(seed)}: client close`);
      expect([1000, 1002, 1007], `seed ${String(seed)}`).toContain(closed.code);
      await withTimeout(whenAborted(channel.closed), 5000, `seed ${String(seed)}: server close`);
    }
  });
});

/** Opens a raw TCP connection and performs the WebSocket handshake by hand. */
async function rawHandshake(url: string, protocol: string): Promise<Socket> {
  const { port } = new URL(url);
  const socket = netConnect(Number(port), '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write([
    'GET / HTTP/1.1', 'Host: x', 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', `Sec-WebSocket-Protocol: ${protocol}`, '', '',
  ].join('\r\n'));
  await new Promise<void>((resolve) => {
    let head = '';
    const onData = (b: Buffer): void => {
      head += b.toString('latin1');
      if (head.includes('\r\n\r\n')) { socket.off('data', onData); resolve(); }
    };
    socket.on('data', onData);
  });
  socket.on('error', () => undefined);
  return socket;
}

/** A masked client frame (FIN, binary) for a payload under 126 bytes. */
function maskedFrame(payload: Buffer, mask: Buffer): Buffer {
  const masked = Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] ?? 0)));
  return Buffer.concat([Buffer.from([0x82, 0x80 | payload.length]), mask, masked]);
}

describe('fuzz: truncated and broken frames on the wire', () => {
  it('a frame cut short, then the connection dropped, ends the channel', async () => {
    const s = await startServer('remoteCommand', ({ ws, protocol }) =>
      acceptRemoteCommand(ws, protocol, { container: 'c', command: [], stdin: true, stdout: true, stderr: false, tty: false }));
    servers.push(s);
    for (let seed = 1; seed <= 40; seed++) {
      const rand = prng(5000 + seed);
      const socket = await rawHandshake(s.url, 'v5.channel.k8s.io');
      const channel = (await s.next()).value;
      const frame = maskedFrame(Buffer.concat([Buffer.from([0]), bytes(rand, int(rand, 100))]), bytes(rand, 4));
      const noise = rand() < 0.5 ? bytes(rand, int(rand, 16)) : Buffer.alloc(0);
      socket.write(Buffer.concat([frame.subarray(0, int(rand, frame.length)), noise]));
      await new Promise((resolve) => setTimeout(resolve, 5));
      socket.destroy();
      await withTimeout(whenAborted(channel.closed), 5000, `seed ${String(seed)}: server close`);
      const stdin = channel.io.stdin;
      if (stdin !== undefined) await withTimeout(new Promise((resolve) => { stdin.on('end', resolve).on('close', resolve).resume(); if (stdin.readableEnded) resolve(undefined); }), 5000, 'stdin end');
    }
  });
});
