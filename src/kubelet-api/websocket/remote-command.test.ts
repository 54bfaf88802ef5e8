import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExecRequest, TerminalSize } from '../../provider/provider.js';
import type { RemoteCommandChannel } from '../streams/model.js';
import { ChannelClosedError, ChannelProtocolError, MAX_MESSAGE_PAYLOAD } from './channel-socket.js';
import { encodeClose } from './protocols.js';
import { acceptRemoteCommand, type RemoteCommandOptions } from './remote-command.js';
import { connect, nextOn, readAll, send, settle, startServer, whenAborted, type Accepted, type TestClient, type TestServer } from '../../../test/fixtures/websocket-harness.js';

const servers: TestServer<RemoteCommandChannel>[] = [];
afterEach(async () => { await Promise.all(servers.splice(0).map((s) => s.close())); });

const exec = (over: Partial<ExecRequest> = {}): ExecRequest => ({
  container: 'app', command: ['sh'], stdin: false, stdout: true, stderr: true, tty: false, ...over,
});

interface Pair {
  readonly client: TestClient;
  readonly server: Accepted<RemoteCommandChannel>;
  readonly channel: RemoteCommandChannel;
}

async function open(request: ExecRequest, protocols: readonly string[] = ['v5.channel.k8s.io'], options: RemoteCommandOptions = {}): Promise<Pair> {
  const s = await startServer('remoteCommand', ({ ws, protocol }) => acceptRemoteCommand(ws, protocol, request, options));
  servers.push(s);
  const client = await connect(s.url, protocols);
  const server = await s.next();
  return { client, server, channel: server.value };
}

const write = (w: Writable | undefined, data: Buffer | string): Promise<void> =>
  new Promise((resolve, reject) => { w?.write(data, (e) => { if (e) reject(e); else resolve(); }); });

/** Every binary message until the close, as [channel, payload]. */
async function drain(client: TestClient): Promise<[number, Buffer][]> {
  await client.closed;
  return client.messages.items.map((m) => [m.data[0] ?? -1, m.data.subarray(1)]);
}

describe('acceptRemoteCommand: the ready message', () => {
  it('sends an empty message on stdout when stdout was asked for', async () => {
    const { client } = await open(exec());
    expect((await client.messages.take()).data).toEqual(Buffer.from([1]));
  });

  it('uses stderr, else the error channel, when stdout was not asked for', async () => {
    const a = await open(exec({ stdout: false }));
    expect((await a.client.messages.take()).data).toEqual(Buffer.from([2]));
    const b = await open(exec({ stdout: false, stderr: false, stdin: true }));
    expect((await b.client.messages.take()).data).toEqual(Buffer.from([3]));
  });

  it('creates exactly the streams the request asked for', async () => {
    const { channel } = await open(exec({ stdin: true, stderr: false, tty: true }));
    expect(Object.keys(channel.io).sort()).toEqual(['resizes', 'stdin', 'stdout']);
    const other = await open(exec());
    expect(Object.keys(other.channel.io).sort()).toEqual(['stderr', 'stdout']);
  });
});

