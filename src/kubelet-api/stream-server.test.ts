// exec and port-forward through the kubelet API's upgrade path, as the apiserver reaches it: an
// HTTP upgrade to SPDY/3.1 on a listening server, then SPDY frames (the raw peer of the SPDY tests),
// with a fake provider. Refusals are answered before the upgrade with a kubelet's status and text.
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { RawPeer } from '../../test/fixtures/spdy-interop/peer.js';
import { pod } from '../../test/fakes/builders.js';
import { seeded } from '../../test/fakes/random.js';
import { FakeClock } from '../../test/fakes/clock.js';
import { SessionError } from '../domain/errors.js';
import type { Pod, PodKey } from '../domain/pod.js';
import { createLogger } from '../observability/logger.js';
import type { ContainerIo, ExecCapable, ExecRequest } from '../provider/provider.js';
import { KubeletAuth } from './auth.js';
import { Flag } from './spdy/frames.js';
import { buildKubeletServer } from './server.js';

const running = (name: string): Pod => pod(name, { status: { phase: 'Running', containerStatuses: [{ name: 'main', image: 'img', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] } });

interface Seen { requests: ExecRequest[]; aborted: number; observed: string[] }

/** exec: stdin to stdout; `exit N` exits N; `fail` fails the session; `wait` runs until the client goes away. */
function fakeStreams(seen: Seen): ExecCapable {
  const exec = async (_ref: unknown, r: ExecRequest, io: ContainerIo, signal: AbortSignal) => {
    seen.requests.push(r);
    if (r.command[0] === 'fail') throw new SessionError('not-connected', 'the instance\'s SSM agent is not connected');
    if (r.command[0] === 'wait') {
      await new Promise((resolve) => { signal.addEventListener('abort', resolve); });
      seen.aborted++;
      return { kind: 'exited' as const, code: 137 };
    }
    if (io.stdin !== undefined) {
      for await (const c of io.stdin) {
        // `slow`: a reader slower than the client, as a Session Manager session is.
        if (r.command[0] === 'slow') await new Promise((resolve) => setTimeout(resolve, 2));
        io.stdout?.write(c);
      }
    }
    io.stderr?.write('to stderr');
    io.stdout?.end();
    io.stderr?.end();
    return { kind: 'exited' as const, code: Number(r.command[1] ?? '0') };
  };
  return {
    exec, attach: exec,
    portForwarder: () => Promise.resolve({
      forward: async (port, c) => {
        if (port === 1) throw new Error('connection refused by the instance (port 1)');
        c.write(`port ${String(port)}:`);
        for await (const chunk of c) c.write(chunk);
      },
    }),
  };
}

const apps: ReturnType<typeof buildKubeletServer>[] = [];
const sockets: Socket[] = [];
/** The informer's change handlers of the servers started. */
let changed: ((key: PodKey) => void)[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const a of apps.splice(0)) await a.close();
});

