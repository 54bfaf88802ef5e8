import { describe, expect, it } from 'vitest';
import type { ContainerStatus, RestartPolicy } from '../domain/pod.js';
import { kubeTime } from '../domain/pod-status.js';
import { agentPodStatus, containerStatus, parseAgentState, podPhase } from './agent-state.js';

const t0 = 1_795_000_000;
const iso = (s: number): string => kubeTime(new Date(s * 1000));

describe('parseAgentState', () => {
  it('reads the pod state, notice, usage and each container with its previous run', () => {
    const s = parseAgentState({
      'orca.research/state': 'v1 Running spot-interruption:terminate -',
      'orca.research/usage': `u1 ${String(t0)} 0:1500:2048`,
      'orca.research/c/main': `waiting CrashLoopBackOff - 2 ${String(t0)} ${String(t0 + 5)} 3 Error ${String(t0)} ${String(t0 + 5)}`,
      'orca.research/c/side': `running - - 0 ${String(t0)} - - - - - sha256:${'ab'.repeat(32)}`,
      'orca.research/pod-uid': 'u',
    });
    expect(s).toEqual({
      pod: 'Running', notice: { kind: 'spot-interruption', action: 'terminate', text: 'spot-interruption:terminate' }, usage: { measuredAt: t0 * 1000, containers: [{ run: 0, cpuMillicores: 1500, memoryBytes: 2147483648 }], accelerators: [] },
      containers: new Map([
        ['main', { name: 'main', state: 'waiting', reason: 'CrashLoopBackOff', restarts: 2, run: { startedAt: iso(t0), finishedAt: iso(t0 + 5) }, last: { exitCode: 3, reason: 'Error', startedAt: iso(t0), finishedAt: iso(t0 + 5) } }],
        ['side', { name: 'side', state: 'running', restarts: 0, imageID: `sha256:${'ab'.repeat(32)}`, run: { startedAt: iso(t0) } }],
      ]),
    });
  });

  it.each([{}, { 'orca.research/state': 'v2 Running - -' }, { 'orca.research/state': '' }])('is undefined without a v1 state tag (%j)', (tags) => {
    expect(parseAgentState(tags)).toBeUndefined();
  });

  it('ignores the pod-level usage an older agent wrote in the state tag', () => {
    expect(parseAgentState({ 'orca.research/state': 'v1 Running - 1500:2147483648' })).toEqual({ pod: 'Running', containers: new Map() });
  });

  it('ignores a container tag it cannot read', () => {
    expect(parseAgentState({ 'orca.research/state': 'v1 Running - -', 'orca.research/c/x': 'exploded' })?.containers.size).toBe(0);
  });
});

const run = (name: string): ContainerStatus => ({ name, image: '', imageID: '', ready: true, started: true, restartCount: 0, state: { running: {} } });
const done = (name: string, exitCode: number): ContainerStatus => ({ name, image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error' } } });
const wait = (name: string, crashed = false): ContainerStatus => ({
  name, image: '', imageID: '', ready: false, restartCount: crashed ? 1 : 0, state: { waiting: { reason: crashed ? 'CrashLoopBackOff' : 'ContainerCreating' } },
  ...(crashed ? { lastState: { terminated: { exitCode: 1, reason: 'Error' } } } : {}),
});

describe('podPhase (the kubelet\'s rules)', () => {
  it.each<[string, ContainerStatus[], ContainerStatus[], RestartPolicy, string]>([
    ['an init container still running', [run('i')], [wait('m')], 'Never', 'Pending'],
    ['a failed init container, Never', [done('i', 1)], [wait('m')], 'Never', 'Failed'],
    ['a failed init container, OnFailure (retried)', [done('i', 1)], [wait('m')], 'OnFailure', 'Pending'],
    ['a container not started yet', [done('i', 0)], [wait('m')], 'Never', 'Pending'],
    ['a running container', [], [run('m'), done('s', 0)], 'Never', 'Running'],
    ['all succeeded', [], [done('m', 0), done('s', 0)], 'Never', 'Succeeded'],
    ['one failed, Never', [], [done('m', 3), done('s', 0)], 'Never', 'Failed'],
    ['one failed, OnFailure (to be restarted)', [], [done('m', 3)], 'OnFailure', 'Running'],
    ['all succeeded, OnFailure', [], [done('m', 0)], 'OnFailure', 'Succeeded'],
    ['all stopped, Always', [], [done('m', 0)], 'Always', 'Running'],
    ['crash-looping (waiting with a last state)', [], [wait('m', true)], 'OnFailure', 'Running'],
  ])('%s → %s', (...row) => {
    const [, init, app, policy, phase] = row;
    expect(podPhase(init, app, policy)).toBe(phase);
  });
});

describe('agentPodStatus', () => {
  it('maps an exit code 3 with restartPolicy Never to Failed, exactly as a kubelet reports it', () => {
    const s = parseAgentState({ 'orca.research/state': 'v1 Finished - -', 'orca.research/c/main': `terminated Error 3 0 ${String(t0)} ${String(t0 + 1)} - - - -` });
    if (s === undefined) throw new Error('no state');
    expect(agentPodStatus(s, { init: [], app: [{ name: 'main', image: 'busybox' }], restartPolicy: 'Never' }, { startTime: iso(t0 - 60), podIP: '10.0.0.9' })).toEqual({
      startTime: iso(t0 - 60), podIP: '10.0.0.9', phase: 'Failed',
      containerStatuses: [{ name: 'main', image: 'busybox', imageID: '', restartCount: 0, ready: false, started: false, state: { terminated: { exitCode: 3, reason: 'Error', startedAt: iso(t0), finishedAt: iso(t0 + 1) } } }],
    });
  });

  it.each<[string, string, string]>([
    ['Finished', '0', 'Succeeded'],
    ['Finished', '2', 'Failed'],
    ['InitFailed', '1', 'Failed'],
    ['Running', '0', 'Running'],
  ])('treats the agent\'s %s with exit %s as %s whatever restart policy the caller assumes (issue 16)', (pod, exit, phase) => {
    const s = parseAgentState({ 'orca.research/state': `v1 ${pod} - -`, 'orca.research/c/main': `terminated - ${exit} 0 ${String(t0)} ${String(t0 + 1)} - - - -` });
    if (s === undefined) throw new Error('no state');
    expect(agentPodStatus(s, { init: [], app: [], restartPolicy: 'Always' }, {}).phase).toBe(phase);
  });

  it('reads a rebalance recommendation and ignores a notice it does not know', () => {
    expect(parseAgentState({ 'orca.research/state': 'v1 Running rebalance -' })?.notice).toEqual({ kind: 'rebalance', text: 'rebalance' });
    expect(parseAgentState({ 'orca.research/state': 'v1 Running hurricane -' })?.notice).toBeUndefined();
    expect(parseAgentState({ 'orca.research/state': 'v1 Dancing - -' })).toBeUndefined();
  });

  it('shows a container the agent has not reported yet as ContainerCreating', () => {
    expect(containerStatus('main', 'img', undefined).state).toEqual({ waiting: { reason: 'ContainerCreating' } });
  });
});
