// What a provider asks before it spends money on a pod, and what it tells the budgets afterwards.
// Implemented by budgets/ledger.ts (the one owner of every budget's book); the EC2 provider asks it
// before a plan enters a launch batch and reports its pods' instances after every poll.
import type { CapacityType, MicroUsd } from '../policy/budget-types.js';

/** One way the pod may be launched (an offering of its plan) and what it costs at most. */
export interface LaunchOption {
  readonly instanceType: string;
  /** p5 for p5.48xlarge. */
  readonly family: string;
  readonly capacityType: CapacityType;
  /** Accelerators the instance brings, by resource name. */
  readonly accelerators: Readonly<Record<string, number>>;
  /** The most ORCA may pay an hour for it (on-demand price, spot max price, or the reserved rate). */
  readonly ceilingPerHour: MicroUsd;
}

/** A pod's launch asking for money. */
export interface BudgetAsk {
  readonly podUid: string;
  /** The pod's own namespace and name. */
  readonly namespace: string;
  readonly name: string;
  /** The namespace whose budgets pay (orca.research/budget-namespace, else the pod's own). */
  readonly chargeTo: string;
  /** PriorityClass value (spec.priority); 0 without one. */
  readonly priority: number;
  /** creationTimestamp, ms since the epoch. */
  readonly createdAt: number;
  /** The plan's offerings in the order they would be tried. */
  readonly options: readonly LaunchOption[];
  /** orca.research/max-lifetime, else activeDeadlineSeconds; absent: the budget's defaultMaxRuntime. */
  readonly maxRuntimeSeconds?: number;
}

export type BudgetAnswer =
  /** Reserved: launch with the options at these indices (those the budgets allow), in their order. */
  | { readonly kind: 'go'; readonly options: readonly number[]; readonly message: string }
  /** Not now: the pod stays Pending with the reason; BudgetGate.onAdmit says when it may go. */
  | { readonly kind: 'wait'; readonly reason: string; readonly message: string }
  /** Never under these budgets as they are: the pod is rejected with the reason. */
  | { readonly kind: 'refuse'; readonly reason: string; readonly message: string };

/** An instance that runs (or ran) a pod, as the provider saw it at a poll. */
export interface InstanceCharge {
  readonly podUid: string;
  readonly namespace: string;
  readonly name: string;
  readonly chargeTo: string;
  readonly instanceType: string;
  readonly capacityType: CapacityType;
  readonly accelerators: Readonly<Record<string, number>>;
  /** EC2's launch time, ms since the epoch. */
  readonly launchedAt: number;
  /** The price paid an hour now (on-demand price, the zone's spot price, or the reserved rate). */
  readonly ratePerHour: MicroUsd;
  /** The instance is going or gone: its charge ends now. */
  readonly ended: boolean;
  /** An ended spot instance's exact charge over its life (its pool's price history), replacing the one followed poll by poll. */
  readonly lifeCost?: MicroUsd;
  /** An ended spot instance whose life is still being priced: its pod's money stays as it is until it is. */
  readonly pricing?: boolean;
  readonly maxRuntimeSeconds?: number;
}

/** Every pod of the provider that may hold money, at one poll. */
export interface ChargeReport {
  /** Pods that were allowed and have no instance yet (they keep their reservation). */
  readonly launching: readonly string[];
  readonly instances: readonly InstanceCharge[];
}

export interface BudgetGate {
  /** Decides the launch now; decisions are serialized, so a burst cannot reserve past a limit. */
  ask(ask: BudgetAsk): BudgetAnswer;
  /** Called with each pod that waited and may go now (its money is reserved): ask again to get its options. */
  onAdmit(handler: (podUid: string) => void): void;
  /** The pod no longer wants to launch (deleted, or rejected): out of the queue, its reservation released. */
  withdraw(podUid: string): void;
  /** After every poll: charges accrue and end; a pod the report does not name gives its reservation back. */
  observe(report: ChargeReport, now: number): void;
  /**
   * Running pods to stop now because a budget of theirs with onLimit: HoldAndDrain has spent its
   * whole limit, each with the message for its Event. Asked after every observe.
   */
  toDrain(): readonly { readonly podUid: string; readonly message: string }[];
  /** The idle timeout (seconds) of the budgets that pay for pods charged to `namespace` (the shortest); undefined: none. */
  idleTimeoutSeconds(namespace: string): number | undefined;
}
