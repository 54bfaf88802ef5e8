// The shipped examples, applied as a user applies them (`kubectl apply -f examples/<file>`, the file
// unchanged) to the bed, with ORCA's CLI and the EC2 provider on moto behind the fault proxy and the
// instance emulator running what ORCA launches: each reaches the state its opening comment
// promises — Jobs Complete on an instance of the type they name, Deployments Available (and
// reachable with kubectl port-forward), spot first and on demand when spot has no capacity, the
// reservation and the Capacity Block in the RunInstances request (moto keeps no reservations: a
// full one and an unknown block are EC2's answers injected by the fault proxy). Every manifest
// passes the apiserver's server-side dry run, and the chart renders with the university values.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeInstancesCommand, EC2Client, type Instance } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { AppsV1Api, BatchV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FaultProxy } from '../fault-proxy/fault-proxy.js';
import { InstanceEmulator } from '../instance-emulator/emulator.js';
import { SessionManagerStandIn } from '../ssm-stand-in/stand-in.js';
import { al2023, defaultSubnets, startEc2Node } from './ec2-node.js';
import { awsClientConfig, createNamespace, kubeConfig, kubectl, testbed, waitFor } from './fixture.js';
import type { OrcaProcess } from './orca-process.js';
import { core, eventsFor } from './pods.js';
import { binaries, repoRoot } from './testbed/paths.js';
import { freePort } from './testbed/ports.js';
import { runCommand } from './testbed/testbed.js';

const ns = 'examples';
const node = 'orca-examples';
const clusterId = 'e2e-examples';
const manifests = [
  'p5-training-job.yaml', 'g6e-inference-deployment.yaml', 'trainium-job.yaml', 'inferentia-server.yaml',
  'spot-with-fallback-job.yaml', 'capacity-reservation-job.yaml', 'capacity-block-job.yaml',
] as const;
type Manifest = (typeof manifests)[number];
let proxy: FaultProxy & { readonly url: string };
let emulator: InstanceEmulator;
let sessions: SessionManagerStandIn;
let orca: OrcaProcess;
let ec2: EC2Client;

const example = (file: string): string => join(repoRoot, 'examples', file);
const batch = (): BatchV1Api => kubeConfig().makeApiClient(BatchV1Api);

async function apply(file: Manifest): Promise<void> {
  const r = await kubectl(['apply', '-n', ns, '-f', example(file)]);
  expect(r.code, r.stderr).toBe(0);
}

