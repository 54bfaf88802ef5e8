// The on-instance agent end to end: agent/orca-agent.sh, unchanged, in the user data ORCA's launcher
// sends, booted by the instance emulator on moto's instances (IMDSv2, a docker stand-in, the AWS
// CLI). Pods are assigned through ORCA's SSM store; what the agent reports is read back the way ORCA
// reads it: the instance's tags, and the containers' output in CloudWatch Logs. No Kubernetes here.
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeInstanceAttributeCommand, DescribeInstancesCommand, DescribeSubnetsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEc2Launcher } from '../../src/aws/ec2-launcher.js';
import { createSsmAssignmentStore } from '../../src/aws/ssm-assignment-store.js';
import { createSsmSignals } from '../../src/aws/ssm-signals.js';
import type { InstanceSignals } from '../../src/ports/signals.js';
import { renderAssignment, type EnvPair } from '../../src/domain/assignment.js';
import type { LaunchSpec } from '../../src/domain/instance.js';
import type { ContainerSpec, Pod, RestartPolicy } from '../../src/domain/pod.js';
import type { AssignmentStore } from '../../src/ports/assignments.js';
import type { InstanceLauncher } from '../../src/ports/launcher.js';
import { agentSettings, agentUserData } from '../../src/agent-protocol/user-data.js';
import { parseUsage } from '../../src/agent-protocol/usage.js';
import { InstanceEmulator } from '../instance-emulator/emulator.js';
import { awsClientConfig, testbed, waitFor } from './fixture.js';
import { repoRoot, requireBinary } from './testbed/paths.js';

const cluster = 'agent-e2e';
const settings = agentSettings(cluster);
const userData = agentUserData(settings, readFileSync(join(repoRoot, 'agent', 'orca-agent.sh'), 'utf8'));

let emulator: InstanceEmulator | undefined;
let ec2: EC2Client;
let logs: CloudWatchLogsClient;
let launcher: InstanceLauncher;
let signals: InstanceSignals;
let store: AssignmentStore;
let base: Omit<LaunchSpec, 'clientToken' | 'tags'>;
/** Instances launched by the running test: terminated after it. */
let current: string[] = [];

const emu = (): InstanceEmulator => {
  if (emulator === undefined) throw new Error('the instance emulator did not start');
  return emulator;
};

beforeAll(async () => {
  const aws = awsClientConfig();
  ec2 = new EC2Client(aws);
  logs = new CloudWatchLogsClient(aws);
  const ssm = new SSMClient(aws);
  signals = createSsmSignals(ssm);
  launcher = createEc2Launcher(ec2);
  store = createSsmAssignmentStore(ssm, { prefix: settings.paramPrefix });
  const ami = (await ssm.send(new GetParameterCommand({ Name: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' }))).Parameter?.Value ?? '';
  const subnet = (await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }] }))).Subnets?.[0]?.SubnetId ?? '';
  base = {
    instanceType: 'g6.12xlarge', capacity: 'on-demand', subnetId: subnet, imageId: ami, rootDeviceName: '/dev/xvda', count: 1,
    rootVolumeGiB: 200, securityGroupIds: [], userData, terminationProtection: false, dryRun: false,
  };
  emulator = await InstanceEmulator.start({
    endpoint: aws.endpoint, region: aws.region, credentials: aws.credentials, clusterId: cluster,
    workDir: join(testbed().dir, 'instances'), awsBin: requireBinary('awscli', testbed().binaries.awsCli),
  });
});

afterAll(async () => {
  await emulator?.stop();
});

beforeEach(({ onTestFailed }) => {
  current = [];
  onTestFailed(() => {
    const logsOf = current.map((id) => `--- agent on ${id}\n${emulator?.agentLog(id).split('\n').slice(-40).join('\n') ?? ''}`);
    process.stderr.write(`\n${logsOf.join('\n')}\nemulator errors: ${JSON.stringify(emulator?.errors ?? [])}\n`);
  });
});

afterEach(async () => {
  await launcher.terminate(current);
});

interface PodRun {
  readonly restartPolicy: RestartPolicy;
  readonly command: readonly string[];
  readonly env?: readonly EnvPair[];
  readonly gpus?: readonly number[];
  readonly main?: Partial<ContainerSpec>;
  readonly graceSeconds?: number;
  /** The command of an init container `setup` run before `main`. */
  readonly init?: readonly string[];
}

