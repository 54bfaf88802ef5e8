// Pure: the virtual node ORCA registers — labels, taints, capacity, conditions, addresses — as the
// JSON shape of a v1 Node, from plain inputs. Condition reasons are a real kubelet's, verbatim.
import { LABEL } from './keys.js';

export interface Taint { readonly key: string; readonly value?: string; readonly effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' }

export interface NodeCondition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly lastHeartbeatTime: string;
  readonly lastTransitionTime: string;
}

export interface NodeStatus {
  readonly capacity: Readonly<Record<string, string>>;
  readonly allocatable: Readonly<Record<string, string>>;
  readonly conditions: readonly NodeCondition[];
  readonly addresses: readonly { readonly type: string; readonly address: string }[];
  readonly daemonEndpoints: { readonly kubeletEndpoint: { readonly Port: number } };
  readonly nodeInfo: Readonly<Record<string, string>>;
}

export interface NodeManifest {
  readonly metadata: { readonly name: string; readonly labels: Readonly<Record<string, string>> };
  readonly spec: { readonly taints: readonly Taint[] };
  readonly status: NodeStatus;
}

export interface NodeParams {
  readonly name: string;
  readonly version: string;
  readonly internalIP: string;
  readonly kubeletPort: number;
  readonly extraLabels: Readonly<Record<string, string>>;
  readonly extraTaints: readonly Taint[];
  readonly capacity: Readonly<Record<string, string | number>>;
  /** Appended to the Ready condition's message (e.g. the kubelet API serves a self-signed certificate). */
  readonly readyNote?: string;
}

export const providerTaint: Taint = { key: 'virtual-kubelet.io/provider', value: 'aws', effect: 'NoSchedule' };

export function nodeLabels(p: NodeParams): Record<string, string> {
  return {
    type: 'virtual-kubelet',
    'kubernetes.io/role': 'agent',
    'kubernetes.io/hostname': p.name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    [LABEL.provider]: 'aws',
    [LABEL.version]: p.version,
    'node.kubernetes.io/exclude-from-external-load-balancers': 'true',
    ...p.extraLabels,
  };
}

const healthy: readonly (readonly [string, string, string])[] = [
  ['MemoryPressure', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
  ['DiskPressure', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
  ['PIDPressure', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
];

/** Ready (or not, with `notReadyMessage`) plus the pressure conditions, all heartbeated at `now`; `note` follows the Ready message. */
export function nodeConditions(now: string, notReadyMessage?: string, previous: readonly NodeCondition[] = [], note?: string): NodeCondition[] {
  const ready = notReadyMessage === undefined
    ? { type: 'Ready', status: 'True' as const, reason: 'KubeletReady', message: note === undefined ? 'kubelet is posting ready status' : `kubelet is posting ready status; ${note}` }
    : { type: 'Ready', status: 'False' as const, reason: 'KubeletNotReady', message: notReadyMessage };
  const all = [ready, ...healthy.map(([type, reason, message]) => ({ type, status: 'False' as const, reason, message }))];
  return all.map((c) => {
    const old = previous.find((o) => o.type === c.type);
    const lastTransitionTime = old?.status === c.status ? old.lastTransitionTime : now;
    return { ...c, lastHeartbeatTime: now, lastTransitionTime };
  });
}

export function nodeStatus(p: NodeParams, conditions: readonly NodeCondition[]): NodeStatus {
  const capacity = Object.fromEntries(Object.entries(p.capacity).map(([k, v]) => [k, String(v)]));
  return {
    capacity,
    allocatable: capacity,
    conditions,
    addresses: [{ type: 'InternalIP', address: p.internalIP }],
    daemonEndpoints: { kubeletEndpoint: { Port: p.kubeletPort } },
    nodeInfo: {
      machineID: '', systemUUID: '', bootID: '', kernelVersion: '', kubeProxyVersion: '',
      osImage: 'ORCA burst node (AWS EC2)', containerRuntimeVersion: `orca://${p.version}`,
      kubeletVersion: `v${p.version}-orca`, operatingSystem: 'linux', architecture: 'amd64',
    },
  };
}

/**
 * The taints to post: ORCA's own, plus every taint someone else put on the node (the node-lifecycle
 * controller's not-ready/unreachable taints, an admin's cordon) — a taint list patch replaces the list.
 */
export function mergeTaints(existing: readonly Taint[], ours: readonly Taint[]): Taint[] {
  const same = (a: Taint, b: Taint): boolean => a.key === b.key && a.effect === b.effect;
  return [...ours, ...existing.filter((t) => !ours.some((o) => same(o, t)))];
}

export function desiredNode(p: NodeParams, now: string): NodeManifest {
  return {
    metadata: { name: p.name, labels: nodeLabels(p) },
    spec: { taints: [providerTaint, ...p.extraTaints] },
    status: nodeStatus(p, nodeConditions(now, undefined, [], p.readyNote)),
  };
}
