// The budgets' say on each launch, before its plan enters a launch batch: the plan's offerings
// become the options the budgets decide on (each at its price ceiling), and the answer either narrows
// the plan to the options allowed, keeps the pod Pending with the reason and the figures until the
// budgets admit it (then it is queued again), or rejects it. Without budgets, every plan goes.
import type { Offering } from '../../catalog/selection.js';
import type { CapacityType as OfferingCapacity } from '../../domain/annotations.js';
import type { InstanceTypeInfo } from '../../domain/instance-type.js';
import { microUsdFromUsd } from '../../policy/money.js';
import type { BudgetAsk, BudgetGate, LaunchOption } from '../../ports/budget-gate.js';
import type { EventRecorder } from '../../ports/kube.js';
import type { PodTable } from '../pod-table.js';
import { planKey, type LaunchPlan } from './launch-plan.js';
import type { Waiting } from './launch-retries.js';

/** Resource names of the accelerators of each kind, as pods request them. */
export const ACCELERATOR_RESOURCE = { nvidia: 'nvidia.com/gpu', neuron: 'aws.amazon.com/neuron' } as const;

export function acceleratorsOf(info: InstanceTypeInfo | undefined): Record<string, number> {
  const a = info?.accelerator;
  return a === undefined ? {} : { [ACCELERATOR_RESOURCE[a.kind]]: a.count };
}

export interface BudgetCheckDeps {
  readonly gate: BudgetGate;
  readonly table: PodTable;
  readonly events: EventRecorder;
  readonly types: ReadonlyMap<string, InstanceTypeInfo>;
  readonly onDemandUsdPerHour: Readonly<Record<string, number>>;
  /** Rate charged for capacity reservations and Capacity Blocks (USD per hour). */
  readonly reservedUsdPerHour: number;
  /** A pod the budgets admitted after it waited: plan it into a batch again. */
  readonly requeue: (item: Waiting, plan: LaunchPlan) => void;
  /** A pod the budgets can never let launch: it fails with the reason and an Event. */
  readonly giveUp: (item: Waiting, reason: string, message: string) => void;
}

export class BudgetCheck {
  readonly #d: BudgetCheckDeps;
  readonly #held = new Map<string, { readonly item: Waiting; readonly plan: LaunchPlan }>();
  /** Pods the budgets admitted after they waited, until their plan is checked again. */
  readonly #admittedNow = new Set<string>();

  constructor(deps: BudgetCheckDeps) {
    this.#d = deps;
    deps.gate.onAdmit((uid) => { this.#admitted(uid); });
  }

  /** Pods waiting for their budgets now. */
  get waiting(): number {
    return this.#held.size;
  }

  /** The plan narrowed to what the budgets allow, or undefined when the pod waits or was rejected. */
  check(item: Waiting, plan: LaunchPlan): LaunchPlan | undefined {
    const answer = this.#d.gate.ask(this.#askOf(item, plan));
    const uid = item.ref.uid;
    if (answer.kind === 'refuse') {
      this.#held.delete(uid);
      this.#admittedNow.delete(uid);
      this.#d.giveUp(item, answer.reason, answer.message);
      return undefined;
    }
    if (answer.kind === 'wait') {
      const before = this.#d.table.pod(uid)?.launch;
      this.#held.set(uid, { item, plan });
      this.#d.table.setLaunch(uid, { state: 'budget', reason: answer.reason, message: answer.message });
      if (before?.state !== 'budget' || before.reason !== answer.reason) this.#d.events.podEvent(item.pod, 'Warning', answer.reason, answer.message);
      return undefined;
    }
    this.#held.delete(uid);
    if (this.#admittedNow.delete(uid)) this.#d.events.podEvent(item.pod, 'Normal', 'BudgetReserved', `its budgets have room now: ${answer.message}`);
    this.#d.table.setBudget(uid, { ok: true, reason: 'Reserved', message: answer.message });
    const ranked = answer.options.map((i) => plan.ranked[i]).filter((o): o is Offering => o !== undefined);
    return ranked.length === plan.ranked.length ? plan : { ...plan, ranked, key: planKey(plan.launchKey, ranked) };
  }

  /** The pod no longer wants to launch (deleted): out of the budgets' queue, its reservation released. */
  withdraw(uid: string): void {
    this.#held.delete(uid);
    this.#admittedNow.delete(uid);
    this.#d.gate.withdraw(uid);
  }

  #admitted(uid: string): void {
    const held = this.#held.get(uid);
    if (held === undefined) return;
    this.#held.delete(uid);
    this.#admittedNow.add(uid);
    this.#d.requeue(held.item, held.plan);
  }

  #askOf(item: Waiting, plan: LaunchPlan): BudgetAsk {
    const { pod, ref, hints } = item;
    const { namespace, name } = pod.metadata;
    const created = Date.parse(pod.metadata.creationTimestamp ?? '');
    const maxRuntimeSeconds = hints.maxLifetimeSeconds ?? pod.spec.activeDeadlineSeconds;
    return {
      podUid: ref.uid, namespace, name, chargeTo: hints.budgetNamespace ?? namespace,
      priority: pod.spec.priority ?? 0, createdAt: Number.isFinite(created) ? created : 0,
      options: plan.ranked.map((o) => this.#option(o, hints.maxSpotPrice)), ...(maxRuntimeSeconds === undefined ? {} : { maxRuntimeSeconds }),
    };
  }

  /** The offering at its price ceiling: on demand its price, spot its max price (the on-demand price unless the pod sets one), reserved the configured rate. */
  #option(o: Offering, maxSpotPrice: number | undefined): LaunchOption {
    const onDemand = this.#d.onDemandUsdPerHour[o.type] ?? o.usdPerHour;
    const usd = ceilingUsd(o.capacity, onDemand, maxSpotPrice, this.#d.reservedUsdPerHour);
    return {
      instanceType: o.type, family: o.type.split('.')[0] ?? o.type, capacityType: o.capacity,
      accelerators: acceleratorsOf(this.#d.types.get(o.type)), ceilingPerHour: microUsdFromUsd(usd),
    };
  }
}

/** What an hour of an offering may cost at most: the reserved rate, the spot max price (else on demand), or the on-demand price. */
export function ceilingUsd(capacity: OfferingCapacity, onDemand: number, maxSpotPrice: number | undefined, reserved: number): number {
  if (capacity === 'reserved') return reserved;
  if (capacity === 'spot') return maxSpotPrice ?? onDemand;
  return onDemand;
}
