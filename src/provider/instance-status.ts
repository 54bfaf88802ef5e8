// Pure: what a pod's status is, given the EC2 instance that runs it (or, before there is one, how
// its launch is going). Until the on-instance agent reports container states, a running instance
// means "waiting for the agent".
import type { ContainerStatus, Pod, RestartPolicy } from '../domain/pod.js';
import type { ReportedStatus } from '../domain/pod-status.js';
import type { Instance } from '../domain/instance.js';
import { agentPodStatus, parseAgentState } from './agent-state.js';

/** A pod without an instance: waiting in a launch batch, waiting to try again, or given up. */
export type LaunchState =
  | { readonly state: 'queued'; readonly message: string }
  | { readonly state: 'retrying' | 'failed'; readonly reason: string; readonly message: string };

export interface TrackedPod {
  readonly containers: readonly { readonly name: string; readonly image: string }[];
  readonly instance?: Instance;
  /** How the launch is going while there is no instance. */
  readonly launch?: LaunchState;
  readonly deleting: boolean;
  /** ORCA terminated the instance because the pod reached its orca.research/max-lifetime. */
  readonly expired?: boolean;
  readonly initContainers?: readonly { readonly name: string; readonly image: string }[];
  readonly restartPolicy?: RestartPolicy;
  readonly graceSeconds?: number;
  /** The pod's terminal status, kept once reached (the instance is then terminated). */
  readonly final?: ReportedStatus;
  /** When ORCA asked the agent to stop the containers (pod deleted, spot interruption). */
  readonly stopRequestedAt?: number;
  /** The agent notice already turned into an Event. */
  readonly noticed?: string;
}

const named = (cs: readonly { readonly name: string; readonly image?: string }[]) => cs.map((c) => ({ name: c.name, image: c.image ?? '' }));

/** What the provider remembers of a pod's spec. */
export function shapeOf(pod: Pod): Pick<TrackedPod, 'containers' | 'initContainers' | 'restartPolicy' | 'graceSeconds'> {
  return {
    containers: named(pod.spec.containers), initContainers: named(pod.spec.initContainers ?? []),
    restartPolicy: pod.spec.restartPolicy ?? 'Always', graceSeconds: pod.spec.terminationGracePeriodSeconds ?? 30,
  };
}

/** The pod's status from what its agent reported; undefined before it reported. */
export function agentStatus(t: TrackedPod): ReportedStatus | undefined {
  const i = t.instance;
  const s = i === undefined ? undefined : parseAgentState(i.tags);
  if (i === undefined || s === undefined || s.pod === 'WaitingForAssignment') return undefined;
  const base = { startTime: i.launchTime, ...(i.privateIp === undefined ? {} : { podIP: i.privateIp }) };
  return agentPodStatus(s, { init: t.initContainers ?? [], app: t.containers, restartPolicy: t.restartPolicy ?? 'Always' }, base);
}

function statuses(t: TrackedPod, state: ContainerStatus['state']): ContainerStatus[] {
  return t.containers.map((c) => ({ name: c.name, image: c.image, imageID: '', ready: false, started: false, restartCount: 0, ...(state === undefined ? {} : { state }) }));
}

const gone = new Set(['shutting-down', 'terminated', 'stopping', 'stopped']);

function goneReason(t: TrackedPod, i: Instance): string {
  if (t.deleting) return 'Terminated';
  if (t.expired === true) return 'MaxLifetimeExceeded';
  return i.lifecycle === 'spot' ? 'SpotInterrupted' : 'InstanceTerminated';
}

function launchStatus(t: TrackedPod): ReportedStatus {
  const l = t.launch ?? { state: 'queued', message: 'waiting to launch' };
  if (t.deleting) {
    const terminated = { exitCode: 143, reason: 'Terminated', message: 'the pod was deleted before an instance ran it' };
    return { phase: 'Failed', containerStatuses: statuses(t, { terminated }) };
  }
  if (l.state === 'failed') return { phase: 'Failed', reason: l.reason, message: l.message, provisioningFailure: { reason: l.reason, message: l.message } };
  const waiting = { reason: 'InstanceLaunching', message: l.message };
  const failure = l.state === 'retrying' ? { provisioningFailure: { reason: l.reason, message: l.message } } : {};
  return { phase: 'Pending', ...failure, containerStatuses: statuses(t, { waiting }) };
}

export function instanceStatus(t: TrackedPod): ReportedStatus {
  if (t.final !== undefined) return t.final;
  const i = t.instance;
  if (i === undefined) return launchStatus(t);
  const base = { startTime: i.launchTime, ...(i.privateIp === undefined ? {} : { podIP: i.privateIp }) };
  if (gone.has(i.state)) {
    const reason = goneReason(t, i);
    const message = reason === 'MaxLifetimeExceeded' ? `instance ${i.id} reached the pod's max-lifetime` : `instance ${i.id} is ${i.state}`;
    const terminated = { exitCode: t.deleting ? 143 : 137, reason, message };
    return { ...base, phase: 'Failed', ...(t.deleting ? {} : { reason, message }), containerStatuses: statuses(t, { terminated }) };
  }
  const reported = agentStatus(t);
  if (reported !== undefined) return reported;
  const waiting = i.state === 'pending'
    ? { reason: 'InstanceLaunching', message: `${i.type} in ${i.zone} (${i.id}) is starting` }
    : { reason: 'WaitingForAgent', message: `${i.type} in ${i.zone} (${i.id}) is running; waiting for the ORCA agent to start the containers` };
  return { ...base, phase: 'Pending', containerStatuses: statuses(t, { waiting }) };
}
