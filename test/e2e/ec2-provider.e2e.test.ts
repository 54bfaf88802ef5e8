// ORCA's CLI with the EC2 provider against moto behind the fault proxy: a p5 pod that prefers spot
// meets capacity errors and lands on-demand in the second AZ; the request EC2 sees is right and
// carries no pod data in user data; deleting the pod terminates its instance; an instance whose
// pod is gone is terminated when ORCA starts.
import { DescribeInstancesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { gunzipSync } from 'node:zlib';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultProxy } from '../fault-proxy/fault-proxy.js';
import { defaultSubnets, startEc2Node, type Subnet } from './ec2-node.js';
import { awsClientConfig, createNamespace, kubectl, waitFor } from './fixture.js';
import type { OrcaProcess } from './orca-process.js';
import { burstPod, core, eventsFor, podNow } from './pods.js';

const ns = 'burst-jobs';
const node = 'orca-ec2';
let proxy: FaultProxy & { readonly url: string };
let ec2: EC2Client;
let ssm: SSMClient;
let subnets: Subnet[] = [];
let orca: OrcaProcess;

const startNode = (): Promise<OrcaProcess> => startEc2Node({ endpoint: proxy.url, node, clusterId: 'e2e-ec2', subnets: subnets.slice(0, 2) });

async function instancesOf(podUid: string) {
  const out = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:orca.research/pod-uid', Values: [podUid] }] }));
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}

beforeAll(async () => {
  proxy = await FaultProxy.start(awsClientConfig().endpoint);
  ec2 = new EC2Client(awsClientConfig());
  ssm = new SSMClient(awsClientConfig());
  subnets = await defaultSubnets(ec2);
  await createNamespace(ns);
  orca = await startNode();
});
afterAll(async () => {
  await orca.stop('SIGTERM');
  await proxy.stop();
});

