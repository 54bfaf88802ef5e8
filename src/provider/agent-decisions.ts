// Pure: what ORCA does about a pod from its agent's latest report — keep a terminal status and
// terminate the finished instance (no idle spend), turn a spot notice into an Event and fail or
// relaunch the pod, and end a stop (pod deleted, interruption) once the containers stopped or the
// grace period ran out.
import type { OnInterruption } from '../domain/annotations.js';
import type { ContainerStatus } from '../domain/pod.js';
import type { ReportedStatus } from '../domain/pod-status.js';
import { parseAgentState } from './agent-state.js';
import { agentStatus, type TrackedPod } from './instance-status.js';

export type Decision =
  | { readonly kind: 'final'; readonly status: ReportedStatus }
  | { readonly kind: 'terminate'; readonly why: string }
  | { readonly kind: 'stop' }
  | { readonly kind: 'event'; readonly reason: string; readonly message: string }
  | { readonly kind: 'noticed'; readonly notice: string }
  | { readonly kind: 'relaunch' };

/** Seconds beyond the pod's grace period that ORCA waits for the agent to report its containers stopped. */
export const stopSlackSeconds = 15;

const terminal = (s: ReportedStatus | undefined): boolean => s?.phase === 'Succeeded' || s?.phase === 'Failed';

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
  const agentDone = parseAgentState(t.instance?.tags ?? {})?.pod === 'Stopped' || terminal(s);
  const late = now >= since + ((t.graceSeconds ?? 30) + stopSlackSeconds) * 1000;
  if (!agentDone && !late) return [];
  const final: Decision[] = t.final === undefined ? [{ kind: 'final', status: stopped(s, t, 'Terminated') }] : [];
  return [...final, { kind: 'terminate', why: agentDone ? 'its containers stopped' : 'its grace period ran out' }];
}

function onNotice(t: TrackedPod, notice: string, onInterruption: OnInterruption): Decision[] {
  const id = t.instance?.id ?? '';
  const event: Decision = { kind: 'event', reason: 'SpotInterrupted', message: `EC2 is reclaiming spot instance ${id} (${notice.slice('spot-interruption:'.length)}); ${onInterruption === 'fail' ? 'the pod fails' : 'the pod is relaunched'}` };
  if (onInterruption === 'relaunch') return [{ kind: 'noticed', notice }, event, { kind: 'relaunch' }];
  return [{ kind: 'noticed', notice }, event, { kind: 'final', status: stopped(agentStatus(t), t, 'SpotInterrupted') }, { kind: 'stop' }];
}

function whileRunning(t: TrackedPod, tags: Readonly<Record<string, string>>, onInterruption: OnInterruption): Decision[] {
  const notice = parseAgentState(tags)?.notice;
  if (notice?.startsWith('spot-interruption') === true && t.noticed !== notice) return onNotice(t, notice, onInterruption);
  const s = agentStatus(t);
  return s !== undefined && terminal(s) ? [{ kind: 'final', status: s }, { kind: 'terminate', why: 'its pod finished' }] : [];
}

export function decide(t: TrackedPod, onInterruption: OnInterruption, now: number): Decision[] {
  const i = t.instance;
  if (i === undefined || (i.state !== 'running' && i.state !== 'pending')) return [];
  if (t.stopRequestedAt !== undefined) return whileStopping(t, now, t.stopRequestedAt);
  return t.final !== undefined || t.deleting ? [] : whileRunning(t, i.tags, onInterruption);
}
