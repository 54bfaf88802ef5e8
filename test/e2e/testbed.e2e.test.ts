// Proves the test bed is real: the built control plane answers kubectl, its scheduler binds pods,
// its node-lifecycle controller watches Leases, and moto speaks the AWS wire protocols.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoordinationV1Api, CoreV1Api, V1MicroTime, type V1Node, type V1NodeCondition } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { createNamespace, kubeConfig, kubectl, testbed, waitFor } from './fixture.js';
import { runCommand } from './testbed/testbed.js';

function testNode(name: string): V1Node {
  const now = new Date();
  const cond = (type: string, status: string, reason: string): V1NodeCondition => ({
    type, status, reason, message: reason, lastHeartbeatTime: now, lastTransitionTime: now,
  });
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', type: 'smoke' } },
    status: {
      capacity: { cpu: '8', memory: '32Gi', pods: '10', 'nvidia.com/gpu': '1' },
      allocatable: { cpu: '8', memory: '32Gi', pods: '10', 'nvidia.com/gpu': '1' },
      conditions: [
        cond('Ready', 'True', 'KubeletReady'),
        cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory'),
        cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure'),
        cond('PIDPressure', 'False', 'KubeletHasSufficientPID'),
      ],
    },
  };
}

describe('the control plane', () => {
  it('reports the Kubernetes version it was built as, to the kubectl built beside it', async () => {
    const r = await kubectl(['version', '-o', 'json']);
    expect(r.stderr).toBe('');
    const v = JSON.parse(r.stdout) as { serverVersion: { gitVersion: string }; clientVersion: { gitVersion: string } };
    expect(v.serverVersion.gitVersion).toBe(`v${testbed().versions.kubernetes}`);
    expect(v.clientVersion.gitVersion).toBe(`v${testbed().versions.kubernetes}`);
  });

  it('has helm of the pinned version, able to render a chart for the bed\'s Kubernetes version', async () => {
    const bed = testbed();
    const version = await runCommand(bed.binaries.helm, ['version', '--template', '{{.Version}}']);
    expect(version.stdout).toBe(`v${bed.versions.helm}`);
    const chart = join(mkdtempSync(join(tmpdir(), 'orca-chart-')), 'smoke');
    mkdirSync(join(chart, 'templates'), { recursive: true });
    writeFileSync(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: smoke\nversion: 0.1.0\n');
    writeFileSync(join(chart, 'templates', 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: smoke\ndata:\n  kube: "{{ .Capabilities.KubeVersion.Version }}"\n');
    const out = await runCommand(bed.binaries.helm, ['template', chart, '--kube-version', bed.versions.kubernetes]);
    expect(out.stderr).toBe('');
    expect(out.stdout).toContain(`kube: "v${bed.versions.kubernetes}"`);
  });

  it('schedules a pod onto a node the test registered, and marks the node NotReady once its Lease stops', async () => {
    const kc = kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const coord = kc.makeApiClient(CoordinationV1Api);
    const name = 'smoke-node';
    const created = await core.createNode({ body: testNode(name) });
    await coord.createNamespacedLease({
      namespace: 'kube-node-lease',
      body: {
        metadata: { name, ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: created.metadata?.uid ?? '' }] },
        spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: new V1MicroTime() },
      },
    });
    const renewing = new AbortController();
    const renewLoop = (async () => {
      while (!renewing.signal.aborted) {
        const lease = await coord.readNamespacedLease({ name, namespace: 'kube-node-lease' });
        if (lease.spec !== undefined) lease.spec.renewTime = new V1MicroTime();
        await coord.replaceNamespacedLease({ name, namespace: 'kube-node-lease', body: lease });
        await sleep(2000);
      }
    })();

    await createNamespace('smoke');
    await core.createNamespacedPod({
      namespace: 'smoke',
      body: {
        metadata: { name: 'gpu-job' },
        spec: {
          nodeSelector: { type: 'smoke' },
          containers: [{ name: 'main', image: 'busybox', resources: { limits: { 'nvidia.com/gpu': '1' } } }],
        },
      },
    });
    const boundTo = await waitFor('the scheduler to bind smoke/gpu-job', async () =>
      (await core.readNamespacedPod({ name: 'gpu-job', namespace: 'smoke' })).spec?.nodeName);
    expect(boundTo).toBe(name);

    // While the Lease is renewed for longer than the grace period, the node stays Ready ...
    const grace = testbed().nodeMonitorGracePeriodSeconds;
    await sleep((grace + 4) * 1000);
    const readyOf = async (): Promise<string | undefined> =>
      (await core.readNode({ name })).status?.conditions?.find((c) => c.type === 'Ready')?.status;
    expect(await readyOf()).toBe('True');

    // ... and once it stops, the node-lifecycle controller marks it not ready and taints it.
    renewing.abort();
    await renewLoop;
    const stoppedAt = Date.now();
    await waitFor('node-lifecycle to mark the node Ready=Unknown', async () =>
      (await readyOf()) === 'Unknown' ? true : undefined, (grace + 30) * 1000, 1000);
    const waited = (Date.now() - stoppedAt) / 1000;
    process.stdout.write(`node marked NotReady ${waited.toFixed(1)}s after its Lease stopped (grace ${grace}s)\n`);
    expect(waited).toBeGreaterThan(grace - 5);
    const node = await core.readNode({ name });
    expect(node.spec?.taints?.map((t) => t.key)).toContain('node.kubernetes.io/unreachable');
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('NodeStatusUnknown');
  });
});
