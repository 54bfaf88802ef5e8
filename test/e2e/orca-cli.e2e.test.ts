// ORCA runs in e2e as a user runs it: the built CLI with a config file, in its own process.
import { writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { freePort, freePorts } from './testbed/ports.js';
import { startOrca } from './orca-process.js';
import { kubeConfig, testbed, waitFor } from './fixture.js';

/** A kubeconfig whose apiserver accepts connections and never answers (a refused one stops ORCA at start-up). */
function writeSilentKubeconfig(url: string): string {
  const file = join(testbed().dir, 'silent.kubeconfig');
  writeFileSync(file, [
    'apiVersion: v1', 'kind: Config', 'current-context: x',
    `clusters: [{name: x, cluster: {server: "${url.replace('http://', 'https://')}", insecure-skip-tls-verify: true}}]`,
    'users: [{name: x, user: {token: not-a-secret}}]', 'contexts: [{name: x, context: {cluster: x, user: x}}]',
  ].join('\n'));
  return file;
}

/** An AWS endpoint that accepts connections and never answers (an outage that hangs, not refuses). */
async function silentEndpoint(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => { r(); }); }),
  };
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

describe('the orca CLI', () => {
  it('registers its node with a Lease, reports ready, and marks the node NotReady when stopped', async () => {
    const [port = 0, kubeletPort = 0] = await freePorts(2);
    const name = 'orca-cli';
    const orca = startOrca({
      aws: { region: 'us-east-1' },
      node: { name, internalIP: '127.0.0.1', kubeletPort, capacity: { 'nvidia.com/gpu': 16, 'aws.amazon.com/neuron': 4 }, taints: [{ key: 'research.example/gpu', effect: 'NoSchedule' }] },
      ops: { port, host: '127.0.0.1' }, kubeletApi: { host: '127.0.0.1' },
    }, { args: ['--kubeconfig', testbed().kubeconfig] });
    const core = kubeConfig().makeApiClient(CoreV1Api);
    try {
      await waitFor('/readyz to answer 200', async () => ((await get(port, '/readyz')).status === 200 ? true : undefined), 30_000, 250);
      // The node-lifecycle controller lifts its not-ready taint once it has seen the node Ready.
      const node = await waitFor('the not-ready taint to be lifted', async () => {
        const n = await core.readNode({ name });
        return n.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/')) === true ? undefined : n;
      }, 30_000, 500);
      expect(node.metadata?.labels).toMatchObject({
        type: 'virtual-kubelet', 'kubernetes.io/role': 'agent', 'kubernetes.io/os': 'linux', 'orca.research/provider': 'aws',
      });
      expect(node.spec?.taints?.map((t) => `${t.key}=${t.value ?? ''}:${t.effect}`)).toEqual([
        'virtual-kubelet.io/provider=aws:NoSchedule', 'research.example/gpu=:NoSchedule',
      ]);
      expect(node.status?.capacity).toMatchObject({ 'nvidia.com/gpu': '16', 'aws.amazon.com/neuron': '4', pods: '1k' });
      expect(node.status?.addresses).toEqual([{ type: 'InternalIP', address: '127.0.0.1' }]);
      expect(node.status?.daemonEndpoints?.kubeletEndpoint?.Port).toBe(kubeletPort);
      expect(node.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'KubeletReady' });
      const lease = await kubeConfig().makeApiClient(CoordinationV1Api).readNamespacedLease({ name, namespace: 'kube-node-lease' });
      expect(lease.spec?.holderIdentity).toBe(name);
      expect(lease.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Node', name, uid: node.metadata?.uid });
      const metrics = await get(port, '/metrics');
      expect(metrics.body).toMatch(/^orca_build_info\{version="\d+\.\d+\.\d+",nodejs="v\d+/m);
      expect(metrics.body).toMatch(/^orca_ready 1$/m);
    } finally {
      expect(await orca.stop('SIGTERM')).toBe(0);
    }
    const ready = (await core.readNode({ name })).status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'KubeletNotReady', message: 'orca is shutting down' });
    expect(orca.logLines().map((l) => l.msg)).toEqual(expect.arrayContaining(['orca started', 'node registered', 'orca ready', 'orca stopped']));
    await core.deleteNode({ name });
  });

  it('starts when the apiserver does not answer its start-up checks in time, and reports why it is not ready', async () => {
    const port = await freePort();
    const silent = await silentEndpoint();
    const orca = startOrca({ aws: { region: 'us-east-1' }, node: { name: 'orca-unreachable', kubeletPort: await freePort() }, ops: { port, host: '127.0.0.1' }, kubeletApi: { host: '127.0.0.1' } },
      { args: ['--kubeconfig', writeSilentKubeconfig(silent.url)] });
    try {
      await waitFor('orca to start', () => Promise.resolve(orca.logLines().find((l) => l.msg === 'orca started')), 40_000, 100);
      expect(orca.stderr()).toContain('orca: warning: could not check the Kubernetes permissions (no answer within 10 s); starting anyway\n');
      expect((await get(port, '/healthz')).status).toBe(200);
      const ready = await get(port, '/readyz');
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.body)).toMatchObject({ status: 'not_ready', reasons: ['virtual node not registered', 'pod informer not synced', 'BurstBudgets not loaded (is deploy/crds/burstbudgets.orca.research.yaml applied?)'] });
    } finally {
      expect(await orca.stop('SIGTERM')).toBe(0);
      await silent.close();
    }
  });

  it('with an EC2 endpoint that never answers, is not ready saying why, and stops within seconds on SIGTERM', async () => {
    const aws = await silentEndpoint();
    const port = await freePort();
    const orca = startOrca({
      aws: { region: 'us-east-1', endpoint: aws.url, subnets: [{ zone: 'us-east-1a', subnetID: 'subnet-0123456789abcdef0' }] },
      node: { name: 'orca-aws-silent', internalIP: '127.0.0.1', kubeletPort: await freePort() }, ops: { port, host: '127.0.0.1' }, kubeletApi: { host: '127.0.0.1' },
    }, { args: ['--kubeconfig', testbed().kubeconfig], env: { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' } });
    try {
      const ready = await waitFor('/readyz to name the EC2 listing', async () => {
        const r = await get(port, '/readyz');
        return r.body.includes('EC2 instances not listed yet') ? r : undefined;
      }, 30_000, 250);
      expect(ready.status).toBe(503);
      const started = Date.now();
      expect(await orca.stop('SIGTERM')).toBe(0);
      const seconds = (Date.now() - started) / 1000;
      process.stdout.write(`shutdown figures: ${JSON.stringify({ secondsToExitWhileAwsHangs: seconds })}\n`);
      expect(seconds).toBeLessThan(15);
    } finally {
      await orca.stop('SIGKILL');
      await aws.close();
      await kubeConfig().makeApiClient(CoreV1Api).deleteNode({ name: 'orca-aws-silent' }).catch(() => undefined);
    }
  });

  it('refuses a bad config file with every problem listed and exit code 2, and starts nothing', async () => {
    const orca = startOrca({
      aws: { region: 'Virginia', vpcID: 'vpc-1' },
      node: { name: 'Bad_Name', capacity: { 'nvidia.com/gpu': -1 } },
    });
    expect(await orca.exited).toBe(2);
    const err = orca.stderr();
    expect(err).toContain('invalid configuration');
    expect(err).toContain('aws.region: an AWS region such as us-east-1');
    expect(err).toMatch(/aws: Unrecognized key: "vpcID"/);
    expect(err).toContain('node.name: a lowercase DNS name');
    expect(err).toContain('node.capacity.nvidia.com/gpu');
    expect(orca.stdout()).toBe('');
  });

  it('names a missing config file instead of starting with defaults', async () => {
    const orca = startOrca('unused', { args: ['--config', '/nonexistent/orca.yaml'] });
    expect(await orca.exited).toBe(2);
    expect(orca.stderr()).toContain('cannot read config file /nonexistent/orca.yaml: ENOENT');
  });
});
