// `npm run bench:logs`: the cost of `kubectl logs` on a busy node. On the test bed's moto, 100 pods
// each write a line a second to CloudWatch Logs while 100 clients follow them (one each) through
// ORCA's kubelet API (scripts/bench/logs-node.ts, its own process). Prints, after a warm-up:
// CloudWatch read calls a second in total (target ≤ 2), line delay p50/p99 from write to client
// (target p99 ≤ 3 s), ORCA's CPU and RSS; then the time `--tail=100` adds over the GetLogEvents
// call itself (target < 50 ms). BENCH_SECONDS (default 60) and BENCH_PODS (default 100) change the run.
import { spawn, type ChildProcess } from 'node:child_process';
import { get, type ClientRequest } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, GetLogEventsCommand, PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { repoRoot } from '../../test/e2e/testbed/paths.js';
import { startTestbed } from '../../test/e2e/testbed/testbed.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 60);
const pods = Number(process.env.BENCH_PODS ?? 100);
const warmupSeconds = 10;
const group = '/orca/bench';
const names = Array.from({ length: pods }, (_, i) => `p-${String(i).padStart(3, '0')}`);
const streamOf = (name: string): string => `bench/${name}/uid-${name}/main/0`;

interface Sample { readonly cpuMs: number; readonly rss: number; readonly reads: number; readonly followers: number }

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};
const round = (n: number, digits = 3): number => Number(n.toFixed(digits));

/** The ORCA side, with its samples as they come. */
async function startNode(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number; samples: Sample[] }> {
  const child = spawn(join(repoRoot, 'node_modules', '.bin', 'tsx'), [join(repoRoot, 'scripts', 'bench', 'logs-node.ts')], { env, stdio: ['ignore', 'pipe', 'inherit'] }) as ChildProcess & { stdout: NodeJS.ReadableStream };
  const samples: Sample[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => { reject(new Error(`the benchmark's ORCA side exited with ${String(code)}`)); });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const v = JSON.parse(line) as Partial<Sample> & { port?: number };
      if (v.port !== undefined) resolve(v.port);
      else samples.push(v as Sample);
    });
  });
  return { child, port, samples };
}

/** One `kubectl logs -f` stand-in: each line's delay from its write time (in the line) to now. */
function followOne(port: number, name: string, delays: number[], after: () => boolean): ClientRequest {
  return get({ host: '127.0.0.1', port, path: `/containerLogs/bench/${name}/main?follow=true&tailLines=0` }, (res) => {
    res.on('error', () => undefined);
    createInterface({ input: res }).on('error', () => undefined).on('line', (line) => {
      const written = Number(line.split(' ')[2]);
      if (after() && Number.isFinite(written)) delays.push((Date.now() - written) / 1000);
    });
  }).on('error', () => undefined);
}

async function tailOverhead(port: number, logs: CloudWatchLogsClient): Promise<{ tailMs: number; getLogEventsMs: number }> {
  const viaOrca: number[] = [];
  const direct: number[] = [];
  for (let i = 0; i < 20; i++) {
    let t = performance.now();
    await new Promise<void>((resolve, reject) => {
      get({ host: '127.0.0.1', port, path: `/containerLogs/bench/${names[0] ?? ''}/main?tailLines=100` }, (res) => { res.resume(); res.once('end', resolve); }).on('error', reject);
    });
    viaOrca.push(performance.now() - t);
    t = performance.now();
    await logs.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: streamOf(names[0] ?? ''), startFromHead: false, limit: 100 }));
    direct.push(performance.now() - t);
    // Stay within the read budget's rate, so no request waits for it.
    await sleep(600);
  }
  return { tailMs: quantile(viaOrca, 0.5), getLogEventsMs: quantile(direct, 0.5) };
}

/** The streams, and a writer putting one line a second in each (its write time in the line). */
async function startWriters(logs: CloudWatchLogsClient): Promise<() => void> {
  await logs.send(new CreateLogGroupCommand({ logGroupName: group }));
  for (const n of names) await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: streamOf(n) }));
  let seq = 0;
  const writer = setInterval(() => {
    seq += 1;
    for (const n of names) void logs.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: streamOf(n), logEvents: [{ timestamp: Date.now(), message: `line ${String(seq)} ${String(Date.now())}` }] })).catch(() => undefined);
  }, 1000);
  return () => { clearInterval(writer); };
}

/** Every pod followed once, for `seconds`; the figures after the warm-up. */
async function measureFollowers(node: { port: number; samples: Sample[] }): Promise<Record<string, number>> {
  const started = Date.now();
  const delays: number[] = [];
  const follows = names.map((n) => followOne(node.port, n, delays, () => Date.now() - started > warmupSeconds * 1000));
  await sleep(warmupSeconds * 1000);
  const from = node.samples.at(-1);
  await sleep((seconds - warmupSeconds) * 1000);
  const to = node.samples.at(-1);
  for (const f of follows) f.destroy();
  if (from === undefined || to === undefined) throw new Error('the ORCA side reported nothing');
  const measured = seconds - warmupSeconds;
  return {
    pods, followers: to.followers, measuredSeconds: measured, lines: delays.length,
    cloudWatchReadsPerSecond: round((to.reads - from.reads) / measured), delayP50: round(quantile(delays, 0.5)), delayP99: round(quantile(delays, 0.99)),
    orcaCpuPercent: round(((to.cpuMs - from.cpuMs) / (measured * 1000)) * 100, 1), orcaRssMiB: round(Math.max(...node.samples.map((s) => s.rss)) / 1048576, 1),
  };
}

async function main(): Promise<void> {
  const bed = await startTestbed({ controllers: false });
  const aws = bed.aws;
  if (aws === undefined) throw new Error('the test bed has no moto');
  const env = { ...process.env, AWS_ENDPOINT_URL: aws.endpoint, AWS_REGION: aws.region, AWS_ACCESS_KEY_ID: aws.accessKeyId, AWS_SECRET_ACCESS_KEY: aws.secretAccessKey, BENCH_PODS: String(pods), BENCH_GROUP: group };
  const logs = new CloudWatchLogsClient({ region: aws.region, endpoint: aws.endpoint, credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey } });
  const node = await startNode(env);
  try {
    const stopWriters = await startWriters(logs);
    const follow = await measureFollowers(node);
    stopWriters();
    console.log(`logs follow figures: ${JSON.stringify(follow)}`);
    const tail = await tailOverhead(node.port, logs);
    console.log(`logs tail figures: ${JSON.stringify({ tail100MsP50: round(tail.tailMs, 1), getLogEventsMsP50: round(tail.getLogEventsMs, 1), addedMs: round(tail.tailMs - tail.getLogEventsMs, 1) })}`);
  } finally {
    node.child.kill('SIGTERM');
    logs.destroy();
    await bed.stop();
  }
}

main().then(() => process.exit(0), (e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
