// Regression tests for defects of the EC2 provider that cost money or stall the node: each failed
// before its fix. They go through the provider's face only (test/fakes/ec2-env.ts).
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { PodRejectedError } from '../domain/errors.js';
import type { Pod, PodKey } from '../domain/pod.js';
import { createLogger } from '../observability/logger.js';
import { env, FakeSignals, pod, ref, stopProviders } from '../../test/fakes/ec2-env.js';
import { FakeClock } from '../../test/fakes/clock.js';
import { FakeLauncher } from '../../test/fakes/launcher.js';
import { agentTags } from '../../test/fakes/builders.js';

afterEach(stopProviders);

const p5 = { 'orca.research/instance-type': 'p5.48xlarge' };
const throttled = (): Error => Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded' });
const never = (p: Pod): Pod => ({ ...p, spec: { ...p.spec, restartPolicy: 'Never' } });
const report = (launcher: FakeLauncher, id: string, tags: Record<string, string>): void => { void launcher.tag([id], tags); };
const runningTags = agentTags.running;
const finishedTags = agentTags.exited(0);

/** Resolves with 'hung' when `p` has not settled within `ms` of real time. */
const within = <T>(p: Promise<T>, ms = 1000): Promise<T | 'hung'> => Promise.race([p, new Promise<'hung'>((r) => setTimeout(() => { r('hung'); }, ms))]);

async function runningPod(annotations: Record<string, string> = p5, over: Parameters<typeof env>[0] = {}, launcher = new FakeLauncher()) {
  const e = env(over, launcher, new FakeClock(), { signals: new FakeSignals() });
  await e.create(never(pod(annotations)));
  e.launcher.setState('i-0001', 'running');
  return e;
}