/** Launches an instance with ORCA's launcher and assigns it a one-container pod through ORCA's SSM store. */
async function startPod(name: string, r: PodRun): Promise<{ readonly id: string; readonly stream: (run: number) => string }> {
  const uid = randomUUID();
  const [instance] = await launcher.launch({ ...base, clientToken: `orca-${uid}-0`, tags: { 'orca.research/cluster': cluster, 'orca.research/pod-uid': uid } });
  if (instance === undefined) throw new Error('moto launched no instance');
  current.push(instance.id);
  const main: ContainerSpec = { name: 'main', image: 'busybox:1.37', command: r.command, ...r.main };
  const setup: ContainerSpec[] = r.init === undefined ? [] : [{ name: 'setup', image: 'busybox:1.37', command: r.init }];
  const pod: Pod = {
    metadata: { namespace: cluster, name, uid },
    spec: { restartPolicy: r.restartPolicy, terminationGracePeriodSeconds: r.graceSeconds ?? 30, initContainers: setup, containers: [main] },
  };
  const plan = { spec: main, env: r.env ?? [], devices: { gpus: r.gpus ?? [], neuron: [], efa: 0 } };
  const init = setup.map((spec) => ({ spec, env: [], devices: { gpus: [], neuron: [], efa: 0 } }));
  await store.put(instance.id, renderAssignment({ pod, init, app: [plan], emptyDirs: [], files: [], registryAuth: [] }));
  return { id: instance.id, stream: (run) => `${cluster}/${name}/${uid}/main/${run}` };
}