async function start(o: { allowed?: boolean; maxPerPod?: number } = {}): Promise<{ port: number; seen: Seen; pods: Pod[] }> {
  changed = [];
  const seen: Seen = { requests: [], aborted: 0, observed: [] };
  const auth = new KubeletAuth({
    nodeName: 'orca', clock: new FakeClock(), allowAnonymous: false,
    tokens: { review: (t) => Promise.resolve(t === 'good' ? { authenticated: true, user: { username: 'jane', groups: [] } } : { authenticated: false, error: 'no' }) },
    access: { review: () => Promise.resolve({ allowed: o.allowed ?? true }) },
  });
  const pods = [running('web'), pod('pending')];
  const app = buildKubeletServer({
    nodeName: 'orca', auth, pods: { list: () => pods, get: (k) => pods.find((p) => `ns/${p.metadata.name}` === k), onChange: (h) => { changed.push(h); } },
    provider: { listPods: () => Promise.resolve([]) }, now: () => new Date(), log: createLogger('silent'), streams: fakeStreams(seen),
    streamSettings: { idleTimeoutMs: 60_000, maxDurationMs: 60_000, maxPerPod: o.maxPerPod ?? 10, maxPerNode: 100 },
    observeSessions: { opened: (k) => { seen.observed.push(`opened ${k}`); }, ended: (k, outcome) => { seen.observed.push(`ended ${k} ${outcome}`); } },
  });
  apps.push(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { port: (app.server.address() as AddressInfo).port, seen, pods };
}

interface Answer { readonly head: string; readonly rest: Buffer; readonly socket: Socket }

/** Sends an upgrade request and reads the response head (and, for a refusal, its body). */
async function upgrade(port: number, path: string, o: { token?: string; protocols?: string } = {}): Promise<Answer> {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  const protocols = o.protocols ?? 'v4.channel.k8s.io';
  socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${o.token ?? 'good'}\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocols}\r\nContent-Length: 0\r\n\r\n`);
  let got = Buffer.alloc(0);
  for (;;) {
    const [chunk] = (await new Promise<[Buffer]>((resolve, reject) => { socket.once('data', (c: Buffer) => { resolve([c]); }); socket.once('close', () => { reject(new Error(`closed after ${got.toString()}`)); }); }));
    got = Buffer.concat([got, chunk]);
    const end = got.indexOf('\r\n\r\n');
    if (end < 0) continue;
    const head = got.subarray(0, end).toString();
    const rest = got.subarray(end + 4);
    if (head.startsWith('HTTP/1.1 101')) {
      socket.removeAllListeners('data');
      socket.removeAllListeners('close');
      return { head, rest, socket };
    }
    const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? '0');
    if (rest.length >= length) return { head, rest, socket };
  }
}

const statusLine = (a: Answer): string => a.head.split('\r\n')[0] ?? '';

/** An exec (`wait`) that runs until it is told to stop, its streams open. */
async function waiting(port: number, seen: Seen): Promise<{ a: Answer; peer: RawPeer }> {
  const a = await upgrade(port, '/exec/ns/web/main?command=wait&output=1');
  const peer = new RawPeer(a.socket);
  await peer.syn(1, { streamtype: 'error' });
  await peer.syn(3, { streamtype: 'stdout' });
  await expect.poll(() => seen.requests.length).toBeGreaterThan(0);
  return { a, peer };
}

describe('the kubelet API\'s upgraded streams', () => {
  it('runs an exec over SPDY: stdin to its end, stdout and stderr apart, the exit code as a v4 Status', async () => {
    const { port, seen } = await start();
    const a = await upgrade(port, '/exec/ns/web/main?command=exit&command=3&input=1&output=1&error=1');
    expect(a.head).toContain('X-Stream-Protocol-Version: v4.channel.k8s.io');
    const peer = new RawPeer(a.socket);
    await peer.syn(1, { streamtype: 'error' });
    await peer.syn(3, { streamtype: 'stdin' });
    await peer.syn(5, { streamtype: 'stdout' });
    await peer.syn(7, { streamtype: 'stderr' });
    peer.send({ kind: 'data', streamId: 3, flags: Flag.fin, data: Buffer.from('typed') });
    await peer.next('goaway', () => true, 5000);
    expect(seen.requests).toEqual([{ container: 'main', command: ['exit', '3'], stdin: true, stdout: true, stderr: true, tty: false }]);
    expect([peer.data(5).bytes.toString(), peer.data(7).bytes.toString()]).toEqual(['typed', 'to stderr']);
    expect(JSON.parse(peer.data(1).bytes.toString())).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } });
    expect(seen.observed).toEqual(['opened exec', 'ended exec nonzero']);
  });

  it('delivers a large stdin whole, to its end, however the client frames it', async () => {
    const { port } = await start();
    const a = await upgrade(port, '/exec/ns/web/main?command=slow&command=0&input=1&output=1');
    const peer = new RawPeer(a.socket);
    await peer.syn(1, { streamtype: 'error' });
    await peer.syn(3, { streamtype: 'stdin' });
    await peer.syn(5, { streamtype: 'stdout' });
    const input = Buffer.alloc(5 * 1024 * 1024);
    for (let i = 0; i < input.length; i++) input[i] = (i * 31) % 251;
    for (let at = 0; at < input.length; at += 32 * 1024) peer.send({ kind: 'data', streamId: 3, flags: 0, data: input.subarray(at, at + 32 * 1024) });
    peer.send({ kind: 'data', streamId: 3, flags: Flag.fin, data: Buffer.alloc(0) });
    await peer.next('goaway', () => true, 20_000);
    expect(peer.data(5).bytes.equals(input)).toBe(true);
  }, 30_000);

  it('reports a failed session as the kubelet\'s InternalError Status', async () => {
    const { port } = await start();
    const a = await upgrade(port, '/exec/ns/web/main?command=fail&output=1');
    const peer = new RawPeer(a.socket);
    await peer.syn(1, { streamtype: 'error' });
    await peer.syn(3, { streamtype: 'stdout' });
    await peer.next('goaway', () => true, 5000);
    expect(JSON.parse(peer.data(1).bytes.toString())).toEqual({
      metadata: {}, status: 'Failure', reason: 'InternalError', code: 500,
      message: 'Internal error occurred: error executing command in container: the instance\'s SSM agent is not connected',
      details: { causes: [{ message: 'the instance\'s SSM agent is not connected' }] },
    });
  });

  it('tells the provider when the client goes away', async () => {
    const { port, seen } = await start();
    const { a } = await waiting(port, seen);
    a.socket.destroy();
    await expect.poll(() => seen.aborted).toBe(1);
  });

  it('ends a session when its container stops running, as a kubelet does', async () => {
    const { port, seen, pods } = await start();
    const { peer } = await waiting(port, seen);
    pods[0] = pod('web', { status: { phase: 'Succeeded', containerStatuses: [{ name: 'main', image: 'img', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0 } } }] } });
    for (const h of changed) h('ns/pending' as PodKey);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen.aborted).toBe(0);
    for (const h of changed) h('ns/web' as PodKey);
    await expect.poll(() => seen.aborted).toBe(1);
    await peer.next('goaway', () => true, 5000);
  });

  it('ends every session and closes when the server closes, however long the sessions would run', async () => {
    const { port, seen } = await start();
    const { peer } = await waiting(port, seen);
    const started = Date.now();
    await apps.splice(0)[0]?.close();
    expect(Date.now() - started).toBeLessThan(3000);
    expect(seen.aborted).toBe(1);
    await peer.closed;
  });

  it.each([
    ['no credentials', '/exec/ns/web/main?command=sh&output=1', { token: 'bad' }, 'HTTP/1.1 401 Unauthorized', 'Unauthorized'],
    ['a pod not on the node', '/exec/ns/nope/main?command=sh&output=1', {}, 'HTTP/1.1 404 Not Found', 'pod does not exist'],
    ['a container that does not run', '/exec/ns/pending/main?command=sh&output=1', {}, 'HTTP/1.1 500 Internal Server Error', 'container not found ("main")'],
    ['no stream asked for', '/exec/ns/web/main?command=sh', {}, 'HTTP/1.1 400 Bad Request', 'you must specify at least 1 of stdin, stdout, stderr'],
    ['no protocol in common', '/exec/ns/web/main?command=sh&output=1', { protocols: 'v9.channel.k8s.io' }, 'HTTP/1.1 403 Forbidden', 'unable to upgrade: unable to negotiate protocol'],
    ['a path that is not a stream', '/containerLogs/ns/web/main', {}, 'HTTP/1.1 404 Not Found', '404 page not found'],
    ['a bad port-forward port', '/portForward/ns/web?port=0', {}, 'HTTP/1.1 400 Bad Request', 'port must be between 1 and 65535'],
  ] as const)('refuses %s before upgrading', async (...[, path, o, line, text]) => {
    const { port, seen } = await start();
    const a = await upgrade(port, path, o);
    expect(statusLine(a)).toBe(line);
    expect(a.rest.toString()).toContain(text);
    expect(seen.requests).toEqual([]);
  });

  it('refuses when SubjectAccessReview denies, with the kubelet\'s text', async () => {
    const { port } = await start({ allowed: false });
    const a = await upgrade(port, '/exec/ns/web/main?command=sh&output=1');
    expect(statusLine(a)).toBe('HTTP/1.1 403 Forbidden');
    expect(a.rest.toString()).toContain('Forbidden (user=jane, verb=create, resource=nodes, subresource(s)=[proxy])');
  });

  it('refuses a session over the pod\'s cap with 429, and takes one again once a session ended', async () => {
    const { port } = await start({ maxPerPod: 1 });
    const first = await upgrade(port, '/exec/ns/web/main?command=wait&output=1');
    const peer = new RawPeer(first.socket);
    await peer.syn(1, { streamtype: 'error' });
    await peer.syn(3, { streamtype: 'stdout' });
    const second = await upgrade(port, '/exec/ns/web/main?command=sh&output=1');
    expect(statusLine(second)).toBe('HTTP/1.1 429 Too Many Requests');
    first.socket.destroy();
    await expect.poll(async () => statusLine(await upgrade(port, '/exec/ns/web/main?command=wait&output=1'))).toBe('HTTP/1.1 101 Switching Protocols');
  });

  it('runs an exec over WebSocket (v5.channel.k8s.io) for clients that pass WebSocket through', async () => {
    const { port } = await start();
    const ws = new WebSocket(`ws://127.0.0.1:${String(port)}/exec/ns/web/main?command=exit&command=4&input=1&output=1&error=1`, ['v5.channel.k8s.io'], { headers: { authorization: 'Bearer good' } });
    const got = new Map<number, Buffer[]>();
    ws.on('message', (m: Buffer) => { got.set(m[0] ?? -1, [...(got.get(m[0] ?? -1) ?? []), m.subarray(1)]); });
    await new Promise((resolve) => ws.once('open', resolve));
    expect(ws.protocol).toBe('v5.channel.k8s.io');
    ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('over ws')]));
    ws.send(Buffer.from([0xff, 0]));
    await new Promise((resolve) => ws.once('close', resolve));
    const text = (ch: number): string => Buffer.concat(got.get(ch) ?? []).toString();
    expect([text(1), text(2)]).toEqual(['over ws', 'to stderr']);
    expect(JSON.parse(text(3))).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '4' }] } });
  });

  it('survives random and truncated input after the upgrade: every connection closes, no session place is kept', async () => {
    const { port, seen } = await start({ maxPerPod: 1 });
    for (let seed = 1; seed <= 40; seed++) {
      const rand = seeded(seed);
      const a = await upgrade(port, '/exec/ns/web/main?command=wait&output=1');
      const peer = new RawPeer(a.socket);
      if (rand() < 0.5) {
        await peer.syn(1, { streamtype: 'error' });
        if (rand() < 0.5) await peer.syn(3, { streamtype: 'stdout' });
      }
      const garbage = Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 300) }, () => Math.floor(rand() * 256)));
      // Sometimes a frame cut short: a DATA header that promises more than comes.
      a.socket.write(rand() < 0.3 ? Buffer.from([0, 0, 0, 1, 0, 0, 0x10, 0]) : garbage);
      a.socket.end();
      await Promise.race([peer.closed, new Promise((_, reject) => setTimeout(() => { reject(new Error(`seed ${String(seed)}: the connection stayed open`)); }, 5000))]);
    }
    // Every session of the loop gave its place back: a new one is admitted under a cap of one.
    await expect.poll(async () => statusLine(await upgrade(port, '/exec/ns/web/main?command=sh&output=1'))).toBe('HTTP/1.1 101 Switching Protocols');
    expect(seen.requests.length).toBeLessThanOrEqual(40);
  }, 60_000);

  it('forwards ports over SPDY, and writes why on the error stream when a port cannot be reached', async () => {
    const { port } = await start();
    const a = await upgrade(port, '/portForward/ns/web', { protocols: 'portforward.k8s.io' });
    const peer = new RawPeer(a.socket);
    await peer.syn(1, { streamtype: 'error', port: '8080', requestid: '0' });
    await peer.syn(3, { streamtype: 'data', port: '8080', requestid: '0' });
    peer.send({ kind: 'data', streamId: 3, flags: 0, data: Buffer.from('ping') });
    await expect.poll(() => peer.data(3).bytes.toString()).toBe('port 8080:ping');
    await peer.syn(5, { streamtype: 'error', port: '1', requestid: '1' });
    await peer.syn(7, { streamtype: 'data', port: '1', requestid: '1' });
    await expect.poll(() => peer.data(5).bytes.toString()).toBe('error forwarding port 1 to pod web, uid uid-web: connection refused by the instance (port 1)');
  });
});
