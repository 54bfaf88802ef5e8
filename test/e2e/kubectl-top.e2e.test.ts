// `kubectl top` end to end: the bed's kubectl asks the apiserver, which relays metrics.k8s.io to a
// real metrics-server (built from the Go module proxy); metrics-server scrapes ORCA's
// /metrics/resource with a client certificate, verifying ORCA's serving certificate against the
// bed's CA, for a burst pod burning CPU in the instance emulator. An APIService names a Service
// whose endpoints may not be loopback addresses, so metrics-server runs in a network namespace the
// test makes (netns.ts), with the apiserver and ORCA's port relayed into it (docs/testbed.md).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulatedNode, type EmulatedNode } from './ec2-node.js';
import { createNamespace, kubectl, testbed, waitFor } from './fixture.js';
import { NetworkNamespace } from './netns.js';
import { core, podNow, shPod } from './pods.js';

const ns = 'kubectl-top';
const node = 'orca-top-node';
const msPort = 4443;
let bed: EmulatedNode;
let netns: NetworkNamespace;
let metricsServer: ChildProcess;
let kubeletPort = 0;

/** The Service, its endpoint in the namespace, and the APIService that makes metrics.k8s.io reach it. */
function aggregation(address: string): string {
  return [
    'apiVersion: v1', 'kind: Service', 'metadata: {name: orca-e2e-metrics-server, namespace: kube-system}',
    'spec: {ports: [{name: https, port: 443, targetPort: 4443}]}', '---',
    'apiVersion: v1', 'kind: Endpoints', 'metadata: {name: orca-e2e-metrics-server, namespace: kube-system}',
    `subsets: [{addresses: [{ip: "${address}"}], ports: [{name: https, port: ${String(msPort)}}]}]`, '---',
    'apiVersion: apiregistration.k8s.io/v1', 'kind: APIService', 'metadata: {name: v1beta1.metrics.k8s.io}',
    'spec: {group: metrics.k8s.io, version: v1beta1, insecureSkipTLSVerify: true, groupPriorityMinimum: 100, versionPriority: 100,',
    '  service: {name: orca-e2e-metrics-server, namespace: kube-system, port: 443}}',
  ].join('\n');
}

beforeAll(async () => {
  await createNamespace(ns);
  bed = await startEmulatedNode({ node, clusterId: 'e2e-top' });
  const { binaries, kubeconfig, pki, apiserverUrl } = testbed();
  kubeletPort = (await core().readNode({ name: node })).status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 0;
  netns = await NetworkNamespace.create(`orcatop${String(process.pid % 1000)}`, 1 + (process.pid % 250));
  await netns.relayLoopback([Number(new URL(apiserverUrl).port), kubeletPort]);
  metricsServer = netns.spawn(binaries.metricsServer, [
    `--secure-port=${String(msPort)}`, `--bind-address=${netns.address}`, `--cert-dir=${mkdtempSync(join(tmpdir(), 'orca-metrics-server-'))}`,
    `--kubeconfig=${kubeconfig}`, `--authentication-kubeconfig=${kubeconfig}`, `--authorization-kubeconfig=${kubeconfig}`,
    '--kubelet-preferred-address-types=InternalIP', '--kubelet-use-node-status-port',
    `--kubelet-certificate-authority=${pki.caCert}`, `--kubelet-client-certificate=${pki.adminCert}`, `--kubelet-client-key=${pki.adminKey}`,
    '--metric-resolution=10s', '--kubelet-request-timeout=5s',
  ]);
  const errors: string[] = [];
  metricsServer.stderr?.on('data', (b: Buffer) => { errors.push(b.toString()); if (errors.length > 200) errors.shift(); });
  metricsServer.once('exit', (code) => { if (code !== null && code !== 0) process.stderr.write(`metrics-server exited ${String(code)}:\n${errors.join('')}\n`); });
  const file = join(mkdtempSync(join(tmpdir(), 'orca-top-')), 'aggregation.yaml');
  writeFileSync(file, aggregation(netns.address));
  const applied = await kubectl(['apply', '-f', file]);
  if (applied.code !== 0) throw new Error(applied.stderr);
});
afterAll(async () => {
  // A broken APIService would make every later kubectl warn about discovery: it goes first.
  await kubectl(['delete', 'apiservice', 'v1beta1.metrics.k8s.io', '--ignore-not-found']);
  await kubectl(['delete', 'service,endpoints', 'orca-e2e-metrics-server', '-n', 'kube-system', '--ignore-not-found']);
  await kubectl(['delete', 'clusterrolebinding,clusterrole', 'orca-e2e-node-metrics', '--ignore-not-found']);
  metricsServer.kill('SIGTERM');
  await netns.destroy();
  await bed.stop();
});

