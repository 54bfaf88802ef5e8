import { afterEach, describe, expect, it } from 'vitest';
import { PodRejectedError } from '../domain/errors.js';
import { createLogger } from '../observability/logger.js';
import type { ImageSource, SpotPriceSource } from '../ports/catalog.js';
import { FakeClock } from '../../test/fakes/clock.js';
import { assignments, configs, env, images, imagesSeen, p5, p5Spot, pod, ref, reservations, settings, spot, stopProviders } from '../../test/fakes/ec2-env.js';
import { FakePods } from '../../test/fakes/kube.js';
import { FakeLauncher } from '../../test/fakes/launcher.js';
import { Ec2Provider } from './ec2-provider.js';

afterEach(stopProviders);

describe('Ec2Provider', () => {
  it('moves past spot capacity errors to on-demand in the second zone, with an Event per attempt', async () => {
    const launcher = Object.assign(new FakeLauncher(), { failures: {
      'spot:p5.48xlarge:subnet-a': ['capacity', 'InsufficientInstanceCapacity'], 'spot:p5.48xlarge:subnet-b': ['capacity', 'InsufficientInstanceCapacity'],
      'on-demand:p5.48xlarge:subnet-a': ['capacity', 'InsufficientInstanceCapacity'],
    } });
    const e = env({}, launcher);
    await e.create(pod(p5Spot));
    expect(e.launcher.specs.map((s) => `${s.capacity}/${s.subnetId}`)).toEqual(['spot/subnet-a', 'spot/subnet-b', 'on-demand/subnet-a', 'on-demand/subnet-b']);
    expect(e.events.events.map((x) => `${x.type} ${x.reason}: ${x.message}`)).toEqual([
      'Warning InstanceUnavailable: trying p5.48xlarge spot in us-east-1a: InsufficientInstanceCapacity',
      'Warning InstanceUnavailable: trying p5.48xlarge spot in us-east-1b: InsufficientInstanceCapacity',
      'Warning InstanceUnavailable: trying p5.48xlarge on-demand in us-east-1a: InsufficientInstanceCapacity',
      'Normal InstanceLaunched: p5.48xlarge on-demand in us-east-1b: launched i-0001',
    ]);
    expect(await e.provider.getPodStatus(ref)).toMatchObject({ phase: 'Pending', containerStatuses: [{ state: { waiting: { reason: 'InstanceLaunching' } } }] });
  });

  it('launches with the pod\'s identity in tags, generic user data, the GPU image and a unique ClientToken per attempt', async () => {
    const e = env();
    await e.create(pod({ 'orca.research/instance-type': 'p5.48xlarge', 'orca.research/budget-namespace': 'vision-lab' }));
    const s = e.launcher.specs[0];
    expect(s).toMatchObject({ clientToken: 'orca-uid-1-0', count: 1, imageId: 'ami-0abc', rootDeviceName: '/dev/sda1', rootVolumeGiB: 200, userData: settings.userData });
    expect(s?.tags).toEqual({
      team: 'vision', Name: 'orca-lab-train-0', 'orca.research/cluster': 'lab', 'orca.research/node': 'orca-aws',
      'orca.research/pod-namespace': 'lab', 'orca.research/pod-name': 'train-0', 'orca.research/pod-uid': 'uid-1', 'orca.research/budget-namespace': 'vision-lab', 'orca.research/on-interruption': 'fail',
      'orca.research/launch-key': expect.stringMatching(/^[0-9a-f]{16}$/) as unknown,
    });
    expect(e.launcher.tagged).toEqual([]);
    expect(imagesSeen.at(-1)).toBe('/aws/service/deeplearning/gpu');
  });

  it('never launches twice for one pod, also after a restart that finds the instance by its tags', async () => {
    const e = env();
    await e.create(pod({ 'orca.research/instance-type': 'p5.48xlarge' }));
    await e.create(pod({ 'orca.research/instance-type': 'p5.48xlarge' }));
    const again = env({}, e.launcher);
    await again.create(pod({ 'orca.research/instance-type': 'p5.48xlarge' }));
    expect(e.launcher.specs).toHaveLength(1);
    expect((await again.provider.listPods()).map((p) => p.ref)).toEqual([ref]);
  });

  it.each([
    [{ 'orca.research/instance-type': 'p5.48xlarge', 'orca.research/launch-type': 'cheap' }, 'InvalidAnnotation', 'orca.research/launch-type: "cheap" expected a comma-separated order of reserved, spot, on-demand; "cheap" is not one'],
    [{ 'orca.research/instance-type': 'p9.96xlarge' }, 'NoInstanceType', 'p9.96xlarge is not in the instance catalog'],
    [{}, 'InvalidInstanceSelection', 'the pod must name orca.research/instance-type (or orca.research/workload-template)'],
  ])('rejects %j as %s without launching', async (annotations, reason, message) => {
    const e = env();
    await expect(e.provider.createPod(pod(annotations))).rejects.toEqual(new PodRejectedError(reason, message));
    expect(e.launcher.specs).toEqual([]);
  });

  it('fails a pod at a quota error with an Event, without trying other offerings', async () => {
    const quota = env({}, Object.assign(new FakeLauncher(), { failures: { 'on-demand:p5.48xlarge:subnet-a': ['quota', 'VcpuLimitExceeded'] } }));
    await quota.create(pod({ 'orca.research/instance-type': 'p5.48xlarge' }));
    expect(quota.launcher.specs).toHaveLength(1);
    expect(await quota.provider.getPodStatus(ref)).toMatchObject({ phase: 'Failed', reason: 'QuotaExceeded', provisioningFailure: { reason: 'QuotaExceeded' } });
    expect(quota.events.events.map((x) => x.reason)).toEqual(['InstanceUnavailable', 'QuotaExceeded']);
  });

  it('waits and tries again when there is no capacity anywhere, and fails the pod after five rounds', async () => {
    const none = env({ subnets: [{ zone: 'us-east-1a', subnetId: 'subnet-a' }], timings: { unavailableTtlMs: 5000 } },
      Object.assign(new FakeLauncher(), { failures: { 'on-demand:p5.48xlarge:subnet-a': ['capacity', 'InsufficientInstanceCapacity'] } }));
    await none.create(pod({ 'orca.research/instance-type': 'p5.48xlarge' }));
    expect(await none.provider.getPodStatus(ref)).toMatchObject({
      phase: 'Pending',
      provisioningFailure: { reason: 'NoCapacity', message: 'no capacity: trying p5.48xlarge on-demand in us-east-1a: InsufficientInstanceCapacity; trying again in 10s (round 2 of 5)' },
    });
    for (const wait of [10_000, 20_000, 40_000, 80_000]) {
      await none.clock.advance(wait);
      await none.provider.flush();
    }
    expect(none.launcher.specs.map((s) => s.clientToken)).toEqual(['orca-uid-1-0', 'orca-uid-1-r1-0', 'orca-uid-1-r2-0', 'orca-uid-1-r3-0', 'orca-uid-1-r4-0']);
    expect(await none.provider.getPodStatus(ref)).toMatchObject({ phase: 'Failed', reason: 'NoCapacity' });
    expect(none.events.events.filter((x) => x.reason === 'NoCapacity')).toHaveLength(5);
  });

  it('does not count a round in which every offering was still hidden after running out of capacity', async () => {
    const none = env({ subnets: [{ zone: 'us-east-1a', subnetId: 'subnet-a' }], timings: { unavailableTtlMs: 60_000 } },
      Object.assign(new FakeLauncher(), { failures: { 'on-demand:p5.48xlarge:subnet-a': ['capacity', 'InsufficientInstanceCapacity'] } }));
    await none.create(pod({ 'orca.research/instance-type': 'p5.48xlarge' }));
    await none.clock.advance(10_000);
    expect(await none.provider.getPodStatus(ref)).toMatchObject({ phase: 'Pending', provisioningFailure: { message: expect.stringContaining('every offering recently ran out of capacity: p5.48xlarge on-demand in us-east-1a') as unknown } });
    expect(none.launcher.specs).toHaveLength(1);
  });

  it('follows the instance through polls, and terminates it on delete', async () => {
    const e = env();
    await e.create(pod({ 'orca.research/instance-type': 'p5.48xlarge' }));
    e.launcher.setState('i-0001', 'running');
    await e.provider.poll();
    expect(await e.provider.getPodStatus(ref)).toMatchObject({ phase: 'Pending', podIP: '10.0.0.9', containerStatuses: [{ state: { waiting: { reason: 'WaitingForAgent' } } }] });
    expect(e.notified.filter((k) => k === 'lab/train-0').length).toBeGreaterThanOrEqual(2);
    await e.provider.deletePod(ref);
    await e.provider.deletePod(ref);
    await e.provider.flush();
    expect(e.launcher.terminated).toEqual(['i-0001']);
    expect(await e.provider.getPodStatus(ref)).toMatchObject({ phase: 'Failed', containerStatuses: [{ state: { terminated: { exitCode: 143, reason: 'Terminated' } } }] });
    expect(await e.provider.listPods()).toEqual([]);
  });

  it('fails the pod with SpotInterrupted when EC2 takes its spot instance back', async () => {
    const launcher = Object.assign(new FakeLauncher(), { failures: {} });
    const e = env({}, launcher);
    await e.create(pod({ 'orca.research/instance-type': 'p5.48xlarge', 'orca.research/launch-type': 'spot' }));
    e.launcher.setState('i-0001', 'terminated');
    await e.provider.poll();
    expect(await e.provider.getPodStatus(ref)).toMatchObject({ phase: 'Failed', reason: 'SpotInterrupted', message: 'instance i-0001 is terminated' });
  });

  it('in dry-run mode checks the launch with EC2 and fails the pod saying nothing was launched', async () => {
    const e = env({ dryRun: true });
    await e.create(pod({ 'orca.research/instance-type': 'p5.48xlarge' }));
    expect(await e.provider.getPodStatus(ref)).toMatchObject({
      phase: 'Failed', reason: 'DryRun', message: 'dry run passed for p5.48xlarge on-demand in us-east-1a; nothing was launched (dryRun is on)',
    });
    expect(e.launcher.specs[0]?.dryRun).toBe(true);
    expect(e.launcher.instances.size).toBe(0);
  });
});