describe('the EC2 provider', () => {
  it('moves past spot capacity errors and lands a p5 pod on-demand in the second AZ, with the right request', async () => {
    const [a, b] = subnets;
    if (a === undefined || b === undefined) throw new Error('moto has no default subnets');
    proxy.rules.push(
      { action: 'RunInstances', match: { SubnetId: a.id, 'InstanceMarketOptions.MarketType': 'spot' }, error: 'InsufficientInstanceCapacity' },
      { action: 'RunInstances', match: { SubnetId: b.id, 'InstanceMarketOptions.MarketType': 'spot' }, error: 'InsufficientInstanceCapacity' },
      { action: 'RunInstances', match: { SubnetId: a.id, InstanceType: 'p5.48xlarge' }, error: 'InsufficientInstanceCapacity' },
    );
    const created = await core().createNamespacedPod({ namespace: ns, body: burstPod('train', {
      gpus: 8, nodeSelector: { 'kubernetes.io/hostname': node },
      annotations: { 'orca.research/instance-type': 'p5.48xlarge', 'orca.research/launch-type': 'spot,on-demand' },
    }) });
    const uid = created.metadata?.uid ?? '';
    const launched = await waitFor('an InstanceLaunched event', async () => (await eventsFor(ns, 'train')).find((e) => e.reason === 'InstanceLaunched'), 60_000, 500);
    expect(launched.message).toMatch(new RegExp(`^p5\\.48xlarge on-demand in ${b.zone}: launched i-`));
    const tries = (await eventsFor(ns, 'train')).filter((e) => e.reason === 'InstanceUnavailable').map((e) => e.message).sort();
    expect(tries).toEqual([
      `trying p5.48xlarge on-demand in ${a.zone}: InsufficientInstanceCapacity`,
      `trying p5.48xlarge spot in ${a.zone}: InsufficientInstanceCapacity`,
      `trying p5.48xlarge spot in ${b.zone}: InsufficientInstanceCapacity`,
    ]);
    // One call per offering: capacity errors are not retried by the SDK, ORCA moves on instead.
    expect(proxy.runInstances.map((r) => `${r.InstanceType ?? ''} ${r['InstanceMarketOptions.MarketType'] ?? 'on-demand'} ${r.SubnetId === a.id ? 'a' : 'b'}`))
      .toEqual(['p5.48xlarge spot a', 'p5.48xlarge spot b', 'p5.48xlarge on-demand a', 'p5.48xlarge on-demand b']);
    const sent = proxy.runInstances.at(-1) ?? {};
    expect(sent).toMatchObject({
      InstanceType: 'p5.48xlarge', SubnetId: b.id, 'MetadataOptions.HttpTokens': 'required', 'BlockDeviceMapping.1.Ebs.Encrypted': 'true',
      'CapacityReservationSpecification.CapacityReservationPreference': 'open', ClientToken: `orca-${uid}-3`,
    });
    expect(sent['InstanceMarketOptions.MarketType']).toBeUndefined();
    const spotTry = proxy.runInstances.find((r) => r['InstanceMarketOptions.MarketType'] === 'spot') ?? {};
    expect(spotTry).toMatchObject({ 'InstanceMarketOptions.SpotOptions.SpotInstanceType': 'one-time', 'InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior': 'terminate' });
    const userData = Buffer.from(sent.UserData ?? '', 'base64').toString();
    for (const podData of ['train', ns, uid, 'nvcr.io', 'python']) expect(userData).not.toContain(podData);
    const [inst] = await instancesOf(uid);
    const tags: Record<string, string | undefined> = Object.fromEntries((inst?.Tags ?? []).map((t) => [t.Key ?? '', t.Value]));
    expect(tags).toMatchObject({ 'orca.research/cluster': 'e2e-ec2', 'orca.research/node': node, 'orca.research/pod-namespace': ns, 'orca.research/pod-name': 'train', 'orca.research/pod-uid': uid });
    const pod = await waitFor('the pod to wait for the agent', async () => {
      const p = await podNow(ns, 'train');
      return p?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'WaitingForAgent' ? p : undefined;
    }, 30_000, 500);
    expect(pod.status?.phase).toBe('Pending');
    const assignment = await waitFor('the pod assignment in SSM', async () => {
      const parts = (await ssm.send(new GetParametersByPathCommand({ Path: `/orca/e2e-ec2/instances/${inst?.InstanceId ?? ''}/`, WithDecryption: true }))).Parameters ?? [];
      return parts.length > 0 ? parts : undefined;
    }, 30_000, 500);
    expect(assignment.every((p) => p.Type === 'SecureString')).toBe(true);
    const text = gunzipSync(Buffer.from(assignment.map((p) => p.Value).join(''), 'base64')).toString();
    expect(text).toContain(`ORCA_POD_UID='${uid}'`);
    expect(text).toContain("--entrypoint 'python' 'nvcr.io/nvidia/pytorch:25.01-py3' 'train.py'");
  });

  it('terminates the instance when the pod is deleted, and the pod goes away', async () => {
    const uid = (await podNow(ns, 'train'))?.metadata?.uid ?? '';
    const del = await kubectl(['delete', 'pod', 'train', '-n', ns, '--wait=false']);
    expect(del.code, del.stderr).toBe(0);
    const id = (await instancesOf(uid))[0]?.InstanceId ?? '';
    await waitFor('the instance to be terminated', async () => ((await instancesOf(uid))[0]?.State?.Name === 'terminated' ? true : undefined), 30_000, 500);
    await waitFor('the pod to be gone', async () => ((await podNow(ns, 'train')) === undefined ? true : undefined), 30_000, 500);
    await waitFor('the assignment to be deleted', async () => {
      const left = (await ssm.send(new GetParametersByPathCommand({ Path: `/orca/e2e-ec2/instances/${id}/` }))).Parameters ?? [];
      return left.length === 0 ? true : undefined;
    }, 30_000, 500);
  });

  it('terminates at start-up an instance whose pod no longer exists', async () => {
    await orca.stop('SIGTERM');
    const [a] = subnets;
    const ami = proxy.runInstances.at(-1)?.ImageId ?? '';
    const tags = [['orca.research/cluster', 'e2e-ec2'], ['orca.research/node', node], ['orca.research/pod-namespace', ns], ['orca.research/pod-name', 'ghost'], ['orca.research/pod-uid', 'uid-of-a-deleted-pod']];
    await ec2.send(new RunInstancesCommand({
      ImageId: ami, InstanceType: 'g6e.xlarge', MinCount: 1, MaxCount: 1, SubnetId: a?.id ?? '',
      TagSpecifications: [{ ResourceType: 'instance', Tags: tags.map(([Key, Value]) => ({ Key, Value })) }],
    }));
    orca = await startNode();
    await waitFor('the orphan to be terminated', async () => ((await instancesOf('uid-of-a-deleted-pod'))[0]?.State?.Name === 'terminated' ? true : undefined), 30_000, 500);
  });

  it('launches into a capacity reservation of the account when the pod prefers reserved capacity', async () => {
    const [a] = subnets;
    proxy.rules.length = 0;
    proxy.reservations.push({ id: 'cr-0e2e0000000000001', instanceType: 'p5.48xlarge', zone: a?.zone ?? '', available: 1 });
    await core().createNamespacedPod({ namespace: ns, body: burstPod('reserved', {
      gpus: 8, nodeSelector: { 'kubernetes.io/hostname': node },
      annotations: { 'orca.research/instance-type': 'p5.48xlarge', 'orca.research/launch-type': 'reserved,on-demand' },
    }) });
    const launched = await waitFor('an InstanceLaunched event', async () => (await eventsFor(ns, 'reserved')).find((e) => e.reason === 'InstanceLaunched'), 60_000, 500);
    expect(launched.message).toMatch(new RegExp(`^p5\\.48xlarge reserved \\(cr-0e2e0000000000001\\) in ${a?.zone ?? ''}: launched i-`));
    expect(proxy.runInstances.at(-1)).toMatchObject({ 'CapacityReservationSpecification.CapacityReservationTarget.CapacityReservationId': 'cr-0e2e0000000000001', SubnetId: a?.id });
    expect(proxy.count('DescribeCapacityReservations')).toBeGreaterThanOrEqual(1);
  });
});
