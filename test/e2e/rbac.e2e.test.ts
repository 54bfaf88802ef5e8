// deploy/rbac/orca.yaml is enough: ORCA runs a pod's whole life with only a token of its ServiceAccount.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './testbed/paths.js';
import { freePort, freePorts } from './testbed/ports.js';
import { createNamespace, kubectl, testbed, waitFor } from './fixture.js';
import { burstPod, core, podNow, T, waitForPhase } from './pods.js';
import { startOrca } from './orca-process.js';

async function tokenKubeconfig(): Promise<string> {
  const applied = await kubectl(['apply', '-f', join(repoRoot, 'deploy', 'rbac', 'orca.yaml')]);
  expect(applied.code, applied.stderr).toBe(0);
  const token = await kubectl(['create', 'token', 'orca', '-n', 'orca-system', '--duration=1h']);
  expect(token.code, token.stderr).toBe(0);
  const bed = testbed();
  const file = join(bed.dir, 'orca-sa.kubeconfig');
  writeFileSync(file, [
    'apiVersion: v1', 'kind: Config', 'current-context: orca',
    `clusters: [{name: bed, cluster: {server: "${bed.apiserverUrl}", certificate-authority: "${bed.pki.caCert}"}}]`,
    `users: [{name: orca, user: {token: "${token.stdout.trim()}"}}]`,
    'contexts: [{name: orca, context: {cluster: bed, user: orca}}]',
  ].join('\n'), { mode: 0o600 });
  return file;
}

describe('deploy/rbac/orca.yaml', () => {
  it('lets ORCA register its node and run, report and delete pods, with no API call refused', async () => {
    const kubeconfig = await tokenKubeconfig();
    await createNamespace('rbac');
    const port = await freePort();
    const name = 'orca-rbac';
    const orca = startOrca({
      aws: { region: 'us-east-1' }, node: { name, internalIP: '127.0.0.1', kubeletPort: await freePort() }, ops: { port, host: '127.0.0.1' }, kubeletApi: { host: '127.0.0.1' },
    }, { args: ['--kubeconfig', kubeconfig], testProviderState: join(mkdtempSync(join(tmpdir(), 'orca-rbac-')), 'state.jsonl') });
    try {
      await waitFor('orca ready', () => Promise.resolve(orca.logLines().find((l) => l.msg === 'orca ready')), 60_000, 200);
      const sel = { 'kubernetes.io/hostname': name };
      await core().createNamespacedPod({ namespace: 'rbac', body: burstPod('done', { nodeSelector: sel, annotations: { [`${T}run-ms`]: '500' } }) });
      await core().createNamespacedPod({ namespace: 'rbac', body: burstPod('rejected', { nodeSelector: sel, annotations: { [`${T}reject`]: 'Nope: rejected on purpose' } }) });
      await core().createNamespacedPod({ namespace: 'rbac', body: burstPod('deleted', { nodeSelector: sel }) });
      await waitForPhase('rbac', 'done', 'Succeeded');
      await waitForPhase('rbac', 'rejected', 'Failed');
      await waitForPhase('rbac', 'deleted', 'Running');
      await core().deleteNamespacedPod({ name: 'deleted', namespace: 'rbac' });
      await waitFor('deleted to be gone', async () => ((await podNow('rbac', 'deleted')) === undefined ? true : undefined), 30_000, 250);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).not.toMatch(/^orca_kube_api_errors_total\{/m);
      expect(orca.logLines().filter((l) => l.msg === 'could not record event')).toEqual([]);
      expect(orca.stdout()).not.toContain('forbidden');
    } finally {
      expect(await orca.stop('SIGTERM')).toBe(0);
    }
  });

  it('serves the kubelet API with a kubelet\'s authentication and authorization, reviewing callers with only its own token', async () => {
    const kubeconfig = await tokenKubeconfig();
    await createNamespace('rbac-kubelet');
    const roles = join(testbed().dir, 'kubelet-api-callers.yaml');
    writeFileSync(roles, [
      'apiVersion: v1', 'kind: ServiceAccount', 'metadata: {name: nobody, namespace: rbac-kubelet}', '---',
      'apiVersion: v1', 'kind: ServiceAccount', 'metadata: {name: reader, namespace: rbac-kubelet}', '---',
      'apiVersion: rbac.authorization.k8s.io/v1', 'kind: ClusterRole', 'metadata: {name: orca-e2e-node-proxy}',
      'rules: [{apiGroups: [""], resources: [nodes/proxy], verbs: [get]}]', '---',
      'apiVersion: rbac.authorization.k8s.io/v1', 'kind: ClusterRoleBinding', 'metadata: {name: orca-e2e-node-proxy}',
      'roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: orca-e2e-node-proxy}',
      'subjects: [{kind: ServiceAccount, name: reader, namespace: rbac-kubelet}]',
    ].join('\n'));
    expect((await kubectl(['apply', '-f', roles])).code).toBe(0);
    const token = async (sa: string): Promise<string> => (await kubectl(['create', 'token', sa, '-n', 'rbac-kubelet', '--duration=10m'])).stdout.trim();
    const [nobody, reader] = [await token('nobody'), await token('reader')];
    const { pki } = testbed();
    const [port = 0, kubeletPort = 0] = await freePorts(2);
    const name = 'orca-rbac-kubelet';
    const orca = startOrca({
      aws: { region: 'us-east-1' }, node: { name, internalIP: '127.0.0.1', kubeletPort }, ops: { port, host: '127.0.0.1' },
      kubeletApi: { host: '127.0.0.1', tlsCertFile: pki.orcaServingCert, tlsKeyFile: pki.orcaServingKey, clientCAFile: pki.caCert },
    }, { args: ['--kubeconfig', kubeconfig], testProviderState: join(mkdtempSync(join(tmpdir(), 'orca-rbac-')), 'state.jsonl') });
    const ask = (path: string, o: { token?: string; cert?: boolean } = {}): Promise<{ status: number; body: string }> => new Promise((resolve, reject) => {
      const req = request({
        host: '127.0.0.1', port: kubeletPort, path, ca: readFileSync(pki.caCert),
        ...(o.token === undefined ? {} : { headers: { authorization: `Bearer ${o.token}` } }),
        ...(o.cert === true ? { cert: readFileSync(pki.kubeletClientCert), key: readFileSync(pki.kubeletClientKey) } : {}),
      }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }); });
      });
      req.on('error', reject);
      req.end();
    });
    try {
      await waitFor('orca ready', () => Promise.resolve(orca.logLines().find((l) => l.msg === 'orca ready')), 60_000, 200);
      expect(await ask('/pods')).toEqual({ status: 401, body: 'Unauthorized\n' });
      expect(await ask('/containerLogs/rbac-kubelet/done/main', { token: nobody })).toEqual({
        status: 403, body: 'Forbidden (user=system:serviceaccount:rbac-kubelet:nobody, verb=get, resource=nodes, subresource(s)=[proxy])\n',
      });
      const pods = await ask('/pods', { token: reader });
      expect(pods.status).toBe(200);
      expect(JSON.parse(pods.body)).toMatchObject({ kind: 'PodList', apiVersion: 'v1' });
      expect(await ask('/healthz', { cert: true })).toEqual({ status: 200, body: 'ok' });
      expect(orca.logLines().filter((l) => l.msg === 'could not review the kubelet API caller')).toEqual([]);
      expect(orca.logLines().find((l) => l.msg === 'kubelet API listening')).toMatchObject({ clientCertificates: true });
    } finally {
      expect(await orca.stop('SIGTERM')).toBe(0);
    }
  });
});
