// ORCA killed (SIGKILL) and restarted while its pods run on emulated instances (the real agent):
// a finished pod still ends Succeeded with its image and its instance terminated, and a Job burst
// with kills at random offsets completes with one instance per pod and nothing left running. The
// offsets come from a printed seed (ORCA_E2E_SEED=<seed> re-runs the same ones).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EC2Client } from '@aws-sdk/client-ec2';
import { BatchV1Api, type V1Job, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FaultProxy } from '../fault-proxy/fault-proxy.js';
import { InstanceEmulator } from '../instance-emulator/emulator.js';
import { clusterInstances, defaultSubnets, startEc2Node, type ClusterInstance, type Ec2NodeOptions } from './ec2-node.js';
import { awsClientConfig, createNamespace, kubeConfig, waitFor } from './fixture.js';
import type { OrcaProcess } from './orca-process.js';
import { core, podNow, shPod } from './pods.js';
import { binaries } from './testbed/paths.js';
import { seeded as random } from '../fakes/random.js';

const ns = 'restart-burst';
const node = 'orca-restart-burst';
const clusterId = 'e2e-restart-burst';
const image = 'public.ecr.aws/docker/library/busybox:1.37';
/** The burst: pods in all, at most this many at a time (each an emulated instance with its agent), kills during it. */
const pods = 100;
const parallelism = 20;
const kills = 3;
/**
 * Kills fall within this many seconds of the Job's creation. The burst is bound by the agents' AWS
 * CLI calls (seven a pod, about 0.7 s of CPU each): about 280 s on two cores without kills and
 * 360 s with them; a lower parallelism is slower still.
 */
const burstWindowSeconds = 200;
/** The Job completes within this many seconds of its creation. */
const jobDeadlineSeconds = 420;
/** ORCA terminates an instance that never got a pod this long after its launch. */
const unassignedGraceSeconds = 60;
/** A kubelet reports a pod whose containers have all ended in its phase at the next status sync. */
const phaseLagSeconds = 30;
const seed = Number(process.env.ORCA_E2E_SEED ?? Math.floor(Math.random() * 2 ** 31));

let proxy: FaultProxy & { readonly url: string };
let emulator: InstanceEmulator;
let ec2: EC2Client;
let nodeOptions: Ec2NodeOptions;
/** Every ORCA process of the file, the current one last. */
const runs: OrcaProcess[] = [];
const orca = (): OrcaProcess | undefined => runs.at(-1);


/** `n` offsets in seconds after 10 s, one in each equal slot of the window, at least 10 s apart. */
function killOffsets(n: number, windowSeconds: number, next: () => number): number[] {
  const slot = (windowSeconds - 10) / n;
  return Array.from({ length: n }, (_, i) => Math.round(10 + i * slot + next() * (slot - 10)));
}

/** SIGKILL, then the same ORCA started again; resolves once it is ready. */
async function killAndRestart(): Promise<number> {
  expect(await orca()?.stop('SIGKILL')).toBeNull();
  const at = Date.now();
  runs.push(await startEc2Node(nodeOptions));
  return (Date.now() - at) / 1000;
}

/** When the last of the pod's containers ended; undefined while any has not. */
const containerEnd = (p: V1Pod | undefined): Date | undefined => {
  const statuses = p?.status?.containerStatuses ?? [];
  const ends = statuses.flatMap((c) => (c.state?.terminated?.finishedAt === undefined ? [] : [new Date(c.state.terminated.finishedAt).getTime()]));
  return ends.length > 0 && ends.length === statuses.length ? new Date(Math.max(...ends)) : undefined;
};

/** Milliseconds left until phaseLagSeconds after `ended` (at least one probe). */
const untilLag = (ended: Date): number => Math.max(1000, ended.getTime() + phaseLagSeconds * 1000 - Date.now());

/** A pod, its container state and its instance in one line, for failure messages. */
async function describePod(name: string): Promise<string> {
  const p = await podNow(ns, name);
  const c = p?.status?.containerStatuses?.[0];
  const inst = (await clusterInstances(ec2, clusterId)).filter((i) => i.podUid === p?.metadata?.uid);
  return JSON.stringify({
    phase: p?.status?.phase, image: c?.image, ready: c?.ready, state: c?.state,
    instances: inst.map((i) => ({ id: i.id, state: i.state, agent: i.tags['orca.research/state'], main: i.tags['orca.research/c/main'] })),
  });
}

