// Batched launches: identical pods share one RunInstances call, each instance is given its pod by
// tags afterwards, a partly filled offering moves the rest on, and a launch cut off before its tags
// were written is taken over after a restart (or terminated when no pod wants it).
import { afterEach, describe, expect, it } from 'vitest';
import type { PodKey } from '../domain/pod.js';
import { FakeClock } from '../../test/fakes/clock.js';
import { env, pod, settings, stopProviders } from '../../test/fakes/ec2-env.js';
import { FakeLauncher } from '../../test/fakes/launcher.js';

afterEach(stopProviders);

const p5 = { 'orca.research/instance-type': 'p5.48xlarge' };
const pods = (n: number, from = 0) => Array.from({ length: n }, (_, i) => pod(p5, `uid-${i + from}`, `train-${i + from}`));
const refOf = (i: number) => ({ key: `lab/train-${i}` as PodKey, uid: `uid-${i}` });

describe('Ec2Provider batched launches', () => {
  it('launches ten identical pods with one RunInstances call and gives each its own instance by tags', async () => {
    const e = env();
    for (const p of pods(10)) await e.provider.createPod(p);
    expect(await e.provider.getPodStatus(refOf(3))).toMatchObject({ phase: 'Pending', containerStatuses: [{ state: { waiting: { reason: 'InstanceLaunching', message: 'waiting to launch p5.48xlarge' } } }] });
    await e.provider.flush();
    expect(e.launcher.specs.map((s) => [s.count, s.tags['orca.research/pod-uid']])).toEqual([[10, undefined]]);
    expect(e.launcher.specs[0]?.clientToken).toMatch(/^orca-b-[0-9a-f]{32}-0-0$/);
    const given = new Map(e.launcher.tagged.map((t) => [t.ids[0], t.tags['orca.research/pod-uid']]));
    expect(given.size).toBe(10);
    expect(new Set(given.values()).size).toBe(10);
    for (let i = 0; i < 10; i++) {
      const status = await e.provider.getPodStatus(refOf(i));
      expect(status?.containerStatuses?.[0]?.state?.waiting?.message).toMatch(/^p5\.48xlarge in us-east-1a \(i-00\d\d\) is starting$/);
    }
    const launched = e.events.events.filter((x) => x.reason === 'InstanceLaunched');
    expect(launched).toHaveLength(10);
    expect(launched[0]?.message).toMatch(/^p5\.48xlarge on-demand in us-east-1a: launched i-\d+ \(one of 10 launched together\)$/);
  });

  it('sends a batch when its window ends, without being asked', async () => {
    const clock = new FakeClock();
    const e = env({ batchWindowMs: 2000 }, new FakeLauncher(), clock);
    for (const p of pods(3)) await e.provider.createPod(p);
    await clock.advance(1999);
    expect(e.launcher.specs).toEqual([]);
    await clock.advance(1);
    await e.provider.flush();
    expect(e.launcher.specs.map((s) => s.count)).toEqual([3]);
  });

  it('sends a full batch at once, and keeps pods with different launches apart', async () => {
    const e = env({ batchMax: 4 });
    for (const p of pods(6)) await e.provider.createPod(p);
    await e.provider.createPod(pod({ ...p5, 'orca.research/max-lifetime': '1h' }, 'uid-x', 'short'));
    expect(e.launcher.specs.map((s) => s.count)).toEqual([4]);
    await e.provider.flush();
    expect(e.launcher.specs.map((s) => s.count).sort()).toEqual([1, 2, 4]);
  });

  it('moves the rest of a partly filled batch to the next offering', async () => {
    const e = env({}, Object.assign(new FakeLauncher(), { capacity: { 'on-demand:p5.48xlarge:subnet-a': 6 } }));
    for (const p of pods(10)) await e.provider.createPod(p);
    await e.provider.flush();
    expect(e.launcher.specs.map((s) => `${String(s.count)} ${s.subnetId}`)).toEqual(['10 subnet-a', '4 subnet-b']);
    const last = e.events.events.filter((x) => x.key === 'lab/train-9').map((x) => `${x.reason}: ${x.message}`);
    expect(last).toEqual([
      'InstanceUnavailable: trying p5.48xlarge on-demand in us-east-1a: EC2 launched 6 and had no more',
      expect.stringMatching(/^InstanceLaunched: p5\.48xlarge on-demand in us-east-1b: launched i-\d+ \(one of 4 launched together\)$/) as unknown,
    ]);
  });

  it('launches nothing for a pod deleted while it waited in a batch', async () => {
    const e = env();
    for (const p of pods(2)) await e.provider.createPod(p);
    await e.provider.deletePod(refOf(0));
    await e.provider.flush();
    expect(e.launcher.specs.map((s) => s.count)).toEqual([1]);
    expect(await e.provider.getPodStatus(refOf(0))).toMatchObject({ phase: 'Failed', containerStatuses: [{ state: { terminated: { reason: 'Terminated' } } }] });
  });

  it('writes a pod tag that failed again at the next poll', async () => {
    const launcher = new FakeLauncher();
    launcher.tagError = new Error('RequestLimitExceeded');
    const e = env({}, launcher);
    for (const p of pods(2)) await e.provider.createPod(p);
    await e.provider.flush();
    expect(launcher.tagged).toEqual([]);
    launcher.tagError = undefined;
    await e.provider.poll();
    expect(launcher.tagged.map((t) => t.tags['orca.research/pod-uid']).sort()).toEqual(['uid-0', 'uid-1']);
  });

  it('after a restart gives instances whose tagging was cut off to the pods again instead of launching more', async () => {
    const launcher = new FakeLauncher();
    launcher.tagError = new Error('process killed');
    const first = env({}, launcher);
    for (const p of pods(3)) await first.provider.createPod(p);
    await first.provider.flush();
    stopProviders();
    launcher.tagError = undefined;
    const again = env({}, launcher);
    for (const p of pods(3)) await again.provider.createPod(p);
    await again.provider.flush();
    expect(launcher.specs).toHaveLength(1);
    expect(launcher.tagged.map((t) => t.tags['orca.research/pod-uid']).sort()).toEqual(['uid-0', 'uid-1', 'uid-2']);
    expect(again.events.events.filter((x) => x.reason === 'InstanceAssigned')).toHaveLength(3);
  });

  it('terminates an instance that no pod was given within the grace period', async () => {
    const launcher = new FakeLauncher();
    launcher.tagError = new Error('process killed');
    const clock = new FakeClock(Date.parse('2026-11-23T12:00:00Z'));
    const first = env({}, launcher, clock);
    for (const p of pods(2)) await first.provider.createPod(p);
    await first.provider.flush();
    stopProviders();
    const again = env({}, launcher, clock);
    await again.provider.poll();
    expect(launcher.terminated).toEqual([]);
    await clock.advance(settings.unassignedGraceMs);
    await again.provider.poll();
    await again.flush();
    expect(launcher.terminateCalls).toEqual([['i-0001', 'i-0002']]);
    expect(launcher.terminated.sort()).toEqual(['i-0001', 'i-0002']);
  });
});

