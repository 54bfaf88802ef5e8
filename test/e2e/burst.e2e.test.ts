// A 500-pod Job on the EC2 provider: identical pods go out in batched RunInstances calls (MinCount
// 1, MaxCount N), every instance is then given exactly one pod by tags, and deleting the Job
// terminates every instance. Prints the call counts and timings.
import { BatchV1Api } from '@kubernetes/client-node';
import { EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEc2Launcher } from '../../src/aws/ec2-launcher.js';
import { FaultProxy } from '../fault-proxy/fault-proxy.js';
import { defaultSubnets, startEc2Node } from './ec2-node.js';
import { awsClientConfig, createNamespace, kubeConfig, waitFor } from './fixture.js';
import type { OrcaProcess } from './orca-process.js';
import { burstPod, core } from './pods.js';

const ns = 'burst-500';
const node = 'orca-burst';
const clusterId = 'e2e-burst';
const pods = 500;
let proxy: FaultProxy & { readonly url: string };
let orca: OrcaProcess;

const launcher = () => createEc2Launcher(new EC2Client(awsClientConfig()));

beforeAll(async () => {
  proxy = await FaultProxy.start(awsClientConfig().endpoint);
  const subnets = await defaultSubnets(new EC2Client(awsClientConfig()));
  await createNamespace(ns);
  orca = await startEc2Node({ endpoint: proxy.url, node, clusterId, subnets: subnets.slice(0, 2), capacity: { 'nvidia.com/gpu': 1000 } });
});
afterAll(async () => {
  await orca.stop('SIGTERM');
  await proxy.stop();
});

describe('a 500-pod Job burst on the EC2 provider', () => {
  it('launches 500 instances in at most 50 RunInstances calls and gives each pod its own instance', async () => {
    const template = burstPod('unused', { gpus: 1, annotations: { 'orca.research/instance-type': 'g6e.xlarge' }, nodeSelector: { 'kubernetes.io/hostname': node } });
    const started = Date.now();
    await kubeConfig().makeApiClient(BatchV1Api).createNamespacedJob({
      namespace: ns,
      body: { metadata: { name: 'sweep' }, spec: { parallelism: pods, completions: pods, backoffLimit: 0, template: { metadata: { annotations: template.metadata?.annotations ?? {} }, spec: template.spec ?? { containers: [] } } } },
    });
    const given = await waitFor('every pod to have its instance', async () => {
      const all = (await launcher().listTagged('orca.research/cluster', clusterId)).filter((i) => i.tags['orca.research/pod-uid'] !== undefined);
      return all.length >= pods ? all : undefined;
    }, 170_000, 1000);
    const seconds = (Date.now() - started) / 1000;
    const calls = proxy.runInstances.length;
    const asked = proxy.runInstances.map((r) => Number(r.MaxCount));
    process.stdout.write(`burst figures: ${JSON.stringify({ pods, runInstancesCalls: calls, maxCountPerCall: asked, createTagsCalls: proxy.count('CreateTags'), secondsToAllAssigned: seconds })}\n`);
    expect(calls).toBeLessThanOrEqual(50);
    expect(proxy.runInstances.every((r) => r.MinCount === '1')).toBe(true);
    expect(given).toHaveLength(pods);
    const list = await core().listNamespacedPod({ namespace: ns, labelSelector: 'job-name=sweep' });
    const uids = new Set(list.items.map((p) => p.metadata?.uid));
    expect(new Set(given.map((i) => i.tags['orca.research/pod-uid']))).toEqual(uids);
    for (const i of given) expect(i.tags['orca.research/pod-name']).toBe(list.items.find((p) => p.metadata?.uid === i.tags['orca.research/pod-uid'])?.metadata?.name);
  }, 180_000);

  it('terminates every instance when the Job is deleted, in batched TerminateInstances calls', async () => {
    const before = proxy.count('TerminateInstances');
    const started = Date.now();
    await kubeConfig().makeApiClient(BatchV1Api).deleteNamespacedJob({ name: 'sweep', namespace: ns, propagationPolicy: 'Background' });
    await waitFor('every instance to be terminated', async () => {
      const live = (await launcher().listTagged('orca.research/cluster', clusterId)).filter((i) => i.state !== 'terminated' && i.state !== 'shutting-down');
      return live.length === 0 ? true : undefined;
      // A wait, not a timing: alone this takes about 40 s (the figure is printed below); late in the
      // full suite the controller-manager's garbage collector deletes the 500 pods much more slowly.
    }, 300_000, 1000);
    const seconds = (Date.now() - started) / 1000;
    const calls = proxy.count('TerminateInstances') - before;
    await waitFor('every pod to be gone', async () => ((await core().listNamespacedPod({ namespace: ns })).items.length === 0 ? true : undefined), 120_000, 1000);
    process.stdout.write(`terminate figures: ${JSON.stringify({ instances: pods, terminateInstancesCalls: calls, secondsToAllTerminated: seconds, secondsToAllPodsGone: (Date.now() - started) / 1000 })}\n`);
    expect(calls).toBeLessThanOrEqual(50);
  }, 480_000);
});
