import type { Server, Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { listen, RawPeer } from '../../../test/fixtures/spdy-interop/peer.js';
import { encodeFrame, Flag, GoAwayStatus, RstStatus } from './frames.js';
import { SpdySession, type SessionOptions } from './session.js';
import type { SpdyStream } from './stream.js';

interface Env {
  peer: RawPeer;
  session: SpdySession;
  streams: SpdyStream[];
  socket: Socket;
}

const servers: Server[] = [];
const peers: RawPeer[] = [];

afterEach(async () => {
  for (const p of peers.splice(0)) p.socket.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function setup(options: Partial<SessionOptions> = {}): Promise<Env> {
  const streams: SpdyStream[] = [];
  let resolveEnv: (e: Omit<Env, 'peer'>) => void = () => undefined;
  const env = new Promise<Omit<Env, 'peer'>>((resolve) => { resolveEnv = resolve; });
  const { server, port } = await listen((socket) => {
    const session = new SpdySession(socket, {
      ...options,
      onStream: (s) => { streams.push(s); options.onStream?.(s); },
    });
    resolveEnv({ session, streams, socket });
  });
  servers.push(server);
  const peer = await RawPeer.connect(port);
  peers.push(peer);
  return { peer, ...(await env) };
}

const settle = (ms = 50): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('SpdySession: streams', () => {
  it('answers each client stream with an empty SYN_REPLY and hands it over with its headers', async () => {
    const { peer, streams } = await setup();
    await peer.syn(1, { streamtype: 'error', Port: '8080' });
    await peer.syn(3, { streamtype: 'stdout' });
    expect((await peer.next('syn_reply', (f) => f.streamId === 1)).headers).toEqual(new Map());
    await peer.next('syn_reply', (f) => f.streamId === 3);
    expect(streams.map((s) => [s.id, Object.fromEntries(s.headers)])).toEqual([
      [1, { streamtype: ['error'], port: ['8080'] }],
      [3, { streamtype: ['stdout'] }],
    ]);
  });

  it('holds DATA written inside onStream until the SYN_REPLY is out', async () => {
    const { peer } = await setup({ onStream: (s) => { s.end('early'); } });
    await peer.syn(1, { streamtype: 'error' });
    await peer.next('data', (f) => (f.flags & Flag.fin) !== 0);
    expect(peer.received.map((f) => f.kind)).toEqual(['syn_reply', 'data', 'data']);
    expect(peer.data(1)).toEqual({ bytes: Buffer.from('early'), fin: true });
  });

  it('refuses an id not above the last, and an even id, with PROTOCOL_ERROR, keeping the header context in step', async () => {
    const { peer, streams } = await setup();
    await peer.syn(5, { streamtype: 'a' });
    await peer.syn(3, { streamtype: 'b' });
    await peer.syn(6, { streamtype: 'c' });
    await peer.syn(7, { streamtype: 'late' });
    expect((await peer.next('rst_stream', (f) => f.streamId === 3)).status).toBe(RstStatus.protocolError);
    expect((await peer.next('rst_stream', (f) => f.streamId === 6)).status).toBe(RstStatus.protocolError);
    await peer.next('syn_reply', (f) => f.streamId === 7);
    expect(streams.map((s) => [s.id, s.headers.get('streamtype')])).toEqual([[5, ['a']], [7, ['late']]]);
    expect(peer.received.filter((f) => f.kind === 'syn_reply').map((f) => f.streamId)).toEqual([5, 7]);
  });

  it('refuses a stream the handler resets: RST_STREAM CANCEL and no SYN_REPLY', async () => {
    const { peer, session } = await setup({ onStream: (s) => { s.reset(); } });
    await peer.syn(1, { streamtype: 'data', port: 'x' });
    expect(await peer.next('rst_stream')).toMatchObject({ streamId: 1, status: RstStatus.cancel });
    await settle();
    expect(peer.received.map((f) => f.kind)).toEqual(['rst_stream']);
    expect(session.openStreams).toBe(0);
  });

  it('resets a stream whose handler throws with INTERNAL_ERROR, logs it, and serves the next', async () => {
    const log = { warn: vi.fn() };
    let calls = 0;
    const { peer } = await setup({ log, onStream: () => { if (calls++ === 0) throw new Error('boom'); } });
    await peer.syn(1, { streamtype: 'x' });
    await peer.syn(3, { streamtype: 'y' });
    expect(await peer.next('rst_stream')).toMatchObject({ streamId: 1, status: RstStatus.internalError });
    await peer.next('syn_reply', (f) => f.streamId === 3);
    expect(log.warn).toHaveBeenCalledWith(expect.objectContaining({ streamId: 1, err: expect.any(Error) as unknown }), 'SPDY stream handler threw; stream reset');
  });

  it('carries data both ways with half-close, then forgets the stream', async () => {
    const { peer, session, streams } = await setup();
    await peer.syn(1, { streamtype: 'stdin' });
    await peer.next('syn_reply');
    peer.send({ kind: 'data', streamId: 1, flags: 0, data: Buffer.from('ab') });
    peer.send({ kind: 'data', streamId: 1, flags: Flag.fin, data: Buffer.from('c') });
    const s = streams[0];
    if (s === undefined) throw new Error('no stream');
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    await new Promise((resolve) => s.once('end', resolve));
    expect(Buffer.concat(chunks).toString()).toBe('abc');
    expect(s.remoteClosed).toBe(true);
    expect(session.openStreams).toBe(1);
    s.end('xyz');
    await peer.next('data', (f) => (f.flags & Flag.fin) !== 0);
    expect(peer.data(1)).toEqual({ bytes: Buffer.from('xyz'), fin: true });
    await vi.waitFor(() => { expect(session.openStreams).toBe(0); });
    expect(s.resetBy).toBeUndefined();
  });

  it('destroys a stream reset by the peer without an error event', async () => {
    const { peer, streams } = await setup();
    await peer.syn(1, { streamtype: 'stdout' });
    await peer.next('syn_reply');
    const s = streams[0];
    if (s === undefined) throw new Error('no stream');
    const onError = vi.fn();
    s.on('error', onError);
    const closed = new Promise((resolve) => s.once('close', resolve));
    peer.send({ kind: 'rst_stream', streamId: 1, status: RstStatus.cancel });
    await closed;
    expect({ by: s.resetBy, status: s.resetStatus, errors: onError.mock.calls.length }).toEqual({ by: 'peer', status: RstStatus.cancel, errors: 0 });
    s.write('ignored');
    await settle();
    expect(peer.received.filter((f) => f.kind !== 'syn_reply')).toEqual([]);
  });

  it('sends RST_STREAM CANCEL for reset(), and for destroy() before both sides closed', async () => {
    const { peer, streams } = await setup();
    await peer.syn(1, { streamtype: 'a' });
    await peer.syn(3, { streamtype: 'b' });
    await peer.next('syn_reply', (f) => f.streamId === 3);
    streams[0]?.reset(RstStatus.refusedStream);
    streams[1]?.destroy();
    expect(await peer.next('rst_stream', (f) => f.streamId === 1)).toMatchObject({ status: RstStatus.refusedStream });
    expect(await peer.next('rst_stream', (f) => f.streamId === 3)).toMatchObject({ status: RstStatus.cancel });
    expect(streams[1]?.resetBy).toBe('local');
  });

  it('answers DATA for a stream never opened with INVALID_STREAM and DATA after FIN with STREAM_ALREADY_CLOSED; drops late DATA', async () => {
    const { peer, streams } = await setup();
    await peer.syn(1, { streamtype: 'a' }, Flag.fin);
    await peer.syn(3, { streamtype: 'b' });
    await peer.next('syn_reply', (f) => f.streamId === 3);
    streams[1]?.reset();
    peer.send({ kind: 'data', streamId: 9, flags: 0, data: Buffer.from('?') });
    peer.send({ kind: 'data', streamId: 1, flags: 0, data: Buffer.from('after fin') });
    peer.send({ kind: 'data', streamId: 3, flags: 0, data: Buffer.from('late') });
    expect(await peer.next('rst_stream', (f) => f.streamId === 9)).toMatchObject({ status: RstStatus.invalidStream });
    expect(await peer.next('rst_stream', (f) => f.streamId === 1)).toMatchObject({ status: RstStatus.streamAlreadyClosed });
    await settle();
    expect(peer.received.filter((f) => f.kind === 'rst_stream').map((f) => f.streamId)).toEqual([3, 9, 1]);
  });

  it('refuses new streams after the peer\'s GOAWAY with REFUSED_STREAM', async () => {
    const { peer, streams } = await setup();
    peer.send({ kind: 'goaway', lastGoodStreamId: 0, status: GoAwayStatus.ok });
    await peer.syn(1, { streamtype: 'a' });
    expect(await peer.next('rst_stream')).toMatchObject({ streamId: 1, status: RstStatus.refusedStream });
    expect(streams).toEqual([]);
  });
});

describe('SpdySession: connection frames', () => {
  it('echoes client PINGs unchanged and ignores even ids, SETTINGS, WINDOW_UPDATE and unknown types', async () => {
    const { peer } = await setup();
    peer.send({ kind: 'ping', id: 2 });
    peer.send({ kind: 'settings', flags: 0, entries: [{ flags: 0, id: 7, value: 1 }] });
    peer.send({ kind: 'window_update', streamId: 0, delta: 1000 });
    peer.send({ kind: 'unknown', type: 5, flags: 0, payload: Buffer.from('x') });
    peer.send({ kind: 'ping', id: 0xffff_ffff });
    await peer.next('ping');
    await settle();
    expect(peer.received).toEqual([{ kind: 'ping', id: 0xffff_ffff }]);
  });

  it('reads bytes that came with the upgrade request before the socket\'s', async () => {
    const { peer } = await setup({ initialBytes: encodeFrame({ kind: 'ping', id: 41 }) });
    peer.send({ kind: 'ping', id: 43 });
    await peer.next('ping', (f) => f.id === 43);
    expect(peer.received).toEqual([{ kind: 'ping', id: 41 }, { kind: 'ping', id: 43 }]);
  });

  it.each([
    ['garbage', Buffer.from('GET / HTTP/1.1\r\n\r\n')],
    ['a SPDY/2 frame', Buffer.from('80020006000000040000000f', 'hex')],
    ['a corrupt header block', encodeFrame({ kind: 'syn_stream', streamId: 3, associatedId: 0, priority: 0, slot: 0, flags: 0, headerBlock: Buffer.from('not zlib') })],
    ['an oversize frame', Buffer.from('0000000100ffffff', 'hex')],
  ])('ends the connection on %s: GOAWAY PROTOCOL_ERROR, streams lose the connection', async (_name, bytes) => {
    const { peer, session, streams } = await setup({ limits: { maxDataLength: 1 << 20 } });
    await peer.syn(1, { streamtype: 'a' });
    await peer.next('syn_reply');
    peer.raw(bytes);
    expect(await peer.next('goaway')).toMatchObject({ lastGoodStreamId: 1, status: GoAwayStatus.protocolError });
    await peer.closed;
    const end = await session.ended;
    expect(end.reason).toBe('protocol-error');
    expect(end.error?.name).toBe('SpdyProtocolError');
    expect(streams[0]?.resetBy).toBe('connection');
    expect(session.openStreams).toBe(0);
  });

  it('ends the streams when the peer disconnects', async () => {
    const { peer, session, streams } = await setup();
    await peer.syn(1, { streamtype: 'a' });
    await peer.next('syn_reply');
    peer.socket.destroy();
    expect(await session.ended).toEqual({ reason: 'peer-closed' });
    expect(streams[0]?.destroyed).toBe(true);
    expect(streams[0]?.resetBy).toBe('connection');
  });
});

describe('SpdySession: flow', () => {
  it('sends 4 MiB without any WINDOW_UPDATE from the peer', async () => {
    const big = Buffer.alloc(4 << 20, 7);
    const { peer } = await setup({ onStream: (s) => { s.end(big); } });
    await peer.syn(1, { streamtype: 'stdout' });
    await peer.next('data', (f) => (f.flags & Flag.fin) !== 0, 10_000);
    expect(peer.data(1).bytes.equals(big)).toBe(true);
    expect(peer.received.filter((f) => f.kind === 'data').every((f) => f.data.length <= 64 * 1024)).toBe(true);
  });

  it('waits for drain when the socket is full, and goes on when the peer reads', async () => {
    const { peer, streams } = await setup();
    await peer.syn(1, { streamtype: 'stdout' });
    await peer.next('syn_reply');
    peer.socket.pause();
    const s = streams[0];
    if (s === undefined) throw new Error('no stream');
    const written = vi.fn();
    s.write(Buffer.alloc(32 << 20, 1), written);
    await settle(200);
    expect(written).not.toHaveBeenCalled();
    peer.socket.resume();
    await vi.waitFor(() => { expect(written).toHaveBeenCalledWith(null); }, { timeout: 10_000 });
    await vi.waitFor(() => { expect(peer.data(1).bytes.length).toBe(32 << 20); }, { timeout: 10_000 });
  });

  it('stops reading the socket while a stream\'s reader is full, and resumes when it reads', async () => {
    const { peer, streams, socket } = await setup();
    await peer.syn(1, { streamtype: 'stdin' });
    await peer.next('syn_reply');
    const chunk = Buffer.alloc(64 * 1024, 3);
    for (let i = 0; i < 64; i++) peer.send({ kind: 'data', streamId: 1, flags: i === 63 ? Flag.fin : 0, data: chunk });
    await vi.waitFor(() => { expect(socket.isPaused()).toBe(true); });
    let n = 0;
    for await (const c of streams[0] ?? []) n += (c as Buffer).length;
    expect(n).toBe(64 * chunk.length);
    expect(socket.isPaused()).toBe(false);
  });
});

describe('SpdySession: ending', () => {
  it('close(): finishes pending writes, FINs every stream, sends GOAWAY with the last id, ends the socket', async () => {
    const { peer, session, streams } = await setup();
    await peer.syn(1, { streamtype: 'a' });
    await peer.syn(3, { streamtype: 'b' });
    await peer.next('syn_reply', (f) => f.streamId === 3);
    streams[0]?.write('tail');
    const end = await session.close();
    await peer.closed;
    expect(end).toEqual({ reason: 'closed' });
    expect(peer.data(1)).toEqual({ bytes: Buffer.from('tail'), fin: true });
    expect(peer.data(3)).toEqual({ bytes: Buffer.alloc(0), fin: true });
    expect(peer.received.at(-1)).toEqual({ kind: 'goaway', lastGoodStreamId: 3, status: GoAwayStatus.ok });
    expect(session.close()).toBe(session.close());
  });

  it('cuts a connection whose peer never closes after closeTimeoutMs', async () => {
    const { peer, session } = await setup({ closeTimeoutMs: 100 });
    peer.socket.on('end', () => undefined); // the peer keeps its side open
    peer.socket.allowHalfOpen = true;
    const started = Date.now();
    await session.close();
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(90);
    expect(elapsed).toBeLessThan(2000);
  });

  it('ends an idle session: RST CANCEL for its streams, GOAWAY, socket closed', async () => {
    const { peer, session } = await setup({ idleTimeoutMs: 150 });
    await peer.syn(1, { streamtype: 'a' });
    await peer.next('syn_reply');
    expect(await session.ended).toEqual({ reason: 'idle-timeout' });
    expect(peer.received.slice(1)).toEqual([
      { kind: 'rst_stream', streamId: 1, status: RstStatus.cancel },
      { kind: 'goaway', lastGoodStreamId: 1, status: GoAwayStatus.ok },
    ]);
  });

  it('counts every frame as activity', async () => {
    const { peer, session } = await setup({ idleTimeoutMs: 200 });
    let ended = false;
    void session.ended.then(() => { ended = true; });
    for (let i = 0; i < 8; i++) {
      peer.send({ kind: 'ping', id: 2 * i + 1 });
      await settle(60);
    }
    expect(ended).toBe(false);
    await session.ended;
  });
});