describe('Ec2Provider batched launches racing a poll', () => {
  it('never gives an instance this process launched to a second pod while the first still waits for it', async () => {
    const launcher = Object.assign(new FakeLauncher(), { capacity: { 'on-demand:p5.48xlarge:subnet-a': 1 } });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => { release = r; });
    const launch = launcher.launch.bind(launcher);
    launcher.launch = async (spec) => {
      if (spec.subnetId === 'subnet-b') await gate;
      return launch(spec);
    };
    const e = env({ timings: { unavailableTtlMs: 0 } }, launcher);
    for (const p of pods(2)) await e.provider.createPod(p);
    const first = e.provider.flush();
    await new Promise((r) => setTimeout(r, 10));
    await e.provider.poll();
    launcher.capacity['on-demand:p5.48xlarge:subnet-a'] = 1;
    await e.provider.createPod(pod({ ...p5, 'orca.research/zone': 'us-east-1a' }, 'uid-z', 'zonal'));
    await e.clock.advance(1000);
    release();
    await first;
    await e.provider.flush();
    expect(e.events.events.filter((x) => x.reason === 'InstanceAssigned')).toEqual([]);
    const refs = [refOf(0), refOf(1), { key: 'lab/zonal' as PodKey, uid: 'uid-z' }];
    const holders = await Promise.all(refs.map(async (r) => /\((i-\d+)\)/.exec((await e.provider.getPodStatus(r))?.containerStatuses?.[0]?.state?.waiting?.message ?? '')?.[1]));
    expect(holders.every((h) => h !== undefined)).toBe(true);
    expect(new Set(holders).size).toBe(3);
  });
});
