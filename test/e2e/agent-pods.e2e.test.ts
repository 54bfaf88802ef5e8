// Pods run end to end: ORCA's CLI with the EC2 provider launches instances in moto, the instance
// emulator boots each with the real agent from its user data, the agent runs the pod's containers
// (process stand-ins for docker) and reports through its instance's tags, and ORCA writes pod
// statuses a kubelet would. Exit codes, restarts, logs in CloudWatch, Secrets that stay secret,
// spot interruptions.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeInstanceAttributeCommand, DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { BatchV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InstanceEmulator } from '../instance-emulator/emulator.js';
import { defaultSubnets, startEc2Node } from './ec2-node.js';
import { awsClientConfig, createNamespace, kubeConfig, waitFor } from './fixture.js';
import type { OrcaProcess } from './orca-process.js';
import { core, eventsFor, podNow, shPod as shPodFor, type ShPodOptions } from './pods.js';
import { binaries } from './testbed/paths.js';

const ns = 'agent-pods';
const node = 'orca-agent-node';
const clusterId = 'e2e-agent';
let orca: OrcaProcess;
let emulator: InstanceEmulator;
let ec2: EC2Client;

/** A pod for this suite's virtual node running `script` in sh on a g6e.xlarge. */
const shPod = (name: string, script: string, o: ShPodOptions = {}): V1Pod => shPodFor(name, node, script, o);

async function instanceOf(uid: string) {
  const out = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:orca.research/pod-uid', Values: [uid] }] }));
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}

async function logLines(stream: string): Promise<string[]> {
  const logs = new CloudWatchLogsClient(awsClientConfig());
  const out = await logs.send(new GetLogEventsCommand({ logGroupName: `/orca/${clusterId}`, logStreamName: stream, startFromHead: true })).catch(() => undefined);
  return (out?.events ?? []).map((e) => e.message ?? '');
}

const phaseOf = (name: string, phase: string) => async () => {
  const p = await podNow(ns, name);
  return p?.status?.phase === phase ? p : undefined;
};

beforeAll(async () => {
  const aws = awsClientConfig();
  ec2 = new EC2Client(aws);
  const subnets = await defaultSubnets(ec2);
  await createNamespace(ns);
  emulator = await InstanceEmulator.start({
    endpoint: aws.endpoint, region: aws.region, credentials: aws.credentials, clusterId,
    workDir: mkdtempSync(join(tmpdir(), 'orca-emulator-')), awsBin: binaries().awsCli,
  });
  orca = await startEc2Node({ endpoint: aws.endpoint, node, clusterId, subnets: subnets.slice(0, 2) });
});
afterAll(async () => {
  await orca.stop('SIGTERM');
  await emulator.stop();
});

