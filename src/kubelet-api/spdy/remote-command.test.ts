import type { Server, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listen, RawPeer } from '../../../test/fixtures/spdy-interop/peer.js';
import type { ExecRequest, TerminalSize } from '../../provider/provider.js';
import type { PortConnection, RemoteCommandChannel } from '../streams/model.js';
import { Flag, RstStatus } from './frames.js';
import { acceptSpdyPortForward } from './port-forward.js';
import { acceptSpdyRemoteCommand, expectedStreams, terminalSizes } from './remote-command.js';

const servers: Server[] = [];
const peers: RawPeer[] = [];

afterEach(async () => {
  for (const p of peers.splice(0)) p.socket.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

const request = (o: Partial<ExecRequest> = {}): ExecRequest => ({ container: 'main', command: ['sh'], stdin: false, stdout: true, stderr: true, tty: false, ...o });

async function peerFor(onSocket: (socket: Socket) => void): Promise<RawPeer> {
  const { server, port } = await listen(onSocket);
  servers.push(server);
  const peer = await RawPeer.connect(port);
  peers.push(peer);
  return peer;
}

async function remoteCommand(protocol: string, req: ExecRequest, creationTimeoutMs = 2000): Promise<{ peer: RawPeer; channel: Promise<RemoteCommandChannel> }> {
  let channel: Promise<RemoteCommandChannel> | undefined;
  const peer = await peerFor((socket) => { channel = acceptSpdyRemoteCommand({ socket, head: Buffer.alloc(0), protocol, request: req, creationTimeoutMs }); });
  await new Promise((resolve) => setTimeout(resolve, 20));
  if (channel === undefined) throw new Error('no connection');
  return { peer, channel };
}

const text = (peer: RawPeer, id: number): string => peer.data(id).bytes.toString();

describe('expectedStreams', () => {
  it.each([
    ['v4.channel.k8s.io', request(), ['error', 'stdout', 'stderr']],
    ['v4.channel.k8s.io', request({ stdin: true, tty: true, stderr: false }), ['error', 'stdin', 'stdout', 'resize']],
    ['v2.channel.k8s.io', request({ tty: true, stderr: false }), ['error', 'stdout']],
    ['v5.channel.k8s.io', request({ stdout: false, stderr: true, tty: true }), ['error', 'resize']],
  ])('%s %o → %o', (protocol, req, streams) => {
    expect([...expectedStreams(protocol, req)]).toEqual(streams);
  });
});

describe('terminalSizes', () => {
  it('reads Go json.Encoder lines split anywhere and skips malformed ones', async () => {
    async function* chunks(): AsyncGenerator<string> {
      await Promise.resolve();
      yield '{"Width":80,"Hei';
      yield 'ght":24}\n{"Width":0,"Height":5}\nnot json\n{"Width":120,';
      yield '"Height":40}\n{"Width":99,"Height":33}';
    }
    const sizes: TerminalSize[] = [];
    for await (const s of terminalSizes(chunks())) sizes.push(s);
    expect(sizes).toEqual([{ cols: 80, rows: 24 }, { cols: 120, rows: 40 }, { cols: 99, rows: 33 }]);
  });
});

describe('acceptSpdyRemoteCommand', () => {
  it('hands over the streams once all are open, then ends with the v4 Status on the error stream', async () => {
    const { peer, channel } = await remoteCommand('v4.channel.k8s.io', request({ stdin: true }));
    await peer.syn(1, { streamtype: 'error' });
    await peer.syn(3, { streamtype: 'stdin' });
    await peer.syn(5, { streamtype: 'stdout' });
    await peer.syn(7, { streamtype: 'stderr' });
    const c = await channel;
    peer.send({ kind: 'data', streamId: 3, flags: Flag.fin, data: Buffer.from('input') });
    const chunks: Buffer[] = [];
    for await (const chunk of c.io.stdin ?? []) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('input');
    c.io.stdout?.write('out');
    c.io.stderr?.write('err');
    await c.finish({ kind: 'exited', code: 7 });
    await peer.next('goaway');
    expect([text(peer, 5), text(peer, 7)]).toEqual(['out', 'err']);
    expect(JSON.parse(text(peer, 1))).toEqual({
      metadata: {}, status: 'Failure', message: 'command terminated with non-zero exit code: exit status 7',
      reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '7' }] },
    });
    expect([1, 5, 7].map((id) => peer.data(id).fin)).toEqual([true, true, true]);
  });

  it('keeps its side of stdin open until the command ends (client-go stops sending stdin at our FIN)', async () => {
    const { peer, channel } = await remoteCommand('v4.channel.k8s.io', request({ stdin: true, stderr: false }));
    await peer.syn(1, { streamtype: 'error' });
    await peer.syn(3, { streamtype: 'stdin' });
    await peer.syn(5, { streamtype: 'stdout' });
    const c = await channel;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(peer.data(3).fin).toBe(false);
    await c.finish({ kind: 'exited', code: 0 });
    await peer.next('goaway');
    expect(peer.data(3).fin).toBe(true);
  });

  it('writes Success for exit 0 and nothing but the text of a failure on v2', async () => {
    const v4 = await remoteCommand('v5.channel.k8s.io', request({ stderr: false }));
    await v4.peer.syn(1, { streamtype: 'error' });
    await v4.peer.syn(3, { streamtype: 'stdout' });
    await (await v4.channel).finish({ kind: 'exited', code: 0 });
    await v4.peer.next('goaway');
    expect(JSON.parse(text(v4.peer, 1))).toEqual({ metadata: {}, status: 'Success' });

    const v2 = await remoteCommand('v2.channel.k8s.io', request({ stderr: false }));
    await v2.peer.syn(1, { streamtype: 'error' });
    await v2.peer.syn(3, { streamtype: 'stdout' });
    await (await v2.channel).finish({ kind: 'failed', message: 'boom' });
    await v2.peer.next('goaway');
    expect(text(v2.peer, 1)).toBe('error executing command in container: boom');
  });

  it('passes resize messages with a TTY', async () => {
    const { peer, channel } = await remoteCommand('v4.channel.k8s.io', request({ tty: true, stderr: false }));
    await peer.syn(1, { streamtype: 'error' });
    await peer.syn(3, { streamtype: 'stdout' });
    await peer.syn(5, { streamtype: 'resize' });
    const c = await channel;
    peer.send({ kind: 'data', streamId: 5, flags: 0, data: Buffer.from('{"Width":100,"Height":30}\n') });
    const it = c.io.resizes?.[Symbol.asyncIterator]();
    expect((await it?.next())?.value).toEqual({ cols: 100, rows: 30 });
    await c.finish({ kind: 'exited', code: 0 });
  });

  it('refuses streams it did not ask for, and a second stream of a type', async () => {
    const { peer, channel } = await remoteCommand('v4.channel.k8s.io', request({ stderr: false }));
    await peer.syn(1, { streamtype: 'error' });
    await peer.syn(3, { streamtype: 'stdin' });
    await peer.syn(5, { streamtype: 'error' });
    await peer.syn(7, { streamtype: 'stdout' });
    const c = await channel;
    expect((await peer.next('rst_stream', (f) => f.streamId === 3)).status).toBe(RstStatus.refusedStream);
    expect((await peer.next('rst_stream', (f) => f.streamId === 5)).status).toBe(RstStatus.refusedStream);
    await c.finish({ kind: 'exited', code: 0 });
  });

  it('gives up when the streams do not all come in time, and when the client leaves first', async () => {
    const slow = await remoteCommand('v4.channel.k8s.io', request(), 100);
    await slow.peer.syn(1, { streamtype: 'error' });
    await expect(slow.channel).rejects.toThrow('timed out waiting for client to create streams');
    await slow.peer.next('goaway');

    const gone = await remoteCommand('v4.channel.k8s.io', request());
    gone.peer.socket.destroy();
    await expect(gone.channel).rejects.toThrow('the connection ended before its streams were created');
  });

  it('aborts `closed` when the client goes away mid-session', async () => {
    const { peer, channel } = await remoteCommand('v4.channel.k8s.io', request({ stderr: false }));
    await peer.syn(1, { streamtype: 'error' });
    await peer.syn(3, { streamtype: 'stdout' });
    const c = await channel;
    expect(c.closed.aborted).toBe(false);
    peer.socket.destroy();
    await new Promise((resolve) => { c.closed.addEventListener('abort', resolve); });
    expect(c.closed.aborted).toBe(true);
  });
});

