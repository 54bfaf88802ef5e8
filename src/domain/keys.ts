// Every orca.research/* key ORCA reads or writes, in one registry: pod annotations (the table in
// annotations.ts), instance tags (ORCA's and its agent's), Node labels and the pod condition. Each
// entry names the document that explains it; a test keeps the registry and the documents in step.
import { annotations, PREFIX } from './annotations.js';

export const TAG = {
  cluster: 'orca.research/cluster',
  node: 'orca.research/node',
  podNamespace: 'orca.research/pod-namespace',
  podName: 'orca.research/pod-name',
  podUid: 'orca.research/pod-uid',
  budget: 'orca.research/budget-namespace',
  /** The pod's orca.research/max-lifetime in seconds, so that a restarted ORCA still enforces it. */
  maxLifetime: 'orca.research/max-lifetime-seconds',
  /** The pod's orca.research/on-interruption (fail | relaunch), so that a restarted ORCA still honours it. */
  onInterruption: 'orca.research/on-interruption',
  /** Digest of the launch parameters: an instance whose pod tags were never written can be given to a pod with the same digest. */
  launchKey: 'orca.research/launch-key',
  /** Present (true) when the instance was launched with EC2 termination protection: ORCA lifts it before it terminates. */
  terminationProtection: 'orca.research/termination-protection',
  /** Written by the agent: its pod state and notice (agent-state.ts). */
  state: 'orca.research/state',
  /** Written by the agent: what the pod's containers and accelerators use (agent-protocol/usage.ts). */
  usage: 'orca.research/usage',
  /** Written by the agent, one per container: orca.research/c/<container>. */
  containerPrefix: 'orca.research/c/',
} as const;

export const LABEL = {
  provider: 'orca.research/provider',
  version: 'orca.research/version',
} as const;

export const CONDITION = {
  /** True once the provider has the pod; False with the reason while provisioning fails. */
  provisioned: 'orca.research/Provisioned',
  /** True once the pod's money is reserved in its namespace's budgets; False with the reason (and the figures) while it waits for them. */
  budget: 'orca.research/Budget',
} as const;

/** ORCA's API group and version: the BurstBudget custom resource. */
export const API_VERSION = 'orca.research/v1alpha1';

export type KeyKind = 'annotation' | 'tag' | 'label' | 'condition' | 'api';

export interface KeyEntry {
  readonly key: string;
  readonly kind: KeyKind;
  /** The document that explains it. */
  readonly doc: string;
  /** The key is a prefix: orca.research/c/<container>. */
  readonly prefix?: true;
}

const entries = (kind: KeyKind, doc: string, keys: readonly string[]): KeyEntry[] => keys.map((key) => ({ key, kind, doc, ...(key.endsWith('/') ? { prefix: true as const } : {}) }));

export const keyRegistry: readonly KeyEntry[] = [
  ...entries('annotation', 'docs/annotations.md', Object.keys(annotations).map((k) => PREFIX + k)),
  ...entries('tag', 'docs/agent.md', Object.values(TAG)),
  ...entries('label', 'docs/architecture.md', Object.values(LABEL)),
  ...entries('condition', 'docs/architecture.md', Object.values(CONDITION)),
  ...entries('api', 'docs/budgets.md', [API_VERSION]),
];
