// ORCA's CLI with the EC2 provider against moto behind the fault proxy: a p5 pod that prefers spot
// meets capacity errors and lands on-demand in the second AZ; the request EC2 sees is right and
// carries no pod data in user data; deleting the pod terminates its instance; an instance whose
// pod is gone is terminated when ORCA starts.
import { DescribeInstancesCommand, DescribeSubnetsCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultProxy } from '../fault-proxy/fault-proxy.js';
import { awsClientConfig, createNamespace, kubectl, testbed, waitFor } from './fixture.js';
import { startOrca, type OrcaProcess } from './orca-process.js';
import { burstPod, core, eventsFor, podNow } from './pods.js';
import { freePort } from './testbed/ports.js';

const ns = 'burst-jobs';
const node = 'orca-ec2';
const al2023 = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64';
let proxy: FaultProxy & { readonly url: string };
let ec2: EC2Client;
let subnets: { id: string; zone: string }[] = [];
let orca: OrcaProcess;

async function startNode(): Promise<OrcaProcess> {
  const aws = awsClientConfig();
  const o = startOrca({
    aws: { region: aws.region, endpoint: proxy.url, clusterId: 'e2e-ec2', subnets: subnets.slice(0, 2).map((s) => ({ zone: s.zone, subnetID: s.id })) },
    node: { name: node, internalIP: '127.0.0.1', capacity: { 'nvidia.com/gpu': 16 } },
    instances: { images: { nvidia: al2023, cpu: al2023 }, pollSeconds: 1 },
    ops: { port: await freePort(), host: '127.0.0.1' },
  }, { args: ['--kubeconfig', testbed().kubeconfig], env: { AWS_ACCESS_KEY_ID: aws.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: aws.credentials.secretAccessKey } });
  await waitFor('orca ready', () => Promise.resolve(o.logLines().find((l) => l.msg === 'orca ready')), 60_000, 200);
  return o;
}

async function instancesOf(podUid: string) {
  const out = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:orca.research/pod-uid', Values: [podUid] }] }));
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}

beforeAll(async () => {
  proxy = await FaultProxy.start(awsClientConfig().endpoint);
  ec2 = new EC2Client(awsClientConfig());
  const s = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }] }));
  subnets = (s.Subnets ?? []).map((x) => ({ id: x.SubnetId ?? '', zone: x.AvailabilityZone ?? '' })).sort((a, b) => a.zone.localeCompare(b.zone));
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
  });

  it('terminates the instance when the pod is deleted, and the pod goes away', async () => {
    const uid = (await podNow(ns, 'train'))?.metadata?.uid ?? '';
    const del = await kubectl(['delete', 'pod', 'train', '-n', ns, '--wait=false']);
    expect(del.code, del.stderr).toBe(0);
    await waitFor('the instance to be terminated', async () => ((await instancesOf(uid))[0]?.State?.Name === 'terminated' ? true : undefined), 30_000, 500);
    await waitFor('the pod to be gone', async () => ((await podNow(ns, 'train')) === undefined ? true : undefined), 30_000, 500);
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
});
