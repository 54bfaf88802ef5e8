// Pure: what ORCA does about a pod from its agent's latest report — keep a terminal status and
// terminate the finished instance (no idle spend, and again at every poll until EC2 says it is
// going), turn a spot notice into an Event and fail or relaunch the pod, and end a stop (pod
// deleted, interruption) once the containers stopped or the grace period ran out.
import type { OnInterruption } from '../domain/annotations.js';
import { isLive } from '../domain/instance.js';
import { isTerminalPhase, type ContainerStatus } from '../domain/pod.js';
import type { ReportedStatus } from '../domain/pod-status.js';
import type { AgentNotice } from '../agent-protocol/agent-state.js';
import { agentStatus, type TrackedPod } from './instance-status.js';
import { ec2Timings } from './settings.js';

export type Decision =
  | { readonly kind: 'final'; readonly status: ReportedStatus }
  | { readonly kind: 'terminate'; readonly why: string }
  | { readonly kind: 'stop' }
  | { readonly kind: 'event'; readonly reason: string; readonly message: string }
  | { readonly kind: 'noticed'; readonly notice: string }
  | { readonly kind: 'relaunch' };

/** Seconds beyond the pod's grace period that ORCA waits for the agent to report its containers stopped. */
export const { stopSlackSeconds } = ec2Timings;

const terminal = (s: ReportedStatus | undefined): boolean => isTerminalPhase(s?.phase);

/** Every container terminated: the ones still running are reported killed. */
function stopped(s: ReportedStatus | undefined, t: TrackedPod, reason: string): ReportedStatus {
  const kill = (c: ContainerStatus): ContainerStatus => (c.state?.terminated !== undefined ? c
    : { ...c, ready: false, started: false, state: { terminated: { exitCode: 137, reason, message: `stopped by ORCA: ${reason}` } } });
  const cs = s?.containerStatuses ?? t.containers.map((c) => ({ name: c.name, image: c.image, imageID: '', ready: false, restartCount: 0 }));
  const all = cs.map(kill);
  const ok = all.every((c) => c.state?.terminated?.exitCode === 0);
  return { ...s, phase: ok ? 'Succeeded' : 'Failed', containerStatuses: all, ...(ok || reason === 'Terminated' ? {} : { reason, message: `the pod was stopped: ${reason}` }) };
}

function whileStopping(t: TrackedPod, now: number, since: number): Decision[] {
  const s = agentStatus(t);
  const agentDone = t.instance?.agent?.pod === 'Stopped' || terminal(s);
  const late = now >= since + ((t.graceSeconds ?? 30) + stopSlackSeconds) * 1000;
  if (!agentDone && !late) return [];
  const final: Decision[] = t.final === undefined ? [{ kind: 'final', status: stopped(s, t, t.stopReason ?? 'Terminated') }] : [];
  return [...final, { kind: 'terminate', why: agentDone ? 'its containers stopped' : 'its grace period ran out' }];
}

function onNotice(t: TrackedPod, notice: Extract<AgentNotice, { kind: 'spot-interruption' }>, onInterruption: OnInterruption): Decision[] {
  const id = t.instance?.id ?? '';
  const event: Decision = { kind: 'event', reason: 'SpotInterrupted', message: `EC2 is reclaiming spot instance ${id} (${notice.action}); ${onInterruption === 'fail' ? 'the pod fails' : 'the pod is relaunched'}` };
  const noticed: Decision = { kind: 'noticed', notice: notice.text };
  if (onInterruption === 'relaunch') return [noticed, event, { kind: 'relaunch' }];
  return [noticed, event, { kind: 'final', status: stopped(agentStatus(t), t, 'SpotInterrupted') }, { kind: 'stop' }];
}

function whileRunning(t: TrackedPod, onInterruption: OnInterruption): Decision[] {
  const notice = t.instance?.agent?.notice;
  if (notice?.kind === 'spot-interruption' && t.noticed !== notice.text) return onNotice(t, notice, onInterruption);
  const s = agentStatus(t);
  return s !== undefined && terminal(s) ? [{ kind: 'final', status: s }, { kind: 'terminate', why: 'its pod finished' }] : [];
}

/** What to do about the pod now; `onInterruption` is the pod's own (its instance's tag) or the configured default. */
export function decide(t: TrackedPod, onInterruption: OnInterruption, now: number): Decision[] {
  const i = t.instance;
  if (i === undefined || !isLive(i)) return [];
  if (t.stopRequestedAt !== undefined) return whileStopping(t, now, t.stopRequestedAt);
  // A kept final status with the instance still up: a terminate failed or has not been seen yet.
  if (t.final !== undefined) return [{ kind: 'terminate', why: 'its pod finished' }];
  return t.deleting ? [] : whileRunning(t, onInterruption);
}