async function instanceOf(pod: V1Pod): Promise<Instance> {
  const uid = pod.metadata?.uid ?? '';
  const out = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:orca.research/pod-uid', Values: [uid] }] }));
  const [inst] = (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
  if (inst === undefined) throw new Error(`no instance carries pod ${uid}`);
  return inst;
}

async function podsOf(selector: string): Promise<V1Pod[]> {
  return (await core().listNamespacedPod({ namespace: ns, labelSelector: selector })).items;
}

/** Waits for the Job's Complete condition; returns its pod that Succeeded. */
async function completed(job: string): Promise<V1Pod> {
  await waitFor(`Job ${job} Complete`, async () => {
    const j = await batch().readNamespacedJob({ name: job, namespace: ns });
    return j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') === true ? true : undefined;
  }, 150_000, 1000);
  const pod = (await podsOf(`job-name=${job}`)).find((p) => p.status?.phase === 'Succeeded');
  if (pod === undefined) throw new Error(`Job ${job} is Complete without a Succeeded pod`);
  return pod;
}

/** Waits for the Deployment's Available condition; returns its Running pod. */
async function available(name: string): Promise<V1Pod> {
  await waitFor(`Deployment ${name} Available`, async () => {
    const d = await kubeConfig().makeApiClient(AppsV1Api).readNamespacedDeployment({ name, namespace: ns });
    return d.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True') === true ? true : undefined;
  }, 150_000, 1000);
  const pod = (await podsOf(`app=${name}`)).find((p) => p.status?.phase === 'Running');
  if (pod === undefined) throw new Error(`Deployment ${name} is Available without a Running pod`);
  return pod;
}

async function launchedMessage(pod: V1Pod): Promise<string> {
  const e = (await eventsFor(ns, pod.metadata?.name ?? '')).find((x) => x.reason === 'InstanceLaunched');
  return e?.message ?? '';
}

/** Every pod of the namespace deleted (grace 0 for those a stopped node would leave Terminating), until none is left. */
async function deletePods(): Promise<void> {
  await waitFor(`every pod of ${ns} to be gone`, async () => {
    await core().deleteCollectionNamespacedPod({ namespace: ns, gracePeriodSeconds: 0 }).catch(() => undefined);
    return (await core().listNamespacedPod({ namespace: ns })).items.length === 0 ? true : undefined;
  }, 90_000, 1000);
}

/** Deletes what the example created and waits until its instances are terminated. */
async function remove(file: Manifest): Promise<void> {
  const r = await kubectl(['delete', '-n', ns, '-f', example(file), '--ignore-not-found', '--wait=true', '--timeout=60s']);
  expect(r.code, r.stderr).toBe(0);
  await deletePods();
  await waitFor('the example\'s instances to be terminated', async () => {
    const out = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:orca.research/cluster', Values: [clusterId] }] }));
    const live = (out.Reservations ?? []).flatMap((x) => x.Instances ?? []).filter((i) => i.State?.Name !== 'terminated');
    return live.length === 0 ? true : undefined;
  }, 120_000, 1000);
}

/** `kubectl port-forward` to the Deployment's port 8000 on a free local port; returns the answer to GET /. */
async function getThroughPortForward(deployment: string): Promise<number> {
  const b = testbed();
  const local = await freePort();
  const pf = spawn(b.binaries.kubectl, ['--kubeconfig', b.kubeconfig, 'port-forward', '-n', ns, `deploy/${deployment}`, `${String(local)}:8000`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let said = '';
  pf.stdout.on('data', (d: Buffer) => { said += d.toString(); });
  pf.stderr.on('data', (d: Buffer) => { said += d.toString(); });
  try {
    await waitFor('port-forward to listen', () => Promise.resolve(said.includes('Forwarding from') ? true : undefined), 60_000, 200);
    return await waitFor('the server to answer through port-forward', async () => (await fetch(`http://127.0.0.1:${String(local)}/`).catch(() => undefined))?.status, 60_000, 500);
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.message : String(e)}; kubectl said: ${said}`, { cause: e });
  } finally {
    pf.kill('SIGINT');
    await once(pf, 'close');
  }
}

/** What a failing test needs to see: the namespace's pods and Events, ORCA's last warnings, the emulator's problems. */
async function dumpState(): Promise<void> {
  const pods = (await core().listNamespacedPod({ namespace: ns }).catch(() => ({ items: [] as V1Pod[] }))).items;
  const lines = pods.map((p) => `pod ${p.metadata?.name ?? ''} on ${p.spec?.nodeName ?? '(unscheduled)'}: ${p.status?.phase ?? ''} ${JSON.stringify(p.status?.conditions ?? [])} ${JSON.stringify(p.status?.containerStatuses?.[0]?.state ?? {})}`);
  const events = (await core().listNamespacedEvent({ namespace: ns }).catch(() => ({ items: [] }))).items.map((e) => `event ${e.involvedObject.name ?? ''} ${e.reason ?? ''}: ${e.message ?? ''}`);
  const warnings = orca.logLines().filter((l) => Number(l['level']) >= 40).slice(-20).map((l) => JSON.stringify(l).slice(0, 800));
  process.stderr.write(`\n${[...lines, ...events.slice(-30)].join('\n')}\nORCA's last warnings and errors:\n${warnings.join('\n')}\nemulator: ${emulator.errors.slice(-10).join('\n')}\n`);
}

beforeEach(({ onTestFailed }) => {
  onTestFailed(dumpState);
});

beforeAll(async () => {
  const aws = awsClientConfig();
  ec2 = new EC2Client(aws);
  await createNamespace(ns);
  emulator = await InstanceEmulator.start({
    endpoint: aws.endpoint, region: aws.region, credentials: aws.credentials, clusterId,
    workDir: mkdtempSync(join(tmpdir(), 'orca-emulator-')), awsBin: binaries().awsCli,
  });
  proxy = await FaultProxy.start(aws.endpoint);
  sessions = await SessionManagerStandIn.start({ ssm: new SSMClient(aws), instances: (id) => emulator.agentContext(id) });
  sessions.register(proxy);
  orca = await startEc2Node({
    endpoint: proxy.url, node, clusterId, subnets: (await defaultSubnets(ec2)).slice(0, 2),
    capacity: { 'nvidia.com/gpu': 16, 'aws.amazon.com/neuron': 16, 'aws.amazon.com/neuroncore': 32 },
    instances: {
      images: { nvidia: al2023, neuron: al2023, cpu: al2023 }, pollSeconds: 1,
      allowedInstanceTypes: ['p5.48xlarge', 'g6e.xlarge', 'trn1.32xlarge', 'inf2.xlarge'],
    },
  });
  // As a user would see it before applying anything: the node Ready, without the node-lifecycle taints.
  await waitFor(`node ${node} schedulable`, async () => {
    const n = await core().readNode({ name: node });
    const ready = n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
    return ready && n.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/')) !== true ? true : undefined;
  }, 60_000, 250);
}, 180_000);

afterAll(async () => {
  for (const file of manifests) await kubectl(['delete', '-n', ns, '-f', example(file), '--ignore-not-found', '--wait=false']);
  await deletePods().catch(() => undefined);
  await waitFor('every example instance to be terminated', async () => {
    const out = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:orca.research/cluster', Values: [clusterId] }] }));
    return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).every((i) => i.State?.Name === 'terminated') ? true : undefined;
  }, 120_000, 1000).catch(() => undefined);
  await orca.stop('SIGTERM');
  await sessions.stop();
  await proxy.stop();
  await emulator.stop();
}, 300_000);

describe('the example manifests', () => {
  it.each(manifests)('%s passes the apiserver\'s server-side dry run and opens with the comment saying what it shows and the state it reaches', async (file) => {
    const text = readFileSync(example(file), 'utf8');
    expect(text.startsWith('# ')).toBe(true);
    expect(text).toMatch(/^# What it shows: /m);
    expect(text).toMatch(/^# The state it reaches: /m);
    const r = await kubectl(['apply', '--dry-run=server', '-n', ns, '-f', example(file)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('(server dry run)');
  });
});

describe('each example reaches the state its comment promises', () => {
  it('p5-training-job.yaml: the Job is Complete, its pod Succeeded on an on-demand p5.48xlarge, its output in kubectl logs', async () => {
    await apply('p5-training-job.yaml');
    const pod = await completed('p5-training');
    const inst = await instanceOf(pod);
    expect(inst.InstanceType).toBe('p5.48xlarge');
    expect(inst.InstanceLifecycle).toBeUndefined();
    expect(await launchedMessage(pod)).toMatch(/^p5\.48xlarge on-demand in [a-z0-9-]+: launched i-/);
    const logs = await waitFor('the output in kubectl logs', async () => {
      const r = await kubectl(['logs', '-n', ns, 'job/p5-training']);
      return r.code === 0 && r.stdout.includes('training done') ? r.stdout : undefined;
    }, 60_000, 1000);
    expect(logs).toContain('training on ');
    await remove('p5-training-job.yaml');
  });

  it('g6e-inference-deployment.yaml: the Deployment is Available on a g6e.xlarge and answers through kubectl port-forward', async () => {
    await apply('g6e-inference-deployment.yaml');
    const pod = await available('g6e-inference');
    expect((await instanceOf(pod)).InstanceType).toBe('g6e.xlarge');
    expect(await launchedMessage(pod)).toMatch(/^g6e\.xlarge on-demand in [a-z0-9-]+: launched i-/);
    expect(await getThroughPortForward('g6e-inference')).toBe(200);
    await remove('g6e-inference-deployment.yaml');
  }, 300_000);

  it('trainium-job.yaml: the Job is Complete on a trn1.32xlarge, its container given the 16 Neuron devices', async () => {
    await apply('trainium-job.yaml');
    const pod = await completed('trainium-training');
    const inst = await instanceOf(pod);
    expect(inst.InstanceType).toBe('trn1.32xlarge');
    expect(await launchedMessage(pod)).toMatch(/^trn1\.32xlarge on-demand in [a-z0-9-]+: launched i-/);
    const run = emulator.dockerCalls(inst.InstanceId ?? '').find((c) => c[0] === 'run') ?? [];
    const devices = run.filter((_, i) => run[i - 1] === '--device');
    expect(devices).toEqual(Array.from({ length: 16 }, (_, i) => `/dev/neuron${String(i)}`));
    await remove('trainium-job.yaml');
  });

  it('inferentia-server.yaml: the Deployment is Available with its pod Running on an inf2.xlarge', async () => {
    await apply('inferentia-server.yaml');
    const pod = await available('inferentia-server');
    expect((await instanceOf(pod)).InstanceType).toBe('inf2.xlarge');
    expect(await launchedMessage(pod)).toMatch(/^inf2\.xlarge on-demand in [a-z0-9-]+: launched i-/);
    await remove('inferentia-server.yaml');
  });

  it('spot-with-fallback-job.yaml: Complete on a spot g6e.xlarge; with no spot capacity, Complete on demand after one InstanceUnavailable per zone', async () => {
    await apply('spot-with-fallback-job.yaml');
    const onSpot = await completed('spot-with-fallback');
    expect(await instanceOf(onSpot)).toMatchObject({ InstanceType: 'g6e.xlarge', InstanceLifecycle: 'spot' });
    expect(await launchedMessage(onSpot)).toMatch(/^g6e\.xlarge spot in [a-z0-9-]+: launched i-/);
    await remove('spot-with-fallback-job.yaml');

    proxy.rules.push({ action: 'RunInstances', match: { InstanceType: 'g6e.xlarge', 'InstanceMarketOptions.MarketType': 'spot' }, error: 'InsufficientInstanceCapacity' });
    try {
      await apply('spot-with-fallback-job.yaml');
      const onDemand = await completed('spot-with-fallback');
      const inst = await instanceOf(onDemand);
      expect(inst.InstanceType).toBe('g6e.xlarge');
      expect(inst.InstanceLifecycle).toBeUndefined();
      expect(await launchedMessage(onDemand)).toMatch(/^g6e\.xlarge on-demand in [a-z0-9-]+: launched i-/);
      const unavailable = (await eventsFor(ns, onDemand.metadata?.name ?? '')).filter((e) => e.reason === 'InstanceUnavailable').map((e) => e.message ?? '');
      expect(unavailable).toHaveLength(2);
      for (const m of unavailable) expect(m).toMatch(/^trying g6e\.xlarge spot in [a-z0-9-]+: InsufficientInstanceCapacity$/);
    } finally {
      proxy.rules.length = 0;
    }
    await remove('spot-with-fallback-job.yaml');
  }, 360_000);

  it('capacity-reservation-job.yaml: Complete on a p5.48xlarge launched into the named reservation; on demand when EC2 says it is full', async () => {
    const target = 'CapacityReservationSpecification.CapacityReservationTarget.CapacityReservationId';
    const before = proxy.runInstances.length;
    await apply('capacity-reservation-job.yaml');
    const pod = await completed('capacity-reservation');
    expect((await instanceOf(pod)).InstanceType).toBe('p5.48xlarge');
    expect(await launchedMessage(pod)).toMatch(/^p5\.48xlarge reserved: launched i-/);
    // moto keeps no reservations: the instance's CapacityReservationId is what EC2 was asked for.
    const sent = proxy.runInstances.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ InstanceType: 'p5.48xlarge', [target]: 'cr-0123456789abcdef0' });
    expect(sent[0]?.['InstanceMarketOptions.MarketType']).toBeUndefined();
    await remove('capacity-reservation-job.yaml');

    proxy.rules.push({ action: 'RunInstances', match: { [target]: 'cr-0123456789abcdef0' }, error: 'ReservationCapacityExceeded' });
    try {
      await apply('capacity-reservation-job.yaml');
      const onDemand = await completed('capacity-reservation');
      expect(await launchedMessage(onDemand)).toMatch(/^p5\.48xlarge on-demand in [a-z0-9-]+: launched i-/);
      const tried = (await eventsFor(ns, onDemand.metadata?.name ?? '')).filter((e) => e.reason === 'InstanceUnavailable').map((e) => e.message);
      expect(tried).toEqual(['trying p5.48xlarge reserved: ReservationCapacityExceeded']);
    } finally {
      proxy.rules.length = 0;
    }
    await remove('capacity-reservation-job.yaml');
  }, 300_000);

  it('capacity-block-job.yaml: Complete on a p5.48xlarge launched in the block; the pod fails with InvalidLaunch when EC2 knows no such block', async () => {
    const before = proxy.runInstances.length;
    await apply('capacity-block-job.yaml');
    const pod = await completed('capacity-block');
    // moto takes any market type for spot: it reports the instance as a spot one, where EC2 says capacity-block.
    expect((await instanceOf(pod)).InstanceType).toBe('p5.48xlarge');
    expect(await launchedMessage(pod)).toMatch(/^p5\.48xlarge reserved: launched i-/);
    const sent = proxy.runInstances.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      InstanceType: 'p5.48xlarge', 'InstanceMarketOptions.MarketType': 'capacity-block',
      'CapacityReservationSpecification.CapacityReservationTarget.CapacityReservationId': 'cr-0fedcba987654321f',
    });
    await remove('capacity-block-job.yaml');

    proxy.rules.push({ action: 'RunInstances', match: { 'InstanceMarketOptions.MarketType': 'capacity-block' }, error: 'InvalidCapacityReservationId.NotFound' });
    try {
      await apply('capacity-block-job.yaml');
      const failed = await waitFor('the pod to fail', async () => (await podsOf('job-name=capacity-block')).find((p) => p.status?.phase === 'Failed'), 90_000, 1000);
      expect(failed.status?.reason).toBe('InvalidLaunch');
      expect(failed.status?.message).toContain('InvalidCapacityReservationId.NotFound');
      expect((await eventsFor(ns, failed.metadata?.name ?? '')).filter((e) => e.type === 'Warning').map((e) => e.reason)).toContain('InvalidLaunch');
      await waitFor('Job capacity-block Failed', async () => {
        const j = await batch().readNamespacedJob({ name: 'capacity-block', namespace: ns });
        return j.status?.conditions?.some((c) => c.type === 'Failed' && c.status === 'True') === true ? true : undefined;
      }, 60_000, 1000);
    } finally {
      proxy.rules.length = 0;
    }
    await remove('capacity-block-job.yaml');
  }, 300_000);
});

describe('examples/helm-values-university.yaml', () => {
  it('renders the chart: helm template deploy/helm/orca -f examples/helm-values-university.yaml succeeds', async () => {
    const r = await runCommand(binaries().helm, ['template', 'orca', join(repoRoot, 'deploy', 'helm', 'orca'), '-f', example('helm-values-university.yaml')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('kind: Deployment');
  });
});
