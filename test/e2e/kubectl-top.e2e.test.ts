// `kubectl top` data end to end: a real metrics-server (built from the Go module proxy) scrapes
// ORCA's /metrics/resource with its client certificate, verifying ORCA's serving certificate
// against the bed's CA, for a burst pod burning CPU in the instance emulator. The bed's apiserver
// cannot route the aggregated metrics.k8s.io API to a process on loopback (an APIService needs a
// Service whose endpoints may not be loopback addresses), so the test asks metrics-server's own
// API, which is what the aggregator would relay to `kubectl top` (docs/testbed.md).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulatedNode, type EmulatedNode } from './ec2-node.js';
import { createNamespace, testbed, waitFor } from './fixture.js';
import { core, podNow, shPod } from './pods.js';
import { freePort } from './testbed/ports.js';

const ns = 'kubectl-top';
const node = 'orca-top-node';
let bed: EmulatedNode;
let metricsServer: ChildProcess;
let port: number;

beforeAll(async () => {
  await createNamespace(ns);
  bed = await startEmulatedNode({ node, clusterId: 'e2e-top' });
  const { binaries, kubeconfig, pki } = testbed();
  port = await freePort();
  metricsServer = spawn(binaries.metricsServer, [
    `--secure-port=${String(port)}`, '--bind-address=127.0.0.1', `--cert-dir=${mkdtempSync(join(tmpdir(), 'orca-metrics-server-'))}`,
    `--kubeconfig=${kubeconfig}`, `--authentication-kubeconfig=${kubeconfig}`, `--authorization-kubeconfig=${kubeconfig}`,
    '--kubelet-preferred-address-types=InternalIP', '--kubelet-use-node-status-port',
    `--kubelet-certificate-authority=${pki.caCert}`, `--kubelet-client-certificate=${pki.adminCert}`, `--kubelet-client-key=${pki.adminKey}`,
    '--metric-resolution=10s', '--kubelet-request-timeout=5s',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  const errors: string[] = [];
  metricsServer.stderr?.on('data', (b: Buffer) => { errors.push(b.toString()); if (errors.length > 200) errors.shift(); });
  metricsServer.once('exit', (code) => { if (code !== null && code !== 0) process.stderr.write(`metrics-server exited ${String(code)}:\n${errors.join('')}\n`); });
});
afterAll(async () => {
  metricsServer.kill('SIGTERM');
  await bed.stop();
});

interface Usage { readonly cpu: string; readonly memory: string }

/** GET on metrics-server's own API with the bed's admin certificate; undefined until it answers 200. */
function metricsApi(path: string): Promise<unknown> {
  const { pki } = testbed();
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, ca: readFileSync(pki.caCert), cert: readFileSync(pki.adminCert), key: readFileSync(pki.adminKey), rejectUnauthorized: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => { resolve(res.statusCode === 200 ? JSON.parse(body) as unknown : undefined); });
    });
    req.on('error', () => { resolve(undefined); });
    req.end();
  });
}

/** A Kubernetes quantity of CPU in cores, of memory in bytes (the forms metrics-server writes). */
function quantity(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(n|u|m|Ki|Mi|Gi)?$/.exec(q);
  const scale: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };
  return m === null ? Number.NaN : Number(m[1]) * (m[2] === undefined ? 1 : scale[m[2]] ?? Number.NaN);
}

describe('kubectl top on a burst pod', () => {
  it('shows non-zero CPU and memory for a busy pod and for its node, through a real metrics-server', async () => {
    await core().createNamespacedPod({ namespace: ns, body: shPod('busy', node, 'end=$(($(date +%s) + 150)); while [ $(date +%s) -lt $end ]; do :; done') });
    await waitFor('the busy pod running', async () => ((await podNow(ns, 'busy'))?.status?.phase === 'Running' ? true : undefined), 90_000, 500);
    const pod = await waitFor('metrics for the busy pod', async () => {
      const m = await metricsApi(`/apis/metrics.k8s.io/v1beta1/namespaces/${ns}/pods/busy`) as { containers?: { name: string; usage: Usage }[] } | undefined;
      const c = m?.containers?.find((x) => x.name === 'main');
      return c !== undefined && quantity(c.usage.cpu) > 0 ? c : undefined;
    }, 120_000, 2000);
    const nodeMetrics = await waitFor('metrics for the node', async () => {
      const m = await metricsApi(`/apis/metrics.k8s.io/v1beta1/nodes/${node}`) as { usage?: Usage } | undefined;
      return m?.usage === undefined ? undefined : m.usage;
    }, 60_000, 2000);
    console.log(`top figures: ${JSON.stringify({ pod: pod.usage, node: nodeMetrics })}`);
    // The agent's first report comes as the container starts (CPU since then), the next a minute later.
    expect(quantity(pod.usage.cpu)).toBeGreaterThan(0);
    expect(quantity(pod.usage.memory)).toBeGreaterThan(0);
    expect(quantity(nodeMetrics.cpu)).toBeGreaterThan(0);
    expect(quantity(nodeMetrics.memory)).toBeGreaterThan(0);
    await core().deleteNamespacedPod({ name: 'busy', namespace: ns, gracePeriodSeconds: 0 });
  });
});
