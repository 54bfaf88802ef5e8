// The narrow view of BurstBudgets (orca.research/v1alpha1, namespaced) that the budget ledger needs:
// the objects as a watched cache, their status subresource, and Events on them. Implemented in
// k8s/budget-api.ts over @kubernetes/client-node; faked in unit tests. Specs arrive as plain JSON and
// are checked by policy/budget-spec.ts (the apiserver's schema already refused most bad input).

/** One BurstBudget as the API holds it. */
export interface BurstBudgetObject {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly generation?: number;
  /** The spec as the API returned it (plain JSON). */
  readonly spec: unknown;
  /** The status ORCA last wrote (plain JSON); absent on a new budget. */
  readonly status?: unknown;
}

/** The BurstBudgets of every namespace, as a watched cache. */
export interface BudgetSource {
  list(): readonly BurstBudgetObject[];
  /** Called with namespace/name of every budget added, changed or removed. */
  onChange(handler: (id: string) => void): void;
  /** Watches until `signal` aborts, restarting the watch after any error. */
  run(signal: AbortSignal): Promise<void>;
  /** Resolves once the first list has been loaded. */
  readonly synced: Promise<void>;
}

/** One piece of spend in a budget's status: an instance type and capacity type. */
export interface SpendLine {
  readonly instanceType: string;
  readonly capacityType: string;
  readonly microUSD: number;
}

/** One pod's charge as the status keeps it (the ledger rebuilds the book from these after a restart). */
export interface LedgerPod {
  readonly uid: string;
  /** The pod's own namespace and name (a pod may charge another namespace's budget). */
  readonly namespace: string;
  readonly name: string;
  readonly instanceType?: string;
  readonly capacityType?: string;
  readonly quoteMicroUSD: number;
  readonly chargedMicroUSD: number;
  readonly chargedEarlierMicroUSD: number;
  /** Accelerators the instance brings, by resource name. */
  readonly accelerators?: Readonly<Record<string, number>>;
  /** When the instance started (RFC 3339); absent while it launches. */
  readonly startedAt?: string;
  /** The instant chargedMicroUSD counts up to (RFC 3339, the last poll): a restart charges on from here. */
  readonly chargedThrough?: string;
}

/** Exact money of a budget in its status, in micro-dollars: what a restart reads back. */
export interface BudgetLedgerStatus {
  /** Start of the period the figures are for (RFC 3339); absent for a Total budget. */
  readonly periodStart?: string;
  readonly settledMicroUSD: number;
  /** settledMicroUSD by instance type and capacity type (the chargeback report's lines). */
  readonly settledByType: readonly SpendLine[];
  readonly pods: readonly LedgerPod[];
  /** Warning thresholds (percent of the limit) already announced this period. */
  readonly warnedAtPercent: readonly number[];
}

export interface BudgetCondition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: string;
}

/** status of a BurstBudget, as ORCA writes it (the printer columns read the dollar figures). */
export interface BurstBudgetStatus {
  readonly observedGeneration?: number;
  /** Dollars, rounded to the cent, for people and `kubectl get`. */
  readonly limitUSD: number;
  readonly spentUSD: number;
  readonly reservedUSD: number;
  readonly remainingUSD: number;
  /** The namespace's fair-share standing (decayed recent spend plus entry penalties, USD): the lower, the sooner its pods go. */
  readonly fairShareUSD?: number;
  readonly runningInstances: number;
  /** Pods waiting for this budget now. */
  readonly pendingPods: number;
  /** End of the current period (RFC 3339); absent for a Total budget. */
  readonly periodEnd?: string;
  readonly lastUpdated: string;
  /** Ready: the spec is valid and enforced (False with the reason when it is not). */
  readonly conditions: readonly BudgetCondition[];
  readonly ledger: BudgetLedgerStatus;
}

export interface BudgetStatusWriter {
  /** Replaces status of the budget (the status subresource); rejects (KubeApiError) when it could not. */
  writeStatus(namespace: string, name: string, status: BurstBudgetStatus): Promise<void>;
}

/**
 * Where the books of ORCA's own config keep their ledger between restarts: the cluster-wide cap
 * ("(cluster)") and the default budget of each namespace without one ("<namespace>/(default)"), which
 * have no BurstBudget to hold a status.
 */
export interface ConfigBookStore {
  /** Every saved book's status by its id; empty when none was ever saved. Rejects when it cannot be read. */
  load(): Promise<ReadonlyMap<string, BurstBudgetStatus>>;
  /** Saves these books' statuses, replacing all saved before; rejects when it could not. */
  save(statuses: ReadonlyMap<string, BurstBudgetStatus>): Promise<void>;
}

export interface BudgetEventRecorder {
  /** Records a core/v1 Event on the BurstBudget; never throws. */
  budgetEvent(budget: Pick<BurstBudgetObject, 'namespace' | 'name' | 'uid'>, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

/** One budget's figures now, in dollars (the orca_budget_* metrics). */
export interface BudgetFigures {
  readonly namespace: string;
  readonly budget: string;
  readonly limitUSD: number;
  readonly spentUSD: number;
  readonly reservedUSD: number;
  readonly remainingUSD: number;
}

/** What the budget metrics read at each scrape. */
export interface BudgetReadings {
  readonly budgets: readonly BudgetFigures[];
  /** Pods waiting for their budgets, by reason. */
  readonly pending: ReadonlyMap<string, number>;
  /** Each namespace's decayed fair-share usage, in dollars. */
  readonly share: ReadonlyMap<string, number>;
}