describe('acceptRemoteCommand: output and status', () => {
  it('keeps stdout and stderr in the order written, then the Success status, then closes with 1000', async () => {
    const { client, channel } = await open(exec());
    await write(channel.io.stdout, 'out-1\n');
    await write(channel.io.stderr, 'err-1\n');
    await write(channel.io.stdout, 'out-2\n');
    await channel.finish({ kind: 'exited', code: 0 });
    expect(await drain(client)).toEqual([
      [1, Buffer.alloc(0)], [1, Buffer.from('out-1\n')], [2, Buffer.from('err-1\n')], [1, Buffer.from('out-2\n')],
      [3, Buffer.from('{"metadata":{},"status":"Success"}')],
    ]);
    expect(await client.closed).toEqual({ code: 1000, reason: '' });
    await whenAborted(channel.closed);
  });

  it('writes NonZeroExitCode byte for byte', async () => {
    const { client, channel } = await open(exec(), ['v4.channel.k8s.io']);
    await channel.finish({ kind: 'exited', code: 3 });
    const status = (await drain(client)).find(([c]) => c === 3)?.[1].toString();
    expect(status).toBe('{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: exit status 3",'
      + '"reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}');
  });

  it('writes InternalError byte for byte', async () => {
    const { client, channel } = await open(exec());
    await channel.finish({ kind: 'failed', message: 'session lost' });
    const status = (await drain(client)).find(([c]) => c === 3)?.[1].toString();
    expect(status).toBe('{"metadata":{},"status":"Failure","message":"Internal error occurred: error executing command in container: session lost",'
      + '"reason":"InternalError","details":{"causes":[{"message":"session lost"}]},"code":500}');
  });

  it('v1 (channel.k8s.io) writes the error as text and nothing on success', async () => {
    const failed = await open(exec(), ['channel.k8s.io']);
    await failed.channel.finish({ kind: 'exited', code: 7 });
    expect((await drain(failed.client)).filter(([c]) => c === 3)).toEqual([[3, Buffer.from('command terminated with non-zero exit code: exit status 7')]]);
    const ok = await open(exec(), []);
    expect(ok.server.protocol).toBe('');
    await ok.channel.finish({ kind: 'exited', code: 0 });
    expect((await drain(ok.client)).filter(([c]) => c === 3)).toEqual([]);
    expect(await ok.client.closed).toMatchObject({ code: 1000 });
  });

  it('ends the output streams and waits for their buffered writes before the status', async () => {
    const { client, channel } = await open(exec({ stderr: false }));
    const big = randomBytes(3 * MAX_MESSAGE_PAYLOAD + 17);
    channel.io.stdout?.write(big); // not awaited: finish() must wait for it
    await channel.finish({ kind: 'exited', code: 0 });
    const messages = await drain(client);
    expect(Buffer.concat(messages.filter(([c]) => c === 1).map(([, p]) => p)).equals(big)).toBe(true);
    expect(messages.at(-1)?.[0]).toBe(3);
    expect(channel.io.stdout?.writableEnded).toBe(true);
  });

  it('is idempotent: a second finish writes nothing more', async () => {
    const { client, channel } = await open(exec());
    const first = channel.finish({ kind: 'exited', code: 0 });
    const second = channel.finish({ kind: 'exited', code: 9 });
    expect(second).toBe(first);
    await first;
    expect((await drain(client)).filter(([c]) => c === 3)).toHaveLength(1);
  });

  it('drops writes after the client went away instead of failing the writer', async () => {
    const { client, channel } = await open(exec());
    client.ws.terminate();
    await whenAborted(channel.closed);
    await expect(write(channel.io.stdout, 'late')).resolves.toBeUndefined();
    await expect(channel.finish({ kind: 'exited', code: 0 })).resolves.toBeUndefined();
  });
});

describe('acceptRemoteCommand: stdin', () => {
  it('v5: reads stdin until the client\'s CLOSE of channel 0, without closing the connection', async () => {
    const { client, channel } = await open(exec({ stdin: true }));
    const read = readAll(channel.io.stdin as Readable);
    await send(client.ws, Buffer.from([0, ...Buffer.from('hello ')]));
    await send(client.ws, Buffer.from([0]));
    await send(client.ws, Buffer.from([0, ...Buffer.from('world')]));
    await send(client.ws, encodeClose(0));
    expect((await read).toString()).toBe('hello world');
    expect(channel.closed.aborted).toBe(false);
    await write(channel.io.stdout, 'still open');
    expect(await nextOn(client.messages, 1)).toEqual(Buffer.alloc(0));
    expect(await nextOn(client.messages, 1)).toEqual(Buffer.from('still open'));
  });

  it('ends stdin and aborts closed when the socket closes', async () => {
    const { client, channel } = await open(exec({ stdin: true }), ['v4.channel.k8s.io']);
    const read = readAll(channel.io.stdin as Readable);
    await send(client.ws, Buffer.from([0, 0x61]));
    client.ws.close(1000);
    expect((await read).toString()).toBe('a');
    expect(await whenAborted(channel.closed)).toBeInstanceOf(ChannelClosedError);
  });

  it('ignores stdin data when stdin was not asked for (the channel exists either way)', async () => {
    const { client, channel } = await open(exec());
    await send(client.ws, Buffer.from([0, 1, 2, 3]));
    await send(client.ws, encodeClose(0));
    await settle();
    expect(channel.closed.aborted).toBe(false);
  });

  it('is binary-safe: all 256 byte values and 5 MiB both ways', async () => {
    const { client, channel } = await open(exec({ stdin: true, stderr: false }));
    const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const big = Buffer.concat([every, randomBytes(5 * 1024 * 1024)]);
    const read = readAll(channel.io.stdin as Readable);
    for (let at = 0; at < big.length; at += 64 * 1024) await send(client.ws, Buffer.concat([Buffer.from([0]), big.subarray(at, at + 64 * 1024)]));
    await send(client.ws, encodeClose(0));
    expect((await read).equals(big)).toBe(true);
    await write(channel.io.stdout, big);
    await channel.finish({ kind: 'exited', code: 0 });
    const out = Buffer.concat((await drain(client)).filter(([c]) => c === 1).map(([, p]) => p));
    expect(out.equals(big)).toBe(true);
  });

  it('pauses the socket while nobody reads stdin and loses nothing', async () => {
    const { client, channel, server } = await open(exec({ stdin: true }));
    const chunk = randomBytes(256 * 1024);
    for (let i = 0; i < 8; i++) await send(client.ws, Buffer.concat([Buffer.from([0]), chunk]));
    await settle(100);
    expect(server.ws.isPaused).toBe(true);
    await send(client.ws, encodeClose(0)).catch(() => undefined);
    const data = await readAll(channel.io.stdin as Readable);
    expect(data.length).toBe(8 * chunk.length);
    expect(server.ws.isPaused).toBe(false);
  });
});