describe('acceptSpdyPortForward', () => {
  async function forward(creationTimeoutMs = 2000): Promise<{ peer: RawPeer; connections: PortConnection[] }> {
    const connections: PortConnection[] = [];
    const peer = await peerFor((socket) => {
      acceptSpdyPortForward({ socket, head: Buffer.alloc(0), creationTimeoutMs }).onConnection((c) => { connections.push(c); });
    });
    return { peer, connections };
  }

  it('pairs error and data streams by requestid, for many connections and ports', async () => {
    const { peer, connections } = await forward();
    await peer.syn(1, { streamtype: 'error', port: '8080', requestid: '0' });
    await peer.syn(3, { streamtype: 'error', port: '9090', requestid: '1' });
    await peer.syn(5, { streamtype: 'data', port: '9090', requestid: '1' });
    await peer.syn(7, { streamtype: 'data', port: '8080', requestid: '0' });
    await peer.next('syn_reply', (f) => f.streamId === 7);
    expect(connections.map((c) => c.port)).toEqual([9090, 8080]);
    connections[1]?.data.write('hello');
    await peer.next('data', (f) => f.streamId === 7);
    expect(text(peer, 7)).toBe('hello');
    peer.send({ kind: 'data', streamId: 5, flags: 0, data: Buffer.from('to 9090') });
    const got = await new Promise<Buffer>((resolve) => connections[0]?.data.once('data', resolve));
    expect(got.toString()).toBe('to 9090');
  });

  it('pairs streams of clients that send no requestid by their stream ids', async () => {
    const { peer, connections } = await forward();
    await peer.syn(1, { streamtype: 'error', port: '80' });
    await peer.syn(3, { streamtype: 'data', port: '80' });
    await peer.next('syn_reply', (f) => f.streamId === 3);
    expect(connections.map((c) => c.port)).toEqual([80]);
  });

  it('resets streams with a bad port or type, and writes a failure on the error stream', async () => {
    const { peer, connections } = await forward();
    await peer.syn(1, { streamtype: 'data', port: '0', requestid: '0' });
    await peer.syn(3, { streamtype: 'other', port: '80', requestid: '1' });
    await peer.syn(5, { streamtype: 'data', port: '80' });
    for (const id of [1, 3]) expect((await peer.next('rst_stream', (f) => f.streamId === id)).status).toBe(RstStatus.refusedStream);
    await peer.syn(7, { streamtype: 'error', port: '80', requestid: '2' });
    await peer.syn(9, { streamtype: 'data', port: '80', requestid: '2' });
    await peer.next('syn_reply', (f) => f.streamId === 9);
    connections.at(-1)?.fail('error forwarding port 80 to pod web, uid u1: refused');
    await peer.next('rst_stream', (f) => f.streamId === 9);
    expect(text(peer, 7)).toBe('error forwarding port 80 to pod web, uid u1: refused');
  });

  it('times out a pair whose data stream never comes', async () => {
    const { peer, connections } = await forward(100);
    await peer.syn(1, { streamtype: 'error', port: '80', requestid: '0' });
    await peer.next('data', (f) => f.streamId === 1 && (f.flags & Flag.fin) !== 0);
    expect(text(peer, 1)).toBe('timed out waiting for streams');
    expect(connections).toEqual([]);
  });
});
