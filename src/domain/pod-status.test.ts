import { describe, expect, it } from 'vitest';
import type { Pod, PodStatus } from './pod.js';
import { canonical, clearedFields, kubeletStatus, kubeTime, statusDiffers, type ReportedStatus } from './pod-status.js';

const base: Pod = {
  metadata: { namespace: 'ns', name: 'p', uid: 'u' },
  spec: { containers: [{ name: 'a' }, { name: 'b' }] },
  status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-11-23T11:00:00Z' }] },
};
const now = '2026-11-23T12:00:00Z';
const cs = (name: string, ready: boolean, state: object) => ({ name, ready, restartCount: 0, image: 'i', imageID: '', state });
const conds = (s: PodStatus): string[] => (s.conditions ?? []).map((c) => `${c.type}=${c.status}${c.reason === undefined ? '' : `/${c.reason}`}`);

describe('kubeletStatus', () => {
  it.each<[string, ReportedStatus, string[]]>([
    ['pending, nothing started', { phase: 'Pending', containerStatuses: [cs('a', false, { waiting: { reason: 'ContainerCreating' } })] },
      ['PodScheduled=True', 'PodReadyToStartContainers=False', 'Initialized=True', 'ContainersReady=False/ContainersNotReady', 'Ready=False/ContainersNotReady', 'orca.research/Provisioned=True']],
    ['running, one container unready', { phase: 'Running', containerStatuses: [cs('a', true, { running: {} }), cs('b', false, { running: {} })] },
      ['PodScheduled=True', 'PodReadyToStartContainers=True', 'Initialized=True', 'ContainersReady=False/ContainersNotReady', 'Ready=False/ContainersNotReady', 'orca.research/Provisioned=True']],
    ['running, all ready', { phase: 'Running', containerStatuses: [cs('a', true, { running: {} }), cs('b', true, { running: {} })] },
      ['PodScheduled=True', 'PodReadyToStartContainers=True', 'Initialized=True', 'ContainersReady=True', 'Ready=True', 'orca.research/Provisioned=True']],
    ['succeeded', { phase: 'Succeeded', containerStatuses: [cs('a', false, { terminated: { exitCode: 0 } })] },
      ['PodScheduled=True', 'PodReadyToStartContainers=True', 'Initialized=True', 'ContainersReady=False/PodCompleted', 'Ready=False/PodCompleted', 'orca.research/Provisioned=True']],
  ])('sets a kubelet\'s conditions when %s', (_what, reported, expected) => {
    expect(conds(kubeletStatus(base, reported, '10.0.0.5', now))).toEqual(expected);
  });

  it('shows a provisioning failure as orca.research/Provisioned=False with its reason, not as a status field', () => {
    const s = kubeletStatus(base, { phase: 'Pending', reason: 'ProviderFailed', message: 'throttled', provisioningFailure: { reason: 'ProviderFailed', message: 'throttled' } }, '10.0.0.5', now);
    expect(s.conditions?.find((c) => c.type === 'orca.research/Provisioned')).toMatchObject({ status: 'False', reason: 'ProviderFailed', message: 'throttled' });
    expect(Object.keys(s)).not.toContain('provisioningFailure');
  });

  it('names the unready containers in the Ready message', () => {
    const s = kubeletStatus(base, { phase: 'Running', containerStatuses: [cs('a', true, {}), cs('b', false, {})] }, '10.0.0.5', now);
    expect(s.conditions?.find((c) => c.type === 'Ready')?.message).toBe('containers with unready status: [b]');
  });

  it('is not initialized while init containers have not all exited 0', () => {
    const pod: Pod = { ...base, spec: { ...base.spec, initContainers: [{ name: 'init' }] } };
    const waiting = kubeletStatus(pod, { phase: 'Pending', initContainerStatuses: [cs('init', false, { running: {} })] }, '10.0.0.5', now);
    expect(waiting.conditions?.find((c) => c.type === 'Initialized')).toMatchObject({ status: 'False', reason: 'ContainersNotInitialized' });
    const done = kubeletStatus(pod, { phase: 'Pending', initContainerStatuses: [cs('init', false, { terminated: { exitCode: 0 } })] }, '10.0.0.5', now);
    expect(done.conditions?.find((c) => c.type === 'Initialized')?.status).toBe('True');
  });

  it('keeps the scheduler\'s PodScheduled, transition times of unchanged conditions, and the first startTime', () => {
    const first = kubeletStatus(base, { phase: 'Pending', startTime: '2026-11-23T11:59:00Z' }, '10.0.0.5', now);
    const again = kubeletStatus({ ...base, status: first }, { phase: 'Running', startTime: '2026-11-23T11:59:30Z' }, '10.0.0.5', '2026-11-23T12:05:00Z');
    const t = (s: PodStatus, type: string): string | undefined => s.conditions?.find((c) => c.type === type)?.lastTransitionTime;
    expect(t(again, 'PodScheduled')).toBe('2026-11-23T11:00:00Z');
    expect(t(again, 'Initialized')).toBe(now);
    expect(t(again, 'PodReadyToStartContainers')).toBe('2026-11-23T12:05:00Z');
    expect(again.startTime).toBe('2026-11-23T11:59:00Z');
  });

  it('publishes hostIP and podIP with their lists, and leaves out what the provider did not report', () => {
    const s = kubeletStatus(base, { phase: 'Running', podIP: '10.9.8.7' }, '10.0.0.5', now);
    expect(s).toMatchObject({ hostIP: '10.0.0.5', hostIPs: [{ ip: '10.0.0.5' }], podIP: '10.9.8.7', podIPs: [{ ip: '10.9.8.7' }] });
    expect(Object.keys(kubeletStatus(base, { phase: 'Pending' }, '10.0.0.5', now))).not.toContain('reason');
  });
});

