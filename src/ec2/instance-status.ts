// Pure: what a pod's status is, given the EC2 instance that runs it (or, before there is one, how
// its launch is going). Until the on-instance agent reports container states, a running instance
// means "waiting for the agent".
import { isGone } from '../domain/instance.js';
import type { ContainerStatus, Pod, RestartPolicy } from '../domain/pod.js';
import type { ReportedStatus } from '../domain/pod-status.js';
import { agentPodStatus } from '../agent-protocol/agent-state.js';
import type { ObservedInstance } from '../agent-protocol/tags.js';

/** A pod without an instance: waiting in a launch batch, waiting to try again, or given up. */
export type LaunchState =
  | { readonly state: 'queued'; readonly message: string }
  /** retrying: waits for capacity; budget: waits for its namespace's budgets (money, instances, accelerators). */
  | { readonly state: 'retrying' | 'failed' | 'budget'; readonly reason: string; readonly message: string };

/** What a pod's status is computed from: what ORCA knows of its spec, its launch and its instance. */
export interface TrackedPod {
  /** Empty while the pod is known only from its instance's tags (a restart, before the pod object is seen). */
  readonly containers: readonly { readonly name: string; readonly image: string }[];
  readonly instance?: ObservedInstance;
  /** How the launch is going while there is no instance. */
  readonly launch?: LaunchState;
  readonly deleting: boolean;
  /** ORCA terminated the instance because the pod reached its orca.research/max-lifetime. */
  readonly expired?: boolean;
  /** ORCA terminated the instance because its accelerators were idle past the pod's idle timeout. */
  readonly idledOut?: boolean;
  readonly initContainers?: readonly { readonly name: string; readonly image: string }[];
  readonly restartPolicy?: RestartPolicy;
  readonly graceSeconds?: number;
  /** The pod's terminal status, kept once reached (the instance is then terminated). */
  readonly final?: ReportedStatus;
  /** When ORCA asked the agent to stop the containers (pod deleted, spot interruption, budget drained). */
  readonly stopRequestedAt?: number;
  /** Why ORCA stopped the pod when not for its deletion: its status reason (BudgetExhausted). */
  readonly stopReason?: string;
  /** The agent notice already turned into an Event (its text). */
  readonly noticed?: string;
  /** What the budgets decided (orca.research/Budget): True once the money is reserved. */
  readonly budget?: NonNullable<ReportedStatus['budget']>;
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
  const s = i?.agent;
  if (i === undefined || s === undefined || s.pod === 'WaitingForAssignment') return undefined;
  const base = { startTime: i.launchTime, ...(i.privateIp === undefined ? {} : { podIP: i.privateIp }) };
  return agentPodStatus(s, { init: t.initContainers ?? [], app: t.containers, restartPolicy: t.restartPolicy ?? 'Always' }, base);
}

function statuses(t: TrackedPod, state: ContainerStatus['state']): ContainerStatus[] {
  return t.containers.map((c) => ({ name: c.name, image: c.image, imageID: '', ready: false, started: false, restartCount: 0, ...(state === undefined ? {} : { state }) }));
}

function goneReason(t: TrackedPod, i: ObservedInstance): string {
  if (t.deleting) return 'Terminated';
  if (t.expired === true) return 'MaxLifetimeExceeded';
  if (t.idledOut === true) return 'IdleTimeout';
  if (t.stopReason !== undefined) return t.stopReason;
  return i.lifecycle === 'spot' ? 'SpotInterrupted' : 'InstanceTerminated';
}

function launchStatus(t: TrackedPod): ReportedStatus {
  const l = t.launch ?? { state: 'queued', message: 'waiting to launch' };
  if (t.deleting) {
    const terminated = { exitCode: 143, reason: 'Terminated', message: 'the pod was deleted before an instance ran it' };
    return { phase: 'Failed', containerStatuses: statuses(t, { terminated }) };
  }
  if (l.state === 'failed') return { phase: 'Failed', reason: l.reason, message: l.message, provisioningFailure: { reason: l.reason, message: l.message } };
  if (l.state === 'budget') {
    const held = { reason: l.reason, message: l.message };
    return { phase: 'Pending', budget: { ok: false, ...held }, containerStatuses: statuses(t, { waiting: held }) };
  }
  const waiting = { reason: 'InstanceLaunching', message: l.message };
  const failure = l.state === 'retrying' ? { provisioningFailure: { reason: l.reason, message: l.message } } : {};
  return { phase: 'Pending', ...failure, containerStatuses: statuses(t, { waiting }) };
}

const goneMessages: Readonly<Record<string, (id: string) => string>> = {
  MaxLifetimeExceeded: (id) => `instance ${id} reached the pod's max-lifetime`,
  IdleTimeout: (id) => `instance ${id} was terminated: the pod's accelerators were idle past its idle timeout`,
  BudgetExhausted: (id) => `instance ${id} was terminated: the pod's budget spent its whole limit and drains at it (onLimit: HoldAndDrain)`,
};

export function instanceStatus(t: TrackedPod): ReportedStatus {
  const s = statusOf(t);
  return t.budget === undefined || s.budget !== undefined ? s : { ...s, budget: t.budget };
}

function statusOf(t: TrackedPod): ReportedStatus {
  if (t.final !== undefined) return t.final;
  const i = t.instance;
  if (i === undefined) return launchStatus(t);
  const base = { startTime: i.launchTime, ...(i.privateIp === undefined ? {} : { podIP: i.privateIp }) };
  if (isGone(i)) {
    const reason = goneReason(t, i);
    const message = goneMessages[reason]?.(i.id) ?? `instance ${i.id} is ${i.state}`;
    const terminated = { exitCode: t.deleting ? 143 : 137, reason, message };
    return { ...base, phase: 'Failed', ...(t.deleting ? {} : { reason, message }), containerStatuses: statuses(t, { terminated }) };
  }
  const reported = agentStatus(t);
  if (reported !== undefined) return reported;
  return { ...base, phase: 'Pending', containerStatuses: statuses(t, { waiting: waitingFor(i) }) };
}

function waitingFor(i: ObservedInstance): { readonly reason: string; readonly message: string } {
  if (i.state === 'pending') return { reason: 'InstanceLaunching', message: `${i.type} in ${i.zone} (${i.id}) is starting` };
  if (i.state === 'running') return { reason: 'WaitingForAgent', message: `${i.type} in ${i.zone} (${i.id}) is running; waiting for the ORCA agent to start the containers` };
  return { reason: 'InstanceStateUnknown', message: `${i.type} in ${i.zone} (${i.id}) is in a state ORCA does not know` };
}
