// `kubectl top` from the EC2 provider: the agent's usage tag, read at every poll into CPU counters
// kept in the pod table, sampled at any time; nothing kept once the pods are forgotten.
import { afterEach, describe, expect, it } from 'vitest';
import type { Pod, PodKey } from '../domain/pod.js';
import { env, FakeSignals, pod, ref, stopProviders } from '../../test/fakes/ec2-env.js';
import { FakeClock } from '../../test/fakes/clock.js';
import { FakeLauncher } from '../../test/fakes/launcher.js';

afterEach(stopProviders);

const p5 = { 'orca.research/instance-type': 'p5.48xlarge' };
const never = (p: Pod): Pod => ({ ...p, spec: { ...p.spec, restartPolicy: 'Never', containers: [...p.spec.containers, { name: 'side', image: 'envoy' }] } });
const mib = 2 ** 20;

async function started(clock = new FakeClock()) {
  const e = env({}, new FakeLauncher(), clock, { signals: new FakeSignals() });
  await e.create(never(pod(p5)));
  e.launcher.setState('i-0001', 'running');
  return e;
}

const seconds = (clock: FakeClock): number => Math.floor(clock.now().getTime() / 1000);
const containerTag = (run: number, startedAt: number): string => `running - - ${String(run)} ${String(startedAt)} - - - - -`;

function report(e: Awaited<ReturnType<typeof started>>, usage: string, runs: { main?: [number, number]; side?: [number, number] }): void {
  const tags: Record<string, string> = { 'orca.research/state': 'v1 Running - -', 'orca.research/usage': usage };
  for (const [name, r] of Object.entries(runs)) tags[`orca.research/c/${name}`] = containerTag(r[0], r[1]);
  void e.launcher.tag(['i-0001'], tags);
}

