// Launch orchestration, assembled: plans (launch-plan.ts), batches of identical launches
// (../batcher.ts, batch-launch.ts), retries (launch-retries.ts), all working on the pod table.
import { UnavailableOfferings } from '../../catalog/unavailable.js';
import type { PodHints } from '../../domain/annotations.js';
import type { Pod, PodRef } from '../../domain/pod.js';
import type { PodRequest } from '../../domain/pod-request.js';
import type { Logger } from '../../observability/logger.js';
import type { Clock } from '../../ports/clock.js';
import type { EventRecorder } from '../../ports/kube.js';
import type { InstanceLauncher } from '../../ports/launcher.js';
import type { AssignmentDelivery } from '../assignment-delivery.js';
import { Batcher } from '../batcher.js';
import type { PodTable } from '../pod-table.js';
import { timingsOf, type Ec2Settings } from '../settings.js';
import type { Tagger } from '../tagger.js';
import type { Terminations } from '../terminations.js';
import { sendBatch, type LaunchItem } from './batch-launch.js';
import { LaunchPlanner, type InstanceCatalog, type LaunchPlan, type Planned } from './launch-plan.js';
import { LaunchRetries, type Waiting } from './launch-retries.js';
import type { PriceBook } from './price-book.js';
import type { BudgetGate } from '../../ports/budget-gate.js';
import { BudgetCheck } from './budget-check.js';

export interface LaunchesDeps {
  readonly table: PodTable;
  readonly launcher: InstanceLauncher;
  readonly catalog: InstanceCatalog;
  readonly prices: PriceBook;
  readonly events: EventRecorder;
  readonly delivery: AssignmentDelivery;
  readonly tagger: Tagger;
  readonly terminations: Terminations;
  readonly settings: Ec2Settings;
  readonly clock: Clock;
  readonly log: Logger;
  /** The budgets every launch is decided by; absent: launches are not limited by money. */
  readonly budgets?: BudgetGate;
}

export class Launches {
  readonly planner: LaunchPlanner;
  readonly #batcher: Batcher<LaunchItem>;
  readonly #retries: LaunchRetries;
  readonly #budget: BudgetCheck | undefined;
  readonly #stop = new AbortController();

  constructor(d: LaunchesDeps) {
    const unavailable = new UnavailableOfferings(timingsOf(d.settings).unavailableTtlMs);
    this.planner = new LaunchPlanner({ settings: d.settings, catalog: d.catalog, prices: d.prices, clock: d.clock, unavailable });
    this.#batcher = new Batcher<LaunchItem>({
      clock: d.clock, windowMs: d.settings.batchWindowMs, maxSize: d.settings.batchMax,
      send: (_key, items, signal) => sendBatch(items, {
        table: d.table, launcher: d.launcher, unavailable, events: d.events, settings: d.settings, now: () => d.clock.now().getTime(),
        delivery: d.delivery, tagger: d.tagger, terminations: d.terminations, retries: this.#retries, log: d.log,
      }, signal),
      onError: (err) => { d.log.error({ err }, 'launch batch failed'); },
    });
    this.#budget = d.budgets === undefined ? undefined : new BudgetCheck({
      gate: d.budgets, table: d.table, events: d.events, types: d.catalog.types, onDemandUsdPerHour: d.catalog.onDemandUsdPerHour,
      reservedUsdPerHour: d.settings.reservedUsdPerHour ?? 0,
      requeue: (item, plan) => { this.#retries.queue(item, { ok: true, plan }); },
      giveUp: (item, reason, message) => { this.#retries.giveUp(item, reason, message); },
    });
    const budget = this.#budget;
    this.#retries = new LaunchRetries({
      table: d.table, clock: d.clock, events: d.events, planner: this.planner, batcher: this.#batcher, stop: this.#stop.signal,
      ...(budget === undefined ? {} : { check: (item: Waiting, plan: LaunchPlan) => budget.check(item, plan) }),
    });
  }

  /** Pods waiting for their budgets. */
  get budgetWaiting(): number {
    return this.#budget?.waiting ?? 0;
  }

  /** The pod no longer wants to launch: out of the budgets' queue, its reservation released. */
  withdraw(uid: string): void {
    this.#budget?.withdraw(uid);
  }

  /** Pods waiting in open batches. */
  get waiting(): number {
    return this.#batcher.waiting;
  }

  /** Plans a pod's launch; throws PodRejectedError for a pod that can never launch. */
  plan(pod: Pod, hints: PodHints, request: PodRequest): Promise<Planned> {
    return this.planner.plan(pod, hints, request);
  }

  /** Queues a planned launch (or waits for capacity); the pod must be in the table. */
  queue(item: Waiting, planned: Planned): void {
    this.#retries.queue(item, planned);
  }

  /** The pod cannot launch again (a relaunch failed): it fails with the reason and an Event. */
  giveUp(pod: Pod, ref: PodRef, reason: string, message: string): void {
    this.#retries.giveUp({ pod, ref }, reason, message);
  }

  flush(): Promise<void> {
    return this.#batcher.flush();
  }

  /** Stops retries, drops open batches and aborts the launches in flight. */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.#batcher.close();
  }
}
