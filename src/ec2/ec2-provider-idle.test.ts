// The idle guard through the EC2 provider's face: the agent's usage tag says the pod's GPUs sit idle;
// past the warning time the pod gets one AcceleratorsIdle Event and its samples say since when; past
// its orca.research/idle-timeout its instance is terminated and the pod fails with IdleTimeout. A
// busy measurement ends the spell; a pod without a timeout is warned and never stopped.
import { afterEach, describe, expect, it } from 'vitest';
import type { Pod } from '../domain/pod.js';
import { env, FakeSignals, pod, ref, stopProviders } from '../../test/fakes/ec2-env.js';
import { FakeClock } from '../../test/fakes/clock.js';
import { FakeLauncher } from '../../test/fakes/launcher.js';

afterEach(stopProviders);

const MIN = 60_000;
const never = (p: Pod): Pod => ({ ...p, spec: { ...p.spec, restartPolicy: 'Never' } });

async function started(annotations: Record<string, string>) {
  const e = env({ idle: { idleBelow: 0.05, warnAfterMs: 30 * MIN } }, new FakeLauncher(), new FakeClock(), { signals: new FakeSignals() });
  await e.create(never(pod({ 'orca.research/instance-type': 'p5.48xlarge', ...annotations })));
  e.launcher.setState('i-0001', 'running');
  return e;
}

/** The agent measures the 8 GPUs at `percent` utilisation now; ORCA polls. */
async function measured(e: Awaited<ReturnType<typeof started>>, percent: number): Promise<void> {
  const now = Math.floor(e.clock.now().getTime() / 1000);
  const tags = { 'orca.research/state': 'v1 Running - -', 'orca.research/usage': `u1 ${String(now)} nvidia:8:${String(percent)}:1000:655360 0:100:100`, 'orca.research/c/main': `running - - 0 ${String(now - 60)} - - - - -` };
  await e.launcher.tag(['i-0001'], tags);
  await e.provider.poll();
  await e.flush();
}

const reasons = (e: Awaited<ReturnType<typeof started>>): string[] => e.events.events.map((ev) => ev.reason).filter((r) => r === 'AcceleratorsIdle' || r === 'IdleTimeout');

describe('the idle guard of the EC2 provider', () => {
  it('warns once after 30 idle minutes, then stops the pod at its idle timeout with reason IdleTimeout', async () => {
    const e = await started({ 'orca.research/idle-timeout': '1h' });
    await measured(e, 0);
    const idleFrom = e.clock.now().getTime();
    await e.clock.advance(31 * MIN);
    await measured(e, 1);
    expect(reasons(e)).toEqual(['AcceleratorsIdle']);
    expect((await e.provider.podStats()).pods[0]?.acceleratorsIdleSince).toEqual(new Date(Math.floor(idleFrom / 1000) * 1000));
    await e.clock.advance(10 * MIN);
    await measured(e, 2);
    expect(reasons(e)).toEqual(['AcceleratorsIdle']);
    expect(e.launcher.terminated).toEqual([]);
    await e.clock.advance(20 * MIN);
    await measured(e, 0);
    expect(reasons(e)).toEqual(['AcceleratorsIdle', 'IdleTimeout']);
    expect(e.launcher.terminated).toEqual(['i-0001']);
    e.launcher.setState('i-0001', 'terminated');
    await e.provider.poll();
    expect(await e.provider.getPodStatus(ref)).toMatchObject({ phase: 'Failed', reason: 'IdleTimeout' });
  });

  it('starts again after a busy measurement, and never stops a pod without an idle timeout', async () => {
    const e = await started({});
    await measured(e, 0);
    await e.clock.advance(25 * MIN);
    await measured(e, 80);
    await e.clock.advance(25 * MIN);
    await measured(e, 0);
    expect(reasons(e)).toEqual([]);
    expect((await e.provider.podStats()).pods[0]?.acceleratorsIdleSince).toBeDefined();
    await e.clock.advance(31 * MIN);
    await measured(e, 0);
    await e.clock.advance(600 * MIN);
    await measured(e, 0);
    expect(reasons(e)).toEqual(['AcceleratorsIdle']);
    expect(e.launcher.terminated).toEqual([]);
  });
});
