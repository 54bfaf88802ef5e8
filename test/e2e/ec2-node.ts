// Starts ORCA's CLI with the EC2 provider against moto behind a fault proxy, on moto's default
// subnets (two AZs), for the EC2 end-to-end suites.
import { DescribeSubnetsCommand, paginateDescribeInstances, type EC2Client } from '@aws-sdk/client-ec2';
import { awsClientConfig, testbed, waitFor } from './fixture.js';
import { startOrca, type OrcaProcess } from './orca-process.js';
import { freePort } from './testbed/ports.js';

export const al2023 = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64';

export interface Subnet { readonly id: string; readonly zone: string }

/** moto's default subnets, one per AZ, in AZ order. */
export async function defaultSubnets(ec2: EC2Client): Promise<Subnet[]> {
  const s = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }] }));
  return (s.Subnets ?? []).map((x) => ({ id: x.SubnetId ?? '', zone: x.AvailabilityZone ?? '' })).sort((a, b) => a.zone.localeCompare(b.zone));
}

export interface ClusterInstance {
  readonly id: string;
  readonly state: string;
  /** Its orca.research/pod-uid tag: undefined for an instance never given a pod. */
  readonly podUid: string | undefined;
  readonly tags: Readonly<Record<string, string>>;
}

/** Every instance tagged with the cluster, in any state (moto keeps terminated instances listed). */
export async function clusterInstances(ec2: EC2Client, clusterId: string): Promise<ClusterInstance[]> {
  const out: ClusterInstance[] = [];
  for await (const page of paginateDescribeInstances({ client: ec2, pageSize: 1000 }, { Filters: [{ Name: 'tag:orca.research/cluster', Values: [clusterId] }] })) {
    for (const i of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
      const tags = Object.fromEntries((i.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
      out.push({ id: i.InstanceId ?? '', state: i.State?.Name ?? 'unknown', podUid: tags['orca.research/pod-uid'], tags });
    }
  }
  return out;
}

export interface Ec2NodeOptions {
  readonly endpoint: string;
  readonly node: string;
  readonly clusterId: string;
  readonly subnets: readonly Subnet[];
  readonly capacity?: Record<string, string | number>;
  readonly instances?: Record<string, unknown>;
}

/** Starts ORCA and waits until it says it is ready. */
export async function startEc2Node(o: Ec2NodeOptions): Promise<OrcaProcess> {
  const aws = awsClientConfig();
  const orca = startOrca({
    aws: { region: aws.region, endpoint: o.endpoint, clusterId: o.clusterId, subnets: o.subnets.map((s) => ({ zone: s.zone, subnetID: s.id })) },
    node: { name: o.node, internalIP: '127.0.0.1', capacity: { 'nvidia.com/gpu': 16, ...o.capacity } },
    instances: { images: { nvidia: al2023, cpu: al2023 }, pollSeconds: 1, ...o.instances },
    ops: { port: await freePort(), host: '127.0.0.1' },
  }, { args: ['--kubeconfig', testbed().kubeconfig], env: { AWS_ACCESS_KEY_ID: aws.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: aws.credentials.secretAccessKey } });
  await waitFor('orca ready', () => Promise.resolve(orca.logLines().find((l) => l.msg === 'orca ready')), 60_000, 200);
  return orca;
}
