// `npm run bench:exec` part 1: exec stdout throughput on the SPDY path alone, on loopback (target
// ≥ 100 MB/s). ORCA's kubelet API (plain HTTP, so TLS is not measured) upgrades an exec request to
// SPDY/3.1; a provider stand-in writes BENCH_EXEC_MIB (default 1024) MiB to stdout as fast as the
// connection takes it; a lean client opens the error and stdout streams and counts what arrives.
import { connect, type AddressInfo } from 'node:net';
import { encodeFrame } from '../../src/kubelet-api/spdy/frames.js';
import { encodeHeaderBlock, HeaderCompressor } from '../../src/kubelet-api/spdy/headers.js';
import { buildKubeletServer } from '../../src/kubelet-api/server.js';
import { createLogger } from '../../src/observability/logger.js';
import type { ContainerIo, ExecCapable } from '../../src/provider/provider.js';
import { pod } from '../../test/fakes/builders.js';

const mib = Number(process.env.BENCH_EXEC_MIB ?? 1024);
const chunk = Buffer.alloc(256 * 1024, 0x61);

async function writeAll(io: ContainerIo): Promise<void> {
  const out = io.stdout;
  if (out === undefined) return;
  for (let sent = 0; sent < mib * 1024 * 1024; sent += chunk.length) {
    if (!out.write(chunk)) await new Promise((resolve) => out.once('drain', resolve));
  }
  out.end();
}

const streams: ExecCapable = {
  exec: async (_ref, _r, io) => { await writeAll(io); return { kind: 'exited', code: 0 }; },
  attach: () => Promise.reject(new Error('not used')),
  portForwarder: () => Promise.reject(new Error('not used')),
};

export async function spdyThroughput(): Promise<{ readonly mbPerSecond: number; readonly bytes: number; readonly seconds: number }> {
  const web = pod('web', { status: { phase: 'Running', containerStatuses: [{ name: 'main', image: 'img', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] } });
  const app = buildKubeletServer({
    nodeName: 'bench', pods: { list: () => [web], get: () => web }, provider: { listPods: () => Promise.resolve([]) }, now: () => new Date(),
    log: createLogger('silent'), streams,
    auth: { check: () => Promise.resolve({ kind: 'ok', identity: { user: 'bench', groups: [] } }) } as never,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const socket = connect((app.server.address() as AddressInfo).port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write('POST /exec/ns/web/main?command=cat&output=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n');
  const deflate = new HeaderCompressor();
  const syn = async (streamId: number, type: string): Promise<void> => {
    const headerBlock = await deflate.compress(encodeHeaderBlock({ streamtype: type }));
    socket.write(encodeFrame({ kind: 'syn_stream', streamId, associatedId: 0, priority: 0, slot: 0, flags: 0, headerBlock }));
  };
  const started = process.hrtime.bigint();
  let bytes = 0;
  socket.on('data', (c: Buffer) => { bytes += c.length; });
  await syn(1, 'error');
  await syn(3, 'stdout');
  await new Promise((resolve) => socket.once('close', resolve));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  deflate.close();
  await app.close();
  return { mbPerSecond: Math.round(bytes / 1e6 / seconds), bytes, seconds: Number(seconds.toFixed(2)) };
}
