// Every orca.research/* tag on a burst instance, and the one place they are written and read: ORCA's
// own tags (the cluster, node and pod an instance belongs to, and settings a restarted ORCA must
// still honour) are encoded here, and every instance a poll lists is decoded once into an
// ObservedInstance. The agent's state and container tags are read by agent-state.ts, also from here.
import type { OnInterruption } from '../domain/annotations.js';
import type { Instance, InstanceState } from '../domain/instance.js';
import { defined } from '../domain/objects.js';
import { parseAgentState, type AgentState } from './agent-state.js';
import { TAG } from './tag-keys.js';

export { TAG };

/** EC2's limit of tags per resource. */
export const maxTagsPerInstance = 50;

/** Which pod an instance runs. */
export interface PodIdentity {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

/** What every instance of one launch carries (the pod's own tags come with podTags). */
export interface LaunchTagInput {
  readonly clusterId: string;
  readonly nodeName: string;
  readonly namespace: string;
  readonly budgetNamespace: string;
  readonly onInterruption: OnInterruption;
  readonly maxLifetimeSeconds?: number;
  readonly terminationProtection: boolean;
  /** Extra tags from the configuration (cost allocation); ORCA's own keys win. */
  readonly extra: Readonly<Record<string, string>>;
}

export function launchTags(t: LaunchTagInput): Record<string, string> {
  return {
    ...t.extra, Name: `orca-${t.namespace}`.slice(0, 255), [TAG.cluster]: t.clusterId, [TAG.node]: t.nodeName,
    [TAG.podNamespace]: t.namespace, [TAG.budget]: t.budgetNamespace, [TAG.onInterruption]: t.onInterruption,
    ...(t.maxLifetimeSeconds === undefined ? {} : { [TAG.maxLifetime]: String(t.maxLifetimeSeconds) }),
    ...(t.terminationProtection ? { [TAG.terminationProtection]: 'true' } : {}),
  };
}

/** The tags only the pod's own instance carries. */
export function podTags(p: PodIdentity): Record<string, string> {
  return { Name: `orca-${p.namespace}-${p.name}`.slice(0, 255), [TAG.podName]: p.name, [TAG.podUid]: p.uid };
}

/** Tags an instance will carry for a pod: ORCA's (with the launch key), the pod's, the agent's state and usage, and one per container. */
export function tagCount(launch: Readonly<Record<string, string>>, containers: number): number {
  const own = new Set([...Object.keys(launch), TAG.launchKey, ...Object.keys(podTags({ namespace: '', name: '', uid: '' })), TAG.state, TAG.usage]);
  return own.size + containers;
}

/** An instance of this cluster as ORCA reads it: EC2's facts plus every ORCA tag, decoded. */
export interface ObservedInstance {
  readonly id: string;
  readonly type: string;
  readonly zone: string;
  readonly state: InstanceState;
  readonly lifecycle: Instance['lifecycle'];
  /** RFC 3339, as EC2 gives it. */
  readonly launchTime: string;
  readonly privateIp?: string;
  readonly clusterId?: string;
  readonly nodeName?: string;
  /** The pod the instance was given (its tags); absent for an instance launched and not yet given one. */
  readonly pod?: PodIdentity;
  readonly launchKey?: string;
  /** The namespace whose budgets pay for the instance (orca.research/budget-namespace). */
  readonly budgetNamespace?: string;
  readonly maxLifetimeSeconds?: number;
  readonly onInterruption?: OnInterruption;
  readonly terminationProtection: boolean;
  /** What the agent reported; absent before it reported anything. */
  readonly agent?: AgentState;
}

const interruption = (v: string | undefined): OnInterruption | undefined => (v === 'fail' || v === 'relaunch' ? v : undefined);

function seconds(v: string | undefined): number | undefined {
  const n = Number(v);
  return v !== undefined && Number.isInteger(n) && n > 0 ? n : undefined;
}

function identity(tags: Readonly<Record<string, string>>): PodIdentity | undefined {
  const uid = tags[TAG.podUid];
  return uid === undefined || uid === '' ? undefined : { namespace: tags[TAG.podNamespace] ?? '', name: tags[TAG.podName] ?? '', uid };
}

export function decodeInstance(i: Instance): ObservedInstance {
  const t = i.tags;
  return {
    id: i.id, type: i.type, zone: i.zone, state: i.state, lifecycle: i.lifecycle, launchTime: i.launchTime,
    terminationProtection: t[TAG.terminationProtection] === 'true',
    ...defined({
      privateIp: i.privateIp, clusterId: t[TAG.cluster], nodeName: t[TAG.node], pod: identity(t), launchKey: t[TAG.launchKey], budgetNamespace: t[TAG.budget],
      maxLifetimeSeconds: seconds(t[TAG.maxLifetime]), onInterruption: interruption(t[TAG.onInterruption]), agent: parseAgentState(t),
    }),
  };
}

/** The CloudWatch Logs stream of one run of a container (the agent's awslogs-stream). */
export function logStreamName(p: PodIdentity, container: string, run: number): string {
  return `${p.namespace}/${p.name}/${p.uid}/${container}/${String(run)}`;
}
