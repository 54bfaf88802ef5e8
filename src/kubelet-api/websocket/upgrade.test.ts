import { request as httpRequest, type IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptRemoteCommand } from './remote-command.js';
import { connect, readAll, send, settle, startServer, type TestServer } from '../../../test/fixtures/websocket-harness.js';
import { checkUpgradeRequest, isWebSocketUpgrade, WebSocketUpgradeError, WebSocketUpgrader } from './upgrade.js';

const servers: TestServer<unknown>[] = [];
afterEach(async () => { await Promise.all(servers.splice(0).map((s) => s.close())); });

const req = (headers: Record<string, string>, method = 'GET'): IncomingMessage => ({ method, headers }) as unknown as IncomingMessage;

const handshake = {
  connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
};

/** A raw upgrade request; resolves with the status and body of a refusal (or 101). */
function rawUpgrade(url: string, headers: Record<string, string>, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const r = httpRequest(url.replace('ws:', 'http:'), { method, headers });
    r.on('upgrade', (res, socket) => { socket.destroy(); resolve({ status: res.statusCode ?? 0, body: '' }); });
    r.on('response', (res) => { void readAll(res).then((b) => { resolve({ status: res.statusCode ?? 0, body: b.toString() }); }); });
    r.on('error', reject);
    r.end();
  });
}

describe('isWebSocketUpgrade', () => {
  it('needs Upgrade: websocket and a Connection header naming upgrade, in any case', () => {
    expect(isWebSocketUpgrade(req({ connection: 'Upgrade', upgrade: 'websocket' }))).toBe(true);
    expect(isWebSocketUpgrade(req({ connection: 'keep-alive, UPGRADE', upgrade: 'WebSocket' }))).toBe(true);
  });

  it('is false for SPDY, plain requests and look-alike tokens', () => {
    expect(isWebSocketUpgrade(req({ connection: 'Upgrade', upgrade: 'SPDY/3.1' }))).toBe(false);
    expect(isWebSocketUpgrade(req({}))).toBe(false);
    expect(isWebSocketUpgrade(req({ upgrade: 'websocket' }))).toBe(false);
    expect(isWebSocketUpgrade(req({ connection: 'upgrades', upgrade: 'websocket' }))).toBe(false);
  });
});

describe('checkUpgradeRequest', () => {
  it('negotiates per kind', () => {
    const offer = { ...handshake, 'sec-websocket-protocol': 'v5.channel.k8s.io, v4.channel.k8s.io' };
    expect(checkUpgradeRequest(req(offer), 'remoteCommand')).toEqual({ ok: true, value: 'v5.channel.k8s.io' });
    expect(checkUpgradeRequest(req(offer), 'portForward')).toEqual({ ok: true, value: 'v4.channel.k8s.io' });
    expect(checkUpgradeRequest(req(handshake), 'portForward')).toEqual({ ok: true, value: '' });
  });

  it('says what is wrong with a bad request', () => {
    expect(checkUpgradeRequest(req(handshake, 'POST'), 'remoteCommand')).toEqual({ ok: false, error: 'a WebSocket upgrade must be a GET, not POST' });
    expect(checkUpgradeRequest(req({ ...handshake, upgrade: 'h2c' }), 'remoteCommand')).toMatchObject({ ok: false, error: expect.stringContaining('not a WebSocket upgrade') as unknown });
    expect(checkUpgradeRequest(req({ ...handshake, 'sec-websocket-version': '12' }), 'remoteCommand')).toMatchObject({ ok: false, error: expect.stringContaining('Sec-WebSocket-Version') as unknown });
    expect(checkUpgradeRequest(req({ ...handshake, 'sec-websocket-key': 'short' }), 'remoteCommand')).toEqual({ ok: false, error: 'missing or invalid Sec-WebSocket-Key' });
  });
});