describe('statusDiffers', () => {
  const s = kubeletStatus(base, { phase: 'Running', containerStatuses: [cs('a', true, { running: { startedAt: '2026-11-23T12:00:01.250Z' } })] }, '10.0.0.5', now);

  it('ignores key order, transition times and fractions of a second', () => {
    const fromApi = JSON.parse(canonical({ ...s, conditions: s.conditions?.map((c) => ({ ...c, lastTransitionTime: 'later' })) })) as PodStatus;
    const truncated = JSON.parse(JSON.stringify(fromApi).replace('12:00:01.250Z', '12:00:01Z')) as PodStatus;
    expect(statusDiffers(truncated, s)).toBe(false);
  });

  it('sees a changed phase, condition, reason or container state', () => {
    expect(statusDiffers(s, { ...s, phase: 'Failed' })).toBe(true);
    expect(statusDiffers(s, { ...s, reason: 'Evicted' })).toBe(true);
    expect(statusDiffers(s, { ...s, conditions: (s.conditions ?? []).map((c) => (c.type === 'Ready' ? { ...c, status: 'False' as const } : c)) })).toBe(true);
    expect(statusDiffers(s, { ...s, containerStatuses: [cs('a', false, { terminated: { exitCode: 1 } })] })).toBe(true);
    expect(statusDiffers(undefined, s)).toBe(true);
  });
});

describe('clearedFields and kubeTime', () => {
  it('lists the scalar fields a patch must null out', () => {
    expect(clearedFields({ reason: 'ProviderFailed', message: 'x', podIP: '1.2.3.4' }, { phase: 'Running', podIP: '1.2.3.4' })).toEqual(['reason', 'message']);
    expect(clearedFields(undefined, { phase: 'Running' })).toEqual([]);
  });

  it('formats times as the apiserver stores them', () => {
    expect(kubeTime(new Date('2026-11-23T12:00:01.999Z'))).toBe('2026-11-23T12:00:01Z');
  });
});