describe('acceptRemoteCommand: resize', () => {
  it('yields each size from channel 4 with a terminal, skipping zero sizes', async () => {
    const { client, channel } = await open(exec({ tty: true, stderr: false, stdin: true }));
    const sizes: TerminalSize[] = [];
    const done = (async () => { for await (const s of channel.io.resizes ?? []) sizes.push(s); })();
    await send(client.ws, Buffer.concat([Buffer.from([4]), Buffer.from('{"Width":120,"Height":40}')]));
    await send(client.ws, Buffer.concat([Buffer.from([4]), Buffer.from('{"Width":0,"Height":0}\n{"Width":80,"Height":24}\n')]));
    await settle();
    await send(client.ws, encodeClose(4));
    await done;
    expect(sizes).toEqual([{ cols: 120, rows: 40 }, { cols: 80, rows: 24 }]);
  });

  it('ends the resizes when the connection closes', async () => {
    const { channel } = await open(exec({ tty: true, stderr: false }));
    const done = (async () => { const seen: TerminalSize[] = []; for await (const size of channel.io.resizes ?? []) seen.push(size); return seen; })();
    await channel.finish({ kind: 'exited', code: 0 });
    expect(await done).toEqual([]);
  });
});

describe('acceptRemoteCommand: base64 protocols', () => {
  it('v4.base64: text frames both ways and the Status in base64', async () => {
    const { client, channel, server } = await open(exec({ stdin: true }), ['v4.base64.channel.k8s.io']);
    expect(server.protocol).toBe('v4.base64.channel.k8s.io');
    const first = await client.messages.take();
    expect(first).toEqual({ data: Buffer.from('1'), binary: false });
    await send(client.ws, `0${Buffer.from([0, 200, 255]).toString('base64')}`);
    const stdin = channel.io.stdin as Readable;
    const got = await new Promise<Buffer>((resolve) => stdin.once('data', resolve));
    expect(got).toEqual(Buffer.from([0, 200, 255]));
    await write(channel.io.stderr, Buffer.from('oops'));
    await channel.finish({ kind: 'exited', code: 0 });
    await client.closed;
    const texts = client.messages.items.map((m) => m.data.toString());
    expect(texts.slice(1)).toEqual([`2${Buffer.from('oops').toString('base64')}`, `3${Buffer.from('{"metadata":{},"status":"Success"}').toString('base64')}`]);
    expect(client.messages.items.every((m) => !m.binary)).toBe(true);
  });
});

describe('acceptRemoteCommand: backpressure', () => {
  it('makes stdout writes wait for a slow client instead of buffering without bound', async () => {
    const highWaterMark = 64 * 1024;
    const { client, channel, server } = await open(exec({ stderr: false }), ['v5.channel.k8s.io'], { highWaterMark });
    await client.messages.take();
    client.ws.pause();
    const chunk = randomBytes(64 * 1024);
    const total = 64 * 1024 * 1024;
    let written = 0;
    let maxBuffered = 0;
    const writer = (async () => {
      while (written < total) {
        const done = write(channel.io.stdout, chunk);
        maxBuffered = Math.max(maxBuffered, server.ws.bufferedAmount); // the peak: this chunk is queued now
        await done;
        written += chunk.length;
      }
    })();
    let last = -1;
    for (let i = 0; i < 50 && written !== last; i++) {
      last = written;
      await settle(200);
    }
    expect(written).toBe(last); // nothing moves while the client reads nothing
    expect(written).toBeLessThan(total);
    expect(maxBuffered).toBeGreaterThan(highWaterMark); // the socket did fill up ...
    expect(maxBuffered).toBeLessThanOrEqual(highWaterMark + chunk.length + 16); // ... but by one chunk at most
    client.ws.resume();
    await writer;
    await channel.finish({ kind: 'exited', code: 0 });
    const received = (await drain(client)).filter(([c]) => c === 1).reduce((n, [, p]) => n + p.length, 0);
    expect(received).toBe(total);
  });
});

