import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import type { PortConnection, PortForwardChannel } from '../streams/model.js';
import { ChannelProtocolError } from './channel-socket.js';
import { acceptPortForward } from './port-forward.js';
import { connect, readAll, send, settle, startServer, whenAborted, type TestClient, type TestServer } from '../../../test/fixtures/websocket-harness.js';

const servers: TestServer<PortForwardChannel>[] = [];
afterEach(async () => { await Promise.all(servers.splice(0).map((s) => s.close())); });

interface Pair {
  readonly client: TestClient;
  readonly channel: PortForwardChannel;
  readonly connections: PortConnection[];
  readonly protocol: string;
  readonly ws: WebSocket;
}

async function open(ports: readonly number[], protocols: readonly string[] = ['v4.channel.k8s.io']): Promise<Pair> {
  const s = await startServer('portForward', ({ ws, protocol }) => acceptPortForward(ws, protocol, ports));
  servers.push(s);
  const client = await connect(s.url, protocols);
  const { value: channel, protocol, ws } = await s.next();
  const connections: PortConnection[] = [];
  channel.onConnection((c) => connections.push(c));
  return { client, channel, connections, protocol, ws };
}

const frame = (channel: number, data: Buffer | string): Buffer => Buffer.concat([Buffer.from([channel]), Buffer.from(data)]);

const write = (c: PortConnection | undefined, data: Buffer | string): Promise<void> =>
  new Promise((resolve, reject) => { c?.data.write(data, (e) => { if (e) reject(e); else resolve(); }); });

/** Bytes the client received on `channel` (binary framing), prefix included. */
const receivedOn = (client: TestClient, channel: number): Buffer =>
  Buffer.concat(client.messages.items.filter((m) => m.data[0] === channel).map((m) => m.data.subarray(1)));

describe('acceptPortForward: set-up', () => {
  it('announces one connection per port, in query order, as soon as the listener is set', async () => {
    const { connections } = await open([8080, 9090]);
    expect(connections.map((c) => c.port)).toEqual([8080, 9090]);
  });

  it('opens both channels of every port with the port as uint16 little-endian', async () => {
    const { client } = await open([8080, 9090]);
    const first = await Promise.all([0, 1, 2, 3].map(() => client.messages.take()));
    expect(first.map((m) => m.data)).toEqual([
      Buffer.from([0, 0x90, 0x1f]), Buffer.from([1, 0x90, 0x1f]), Buffer.from([2, 0x82, 0x23]), Buffer.from([3, 0x82, 0x23]),
    ]);
  });

  it('accepts a client that offers no protocol', async () => {
    const { protocol, client } = await open([22], []);
    expect(protocol).toBe('');
    expect((await client.messages.take()).data).toEqual(Buffer.from([0, 22, 0]));
  });

  it('refuses an empty, too long or invalid port list before touching the socket', () => {
    const ws = {} as WebSocket;
    expect(() => acceptPortForward(ws, '', [])).toThrow('a port-forward carries 1-127 ports, not 0');
    expect(() => acceptPortForward(ws, '', Array.from({ length: 128 }, () => 80))).toThrow('not 128');
    expect(() => acceptPortForward(ws, '', [80, 0])).toThrow('port 0 is not 1-65535');
    expect(() => acceptPortForward(ws, '', [65536])).toThrow(RangeError);
  });
});