/** Waits for `probe`; a timeout names what was seen last. */
async function waitSeeing<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, seen: () => Promise<string>): Promise<T> {
  try {
    return await waitFor(what, probe, timeoutMs, 1000);
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.message : String(e)}; last seen: ${await seen().catch(String)}`, { cause: e });
  }
}

beforeAll(async () => {
  const aws = awsClientConfig();
  ec2 = new EC2Client(aws);
  proxy = await FaultProxy.start(aws.endpoint);
  const subnets = await defaultSubnets(ec2);
  await createNamespace(ns);
  emulator = await InstanceEmulator.start({
    endpoint: aws.endpoint, region: aws.region, credentials: aws.credentials, clusterId,
    workDir: mkdtempSync(join(tmpdir(), 'orca-emulator-')), awsBin: binaries().awsCli, maxInstances: pods + 50,
  });
  // A restart while 20 emulated agents keep both cores busy took 26–50 s to ready in past runs: allow 150 s (the figures print the times).
  nodeOptions = { endpoint: proxy.url, node, clusterId, subnets: subnets.slice(0, 2), instances: { unassignedGraceSeconds }, readyTimeoutMs: 150_000 };
  runs.push(await startEc2Node(nodeOptions));
});
afterAll(async () => {
  await orca()?.stop('SIGTERM');
  await emulator.stop();
  await proxy.stop();
});
beforeEach(({ onTestFailed }) => {
  onTestFailed(() => {
    const problems = runs.map((r, i) => `--- ORCA run ${i}: ${r.logLines().filter((l) => Number(l.level) >= 40).slice(-20).map((l) => JSON.stringify(l)).join('\n')}\n${r.stderr().slice(-2000)}`);
    process.stderr.write(`\n${problems.join('\n')}\nemulator errors: ${JSON.stringify(emulator.errors.slice(-20))}\nseed ${seed}\n`);
  });
});

describe('ORCA killed and restarted while pods run on emulated instances', () => {
  it('ends a pod that finished after the restart Succeeded, with its image, and terminates its instance', async () => {
    await core().createNamespacedPod({ namespace: ns, body: shPod('one', node, 'sleep 25') });
    await waitSeeing('the pod to run', async () => ((await podNow(ns, 'one'))?.status?.phase === 'Running' ? true : undefined), 90_000, () => describePod('one'));
    await killAndRestart();
    const ended = await waitSeeing('the container to end', async () => containerEnd(await podNow(ns, 'one')), 60_000, () => describePod('one'));
    const done = await waitSeeing(`the pod to be Succeeded within ${phaseLagSeconds}s of its container's end`, async () => {
      const p = await podNow(ns, 'one');
      return p?.status?.phase === 'Succeeded' ? p : undefined;
    }, untilLag(ended), () => describePod('one'));
    const succeeded = (Date.now() - ended.getTime()) / 1000;
    const c = done.status?.containerStatuses?.[0];
    expect(c?.image).toBe(image);
    expect(c?.state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    await waitSeeing('the instance to be terminated', async () => {
      const mine = (await clusterInstances(ec2, clusterId)).filter((i) => i.podUid === done.metadata?.uid);
      return mine.length === 1 && mine[0]?.state === 'terminated' ? true : undefined;
    }, untilLag(ended), () => describePod('one'));
    process.stdout.write(`restart single pod figures: ${JSON.stringify({ secondsContainerEndToSucceeded: succeeded, secondsContainerEndToTerminated: (Date.now() - ended.getTime()) / 1000 })}\n`);
  }, 180_000);

  it(`completes a ${pods}-pod Job with ORCA killed ${kills} times during the burst: one instance per pod, all terminated`, async () => {
    const offsets = killOffsets(kills, burstWindowSeconds, random(seed));
    process.stdout.write(`restart burst: seed ${seed}, kill offsets ${JSON.stringify(offsets)} s\n`);
    const before = new Set((await clusterInstances(ec2, clusterId)).map((i) => i.id));
    proxy.reset();
    const started = Date.now();
    await createJob('sweep');
    const killedAt: number[] = [];
    const secondsToReady: number[] = [];
    for (const at of offsets) {
      await sleep(Math.max(0, started + at * 1000 - Date.now()));
      killedAt.push(Math.round((Date.now() - started) / 100) / 10);
      secondsToReady.push(await killAndRestart());
    }
    const list = await waitForJob('sweep', started);
    const jobSeconds = (Date.now() - started) / 1000;
    expect(list.filter((p) => p.status?.phase !== 'Succeeded').map((p) => p.metadata?.name)).toEqual([]);
    expect(list).toHaveLength(pods);
    const all = await waitSeeing('every instance of the cluster to be terminated', async () => {
      const l = await clusterInstances(ec2, clusterId);
      return l.every((i) => i.state === 'terminated') ? l : undefined;
    }, (unassignedGraceSeconds + 60) * 1000, async () => JSON.stringify((await clusterInstances(ec2, clusterId)).filter((i) => i.state !== 'terminated')));
    const launched = all.filter((i) => !before.has(i.id));
    const perUid = countBy(launched.filter((i) => i.podUid !== undefined), (i) => i.podUid ?? '');
    const figures = {
      seed, offsets: killedAt, restartSecondsToReady: secondsToReady, pods, parallelism, instancesLaunched: launched.length,
      instancesNeverGivenAPod: launched.filter((i) => i.podUid === undefined).length,
      instancesPerUidMax: Math.max(...perUid.values()), secondsToJobComplete: jobSeconds, secondsToAllTerminated: (Date.now() - started) / 1000,
      runInstancesCalls: proxy.count('RunInstances'), terminateInstancesCalls: proxy.count('TerminateInstances'), createTagsCalls: proxy.count('CreateTags'),
    };
    process.stdout.write(`restart burst figures: ${JSON.stringify(figures)}\n`);
    expect([...perUid].filter(([, n]) => n > 1)).toEqual([]);
    expect(new Set(perUid.keys())).toEqual(new Set(list.map((p) => p.metadata?.uid)));
  }, 560_000);
});

