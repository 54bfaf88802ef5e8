import { describe, expect, it } from 'vitest';
import type { Instance } from '../domain/instance.js';
import type { ObservedInstance } from '../agent-protocol/tags.js';
import { observed, t0 } from '../../test/fakes/builders.js';
import { decide, stopSlackSeconds } from './agent-decisions.js';
import type { TrackedPod } from './instance-status.js';

const instance = (tags: Record<string, string>, state: Instance['state'] = 'running'): ObservedInstance => observed('i-1', { type: 'g6e.xlarge', state, lifecycle: 'spot' }, tags);
const pod = (tags: Record<string, string>, over: Partial<TrackedPod> = {}): TrackedPod => ({
  containers: [{ name: 'main', image: 'img' }], restartPolicy: 'Never', graceSeconds: 30, deleting: false, instance: instance(tags), ...over,
});
const running = { 'orca.research/state': 'v1 Running - -', 'orca.research/c/main': 'running - - 0 1795000000 - - - - -' };
const exited = (code: number) => ({ 'orca.research/state': 'v1 Finished - -', 'orca.research/c/main': `terminated ${code === 0 ? 'Completed' : 'Error'} ${String(code)} 0 1795000000 1795000009 - - - -` });
const kinds = (ds: ReturnType<typeof decide>) => ds.map((d) => d.kind);

describe('decide', () => {
  it('does nothing while the containers run, or before the agent reported', () => {
    expect(decide(pod(running), 'fail', t0)).toEqual([]);
    expect(decide(pod({}), 'fail', t0)).toEqual([]);
  });

  it.each([[0, 'Succeeded'], [3, 'Failed']])('keeps the final status of a pod whose container exited %i (%s) and terminates its instance', (code, phase) => {
    const ds = decide(pod(exited(code)), 'fail', t0);
    expect(kinds(ds)).toEqual(['final', 'terminate']);
    expect(ds[0]).toMatchObject({ status: { phase, containerStatuses: [{ state: { terminated: { exitCode: code } } }] } });
  });

  it('fails the pod with SpotInterrupted at a spot notice, with an Event, and asks the agent to stop', () => {
    const ds = decide(pod({ ...running, 'orca.research/state': 'v1 Running spot-interruption:terminate -' }), 'fail', t0);
    expect(kinds(ds)).toEqual(['noticed', 'event', 'final', 'stop']);
    expect(ds[1]).toEqual({ kind: 'event', reason: 'SpotInterrupted', message: 'EC2 is reclaiming spot instance i-1 (terminate); the pod fails' });
    expect(ds[2]).toMatchObject({ status: { phase: 'Failed', reason: 'SpotInterrupted', containerStatuses: [{ state: { terminated: { exitCode: 137, reason: 'SpotInterrupted' } } }] } });
  });

  it('relaunches at a spot notice when the pod asks for it, once per notice', () => {
    const tags = { ...running, 'orca.research/state': 'v1 Running spot-interruption:terminate -' };
    expect(kinds(decide(pod(tags), 'relaunch', t0))).toEqual(['noticed', 'event', 'relaunch']);
    expect(decide(pod(tags, { noticed: 'spot-interruption:terminate' }), 'relaunch', t0)).toEqual([]);
  });

  it('ends a stop once the agent says the containers stopped, or when the grace period ran out', () => {
    const stopping = { deleting: true, stopRequestedAt: t0 };
    expect(decide(pod(running, stopping), 'fail', t0 + 5000)).toEqual([]);
    const stopped = decide(pod({ 'orca.research/state': 'v1 Stopped - -', 'orca.research/c/main': 'terminated Error 143 0 1795000000 1795000009 - - - -' }, stopping), 'fail', t0 + 5000);
    expect(kinds(stopped)).toEqual(['final', 'terminate']);
    expect(stopped[0]).toMatchObject({ status: { phase: 'Failed', containerStatuses: [{ state: { terminated: { exitCode: 143 } } }] } });
    const late = decide(pod(running, stopping), 'fail', t0 + (30 + stopSlackSeconds) * 1000);
    expect(late).toEqual([expect.objectContaining({ kind: 'final' }) as unknown, { kind: 'terminate', why: 'its grace period ran out' }]);
  });

  it('terminates again, at every poll, the instance of a pod whose final status is kept while EC2 still runs it (defect 1)', () => {
    const final = { phase: 'Succeeded' as const, containerStatuses: [] };
    expect(decide(pod(exited(0), { final }), 'fail', t0)).toEqual([{ kind: 'terminate', why: 'its pod finished' }]);
    expect(decide({ ...pod(exited(0), { final }), instance: instance(exited(0), 'shutting-down') }, 'fail', t0)).toEqual([]);
  });

  it('leaves an instance that is already gone alone', () => {
    expect(decide({ ...pod(exited(0)), instance: instance(exited(0), 'terminated') }, 'fail', t0)).toEqual([]);
  });
});
