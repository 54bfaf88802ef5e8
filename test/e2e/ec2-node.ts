// Starts ORCA's CLI with the EC2 provider against moto behind a fault proxy, on moto's default
// subnets (two AZs), for the EC2 end-to-end suites.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeSubnetsCommand, EC2Client, paginateDescribeInstances } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { FaultProxy } from '../fault-proxy/fault-proxy.js';
import { InstanceEmulator } from '../instance-emulator/emulator.js';
import { SessionManagerStandIn } from '../ssm-stand-in/stand-in.js';
import { binaries } from './testbed/paths.js';
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
  readonly kubeletApi?: Record<string, unknown>;
  /** How long ORCA may take to say it is ready (default 60 s). */
  readonly readyTimeoutMs?: number;
  /** ORCA's budgets section; absent: the bed's (every namespace may burst without a BurstBudget). */
  readonly budgets?: Record<string, unknown>;
}

/** Starts ORCA and waits until it says it is ready. */
export async function startEc2Node(o: Ec2NodeOptions): Promise<OrcaProcess> {
  const aws = awsClientConfig();
  const { pki } = testbed();
  const orca = startOrca({
    aws: { region: aws.region, endpoint: o.endpoint, clusterId: o.clusterId, subnets: o.subnets.map((s) => ({ zone: s.zone, subnetID: s.id })) },
    node: { name: o.node, internalIP: '127.0.0.1', kubeletPort: await freePort(), capacity: { 'nvidia.com/gpu': 16, ...o.capacity } },
    // The bed's serving certificate and client CA: the apiserver reaches ORCA as it reaches a kubelet.
    kubeletApi: { host: '127.0.0.1', tlsCertFile: pki.orcaServingCert, tlsKeyFile: pki.orcaServingKey, clientCAFile: pki.caCert, ...o.kubeletApi },
    instances: { images: { nvidia: al2023, cpu: al2023 }, pollSeconds: 1, ...o.instances },
    ops: { port: await freePort(), host: '127.0.0.1' },
    ...(o.budgets === undefined ? {} : { budgets: o.budgets }),
  }, { args: ['--kubeconfig', testbed().kubeconfig], env: { AWS_ACCESS_KEY_ID: aws.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: aws.credentials.secretAccessKey } });
  try {
    await waitFor('orca ready', () => Promise.resolve(orca.logLines().find((l) => l.msg === 'orca ready')), o.readyTimeoutMs ?? 60_000, 200);
  } catch (e) {
    // The error names what ORCA said last, so a suite that cannot start says why.
    const last = [...orca.logLines().slice(-15).map((l) => JSON.stringify(l)), orca.stderr().slice(-2000)].join('\n');
    await orca.stop('SIGKILL');
    throw new Error(`${e instanceof Error ? e.message : String(e)}; ORCA's last log lines:\n${last}`, { cause: e });
  }
  return orca;
}

export interface EmulatedNode {
  readonly orca: OrcaProcess;
  readonly emulator: InstanceEmulator;
  /** With `sessions`: the Session Manager stand-in ORCA's StartSession calls reach (through a fault proxy in front of moto). */
  readonly sessions?: SessionManagerStandIn;
  /** Stops ORCA, then the emulator's instances. */
  stop(): Promise<void>;
}

/** ORCA with the EC2 provider on moto's first two subnets, and the instance emulator booting what it launches. */
export async function startEmulatedNode(o: Omit<Ec2NodeOptions, 'endpoint' | 'subnets'> & { readonly sessions?: boolean }): Promise<EmulatedNode> {
  const aws = awsClientConfig();
  const subnets = await defaultSubnets(new EC2Client(aws));
  const emulator = await InstanceEmulator.start({
    endpoint: aws.endpoint, region: aws.region, credentials: aws.credentials, clusterId: o.clusterId,
    workDir: mkdtempSync(join(tmpdir(), 'orca-emulator-')), awsBin: binaries().awsCli,
  });
  const { sessions: withSessions, ...node } = o;
  const proxy = withSessions === true ? await FaultProxy.start(aws.endpoint) : undefined;
  const sessions = proxy === undefined ? undefined : await SessionManagerStandIn.start({ ssm: new SSMClient(aws), instances: (id) => emulator.agentContext(id) });
  if (proxy !== undefined) sessions?.register(proxy);
  const orca = await startEc2Node({ ...node, endpoint: proxy?.url ?? aws.endpoint, subnets: subnets.slice(0, 2) });
  return {
    orca, emulator, ...(sessions === undefined ? {} : { sessions }),
    async stop() {
      await orca.stop('SIGTERM');
      await sessions?.stop();
      await proxy?.stop();
      await emulator.stop();
    },
  };
}