describe('Ec2Provider spot prices', () => {
  it('reads spot prices once for a burst, not once per pod', async () => {
    let reads = 0;
    const counting: SpotPriceSource = { spotPrices: (t) => { reads++; return spot.spotPrices(t); } };
    const { provider } = env({}, new FakeLauncher(), new FakeClock(), { spot: counting });
    for (let i = 0; i < 5; i++) await provider.createPod(pod(p5Spot, `uid-${i}`));
    expect(reads).toBe(1);
  });
});

describe('Ec2Provider max-lifetime', () => {
  it('terminates an instance that outlives the pod\'s max-lifetime and fails the pod, also after a restart', async () => {
    const launcher = new FakeLauncher();
    const clock = new FakeClock();
    const events = new FakePods();
    const make = () => new Ec2Provider({
      launcher, images, spot, reservations, events, clock, log: createLogger('silent'), settings, config: configs, assignments, signals: { stop: () => Promise.resolve() },
      catalog: { types: new Map([['p5.48xlarge', p5]]), onDemandUsdPerHour: { 'p5.48xlarge': 55.04 } },
    });
    const first = make();
    void first.poll();
    await first.createPod(pod({ 'orca.research/instance-type': 'p5.48xlarge', 'orca.research/max-lifetime': '2h' }));
    await first.flush();
    expect(launcher.specs[0]?.tags['orca.research/max-lifetime-seconds']).toBe('7200');
    launcher.setState('i-0001', 'running');
    const restarted = make();
    await clock.advance(7199_000);
    await restarted.poll();
    expect(launcher.terminated).toEqual([]);
    await clock.advance(1000);
    await restarted.poll();
    await restarted.flush();
    expect(launcher.terminated).toEqual(['i-0001']);
    expect(await restarted.getPodStatus(ref)).toMatchObject({ phase: 'Failed', reason: 'MaxLifetimeExceeded' });
    expect(events.events.map((e) => e.reason)).toContain('MaxLifetimeExceeded');
    await restarted.poll();
    await restarted.flush();
    expect(launcher.terminated).toEqual(['i-0001']);
  });
});

describe('Ec2Provider images', () => {
  it('resolves each boot image once for a burst, and again after a failed resolution', async () => {
    const asked: string[] = [];
    let fail = true;
    const counting: ImageSource = { resolve: (p) => {
      asked.push(p);
      if (fail) { fail = false; return Promise.reject(new Error('ssm throttled')); }
      return images.resolve(p);
    } };
    const { provider } = env({}, new FakeLauncher(), new FakeClock(), { images: counting });
    await expect(provider.createPod(pod({ 'orca.research/instance-type': 'p5.48xlarge' }, 'uid-0'))).rejects.toThrow('ssm throttled');
    for (let i = 1; i < 6; i++) await provider.createPod(pod({ 'orca.research/instance-type': 'p5.48xlarge' }, `uid-${i}`));
    expect(asked).toEqual(['/aws/service/deeplearning/gpu', '/aws/service/deeplearning/gpu']);
  });
});
