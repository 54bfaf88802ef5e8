// Pure: from what the provider reports about a pod to the status a kubelet would post, and whether
// that differs from what the API already holds (no write when nothing changed).
import { CONDITION } from './keys.js';
import { defined } from './objects.js';
import { isTerminalPhase, type ContainerStatus, type Pod, type PodCondition, type PodPhase, type PodStatus } from './pod.js';

/** What a provider reports; conditions and host addresses are the controller's business. */
export interface ReportedStatus {
  readonly phase: PodPhase;
  readonly reason?: string;
  readonly message?: string;
  readonly startTime?: string;
  readonly podIP?: string;
  readonly containerStatuses?: readonly ContainerStatus[];
  readonly initContainerStatuses?: readonly ContainerStatus[];
  /** Set when the provider could not (yet) provision the pod: shown as orca.research/Provisioned=False. */
  readonly provisioningFailure?: { readonly reason: string; readonly message: string };
  /** Set when budgets decided on the pod: shown as orca.research/Budget (False while it waits for money or room). */
  readonly budget?: { readonly ok: boolean; readonly reason: string; readonly message: string };
}

/** ORCA's own pod condition: did the provider accept and provision the pod (kubectl describe shows it). */
export const provisionedCondition = CONDITION.provisioned;

type CondStatus = PodCondition['status'];

function condition(type: string, ok: boolean, reason: string | undefined, message?: string): Omit<PodCondition, 'lastTransitionTime'> {
  const status: CondStatus = ok ? 'True' : 'False';
  return { type, status, ...(reason === undefined ? {} : { reason }), ...(message === undefined ? {} : { message }) };
}

function readiness(r: ReportedStatus): { ok: boolean; reason?: string; message?: string } {
  if (isTerminalPhase(r.phase)) return { ok: false, reason: 'PodCompleted' };
  const unready = (r.containerStatuses ?? []).filter((c) => !c.ready).map((c) => c.name);
  if ((r.containerStatuses ?? []).length > 0 && unready.length === 0) return { ok: true };
  return { ok: false, reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` };
}

function initialized(pod: Pod, r: ReportedStatus): boolean {
  const inits = pod.spec.initContainers ?? [];
  if (inits.length === 0 || r.phase !== 'Pending') return true;
  const done = (r.initContainerStatuses ?? []).filter((c) => c.state?.terminated?.exitCode === 0).length;
  return done === inits.length;
}

function startedAnything(r: ReportedStatus): boolean {
  if (r.phase !== 'Pending') return true;
  return [...(r.containerStatuses ?? []), ...(r.initContainerStatuses ?? [])]
    .some((c) => c.state?.running !== undefined || c.state?.terminated !== undefined);
}

function desiredConditions(pod: Pod, r: ReportedStatus): Omit<PodCondition, 'lastTransitionTime'>[] {
  const ready = readiness(r);
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  return [
    scheduled === undefined ? condition('PodScheduled', true, undefined) : { type: 'PodScheduled', status: scheduled.status },
    condition('PodReadyToStartContainers', startedAnything(r), undefined),
    initialized(pod, r) ? condition('Initialized', true, undefined) : condition('Initialized', false, 'ContainersNotInitialized'),
    condition('ContainersReady', ready.ok, ready.reason, ready.message),
    condition('Ready', ready.ok, ready.reason, ready.message),
    r.provisioningFailure === undefined
      ? condition(provisionedCondition, true, undefined)
      : condition(provisionedCondition, false, r.provisioningFailure.reason, r.provisioningFailure.message),
    ...(r.budget === undefined ? [] : [condition(CONDITION.budget, r.budget.ok, r.budget.reason, r.budget.message)]),
  ];
}

/** Carries a condition's transition time over when its status did not change. */
function withTransitions(current: readonly PodCondition[], next: readonly Omit<PodCondition, 'lastTransitionTime'>[], now: string): PodCondition[] {
  return next.map((c) => {
    const old = current.find((o) => o.type === c.type);
    const lastTransitionTime = old !== undefined && old.status === c.status ? old.lastTransitionTime ?? now : now;
    return { ...c, lastProbeTime: null, lastTransitionTime };
  });
}

/** The full status a kubelet would post for `pod`, given the provider's report. */
export function kubeletStatus(pod: Pod, r: ReportedStatus, hostIP: string, now: string): PodStatus {
  const { phase, reason, message, podIP, containerStatuses, initContainerStatuses } = r;
  // provisioningFailure and budget become conditions, never status fields.
  const optional = { reason, message, podIP, podIPs: podIP === undefined ? undefined : [{ ip: podIP }], containerStatuses, initContainerStatuses };
  return {
    phase,
    ...defined(optional),
    conditions: withTransitions(pod.status?.conditions ?? [], desiredConditions(pod, r), now),
    hostIP,
    hostIPs: [{ ip: hostIP }],
    startTime: pod.status?.startTime ?? r.startTime ?? now,
  };
}

const isoFraction = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d+Z$/;

/** A time as the apiserver stores metav1.Time: RFC 3339 in whole seconds. */
export function kubeTime(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * JSON with sorted keys and times cut to whole seconds (the apiserver's precision), so that field
 * order or a fraction of a second never makes two equal statuses differ.
 */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'string') return v.replace(isoFraction, '$1Z');
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)));
  });
}

const compared = ['phase', 'reason', 'message', 'hostIP', 'podIP', 'startTime', 'containerStatuses', 'initContainerStatuses'] as const;

function comparable(s: PodStatus | undefined): unknown {
  const conds = [...(s?.conditions ?? [])]
    .map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message }))
    .sort((a, b) => a.type.localeCompare(b.type));
  return { ...Object.fromEntries(compared.map((k) => [k, s?.[k]])), conditions: conds };
}

/** True when posting `desired` would change what the API holds in `current`. */
export function statusDiffers(current: PodStatus | undefined, desired: PodStatus): boolean {
  return canonical(comparable(current)) !== canonical(comparable(desired));
}

/** Scalar fields the API holds that `desired` no longer has: a merge patch must null them out. */
export function clearedFields(current: PodStatus | undefined, desired: PodStatus): string[] {
  return (['reason', 'message', 'podIP'] as const).filter((k) => current?.[k] !== undefined && desired[k] === undefined);
}
