// 1000 pods bound at once reach Running through the real scheduler, ORCA and the test provider.
// Prints the bind→Running latency (p50/p99) and the apiserver writes per pod, and bounds the writes.
import { afterAll, describe, expect, it } from 'vitest';
import { createNamespace, kubectl, waitFor } from './fixture.js';
import { burstPod, core, virtualNode, watchPods } from './pods.js';

const ns = 'scale';
const PODS = 1000;
const node = virtualNode('orca-scale', 8);

/** Sum of apiserver_request_total samples whose labels include every `want` pair. */
async function apiserverRequests(want: Record<string, string>): Promise<number> {
  const r = await kubectl(['get', '--raw', '/metrics']);
  let total = 0;
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    if (Object.entries(want).every(([k, v]) => line.includes(`${k}="${v}"`))) total += Number(line.split(' ').at(-1));
  }
  return total;
}

async function orcaMetric(name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${node.opsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? NaN);
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function inBatches(n: number, size: number, make: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < n; i += size) await Promise.all(Array.from({ length: Math.min(size, n - i) }, (_, j) => make(i + j)));
}

afterAll(async () => {
  await kubectl(['delete', 'pods', '--all', '-n', ns, '--grace-period=0', '--force', '--wait=false']);
  expect(await node.orca.stop('SIGTERM')).toBe(0);
});

describe('scale', () => {
  it(`takes ${PODS} pods bound at once to Running, with few apiserver writes per pod`, async () => {
    await createNamespace(ns);
    await node.start();
    const bound = new Map<string, number>();
    const running = new Map<string, number>();
    const watch = watchPods(ns, (_type, p) => {
      const name = p.metadata?.name ?? '';
      const now = Date.now();
      if (p.spec?.nodeName !== undefined && !bound.has(name)) bound.set(name, now);
      if (p.status?.phase === 'Running' && !running.has(name)) running.set(name, now);
    });
    const patchesBefore = await apiserverRequests({ resource: 'pods', subresource: 'status', verb: 'PATCH' });
    const started = Date.now();
    await inBatches(PODS, 50, (i) => core().createNamespacedPod({
      namespace: ns, body: burstPod(`p-${String(i).padStart(4, '0')}`, { nodeSelector: { 'kubernetes.io/hostname': node.name } }),
    }));
    const created = Date.now();
    await waitFor(`${PODS} pods Running`, () => Promise.resolve(running.size >= PODS ? true : undefined), 600_000, 500);
    const allRunning = Date.now();
    watch.stop();
    const lastBound = Math.max(...bound.values());

    const latencies = [...running].map(([name, at]) => (at - (bound.get(name) ?? at)) / 1000).sort((a, b) => a - b);
    const patches = (await apiserverRequests({ resource: 'pods', subresource: 'status', verb: 'PATCH' })) - patchesBefore;
    const orcaWrites = await orcaMetric('orca_pod_status_writes_total');
    const figures = {
      pods: PODS,
      createSeconds: (created - started) / 1000,
      allBoundSeconds: (lastBound - started) / 1000,
      allRunningSeconds: (allRunning - started) / 1000,
      bindToRunningP50: percentile(latencies, 50),
      bindToRunningP99: percentile(latencies, 99),
      statusPatchesPerPod: patches / PODS,
      orcaStatusWritesPerPod: orcaWrites / PODS,
      testWatchReconnects: watch.reconnects(),
    };
    process.stdout.write(`scale figures: ${JSON.stringify(figures)}\n`);
    const createdAt = new Map(node.orca.logLines().filter((l) => l.msg === 'pod created in the provider').map((l) => [String(l.pod).split('/')[1] ?? '', Number(l.time)]));
    const slowest = [...running].sort((a, b) => (b[1] - (bound.get(b[0]) ?? 0)) - (a[1] - (bound.get(a[0]) ?? 0))).slice(0, 3)
      .map(([name, at]) => ({ name, bound: ((bound.get(name) ?? 0) - started) / 1000, created: ((createdAt.get(name) ?? 0) - started) / 1000, running: (at - started) / 1000 }));
    process.stdout.write(`slowest pods (seconds after the first create): ${JSON.stringify(slowest)}\n`);
    const warnings = node.orca.logLines().filter((l) => Number(l.level) >= 40);
    if (warnings.length > 0) process.stdout.write(`orca warnings (${warnings.length}), first: ${JSON.stringify(warnings[0])}\n`);
    expect(running.size).toBe(PODS);
    expect(orcaWrites).toBeLessThanOrEqual(PODS * 3);
    expect(patches).toBeLessThanOrEqual(PODS * 3);
  }, 600_000);
});
