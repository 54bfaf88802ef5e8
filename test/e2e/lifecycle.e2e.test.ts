// The pod lifecycle against the real scheduler and controller-manager, through ORCA's CLI with the
// test provider: Jobs to completion, scheduling limits, rejection and retries, graceful deletion.
import { BatchV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readProviderState } from '../provider/test-provider.js';
import { createNamespace, kubeConfig, kubectl, waitFor } from './fixture.js';
import { burstPod, core, eventsFor, podNow, recordPod, T, virtualNode, waitForPhase } from './pods.js';

const ns = 'lifecycle';
const node = virtualNode('orca-lifecycle', 8);

beforeAll(async () => {
  await createNamespace(ns);
  await node.start();
});

afterAll(async () => {
  expect(await node.orca.stop('SIGTERM')).toBe(0);
});

describe('scheduling and completion', () => {
  it('runs a GPU Job scheduled by the real scheduler to Succeeded', async () => {
    const template = burstPod('unused', { gpus: 1, annotations: { [`${T}run-ms`]: '1500' } });
    await kubeConfig().makeApiClient(BatchV1Api).createNamespacedJob({
      namespace: ns,
      body: { metadata: { name: 'train' }, spec: { backoffLimit: 0, template: { metadata: { annotations: template.metadata?.annotations ?? {} }, spec: template.spec ?? { containers: [] } } } },
    });
    const job = await waitFor('Job train to complete', async () => {
      const j = await kubeConfig().makeApiClient(BatchV1Api).readNamespacedJob({ name: 'train', namespace: ns });
      return (j.status?.succeeded ?? 0) === 1 ? j : undefined;
    }, 60_000, 500);
    expect(job.status?.conditions?.map((c) => c.type)).toContain('Complete');
    const pods = await core().listNamespacedPod({ namespace: ns, labelSelector: 'job-name=train' });
    const pod = pods.items[0];
    expect(pod?.spec?.nodeName).toBe(node.name);
    expect(pod?.status?.phase).toBe('Succeeded');
    expect(pod?.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(pod?.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
    expect(pod?.status?.hostIP).toBe('127.0.0.1');
  });

  it('leaves a pod that asks for more GPUs than the node has Pending, with the scheduler\'s reason', async () => {
    await core().createNamespacedPod({ namespace: ns, body: burstPod('too-big', { gpus: 9 }) });
    const event = await waitFor('a FailedScheduling event', async () =>
      (await eventsFor(ns, 'too-big')).find((e) => e.reason === 'FailedScheduling'), 30_000, 500);
    expect(event.message).toContain('Insufficient nvidia.com/gpu');
    const pod = await podNow(ns, 'too-big');
    expect(pod?.status?.phase).toBe('Pending');
    expect(pod?.spec?.nodeName).toBeUndefined();
    expect(readProviderState(node.stateFile).instances.map((i) => i.key)).not.toContain(`${ns}/too-big`);
  });
});

describe('bad input and provider failures', () => {
  it('fails a pod the provider rejects with its reason and an Event, and runs the pods beside it', async () => {
    await Promise.all([
      core().createNamespacedPod({ namespace: ns, body: burstPod('rejected', { annotations: { [`${T}reject`]: 'UnsupportedVolume: hostPath volumes cannot run on a burst instance' } }) }),
      core().createNamespacedPod({ namespace: ns, body: burstPod('neighbour') }),
    ]);
    const failed = await waitForPhase(ns, 'rejected', 'Failed');
    expect(failed.status).toMatchObject({ reason: 'UnsupportedVolume', message: 'hostPath volumes cannot run on a burst instance' });
    const events = await eventsFor(ns, 'rejected');
    expect(events.find((e) => e.reason === 'UnsupportedVolume')).toMatchObject({ type: 'Warning', source: { component: 'orca' } });
    await waitForPhase(ns, 'neighbour', 'Running');
    expect(readProviderState(node.stateFile).instances.map((i) => i.key)).not.toContain(`${ns}/rejected`);
  });

  it('retries transient provider failures with an Event each time, then runs the pod', async () => {
    await core().createNamespacedPod({ namespace: ns, body: burstPod('flaky', { annotations: { [`${T}fail-creates`]: '2' } }) });
    await waitForPhase(ns, 'flaky', 'Running', 30_000);
    const failures = (await eventsFor(ns, 'flaky')).filter((e) => e.reason === 'ProviderFailed');
    expect(failures.map((e) => e.message).sort()).toEqual(['attempt 1 of 5: simulated provider outage', 'attempt 2 of 5: simulated provider outage']);
  });

  it('fails the pod with ProviderFailed after the last attempt, instead of retrying forever', async () => {
    await core().createNamespacedPod({ namespace: ns, body: burstPod('broken', { annotations: { [`${T}fail-creates`]: '100' } }) });
    const pod = await waitForPhase(ns, 'broken', 'Failed', 60_000);
    expect(pod.status).toMatchObject({ reason: 'ProviderFailed', message: 'gave up after 5 attempts: simulated provider outage' });
    expect((await eventsFor(ns, 'broken')).filter((e) => e.reason === 'ProviderFailed')).toHaveLength(5);
  });
});

describe('updates', () => {
  it('passes a changed image of a running pod to the provider once', async () => {
    await core().createNamespacedPod({ namespace: ns, body: burstPod('upgraded') });
    await waitForPhase(ns, 'upgraded', 'Running');
    const set = await kubectl(['set', 'image', 'pod/upgraded', 'main=nvcr.io/nvidia/pytorch:25.02-py3', '-n', ns]);
    expect(set.code, set.stderr).toBe(0);
    await waitFor('the provider to see the new image', () => Promise.resolve(
      readProviderState(node.stateFile).updates.some((u) => u[0] === 'nvcr.io/nvidia/pytorch:25.02-py3') ? true : undefined), 15_000, 200);
    const updated = await waitFor('an Updated event', async () => (await eventsFor(ns, 'upgraded')).find((e) => e.reason === 'Updated'), 15_000, 250);
    expect(updated.type).toBe('Normal');
    expect(readProviderState(node.stateFile).updates).toEqual([['nvcr.io/nvidia/pytorch:25.02-py3']]);
  });
});

describe('deletion', () => {
  it('stops the pod in the provider and deletes it from the API only once it is terminal', async () => {
    await core().createNamespacedPod({ namespace: ns, body: burstPod('graceful', { grace: 30 }) });
    const running = await waitForPhase(ns, 'graceful', 'Running');
    const rec = await recordPod(ns, 'graceful');
    const del = await kubectl(['delete', 'pod', 'graceful', '-n', ns, '--grace-period=30', '--wait=false']);
    expect(del.stdout).toContain('pod "graceful" deleted');
    await waitFor('graceful to disappear', async () => ((await podNow(ns, 'graceful')) === undefined ? true : undefined), 30_000, 250);
    rec.stop();
    const modified = rec.seen.filter((e) => e.type === 'MODIFIED').map((e) => e.pod);
    const lastBeforeDelete = modified.at(-1);
    expect(lastBeforeDelete?.metadata?.deletionTimestamp).toBeDefined();
    expect(lastBeforeDelete?.status?.phase).toBe('Failed');
    expect(lastBeforeDelete?.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(143);
    expect(rec.seen.at(-1)?.type).toBe('DELETED');
    const state = readProviderState(node.stateFile);
    expect(state.instances.filter((i) => i.uid === running.metadata?.uid)).toHaveLength(1);
    expect(state.deletes).toBeGreaterThanOrEqual(1);
  });

  it('force-deletes a pod the provider cannot stop once its grace period has passed', async () => {
    await core().createNamespacedPod({ namespace: ns, body: burstPod('stuck', { grace: 3, annotations: { [`${T}stuck-on-delete`]: 'true' } }) });
    await waitForPhase(ns, 'stuck', 'Running');
    const rec = await recordPod(ns, 'stuck');
    await core().deleteNamespacedPod({ name: 'stuck', namespace: ns });
    // The watch's DELETED event, not a read: a read can see the pod gone before the event arrives.
    await waitFor('stuck to disappear', () => Promise.resolve(rec.seen.some((e) => e.type === 'DELETED') ? true : undefined), 30_000, 100);
    rec.stop();
    expect(await podNow(ns, 'stuck')).toBeUndefined();
    const last = rec.seen.filter((e) => e.type === 'MODIFIED').at(-1)?.pod;
    const gone = rec.seen.find((e) => e.type === 'DELETED');
    // Not before the grace period the apiserver set (deletionTimestamp), and not long after it.
    const deadline = Date.parse(String(last?.metadata?.deletionTimestamp));
    expect(gone?.at).toBeGreaterThanOrEqual(deadline);
    expect(gone?.at).toBeLessThan(deadline + 5000);
    expect(last?.status).toMatchObject({ phase: 'Failed', reason: 'DeletionGracePeriodExpired' });
    expect((await eventsFor(ns, 'stuck')).map((e) => e.reason)).toEqual(expect.arrayContaining(['Killing', 'DeletionGracePeriodExpired']));
  });

  it('lets go of a pod in the provider when it is force-deleted from the API', async () => {
    const created = await core().createNamespacedPod({ namespace: ns, body: burstPod('forced') });
    await waitForPhase(ns, 'forced', 'Running');
    await core().deleteNamespacedPod({ name: 'forced', namespace: ns, gracePeriodSeconds: 0 });
    await waitFor('the provider to stop forced', () => {
      const st = readProviderState(node.stateFile);
      return Promise.resolve(st.instances.find((i) => i.uid === created.metadata?.uid) !== undefined && st.deletes > 0 ? true : undefined);
    }, 10_000, 200);
  });
});

describe('environment', () => {
  it('resolves env from a Secret, a ConfigMap that appears later, and the downward API, keeping secret values out of logs', async () => {
    const secretValue = 'hf_e2e_do_not_log_7f3a';
    await core().createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'hf' }, stringData: { HF_TOKEN: secretValue } } });
    const body = burstPod('with-env');
    const container = body.spec?.containers[0];
    if (container === undefined) throw new Error('no container');
    container.env = [
      { name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'hf', key: 'HF_TOKEN' } } },
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    ];
    container.envFrom = [{ configMapRef: { name: 'hyperparams' } }];
    await core().createNamespacedPod({ namespace: ns, body });
    const waiting = await waitFor('a CreateContainerConfigError event', async () =>
      (await eventsFor(ns, 'with-env')).find((e) => e.reason === 'CreateContainerConfigError'), 30_000, 250);
    expect(waiting.message).toMatch(/^attempt [1-4] of 5: configmap "hyperparams" not found$/);
    expect((await podNow(ns, 'with-env'))?.status).toMatchObject({ phase: 'Pending', reason: 'CreateContainerConfigError' });
    await core().createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'hyperparams' }, data: { LR: '3e-4', EPOCHS: '10' } } });
    const running = await waitForPhase(ns, 'with-env', 'Running', 30_000);
    expect(running.status?.reason).toBeUndefined();
    const inst = readProviderState(node.stateFile).instances.find((i) => i.key === `${ns}/with-env`);
    expect(inst?.containers[0]?.env).toEqual(['EPOCHS', 'LR', 'HF_TOKEN', 'POD_NAME']);
    expect(node.orca.stdout() + node.orca.stderr()).not.toContain(secretValue);
    expect(JSON.stringify(await eventsFor(ns, 'with-env'))).not.toContain(secretValue);
  });
});
