// An EC2 instance as ORCA's core sees it, and the launch request it makes. Plain data.
import type { CapacityType, ReservationPreference } from './annotations.js';

/** EC2's instance states; `unknown` for a state name ORCA does not know (never taken for a live one). */
export type InstanceState = 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped' | 'unknown';

/** The instance is starting or running: it bills and may run a pod. */
export const isLive = (i: { readonly state: InstanceState }): boolean => i.state === 'pending' || i.state === 'running';

/** The instance is going or gone: it runs no pod any more. */
export const isGone = (i: { readonly state: InstanceState }): boolean => i.state === 'shutting-down' || i.state === 'terminated' || i.state === 'stopping' || i.state === 'stopped';

export interface Instance {
  readonly id: string;
  readonly type: string;
  readonly zone: string;
  readonly state: InstanceState;
  /** How it is billed: spot, on-demand (incl. reservations) or a Capacity Block. */
  readonly lifecycle: 'spot' | 'on-demand' | 'capacity-block';
  readonly launchTime: string;
  readonly privateIp?: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** An active capacity reservation of the account, with the instances it still has free. */
export interface CapacityReservationInfo {
  readonly id: string;
  readonly instanceType: string;
  readonly zone: string;
  readonly available: number;
}

export interface LaunchSpec {
  /** Idempotency: the same token never launches twice (see launchToken). */
  readonly clientToken: string;
  readonly instanceType: string;
  readonly capacity: CapacityType;
  readonly subnetId: string;
  /** The offering's Availability Zone, '*' when EC2 chooses (metrics and logs; the subnet decides). */
  readonly zone?: string;
  readonly imageId: string;
  readonly rootDeviceName: string;
  /** Identical workers to launch in one call (MinCount 1, MaxCount count). */
  readonly count: number;
  readonly maxSpotPrice?: number;
  readonly capacityReservationId?: string;
  readonly capacityReservationPreference?: ReservationPreference;
  readonly capacityBlockId?: string;
  readonly rootVolumeGiB: number;
  readonly instanceProfileArn?: string;
  readonly securityGroupIds: readonly string[];
  /** Generic bootstrap script: never pod data, never secrets. */
  readonly userData: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly terminationProtection: boolean;
  readonly dryRun: boolean;
}

/**
 * The ClientToken of a one-pod launch: the same pod UID, round and attempt give the same token, so
 * a create repeated after a crash returns the instance already launched instead of a second one.
 * A round is one pass over the pod's offerings (a pod that found no capacity tries again in a
 * later round); attempt is the offering's place in that pass. EC2 allows 64 ASCII characters.
 */
export function launchToken(podUid: string, attempt: number, round = 0): string {
  return (round === 0 ? `orca-${podUid}-${attempt}` : `orca-${podUid}-r${round}-${attempt}`).slice(0, 64);
}

/** The ClientToken of a batched launch, from a digest of the batch's pod UIDs (see launchToken). */
export function batchToken(podsDigest: string, attempt: number, round: number): string {
  return `orca-b-${podsDigest}-${round}-${attempt}`.slice(0, 64);
}