describe('WebSocketUpgrader', () => {
  async function server(kind: 'remoteCommand' | 'portForward' = 'remoteCommand'): Promise<TestServer<string>> {
    const s = await startServer(kind, ({ protocol }) => protocol);
    servers.push(s);
    return s;
  }

  it('completes the handshake with the first client protocol it supports', async () => {
    const s = await server();
    const client = await connect(s.url, ['v9.channel.k8s.io', 'v4.base64.channel.k8s.io', 'v5.channel.k8s.io']);
    expect(client.ws.protocol).toBe('v4.base64.channel.k8s.io');
    expect((await s.next()).protocol).toBe('v4.base64.channel.k8s.io');
  });

  it('completes it without a protocol header when the client offered none', async () => {
    const s = await server('portForward');
    const client = await connect(s.url, []);
    expect(client.ws.protocol).toBe('');
    expect((await s.next()).value).toBe('');
  });

  it('answers an unsupported protocol with a 400 that says why, and rejects', async () => {
    const s = await server('portForward');
    const res = await rawUpgrade(s.url, { ...handshake, 'sec-websocket-protocol': 'v5.channel.k8s.io' });
    expect(res).toEqual({ status: 400, body: 'requested protocol(s) are not supported: [v5.channel.k8s.io]; supports [v4.channel.k8s.io v4.base64.channel.k8s.io]\n' });
    await settle();
    expect(s.refusals).toHaveLength(1);
    expect(s.refusals[0]).toBeInstanceOf(WebSocketUpgradeError);
    expect((s.refusals[0] as WebSocketUpgradeError).status).toBe(400);
  });

  it('answers a malformed handshake with a 400', async () => {
    const s = await server();
    expect(await rawUpgrade(s.url, { ...handshake, 'sec-websocket-key': 'nope' })).toEqual({ status: 400, body: 'missing or invalid Sec-WebSocket-Key\n' });
    expect(await rawUpgrade(s.url, handshake, 'POST')).toEqual({ status: 400, body: 'a WebSocket upgrade must be a GET, not POST\n' });
  });

  it('answers what ws itself refuses (a duplicated protocol) with a 400 and rejects', async () => {
    const s = await server();
    const res = await rawUpgrade(s.url, { ...handshake, 'sec-websocket-protocol': 'v4.channel.k8s.io, v4.channel.k8s.io' });
    expect(res).toEqual({ status: 400, body: 'Invalid Sec-WebSocket-Protocol header\n' });
    await settle();
    expect(s.refusals.map((e) => e.message)).toEqual(['Invalid Sec-WebSocket-Protocol header']);
  });

  it('rejects when the connection is gone before the handshake', async () => {
    const socket = new PassThrough();
    socket.destroy();
    await expect(new WebSocketUpgrader().upgrade(req(handshake), socket, Buffer.alloc(0), 'remoteCommand'))
      .rejects.toThrow(new WebSocketUpgradeError('the connection closed before the WebSocket handshake completed'));
  });

  it('rejects and destroys the socket when it is already half-closed', async () => {
    const socket = new PassThrough();
    socket.end();
    socket.resume();
    await settle();
    expect(socket.readable).toBe(false);
    await expect(new WebSocketUpgrader().upgrade(req(handshake), socket, Buffer.alloc(0), 'remoteCommand')).rejects.toBeInstanceOf(WebSocketUpgradeError);
    expect(socket.destroyed).toBe(true);
  });

  it('hands the socket over paused, so what the client sends before accept is not lost', async () => {
    const s = await startServer('remoteCommand', async ({ ws, protocol }) => {
      await settle(100); // the caller is busy (authorisation, pod lookup) before it accepts
      return acceptRemoteCommand(ws, protocol, { container: 'c', command: [], stdin: true, stdout: true, stderr: false, tty: false });
    });
    servers.push(s);
    const client = await connect(s.url, ['v5.channel.k8s.io']);
    await send(client.ws, Buffer.from([0, ...Buffer.from('early')]));
    await send(client.ws, Buffer.from([0xff, 0]));
    const { value } = await s.next();
    const stdin = value.io.stdin;
    expect(stdin).toBeDefined();
    if (stdin !== undefined) expect((await readAll(stdin)).toString()).toBe('early');
  });
});
