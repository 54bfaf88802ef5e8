// deploy/rbac/orca.yaml is enough: ORCA runs a pod's whole life with only a token of its ServiceAccount.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './testbed/paths.js';
import { freePort } from './testbed/ports.js';
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
      aws: { region: 'us-east-1' }, node: { name, internalIP: '127.0.0.1' }, ops: { port, host: '127.0.0.1' },
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
});