describe('acceptRemoteCommand: timeouts', () => {
  it('closes an idle connection with 1001 and aborts closed', async () => {
    const { client, channel } = await open(exec(), ['v5.channel.k8s.io'], { idleTimeoutMs: 150 });
    expect(await client.closed).toEqual({ code: 1001, reason: 'idle timeout' });
    const reason = await whenAborted(channel.closed);
    expect(reason).toBeInstanceOf(ChannelClosedError);
    expect((reason as ChannelClosedError).code).toBe(1001);
  });

  it('counts messages as activity', async () => {
    const { client, channel } = await open(exec({ stdin: true }), ['v5.channel.k8s.io'], { idleTimeoutMs: 200 });
    (channel.io.stdin as Readable).resume();
    for (let i = 0; i < 6; i++) {
      await settle(100);
      await send(client.ws, Buffer.from([0, i]));
    }
    expect(channel.closed.aborted).toBe(false);
  });

  it('writes the status after flushTimeoutMs even when output cannot drain, and the status comes last', async () => {
    const { client, channel } = await open(exec({ stderr: false }), ['v5.channel.k8s.io'], { highWaterMark: 16 * 1024, flushTimeoutMs: 200 });
    await client.messages.take();
    client.ws.pause();
    channel.io.stdout?.write(randomBytes(32 * 1024 * 1024));
    const started = Date.now();
    const finished = channel.finish({ kind: 'exited', code: 0 });
    await settle(400);
    client.ws.resume();
    await finished;
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    const messages = await drain(client);
    expect(messages.at(-1)).toEqual([3, Buffer.from('{"metadata":{},"status":"Success"}')]);
    expect(await client.closed).toMatchObject({ code: 1000 });
  });
});

describe('acceptRemoteCommand: malformed input', () => {
  const cases: [string, readonly string[], ExecRequest, Buffer | string, number, string][] = [
    ['an unknown channel', ['v5.channel.k8s.io'], exec(), Buffer.from([9, 1]), 1002, 'unknown channel 9'],
    ['a CLOSE of the wrong length', ['v5.channel.k8s.io'], exec(), Buffer.from([0xff, 0, 0]), 1002, 'CLOSE message of 3 bytes (must be 2)'],
    ['a CLOSE of an unknown channel', ['v5.channel.k8s.io'], exec(), Buffer.from([0xff, 7]), 1002, 'unknown channel 7'],
    ['a CLOSE of a server channel', ['v5.channel.k8s.io'], exec(), Buffer.from([0xff, 1]), 1002, 'channel 1 is not writable by the client'],
    ['data on stdout', ['v5.channel.k8s.io'], exec(), Buffer.from([1, 0x61]), 1002, 'channel 1 is not writable by the client'],
    ['data on the error channel', ['v4.channel.k8s.io'], exec(), Buffer.from([3]), 1002, 'channel 3 is not writable by the client'],
    ['channel 255 before v5', ['v4.channel.k8s.io'], exec(), Buffer.from([0xff, 0]), 1002, 'unknown channel 255'],
    ['bad resize JSON', ['v5.channel.k8s.io'], exec({ tty: true, stderr: false }), Buffer.from([4, 0x7b]), 1007, 'resize: expected {"Width":<0..65535>,"Height":<0..65535>}'],
    ['bad base64', ['v4.base64.channel.k8s.io'], exec({ stdin: true }), '0@@@@', 1007, 'channel 0: payload is not valid base64'],
    ['a bad base64 channel', ['base64.channel.k8s.io'], exec(), '!abcd', 1002, 'unknown channel character "!"'],
  ];

  for (const [what, protocols, request, message, code, reason] of cases) {
    it(`closes with ${String(code)} on ${what} and aborts closed`, async () => {
      const { client, channel } = await open(request, protocols);
      const stdinEnded = channel.io.stdin === undefined ? Promise.resolve(Buffer.alloc(0)) : readAll(channel.io.stdin);
      await send(client.ws, message);
      expect(await client.closed).toEqual({ code, reason });
      expect(await whenAborted(channel.closed)).toBeInstanceOf(ChannelProtocolError);
      expect((channel.closed.reason as ChannelProtocolError).code).toBe(code);
      await stdinEnded;
    });
  }

  it('ignores what arrives after the violation and finish() still resolves', async () => {
    const { client, channel } = await open(exec({ stdin: true }));
    client.ws.send(Buffer.from([42]));
    client.ws.send(Buffer.from([0, 1]));
    await client.closed;
    await expect(channel.finish({ kind: 'exited', code: 0 })).resolves.toBeUndefined();
    expect(client.messages.items.map((m) => m.data[0])).toEqual([1]);
  });
});
