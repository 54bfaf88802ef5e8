// `npm run bench:exec`: what exec, cp and port-forward cost. Prints one JSON object:
// - spdy: exec stdout throughput on the SPDY path alone, loopback (target ≥ 100 MB/s);
// - setup: session set-up time through the Session Manager stand-in, from StartSession to the
//   command's first output (the stand-in's one-second terminal delay off: ORCA's own share);
// - stdout / stdin: exec throughput through the stand-in (a test double: its pty and Node relay,
//   not AWS, bound these figures);
// - portForward: HTTP requests a second through one port session, one new connection each;
// - memory: heap and buffer growth with 50 concurrent exec sessions open (the stand-in runs in the
//   same process, so this is an upper bound of ORCA's share), and the process's RSS then.
// BENCH_EXEC_MIB (SPDY payload, default 1024) and BENCH_SESSIONS (default 50) change the run.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { spdyThroughput } from './exec-spdy.js';
import { sink, startSessionBed, type SessionBed } from './exec-sessions.js';

const sessions = Number(process.env.BENCH_SESSIONS ?? 50);
const quantile = (xs: readonly number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? Number.NaN;
const mb = (bytes: number, ms: number): number => Number((bytes / 1e6 / (ms / 1000)).toFixed(2));

async function setupTimes(bed: SessionBed, n = 20): Promise<{ p50Ms: number; p99Ms: number }> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = Date.now();
    let first = 0;
    const stdout = new PassThrough();
    stdout.once('data', () => { first = Date.now() - started; });
    stdout.resume();
    await bed.exec(['echo', 'hi'], { stdout, stderr: sink() });
    times.push(first);
  }
  return { p50Ms: quantile(times, 0.5), p99Ms: quantile(times, 0.99) };
}

async function throughput(bed: SessionBed, mib = 32): Promise<{ stdoutMBps: number; stdinMBps: number }> {
  const out = sink();
  let t = Date.now();
  await bed.exec(['head', '-c', String(mib * 1024 * 1024), '/dev/zero'], { stdout: out, stderr: sink() });
  const stdoutMBps = mb(out.bytes, Date.now() - t);
  const stdin = new PassThrough();
  const input = randomBytes(mib * 1024 * 1024);
  t = Date.now();
  const run = bed.exec(['wc', '-c'], { stdin, stdout: sink(), stderr: sink() });
  for (let at = 0; at < input.length; at += 64 * 1024) {
    if (!stdin.write(input.subarray(at, at + 64 * 1024))) await once(stdin, 'drain');
  }
  stdin.end();
  await run;
  return { stdoutMBps, stdinMBps: mb(input.length, Date.now() - t) };
}

async function portForward(bed: SessionBed, seconds = 5): Promise<{ requestsPerSecond: number; failed: number }> {
  const server: Server = createServer((req, res) => { res.end(req.url); });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const session = await bed.manager.startPortForwarding('i-bench', port);
  const relay = createServer();
  relay.on('connection', (client) => {
    const remote = session.connect();
    remote.on('error', () => { client.destroy(); });
    client.on('error', () => { remote.destroy(); });
    client.pipe(remote).pipe(client);
  });
  relay.listen(0, '127.0.0.1');
  await once(relay, 'listening');
  const local = (relay.address() as AddressInfo).port;
  const one = (i: number): Promise<boolean> => new Promise((resolve) => {
    get({ host: '127.0.0.1', port: local, path: `/${String(i)}`, agent: false }, (res) => { res.resume(); res.on('end', () => { resolve(res.statusCode === 200); }); }).on('error', () => { resolve(false); });
  });
  const deadline = Date.now() + seconds * 1000;
  let done = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (Date.now() < deadline) {
      if (await one(done)) done++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  await session.terminate();
  relay.close();
  server.close();
  return { requestsPerSecond: Math.round(done / seconds), failed };
}

/** Heap and buffers in use (RSS moves with the allocator, not with what sessions hold). */
const inUse = (): number => {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};

/** The growth of the heap and buffers with `sessions` exec sessions open (the stand-in's share included: an upper bound). */
async function settled(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    global.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return inUse();
}

async function memory(bed: SessionBed): Promise<{ sessions: number; heapAndBuffersMiB: number; perSessionKiB: number; rssMiB: number }> {
  const before = await settled();
  const stops = Array.from({ length: sessions }, () => new PassThrough());
  const runs = stops.map((stdin) => bed.exec(['cat'], { stdin, stdout: sink(), stderr: sink() }));
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const grown = (await settled()) - before;
  const rss = process.memoryUsage().rss;
  for (const s of stops) s.end();
  await Promise.all(runs);
  return { sessions, heapAndBuffersMiB: Number((grown / 2 ** 20).toFixed(1)), perSessionKiB: Math.round(grown / 1024 / sessions), rssMiB: Math.round(rss / 2 ** 20) };
}

async function main(): Promise<void> {
  const bed = await startSessionBed();
  try {
    // A first round warms the code paths up; memory is measured before the throughput runs, whose
    // large buffers would still be in the heap.
    await setupTimes(bed, 5);
    const mem = await memory(bed);
    const setup = await setupTimes(bed);
    const rates = await throughput(bed);
    const pf = await portForward(bed);
    const spdy = await spdyThroughput();
    console.info(JSON.stringify({ spdy, setup, ...rates, portForward: pf, memory: mem }, null, 2));
  } finally {
    await bed.stop();
  }
}

await main();
