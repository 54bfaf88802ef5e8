// Pure: the vocabulary of ORCA's dollar budgets (issue 12), shared by the decision, period and queue
// code. Money is integer micro-dollars (µUSD) everywhere, so sums are exact to the cent and a
// decision "one cent over" is never lost to floating point; times are milliseconds since the epoch.

/** Micro-dollars: 1 USD = 1_000_000. */
export type MicroUsd = number;

export const USD = 1_000_000;

export type PeriodKind = 'Monthly' | 'Weekly' | 'Daily' | 'Total';

export interface BudgetPeriod {
  readonly kind: PeriodKind;
  /** Monthly: day of the month (1–31; a shorter month resets on its last day). Weekly: ISO weekday, 1 = Monday … 7 = Sunday. Ignored otherwise. */
  readonly resetDay: number;
  /** IANA time zone the period's boundaries (local midnight) are in, e.g. "Europe/Berlin". */
  readonly timeZone: string;
}

export type CapacityType = 'reserved' | 'spot' | 'on-demand';

/** What a BurstBudget asks for (spec), as the decision code needs it. */
export interface BudgetRules {
  /** namespace/name of the BurstBudget. */
  readonly id: string;
  readonly namespace: string;
  readonly limit: MicroUsd;
  readonly period: BudgetPeriod;
  readonly maxConcurrentInstances?: number;
  /** Per accelerator resource name (nvidia.com/gpu, aws.amazon.com/neuron): at most this many at once. */
  readonly maxAccelerators?: Readonly<Record<string, number>>;
  /** Instance families (p5, g6e, trn1 …) pods may use; absent = any. */
  readonly allowedFamilies?: readonly string[];
  readonly deniedFamilies?: readonly string[];
  readonly allowedCapacityTypes?: readonly CapacityType[];
  /** Other namespaces whose pods may charge this budget (orca.research/budget-namespace); "*": every namespace (the cluster-wide cap). */
  readonly allowChargesFrom?: readonly string[];
  /** Runtime assumed for a pod that gives none (seconds). */
  readonly defaultMaxRuntimeSeconds: number;
  /** Percentages of the limit spent (settled + accruing) at which to warn once per period, e.g. [50, 80, 100]. */
  readonly warnAtPercent?: readonly number[];
}

/** One launch asking for money: its price ceiling and how long it may run. */
export interface LaunchRequest {
  readonly podUid: string;
  /** The pod's own namespace. */
  readonly namespace: string;
  readonly instanceType: string;
  /** The instance type's family (p5 for p5.48xlarge). */
  readonly family: string;
  readonly capacityType: CapacityType;
  /** Accelerators the instance brings, by resource name. */
  readonly accelerators: Readonly<Record<string, number>>;
  /** The most ORCA may pay an hour: the on-demand price, the spot max price, or the configured rate of reserved capacity. */
  readonly ceilingPerHour: MicroUsd;
  /** The pod's maximum runtime (max-lifetime, else activeDeadlineSeconds), if it gives one. */
  readonly maxRuntimeSeconds?: number;
}

/** A budget's money and room now. */
export interface BudgetUsage {
  /** Charged for instances that have ended, this period. */
  readonly settled: MicroUsd;
  /** Charged so far for instances that run now. */
  readonly accruing: MicroUsd;
  /** Reserved and not yet charged: the rest of each running or launching pod's quote. */
  readonly reserved: MicroUsd;
  readonly runningInstances: number;
  readonly accelerators: Readonly<Record<string, number>>;
}

/** Why a launch may not go now (Slurm-like reasons; the pod waits, Pending, unless `permanent`). */
export type DenialReason =
  | 'NamespaceBudgetExceeded' | 'NamespaceMaxInstances' | 'NamespaceMaxAccelerators'
  | 'InstanceFamilyNotAllowed' | 'CapacityTypeNotAllowed' | 'BudgetChargeNotAllowed' | 'QuoteExceedsBudget';

export type BudgetDecision =
  | { readonly kind: 'allow'; readonly quote: MicroUsd }
  | {
    readonly kind: 'deny';
    readonly reason: DenialReason;
    /** The pod can never run under this budget as it is (rejected at once, not queued). */
    readonly permanent: boolean;
    /** For the Event and the pod condition: names the budget and the figures. */
    readonly message: string;
  };