async function tagsOf(id: string): Promise<Record<string, string>> {
  const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
  return Object.fromEntries((out.Reservations?.[0]?.Instances?.[0]?.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
}

/** Waits until the instance's tag `key` matches `pattern`; returns its value. A timeout names the last value seen. */
async function tagMatching(id: string, key: string, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  let seen: string | undefined;
  try {
    return await waitFor(`tag ${key} of ${id} to match ${String(pattern)}`, async () => {
      seen = (await tagsOf(id))[key];
      return seen !== undefined && pattern.test(seen) ? seen : undefined;
    }, timeoutMs, 250);
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.message : String(e)}; last value: ${seen ?? '(none)'}`, { cause: e });
  }
}

async function logLines(stream: string): Promise<string[]> {
  const out = await logs.send(new GetLogEventsCommand({ logGroupName: settings.logGroup, logStreamName: stream, startFromHead: true }));
  return (out.events ?? []).map((e) => e.message ?? '');
}

/** The word after `flag` in a command line. */
const after = (argv: readonly string[], flag: string): string | undefined => argv[argv.indexOf(flag) + 1];

describe('the ORCA agent on an emulated instance', () => {
  it('runs a pod to its end: exit code in the container tag, Finished, output in CloudWatch Logs, the secret only inside the container', async () => {
    const secret = `s3cret-${randomUUID()}`;
    const digest = createHash('sha256').update(secret).digest('hex');
    const { id, stream } = await startPod('never', {
      restartPolicy: 'Never', command: ['sh', '-c', 'echo hello; printf %s "$API_TOKEN" | sha256sum; exit 3'],
      env: [{ name: 'API_TOKEN', value: secret }], gpus: [0, 1], main: { resources: { limits: { cpu: '500m', memory: '64Mi' } } },
    });
    await tagMatching(id, 'orca.research/c/main', /^terminated Error 3 0 \d+ \d+ - - - - sha256:[0-9a-f]{64}$/);
    await tagMatching(id, 'orca.research/state', /^v1 Finished - /);
    const lines = await waitFor('the container output in CloudWatch Logs', async () => {
      const l = await logLines(stream(0));
      return l.length >= 2 ? l : undefined;
    }, 10_000);
    expect(lines).toEqual(['hello', `${digest}  -`]);
    const run = emu().dockerCalls(id).find((argv) => argv[0] === 'run') ?? [];
    expect(after(run, '--name')).toBe('orca-main-0');
    expect(after(run, '--gpus')).toBe('"device=0,1"');
    expect(after(run, '--cpus')).toBe('0.5');
    expect(after(run, '--memory')).toBe(String(64 * 2 ** 20));
    expect(run).toEqual(expect.arrayContaining(['--network', 'host', '--ipc', 'host', '--log-driver', 'awslogs', `awslogs-stream=${stream(0)}`]));
    const attr = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: 'userData' }));
    const booted = Buffer.from(attr.UserData?.Value ?? '', 'base64').toString('utf8');
    expect(booted).toBe(userData);
    expect(booted).not.toContain(secret);
    expect(JSON.stringify(await tagsOf(id))).not.toContain(secret);
    expect(emu().agentLog(id)).not.toContain(secret);
    await waitFor('the agent to exit after the pod finished', () => Promise.resolve(emu().agentExitCode(id) === 0 ? true : undefined), 10_000);
  }, 60_000);

  it('restarts a failing container under OnFailure: the restart count grows, the tag keeps the last exit, each run has its own stream', async () => {
    const { id, stream } = await startPod('on-failure', { restartPolicy: 'OnFailure', command: ['sh', '-c', 'echo attempt; exit 3'] });
    const tag = await tagMatching(id, 'orca.research/c/main', /^\S+ \S+ \S+ [1-9]\d* \S+ \S+ 3 Error \d+ \d+ \S+$/);
    expect(tag).toMatch(/^waiting CrashLoopBackOff - 1 /);
    // The second run starts after the 10 s back-off and writes the next stream (run 0's is `logs --previous`).
    await waitFor('the second run\'s output', async () => ((await logLines(stream(1))).includes('attempt') ? true : undefined), 30_000);
    expect(await logLines(stream(0))).toEqual(['attempt']);
    expect(emu().dockerCalls(id).filter((argv) => argv[0] === 'run').map((argv) => after(argv, '--name'))).toEqual(['orca-main-0', 'orca-main-1']);
    await launcher.terminate([id]);
    await waitFor('the emulator to stop the terminated instance\'s agent', () => Promise.resolve(emu().isRunning(id) ? undefined : true), 10_000);
    expect(emu().agentExitCode(id)).toBeNull();
  }, 60_000);

  it('reports a rebalance recommendation, then a spot interruption notice, in the state tag within seconds', async () => {
    const { id } = await startPod('spot', { restartPolicy: 'Never', command: ['sleep', '600'] });
    await tagMatching(id, 'orca.research/state', /^v1 Running - /);
    emu().injectRebalance(id);
    await tagMatching(id, 'orca.research/state', /^v1 Running rebalance /, 10_000);
    const injected = Date.now();
    emu().injectSpotNotice(id);
    await tagMatching(id, 'orca.research/state', /^v1 Running spot-interruption:terminate /, 10_000);
    process.stdout.write(`agent figures: ${JSON.stringify({ spotNoticeToTagSeconds: (Date.now() - injected) / 1000 })}\n`);
  }, 60_000);

  it('stops a long-running container when ORCA sends the stop Run Command: SIGTERM, exit 143, Stopped', async () => {
    const { id } = await startPod('stopped', { restartPolicy: 'Never', command: ['sleep', '600'], graceSeconds: 5 });
    await tagMatching(id, 'orca.research/c/main', /^running - - 0 \d+ - /);
    await signals.stop(id);
    await tagMatching(id, 'orca.research/state', /^v1 Stopped /, 15_000);
    expect((await tagsOf(id))['orca.research/c/main']).toMatch(/^terminated Error 143 0 \d+ \d+ /);
    expect(emu().dockerCalls(id)).toContainEqual(['stop', '-t', '5', 'orca-main-0']);
  }, 60_000);

  it('stops a running init container when ORCA sends the stop Run Command: SIGTERM, exit 143, no app container, Stopped', async () => {
    const { id } = await startPod('stopped-in-init', { restartPolicy: 'Never', command: ['true'], init: ['sleep', '600'], graceSeconds: 5 });
    await tagMatching(id, 'orca.research/c/setup', /^running - - 0 \d+ - /);
    await signals.stop(id);
    await tagMatching(id, 'orca.research/state', /^v1 Stopped /, 15_000);
    expect(emu().dockerCalls(id)).toContainEqual(['stop', '-t', '5', 'orca-setup-0']);
    expect((await tagsOf(id))['orca.research/c/setup']).toMatch(/^terminated Error 143 0 \d+ \d+ /);
    await waitFor('the agent to exit after the stop', () => Promise.resolve(emu().agentExitCode(id) === 0 ? true : undefined), 10_000);
    expect(emu().dockerCalls(id).filter((argv) => argv[0] === 'run').map((argv) => after(argv, '--name'))).toEqual(['orca-setup-0']);
    expect((await tagsOf(id))['orca.research/c/main']).toMatch(/^waiting ContainerCreating /);
  }, 60_000);

  it('reports a container killed on the instance as terminated with exit 137', async () => {
    const { id } = await startPod('killed', { restartPolicy: 'Never', command: ['sleep', '600'] });
    await tagMatching(id, 'orca.research/c/main', /^running /);
    await emu().killContainer(id, 'main');
    await tagMatching(id, 'orca.research/c/main', /^terminated Error 137 0 /, 10_000);
    await tagMatching(id, 'orca.research/state', /^v1 Finished /, 10_000);
  }, 60_000);

  it('reports the container\'s CPU and working set, and the instance\'s GPUs, in the usage tag', async () => {
    const { id } = await startPod('usage', { restartPolicy: 'Never', command: ['sleep', '600'] });
    const value = await tagMatching(id, 'orca.research/usage', /^u1 \d+ nvidia:4:0:0:92136 0:\d+:[1-9]\d*$/);
    expect(parseUsage(value)?.measuredAt).toBeGreaterThan(Date.now() - 60_000);
    await tagMatching(id, 'orca.research/state', /^v1 Running - -$/, 10_000);
    expect(emu().dockerCalls(id)).toContainEqual(['stats', '--no-stream', '--format', '{{.Name}} {{.CPUPerc}} {{.MemUsage}}', 'orca-main-0']);
  }, 60_000);

  it('keeps a container whose image cannot be pulled waiting with ErrImagePull', async () => {
    const { id } = await startPod('no-image', { restartPolicy: 'Never', command: ['true'], main: { image: 'registry.example/does-not-exist:1' } });
    await tagMatching(id, 'orca.research/c/main', /^waiting ErrImagePull - 0 /);
    expect(emu().dockerCalls(id).some((argv) => argv[0] === 'run')).toBe(false);
  }, 60_000);
});