describe('acceptPortForward: data', () => {
  it('carries each port\'s bytes both ways on its own data channel', async () => {
    const { client, connections } = await open([8080, 9090]);
    const [a, b] = connections;
    const gotA = new Promise<Buffer>((resolve) => a?.data.once('data', resolve));
    const gotB = new Promise<Buffer>((resolve) => b?.data.once('data', resolve));
    await send(client.ws, frame(2, 'to-9090'));
    await send(client.ws, frame(0, 'to-8080'));
    expect((await gotA).toString()).toBe('to-8080');
    expect((await gotB).toString()).toBe('to-9090');
    await write(a, 'from-8080');
    await write(b, 'from-9090');
    await settle();
    expect(receivedOn(client, 0).subarray(2).toString()).toBe('from-8080');
    expect(receivedOn(client, 2).subarray(2).toString()).toBe('from-9090');
  });

  it('is binary-safe for all 256 byte values and 2 MiB', async () => {
    const { client, connections } = await open([5432]);
    const c = connections[0];
    const payload = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(2 * 1024 * 1024)]);
    await write(c, payload);
    c?.data.end();
    await client.closed;
    expect(receivedOn(client, 0).subarray(2).equals(payload)).toBe(true);
  });

  it('closes the socket (1000) once every port\'s connection ended', async () => {
    const { client, connections, channel } = await open([1, 2]);
    connections[0]?.data.end();
    await settle();
    expect(channel.closed.aborted).toBe(false);
    connections[1]?.data.end();
    expect(await client.closed).toEqual({ code: 1000, reason: '' });
    await whenAborted(channel.closed);
  });

  it('ends every data stream when the client goes away', async () => {
    const { client, connections, channel } = await open([80, 443]);
    const ends = connections.map((c) => readAll(c.data));
    await send(client.ws, frame(0, 'last words'));
    client.ws.close();
    const [a, b] = await Promise.all(ends);
    expect(a?.toString()).toBe('last words');
    expect(b?.length).toBe(0);
    await whenAborted(channel.closed);
  });

  it('close() closes the socket and ends the streams', async () => {
    const { client, connections, channel } = await open([80]);
    const ended = readAll(connections[0]?.data ?? (() => { throw new Error('no connection'); })());
    await channel.close();
    expect(await client.closed).toMatchObject({ code: 1000 });
    expect((await ended).length).toBe(0);
    expect(channel.closed.aborted).toBe(true);
  });
});

describe('acceptPortForward: fail()', () => {
  it('writes the message on the port\'s error channel and ends only that port', async () => {
    const { client, connections, channel } = await open([8080, 9090]);
    const [a, b] = connections;
    a?.fail('error forwarding port 8080 to pod web-0: connection refused');
    await settle();
    expect(receivedOn(client, 1).subarray(2).toString()).toBe('error forwarding port 8080 to pod web-0: connection refused');
    expect(a?.data.destroyed).toBe(true);
    expect(channel.closed.aborted).toBe(false);
    await send(client.ws, frame(0, 'ignored now'));
    await write(b, 'b still works');
    await settle();
    expect(receivedOn(client, 2).subarray(2).toString()).toBe('b still works');
    expect(receivedOn(client, 0)).toEqual(Buffer.from([0x90, 0x1f]));
    b?.fail('second');
    expect(await client.closed).toMatchObject({ code: 1000 });
  });

  it('is idempotent and writes nothing after the connection ended', async () => {
    const { client, connections } = await open([8080]);
    connections[0]?.fail('once');
    connections[0]?.fail('twice');
    await client.closed;
    expect(receivedOn(client, 1).subarray(2).toString()).toBe('once');
  });
});

describe('acceptPortForward: base64', () => {
  it('v4.base64: the prefixes, data and errors are text frames', async () => {
    const { client, connections, protocol } = await open([8080], ['v4.base64.channel.k8s.io']);
    expect(protocol).toBe('v4.base64.channel.k8s.io');
    const got = new Promise<Buffer>((resolve) => connections[0]?.data.once('data', resolve));
    await send(client.ws, `0${Buffer.from('hi').toString('base64')}`);
    expect((await got).toString()).toBe('hi');
    connections[0]?.fail('nope');
    await client.closed;
    expect(client.messages.items.map((m) => m.data.toString())).toEqual(['0kB8=', '1kB8=', `1${Buffer.from('nope').toString('base64')}`]);
    expect(client.messages.items.every((m) => !m.binary)).toBe(true);
  });
});

describe('acceptPortForward: malformed input', () => {
  const cases: [string, readonly number[], Buffer | string, readonly string[], number, string][] = [
    ['data on an error channel', [8080], frame(1, 'x'), ['v4.channel.k8s.io'], 1002, 'channel 1 is not writable by the client'],
    ['a channel beyond the ports', [8080, 9090], frame(4, 'x'), ['v4.channel.k8s.io'], 1002, 'unknown channel 4'],
    ['a CLOSE signal (no v5 here)', [8080], Buffer.from([0xff, 0]), [], 1002, 'unknown channel 255'],
    ['bad base64', [8080], '0***', ['v4.base64.channel.k8s.io'], 1007, 'channel 0: payload is not valid base64'],
  ];
  for (const [what, ports, message, protocols, code, reason] of cases) {
    it(`closes with ${String(code)} on ${what}`, async () => {
      const { client, channel, connections } = await open(ports, protocols);
      const ended = readAll(connections[0]?.data ?? (() => { throw new Error('no connection'); })());
      await send(client.ws, message);
      expect(await client.closed).toEqual({ code, reason });
      expect(await whenAborted(channel.closed)).toBeInstanceOf(ChannelProtocolError);
      expect((await ended).length).toBe(0);
    });
  }
});