describe('pods run by the agent on emulated instances', () => {
  it('ends a Job whose container exits 3 as Failed with exit code 3, its output in CloudWatch under the documented stream', async () => {
    const template = shPod('unused', 'echo hello; exit 3');
    await kubeConfig().makeApiClient(BatchV1Api).createNamespacedJob({
      namespace: ns, body: { metadata: { name: 'exit3' }, spec: { backoffLimit: 0, template: { metadata: { annotations: template.metadata?.annotations ?? {} }, spec: template.spec ?? { containers: [] } } } },
    });
    const pod = await waitFor('the Job pod to fail', async () => {
      const list = await core().listNamespacedPod({ namespace: ns, labelSelector: 'job-name=exit3' });
      return list.items.find((p) => p.status?.phase === 'Failed');
    }, 90_000, 1000);
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(pod.status?.containerStatuses?.[0]?.imageID).toMatch(/^sha256:[0-9a-f]{64}$/);
    const uid = pod.metadata?.uid ?? '';
    const stream = `${ns}/${pod.metadata?.name ?? ''}/${uid}/main/0`;
    expect(await waitFor('the log line in CloudWatch', async () => ((await logLines(stream)).includes('hello') ? true : undefined), 30_000, 1000)).toBe(true);
    await waitFor('the finished instance to be terminated', async () => ((await instanceOf(uid))[0]?.State?.Name === 'terminated' ? true : undefined), 30_000, 1000);
  }, 150_000);

  it('restarts a failing container under OnFailure: the restart count grows and lastState shows the previous exit', async () => {
    await core().createNamespacedPod({ namespace: ns, body: shPod('flaky', 'echo try; exit 2', { restartPolicy: 'OnFailure' }) });
    const pod = await waitFor('a restart', async () => {
      const p = await podNow(ns, 'flaky');
      return (p?.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 ? p : undefined;
    }, 90_000, 1000);
    expect(pod.status?.containerStatuses?.[0]?.lastState?.terminated).toMatchObject({ exitCode: 2, reason: 'Error' });
    expect(pod.status?.phase).toBe('Running');
    await core().deleteNamespacedPod({ name: 'flaky', namespace: ns });
  }, 150_000);

  it('gives the container a Secret\'s value that appears nowhere in user data, tags, Events or ORCA\'s output', async () => {
    const secret = `orca-e2e-${randomBytes(12).toString('hex')}`;
    await core().createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'wandb' }, stringData: { key: secret } } });
    const p = shPod('with-secret', 'printf %s "$WANDB_API_KEY" | sha256sum | cut -c1-64; sleep 2');
    const c = p.spec?.containers[0];
    if (c !== undefined) c.env = [{ name: 'WANDB_API_KEY', valueFrom: { secretKeyRef: { name: 'wandb', key: 'key' } } }];
    await core().createNamespacedPod({ namespace: ns, body: p });
    const done = await waitFor('the pod to succeed', phaseOf('with-secret', 'Succeeded'), 90_000, 1000);
    const uid = done.metadata?.uid ?? '';
    const hash = createHash('sha256').update(secret).digest('hex');
    expect(await waitFor('the hash in the log', async () => ((await logLines(`${ns}/with-secret/${uid}/main/0`)).includes(hash) ? true : undefined), 30_000, 1000)).toBe(true);
    const [inst] = await instanceOf(uid);
    const userData = (await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: inst?.InstanceId ?? '', Attribute: 'userData' }))).UserData?.Value ?? '';
    const places = {
      userData: Buffer.from(userData, 'base64').toString(), tags: JSON.stringify(inst?.Tags ?? []),
      events: JSON.stringify(await eventsFor(ns, 'with-secret')), orcaStdout: orca.stdout(), orcaStderr: orca.stderr(),
      agentLog: emulator.agentLog(inst?.InstanceId ?? ''),
    };
    for (const [where, text] of Object.entries(places)) expect(text.includes(secret), where).toBe(false);
    expect(places.userData).toContain('ORCA agent');
  }, 150_000);

  it('fails a pod with SpotInterrupted when its spot instance gets an interruption notice', async () => {
    await core().createNamespacedPod({ namespace: ns, body: shPod('spot-fail', 'sleep 600', { annotations: { 'orca.research/launch-type': 'spot' } }) });
    const running = await waitFor('the pod to run', phaseOf('spot-fail', 'Running'), 90_000, 1000);
    const [inst] = await instanceOf(running.metadata?.uid ?? '');
    const at = Date.now();
    emulator.injectSpotNotice(inst?.InstanceId ?? '');
    const failed = await waitFor('SpotInterrupted', async () => {
      const p = await podNow(ns, 'spot-fail');
      return p?.status?.reason === 'SpotInterrupted' ? p : undefined;
    }, 30_000, 500);
    process.stdout.write(`spot notice figures: ${JSON.stringify({ secondsToFailed: (Date.now() - at) / 1000 })}\n`);
    expect(failed.status?.phase).toBe('Failed');
    expect((await eventsFor(ns, 'spot-fail')).map((e) => e.reason)).toContain('SpotInterrupted');
  }, 150_000);

  it('relaunches a pod annotated on-interruption: relaunch on a new instance', async () => {
    await core().createNamespacedPod({ namespace: ns, body: shPod('spot-again', 'sleep 600', { annotations: { 'orca.research/launch-type': 'spot', 'orca.research/on-interruption': 'relaunch' } }) });
    const running = await waitFor('the pod to run', phaseOf('spot-again', 'Running'), 90_000, 1000);
    const uid = running.metadata?.uid ?? '';
    const [first] = await instanceOf(uid);
    emulator.injectSpotNotice(first?.InstanceId ?? '');
    const second = await waitFor('a second instance running the pod', async () => {
      const all = await instanceOf(uid);
      return all.find((i) => i.InstanceId !== first?.InstanceId && i.State?.Name === 'running');
    }, 60_000, 1000);
    await waitFor('the pod to run again', async () => {
      const p = await podNow(ns, 'spot-again');
      return p?.status?.phase === 'Running' && p.status.podIP === second.PrivateIpAddress ? p : undefined;
    }, 60_000, 1000);
    expect((await instanceOf(uid)).find((i) => i.InstanceId === first?.InstanceId)?.State?.Name).toBe('terminated');
  }, 150_000);

  it('stops a deleted pod\'s containers through the agent (SIGTERM) before terminating its instance', async () => {
    await core().createNamespacedPod({ namespace: ns, body: shPod('long', 'sleep 600', { grace: 20 }) });
    const running = await waitFor('the pod to run', phaseOf('long', 'Running'), 90_000, 1000);
    const [inst] = await instanceOf(running.metadata?.uid ?? '');
    const id = inst?.InstanceId ?? '';
    await core().deleteNamespacedPod({ name: 'long', namespace: ns });
    await waitFor('the agent to stop the container', () => Promise.resolve(emulator.dockerCalls(id).some((c) => c.join(' ') === 'stop -t 20 orca-main-0') ? true : undefined), 30_000, 500);
    await waitFor('the pod to be gone', async () => ((await podNow(ns, 'long')) === undefined ? true : undefined), 60_000, 500);
    expect((await eventsFor(ns, 'long')).map((e) => e.reason)).not.toContain('DeletionGracePeriodExpired');
    await waitFor('the instance to be terminated', async () => ((await instanceOf(running.metadata?.uid ?? ''))[0]?.State?.Name === 'terminated' ? true : undefined), 30_000, 500);
  }, 150_000);
});