describe('EC2 provider defects', () => {
  it('terminates a finished pod\'s instance at the next poll after a failed TerminateInstances (defect 1)', async () => {
    const e = await runningPod();
    report(e.launcher, 'i-0001', finishedTags);
    e.launcher.terminateFailures.push(throttled());
    await e.provider.poll();
    await e.flush();
    expect(e.launcher.instances.get('i-0001')?.state).toBe('running');
    await e.provider.poll();
    await e.flush();
    expect(e.launcher.instances.get('i-0001')?.state).toBe('terminated');
    expect(await e.provider.getPodStatus(ref)).toMatchObject({ phase: 'Succeeded' });
  });

  it('fails a pod annotated on-interruption: fail although the configured default is relaunch (defect 2)', async () => {
    const e = await runningPod({ ...p5, 'orca.research/launch-type': 'spot', 'orca.research/on-interruption': 'fail' }, { defaultOnInterruption: 'relaunch' });
    report(e.launcher, 'i-0001', { ...runningTags, 'orca.research/state': 'v1 Running spot-interruption:terminate -' });
    await e.provider.poll();
    await e.flush();
    expect(await e.provider.getPodStatus(ref)).toMatchObject({ phase: 'Failed', reason: 'SpotInterrupted' });
    expect(e.launcher.specs).toHaveLength(1);
  });

  it('keeps following every other pod when one pod\'s terminate keeps failing (defect 3)', async () => {
    const e = env({}, new FakeLauncher(), new FakeClock(), { signals: new FakeSignals() });
    await e.create(never(pod({ ...p5, 'orca.research/max-lifetime': '1h' }, 'uid-a', 'old')));
    await e.create(never(pod(p5, 'uid-b', 'done')));
    for (const id of ['i-0001', 'i-0002']) e.launcher.setState(id, 'running');
    e.launcher.terminateRefused.add('i-0001');
    await e.clock.advance(3600_000);
    report(e.launcher, 'i-0002', finishedTags);
    await expect(e.provider.poll()).resolves.toBeUndefined();
    await e.flush();
    expect(e.launcher.instances.get('i-0002')?.state).toBe('terminated');
    expect(await e.provider.getPodStatus({ key: 'lab/done' as PodKey, uid: 'uid-b' })).toMatchObject({ phase: 'Succeeded' });
  });

  it('lifts termination protection before it terminates a protected instance, so its deletion ends (defect 3)', async () => {
    const e = await runningPod({ ...p5, 'orca.research/termination-protection': 'true' });
    expect(e.launcher.protectedIds.has('i-0001')).toBe(true);
    await expect(e.provider.deletePod(ref)).resolves.toBeUndefined();
    await e.flush();
    await e.provider.poll();
    expect(e.launcher.unprotected).toEqual(['i-0001']);
    expect(e.launcher.instances.get('i-0001')?.state).toBe('terminated');
    expect(await e.provider.getPodStatus(ref)).toMatchObject({ phase: 'Failed', containerStatuses: [{ state: { terminated: { exitCode: 143 } } }] });
  });

  it('gives up waiting for the first poll when the signal aborts, and stops although EC2 never answers (defect 4)', async () => {
    const launcher = Object.assign(new FakeLauncher(), { listHangs: true });
    const e = env({}, launcher);
    const stop = new AbortController();
    const create = e.provider.createPod(pod(p5), stop.signal);
    const list = e.provider.listPods(stop.signal);
    const run = e.provider.run(stop.signal);
    stop.abort();
    expect(await within(create.catch(() => 'rejected'))).toBe('rejected');
    expect(await within(list.catch(() => 'rejected'))).toBe('rejected');
    expect(await within(run.then(() => 'stopped'))).toBe('stopped');
  });

  it('is not ready until its first instance poll succeeded, and says why (defect 4)', async () => {
    const launcher = new FakeLauncher();
    launcher.listError = Object.assign(new Error('Could not connect to the endpoint URL'), { name: 'EndpointError' });
    const e = env({}, launcher);
    await expect(e.provider.poll()).rejects.toThrow();
    expect(e.provider.notReadyReasons()).toEqual(['EC2 instances not listed yet: EndpointError: Could not connect to the endpoint URL']);
    launcher.listError = undefined;
    await e.provider.poll();
    expect(e.provider.notReadyReasons()).toEqual([]);
  });

  it('keeps nothing of 10 000 pods that came and went (defect 5)', async () => {
    const e = env({ batchMax: 1000 }, new FakeLauncher(), new FakeClock(), { signals: new FakeSignals() });
    const refs = Array.from({ length: 10_000 }, (_, i) => ({ key: `lab/p-${i}` as PodKey, uid: `uid-${i}` }));
    for (const r of refs) await e.provider.createPod(never(pod(p5, r.uid, r.key.slice(4))));
    await e.flush();
    for (const id of e.launcher.instances.keys()) e.launcher.setState(id, 'running');
    await e.provider.poll();
    for (const r of refs) await e.provider.deletePod(r);
    await e.flush();
    await e.provider.poll();
    await e.provider.poll();
    const sizes = e.provider.memory();
    expect(Object.keys(sizes).length).toBeGreaterThan(2);
    expect(Object.values(sizes).every((n) => n === 0), JSON.stringify(sizes)).toBe(true);
    expect(e.launcher.instances.size).toBe(10_000);
    expect([...e.launcher.instances.values()].every((i) => i.state === 'terminated')).toBe(true);
  }, 60_000);

  const subnets = [{ zone: 'us-east-1a', subnetId: 'subnet-0000000a' }, { zone: 'us-east-1b', subnetId: 'subnet-0000000b' }];

  it('launches only into the subnet a pod names, also when it has no capacity there (defect 6)', async () => {
    const launcher = Object.assign(new FakeLauncher(), { failures: { 'on-demand:p5.48xlarge:subnet-0000000b': ['capacity', 'InsufficientInstanceCapacity'] } });
    const e = env({ subnets }, launcher);
    await e.create(pod({ ...p5, 'orca.research/subnet': 'subnet-0000000b' }));
    expect(e.launcher.specs.map((s) => s.subnetId)).toEqual(['subnet-0000000b']);
    expect(await e.provider.getPodStatus(ref)).toMatchObject({ phase: 'Pending', provisioningFailure: { reason: 'NoCapacity' } });
  });

  it.each([
    [{ 'orca.research/subnet': 'subnet-0000000c' }, 'orca.research/subnet: "subnet-0000000c" is not one of the configured subnets (aws.subnets): subnet-0000000a (us-east-1a), subnet-0000000b (us-east-1b)'],
    [{ 'orca.research/zone': 'us-east-1c' }, 'orca.research/zone: "us-east-1c" has no configured subnet (aws.subnets has us-east-1a, us-east-1b)'],
    [{ 'orca.research/zone': 'use1-az2' }, 'orca.research/zone: "use1-az2" is an Availability Zone id; name the zone instead (aws.subnets has us-east-1a, us-east-1b)'],
    [{ 'orca.research/zone': 'us-east-1a', 'orca.research/subnet': 'subnet-0000000b' }, 'orca.research/subnet: "subnet-0000000b" is in us-east-1b, not in orca.research/zone us-east-1a'],
  ])('refuses %j with a message that says what to do, launching nothing (defect 6)', async (annotations, message) => {
    const e = env({ subnets });
    await expect(e.provider.createPod(pod({ ...p5, ...annotations }))).rejects.toEqual(new PodRejectedError('InvalidAnnotation', message));
    await e.flush();
    expect(e.launcher.specs).toEqual([]);
  });

  it('logs the provider\'s decisions for a pod annotated debug: true at debug level, and for no other pod (defect 6)', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done(); } });
    const e = env({}, new FakeLauncher(), new FakeClock(), { log: createLogger('info', sink) });
    await e.create(pod({ ...p5, 'orca.research/debug': 'true' }, 'uid-d', 'noisy'));
    await e.create(pod(p5, 'uid-q', 'quiet'));
    const debug = lines.filter((l) => l.level === 20);
    expect(debug.length).toBeGreaterThan(0);
    expect(new Set(debug.map((l) => l.pod))).toEqual(new Set(['lab/noisy']));
  });

  it('terminates the instances of a deleted 500-pod Job in one TerminateInstances call (defect 7)', async () => {
    const e = env({ batchMax: 1000 }, new FakeLauncher(), new FakeClock(), { signals: new FakeSignals() });
    const refs = Array.from({ length: 500 }, (_, i) => ({ key: `lab/job-${i}` as PodKey, uid: `uid-${i}` }));
    for (const r of refs) await e.provider.createPod(pod(p5, r.uid, r.key.slice(4)));
    await e.flush();
    for (const id of e.launcher.instances.keys()) e.launcher.setState(id, 'running');
    await e.provider.poll();
    for (const r of refs) await e.provider.deletePod(r);
    await e.flush();
    expect(e.launcher.terminateCalls.map((c) => c.length)).toEqual([500]);
  });
});

