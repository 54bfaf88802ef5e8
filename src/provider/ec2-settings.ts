// What the EC2 provider is configured with (built from the config file in app.ts).
import type { SelectionMode } from '../catalog/selection.js';
import type { CapacityType, OnInterruption } from '../domain/annotations.js';
import type { AcceleratorKind } from '../domain/instance-type.js';

export interface Ec2Settings {
  /** Tag value of orca.research/cluster on every instance; identifies this cluster's instances. */
  readonly clusterId: string;
  readonly nodeName: string;
  /** Subnets to launch into, in preference order, with their Availability Zones. */
  readonly subnets: readonly { readonly zone: string; readonly subnetId: string }[];
  readonly securityGroupIds: readonly string[];
  readonly instanceProfileArn?: string;
  /** SSM public parameter or AMI id per accelerator kind ('cpu' for none). */
  readonly images: Readonly<Record<AcceleratorKind | 'cpu', string>>;
  readonly selectionMode: SelectionMode;
  readonly defaultCapacityOrder: readonly CapacityType[];
  readonly defaultOnInterruption: OnInterruption;
  readonly allowedTypes: readonly string[];
  readonly templates: Readonly<Record<string, { readonly instanceType: string }>>;
  /** Root volume size when the pod asks for less ephemeral storage. */
  readonly rootVolumeGiB: number;
  /** Generic bootstrap script; never pod data or secrets. */
  readonly userData: string;
  /** Every launch becomes an EC2 DryRun: nothing is launched, permissions and parameters are checked. */
  readonly dryRun: boolean;
  readonly pollMs: number;
  readonly unavailableTtlMs: number;
  /** Identical launches arriving within this window share one RunInstances call. */
  readonly batchWindowMs: number;
  /** At most this many instances per RunInstances call. */
  readonly batchMax: number;
  /** Extra tags on every instance (cost allocation). */
  readonly tags: Readonly<Record<string, string>>;
}

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
} as const;
