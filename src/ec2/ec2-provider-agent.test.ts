// The provider follows what the agent reports in its instance's tags: container statuses, the end
// of the pod (instance terminated, status kept), a graceful stop on delete, spot interruptions.
import { afterEach, describe, expect, it } from 'vitest';
import { env, FakeSignals, pod, ref, stopProviders } from '../../test/fakes/ec2-env.js';
import { FakeClock } from '../../test/fakes/clock.js';
import { FakeLauncher } from '../../test/fakes/launcher.js';

afterEach(stopProviders);

const p5 = { 'orca.research/instance-type': 'p5.48xlarge' };
const report = (launcher: FakeLauncher, tags: Record<string, string>): void => { void launcher.tag(['i-0001'], tags); };

async function started(annotations: Record<string, string> = p5, clock = new FakeClock()) {
  const signals = new FakeSignals();
  const e = Object.assign(env({}, new FakeLauncher(), clock, { signals }), { signals });
  const p = pod(annotations);
  await e.create({ ...p, spec: { ...p.spec, restartPolicy: 'Never' } });
  e.launcher.setState('i-0001', 'running');
  return e;
}

describe('Ec2Provider with the agent', () => {
  it('shows the containers the agent runs, then keeps the final status and terminates the finished instance', async () => {
    const e = await started();
    report(e.launcher, { 'orca.research/state': 'v1 Running - 250:1048576', 'orca.research/c/main': 'running - - 0 1795000000 - - - - - sha256:0a1b' });
    await e.provider.poll();
    expect(await e.provider.getPodStatus(ref)).toMatchObject({ phase: 'Running', containerStatuses: [{ name: 'main', ready: true, imageID: 'sha256:0a1b', state: { running: { startedAt: '2026-11-18T11:06:40Z' } } }] });
    report(e.launcher, { 'orca.research/state': 'v1 Finished - -', 'orca.research/c/main': 'terminated Error 3 0 1795000000 1795000009 - - - -' });
    await e.provider.poll();
    await e.provider.flush();
    expect(e.launcher.terminated).toEqual(['i-0001']);
    await e.provider.poll();
    expect(await e.provider.getPodStatus(ref)).toMatchObject({ phase: 'Failed', containerStatuses: [{ state: { terminated: { exitCode: 3, reason: 'Error' } } }] });
  });

  it('on delete asks the agent to stop (SSM Run Command) and terminates once it reports the containers stopped', async () => {
    const e = await started();
    report(e.launcher, { 'orca.research/state': 'v1 Running - -', 'orca.research/c/main': 'running - - 0 1795000000 - - - - -' });
    await e.provider.poll();
    await e.provider.deletePod(ref);
    expect(e.signals.stopped).toEqual(['i-0001']);
    expect(e.launcher.terminated).toEqual([]);
    report(e.launcher, { 'orca.research/state': 'v1 Stopped - -', 'orca.research/c/main': 'terminated Error 143 0 1795000000 1795000009 - - - -' });
    await e.provider.poll();
    await e.provider.flush();
    expect(e.launcher.terminated).toEqual(['i-0001']);
    expect(await e.provider.getPodStatus(ref)).toMatchObject({ phase: 'Failed', containerStatuses: [{ state: { terminated: { exitCode: 143 } } }] });
  });

  it('fails the pod with SpotInterrupted and an Event at a spot notice', async () => {
    const e = await started({ ...p5, 'orca.research/launch-type': 'spot' });
    report(e.launcher, { 'orca.research/state': 'v1 Running spot-interruption:terminate -', 'orca.research/c/main': 'running - - 0 1795000000 - - - - -' });
    await e.provider.poll();
    expect(await e.provider.getPodStatus(ref)).toMatchObject({ phase: 'Failed', reason: 'SpotInterrupted' });
    expect(e.events.events.filter((x) => x.reason === 'SpotInterrupted').map((x) => x.message)).toEqual(['EC2 is reclaiming spot instance i-0001 (terminate); the pod fails']);
    expect(e.signals.stopped).toEqual(['i-0001']);
  });

  it('relaunches the pod on a new instance with new ClientTokens when it asks for relaunch', async () => {
    const e = await started({ ...p5, 'orca.research/launch-type': 'spot', 'orca.research/on-interruption': 'relaunch' });
    report(e.launcher, { 'orca.research/state': 'v1 Running spot-interruption:terminate -', 'orca.research/c/main': 'running - - 0 1795000000 - - - - -' });
    await e.provider.poll();
    // A poll before the new launch: the old instance (terminated, still tagged with the pod) is not taken back.
    await e.provider.poll();
    await e.provider.flush();
    expect(e.launcher.terminated).toEqual(['i-0001']);
    expect(e.launcher.specs.map((s) => s.clientToken)).toEqual(['orca-uid-1-0', 'orca-uid-1-r100-0']);
    expect(await e.provider.getPodStatus(ref)).toMatchObject({ phase: 'Pending', containerStatuses: [{ state: { waiting: { message: 'p5.48xlarge in us-east-1a (i-0002) is starting' } } }] });
  });
});