/** A Kubernetes quantity of CPU in cores, of memory in bytes (the forms metrics-server writes). */
function quantity(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(n|u|m|Ki|Mi|Gi)?$/.exec(q);
  const scale: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };
  return m === null ? Number.NaN : Number(m[1]) * (m[2] === undefined ? 1 : scale[m[2]] ?? Number.NaN);
}

describe('kubectl top on a burst pod', () => {
  it('shows non-zero CPU and memory for a busy pod and for its node, through the apiserver and a real metrics-server', async () => {
    await core().createNamespacedPod({ namespace: ns, body: shPod('busy', node, 'end=$(($(date +%s) + 150)); while [ $(date +%s) -lt $end ]; do :; done') });
    await waitFor('the busy pod running', async () => ((await podNow(ns, 'busy'))?.status?.phase === 'Running' ? true : undefined), 90_000, 500);
    // `kubectl top pod` prints NAME CPU(cores) MEMORY(bytes), e.g. "busy   930m   2Mi".
    const pod = await waitFor('kubectl top pod', async () => {
      const out = await kubectl(['top', 'pod', 'busy', '-n', ns, '--no-headers']);
      const [, cpu = '', memory = ''] = out.stdout.trim().split(/\s+/);
      return out.code === 0 && quantity(cpu) > 0 ? { cpu, memory } : undefined;
    }, 120_000, 2000);
    const nodeTop = await waitFor('kubectl top node', async () => {
      const out = await kubectl(['top', 'node', node, '--no-headers']);
      const [, cpu = '', , memory = ''] = out.stdout.trim().split(/\s+/);
      return out.code === 0 && quantity(cpu) > 0 ? { cpu, memory } : undefined;
    }, 60_000, 2000);
    console.log(`top figures: ${JSON.stringify({ pod, node: nodeTop })}`);
    // A busy loop uses about a core (930m measured here); a loaded 2-core machine still gives it more than 100m.
    expect(quantity(pod.cpu)).toBeGreaterThan(0.1);
    expect(quantity(pod.memory)).toBeGreaterThan(0);
    expect(quantity(nodeTop.cpu)).toBeGreaterThan(0.1);
    expect(quantity(nodeTop.memory)).toBeGreaterThan(0);
    await core().deleteNamespacedPod({ name: 'busy', namespace: ns, gracePeriodSeconds: 0 });
  });

  it('lets a ServiceAccount with nodes/metrics read /metrics/resource, and refuses one without', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'orca-top-')), 'scraper.yaml');
    writeFileSync(file, [
      'apiVersion: v1', 'kind: ServiceAccount', `metadata: {name: scraper, namespace: ${ns}}`, '---',
      'apiVersion: v1', 'kind: ServiceAccount', `metadata: {name: nobody, namespace: ${ns}}`, '---',
      'apiVersion: rbac.authorization.k8s.io/v1', 'kind: ClusterRole', 'metadata: {name: orca-e2e-node-metrics}',
      'rules: [{apiGroups: [""], resources: [nodes/metrics], verbs: [get]}]', '---',
      'apiVersion: rbac.authorization.k8s.io/v1', 'kind: ClusterRoleBinding', 'metadata: {name: orca-e2e-node-metrics}',
      'roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: orca-e2e-node-metrics}',
      `subjects: [{kind: ServiceAccount, name: scraper, namespace: ${ns}}]`,
    ].join('\n'));
    expect((await kubectl(['apply', '-f', file])).code).toBe(0);
    const token = async (sa: string): Promise<string> => (await kubectl(['create', 'token', sa, '-n', ns, '--duration=10m'])).stdout.trim();
    const scraped = await scrape(await token('scraper'));
    expect(scraped.status).toBe(200);
    expect(scraped.body).toMatch(/^node_cpu_usage_seconds_total \S+ \d+$/m);
    expect(scraped.body).toMatch(/^resource_scrape_error 0$/m);
    expect(await scrape(await token('nobody'))).toEqual({
      status: 403, body: `Forbidden (user=system:serviceaccount:${ns}:nobody, verb=get, resource=nodes, subresource(s)=[metrics])\n`,
    });
  });
});

/** GET /metrics/resource on ORCA's kubelet port with a bearer token, verifying ORCA's certificate. */
function scrape(token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: kubeletPort, path: '/metrics/resource', ca: readFileSync(testbed().pki.caCert), headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }); });
    });
    req.on('error', reject);
    req.end();
  });
}
