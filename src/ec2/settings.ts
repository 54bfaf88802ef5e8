// What the EC2 provider is configured with (built from the config file in app.ts), and every timing
// it uses, with its name and default, in one place.
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
  /** Identical launches arriving within this window share one RunInstances call. */
  readonly batchWindowMs: number;
  /** At most this many instances per RunInstances call. */
  readonly batchMax: number;
  /** An instance launched but never given a pod is terminated this long after its launch. */
  readonly unassignedGraceMs: number;
  /** Extra tags on every instance (cost allocation). */
  readonly tags: Readonly<Record<string, string>>;
  /** The idle guard: accelerators below `idleBelow` (0..1) utilisation for `warnAfterMs` get the pod a Warning Event. */
  readonly idle?: { readonly idleBelow: number; readonly warnAfterMs: number };
  /** The hourly rate budgets charge for capacity reservations and Capacity Blocks (0: their money was committed when they were bought). */
  readonly reservedUsdPerHour?: number;
  /** The timings below; each has a default in ec2Timings. */
  readonly timings?: Partial<Ec2Timings>;
}

export interface Ec2Timings {
  /** An offering that ran out of capacity is not tried again for this long. */
  readonly unavailableTtlMs: number;
  /** Spot prices of the types pods asked for are read again this often. */
  readonly spotRefreshMs: number;
  /** The account's capacity reservations are read again this often while pods ask for reserved capacity. */
  readonly reservationRefreshMs: number;
  /** Boot images (SSM public parameters) are resolved again this often. */
  readonly imageRefreshMs: number;
  /** Terminations requested within this window share one TerminateInstances call. */
  readonly terminateWindowMs: number;
  /** At most this many instances per TerminateInstances call (EC2 takes 1000). */
  readonly terminateMax: number;
  /** Seconds beyond the pod's grace period that ORCA waits for the agent to report its containers stopped. */
  readonly stopSlackSeconds: number;
  /** An agent still waiting for its assignment this long after launch gets it rebuilt from the pod object. */
  readonly assignmentRebuildMs: number;
  /** An instance missing from this many polls in a row (and older than instanceVisibleMs) is taken as gone. */
  readonly missingPolls: number;
  /** EC2 may not list an instance this soon after its launch. */
  readonly instanceVisibleMs: number;
  /** On shutdown, terminations already requested are sent for at most this long. */
  readonly shutdownFlushMs: number;
}

export const ec2Timings: Ec2Timings = {
  unavailableTtlMs: 5 * 60_000,
  spotRefreshMs: 5 * 60_000,
  reservationRefreshMs: 60_000,
  imageRefreshMs: 60 * 60_000,
  terminateWindowMs: 1000,
  terminateMax: 1000,
  stopSlackSeconds: 15,
  assignmentRebuildMs: 60_000,
  missingPolls: 3,
  instanceVisibleMs: 2 * 60_000,
  shutdownFlushMs: 5000,
};

/** The settings' timings, defaults filled in. */
export const timingsOf = (s: Ec2Settings): Ec2Timings => ({ ...ec2Timings, ...s.timings });