describe('a restarted EC2 provider (issue 16)', () => {
  async function restartedWhileRunning(podLookup: ((key: PodKey) => Pod | undefined) | undefined) {
    const first = await runningPod();
    report(first.launcher, 'i-0001', runningTags);
    await first.provider.poll();
    stopProviders();
    const again = env({}, first.launcher, new FakeClock(), { signals: new FakeSignals(), ...(podLookup === undefined ? {} : { podLookup }) });
    await again.provider.poll();
    report(again.launcher, 'i-0001', finishedTags);
    await again.provider.poll();
    await again.flush();
    await again.provider.poll();
    return again;
  }

  it('reports a restartPolicy: Never pod Succeeded once its container ended, with its image, and terminates its instance', async () => {
    const e = await restartedWhileRunning((key) => (key === ref.key ? never(pod(p5)) : undefined));
    expect(await e.provider.getPodStatus(ref)).toMatchObject({ phase: 'Succeeded', containerStatuses: [{ name: 'main', image: 'pytorch', state: { terminated: { exitCode: 0, reason: 'Completed' } } }] });
    expect(e.launcher.instances.get('i-0001')?.state).toBe('terminated');
  });

  it('ends the pod when its agent reports it finished, even before the pod object is known again', async () => {
    const e = await restartedWhileRunning(undefined);
    expect(await e.provider.getPodStatus(ref)).toMatchObject({ phase: 'Succeeded' });
    expect(e.launcher.instances.get('i-0001')?.state).toBe('terminated');
  });
});