function countBy(items: readonly ClusterInstance[], key: (i: ClusterInstance) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return m;
}

async function createJob(name: string): Promise<void> {
  const template = shPod('unused', node, 'sleep 2');
  const job: V1Job = {
    metadata: { name },
    spec: { completions: pods, parallelism, backoffLimit: 0, template: { metadata: { annotations: template.metadata?.annotations ?? {} }, spec: template.spec ?? { containers: [] } } },
  };
  await kubeConfig().makeApiClient(BatchV1Api).createNamespacedJob({ namespace: ns, body: job });
}

/**
 * Waits for the Job's Complete condition and returns its pods. Fails at once when it fails, or when
 * a pod stays Running more than phaseLagSeconds after all its containers ended (it would never
 * complete).
 */
async function waitForJob(name: string, started: number): Promise<V1Pod[]> {
  const batch = kubeConfig().makeApiClient(BatchV1Api);
  let stuck: string[] = [];
  let seen = '';
  const list = await waitFor('the Job to complete', async () => {
    const job = await batch.readNamespacedJob({ name, namespace: ns });
    const items = (await core().listNamespacedPod({ namespace: ns, labelSelector: `job-name=${name}` })).items;
    const condition = job.status?.conditions?.find((c) => c.status === 'True' && (c.type === 'Complete' || c.type === 'Failed'))?.type;
    seen = JSON.stringify({ succeeded: job.status?.succeeded, failed: job.status?.failed, active: job.status?.active, condition });
    stuck = items.filter((p) => p.status?.phase === 'Running' && Date.now() - (containerEnd(p)?.getTime() ?? Date.now()) > phaseLagSeconds * 1000)
      .map((p) => `${p.metadata?.name ?? ''} (ended ${containerEnd(p)?.toISOString() ?? ''})`);
    return condition !== undefined || stuck.length > 0 ? { condition, items } : undefined;
  }, Math.max(60_000, started + jobDeadlineSeconds * 1000 - Date.now()), 2000).catch((e: unknown) => {
    throw new Error(`${e instanceof Error ? e.message : String(e)}; last seen: ${seen}`, { cause: e });
  });
  expect(stuck, `pods Running more than ${phaseLagSeconds}s after all their containers ended (Job ${seen})`).toEqual([]);
  expect(list.condition).toBe('Complete');
  return list.items;
}