describe('Ec2Provider.podStats', () => {
  it('has no pods before an agent measured', async () => {
    const e = await started();
    await e.provider.poll();
    expect(await e.provider.podStats()).toEqual({ at: e.clock.now(), pods: [], endedCpuCoreSeconds: 0 });
  });

  it('gives each measured container\'s counter carried on to now, its working set, and the GPUs', async () => {
    const e = await started();
    const now = seconds(e.clock);
    report(e, `u1 ${String(now)} nvidia:8:50:40000:655360 0:1500:1200 -`, { main: [0, now - 60], side: [0, now - 60] });
    await e.provider.poll();
    await e.clock.advance(10_000);
    const { pods, at } = await e.provider.podStats();
    expect(at).toEqual(e.clock.now());
    expect(pods).toHaveLength(1);
    const [p] = pods;
    expect(p?.ref).toEqual(ref);
    expect(p?.containers).toEqual([{ name: 'main', startTime: new Date((now - 60) * 1000), cpuCoreSeconds: 1.5 * 70, cpuCores: 1.5, memoryWorkingSetBytes: 1200 * mib }]);
    expect(p).toMatchObject({ cpuCoreSeconds: 105, cpuCores: 1.5, memoryWorkingSetBytes: 1200 * mib, measuredAt: new Date(now * 1000) });
    expect(p?.accelerators).toEqual([{ kind: 'nvidia', count: 8, utilization: 0.5, memoryUsedBytes: 40000 * mib, memoryTotalBytes: 655360 * mib }]);
  });

  it('starts a restarted container\'s counter again and keeps the pod\'s counter growing', async () => {
    const e = await started();
    const now = seconds(e.clock);
    report(e, `u1 ${String(now)} 0:1000:100 0:1000:100`, { main: [0, now], side: [0, now] });
    await e.provider.poll();
    await e.clock.advance(60_000);
    const before = (await e.provider.podStats()).pods[0]?.cpuCoreSeconds ?? 0;
    report(e, `u1 ${String(now + 60)} 1:1000:100 0:1000:100`, { main: [1, now + 50], side: [0, now] });
    await e.provider.poll();
    const after = (await e.provider.podStats()).pods[0];
    expect(after?.containers.find((c) => c.name === 'main')).toMatchObject({ startTime: new Date((now + 50) * 1000), cpuCoreSeconds: 10 });
    expect(after?.cpuCoreSeconds).toBeGreaterThanOrEqual(before);
  });

  it('keeps the CPU time of a pod that ended in the node\'s ended time, also after forgetting it', async () => {
    const e = await started();
    const now = seconds(e.clock);
    report(e, `u1 ${String(now)} 0:2000:100 -`, { main: [0, now] });
    await e.provider.poll();
    await e.clock.advance(30_000);
    void e.launcher.tag(['i-0001'], { 'orca.research/state': 'v1 Finished - -', 'orca.research/c/main': `terminated Completed 0 0 ${String(now)} ${String(now + 30)} - - - -` });
    await e.provider.poll();
    const ended = await e.provider.podStats();
    expect(ended.pods).toEqual([]);
    expect(ended.endedCpuCoreSeconds).toBeCloseTo(60);
    await e.provider.deletePod(ref);
    await e.flush();
    for (let i = 0; i < 3; i++) await e.provider.poll();
    expect(e.provider.memory().pods).toBe(0);
    expect((await e.provider.podStats()).endedCpuCoreSeconds).toBeCloseTo(60);
  });

  it('stops the counters of a pod relaunched after a spot notice, and keeps what they counted', async () => {
    const e = env({}, new FakeLauncher(), new FakeClock(), { signals: new FakeSignals() });
    await e.create(never(pod({ ...p5, 'orca.research/launch-type': 'spot', 'orca.research/on-interruption': 'relaunch' })));
    e.launcher.setState('i-0001', 'running');
    const now = seconds(e.clock);
    report(e, `u1 ${String(now)} 0:1000:100 -`, { main: [0, now] });
    await e.provider.poll();
    await e.clock.advance(20_000);
    void e.launcher.tag(['i-0001'], { 'orca.research/state': 'v1 Running spot-interruption:terminate -' });
    await e.provider.poll();
    await e.provider.poll();
    const after = await e.provider.podStats();
    expect(after.pods).toEqual([]);
    expect(after.endedCpuCoreSeconds).toBeCloseTo(20);
    await e.clock.advance(60_000);
    expect((await e.provider.podStats()).endedCpuCoreSeconds).toBeCloseTo(20);
  });

  it('reads no report of a pod known only from its tags until it knows the pod\'s containers', async () => {
    const e = await started();
    const now = seconds(e.clock);
    report(e, `u1 ${String(now)} 0:1000:100 0:1000:100`, { main: [0, now], side: [0, now] });
    // A restarted ORCA: the same instances, a table rebuilt from the tags alone.
    const again = env({}, e.launcher, e.clock, { signals: new FakeSignals() });
    await again.provider.poll();
    expect((await again.provider.podStats()).pods).toEqual([]);
    await again.provider.createPod(never(pod(p5)));
    await again.provider.poll();
    expect((await again.provider.podStats()).pods.map((p) => p.containers.map((c) => c.name))).toEqual([['main', 'side']]);
  });

  it('keeps nothing of 1000 measured pods that came and went', async () => {
    const e = env({ batchMax: 1000 }, new FakeLauncher(), new FakeClock(), { signals: new FakeSignals() });
    const refs = Array.from({ length: 1000 }, (_, i) => ({ key: `lab/p-${String(i)}` as PodKey, uid: `uid-${String(i)}` }));
    for (const r of refs) await e.provider.createPod(never(pod(p5, r.uid, r.key.slice(4))));
    await e.flush();
    const now = seconds(e.clock);
    for (const id of e.launcher.instances.keys()) {
      e.launcher.setState(id, 'running');
      void e.launcher.tag([id], { 'orca.research/state': 'v1 Running - -', 'orca.research/usage': `u1 ${String(now)} 0:1000:100 -`, 'orca.research/c/main': containerTag(0, now) });
    }
    await e.provider.poll();
    expect((await e.provider.podStats()).pods).toHaveLength(1000);
    await e.clock.advance(10_000);
    for (const r of refs) await e.provider.deletePod(r);
    const stopped = { 'orca.research/state': 'v1 Stopped - -', 'orca.research/c/main': `terminated Error 143 0 ${String(now)} ${String(now + 5)} - - - -` };
    void e.launcher.tag([...e.launcher.instances.keys()], stopped);
    await e.provider.poll();
    await e.flush();
    await e.provider.poll();
    await e.provider.poll();
    expect(Object.values(e.provider.memory()).every((n) => n === 0), JSON.stringify(e.provider.memory())).toBe(true);
    const after = await e.provider.podStats();
    expect(after.pods).toEqual([]);
    expect(after.endedCpuCoreSeconds).toBeCloseTo(1000 * 10);
  }, 30_000);
});
