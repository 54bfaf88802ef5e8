// A pod's way to an instance when the first try does not get one: a launch that found no capacity
// anywhere waits (10, 20, 40, 80 s) and is planned and queued again; after five rounds, or at an
// error that another try cannot fix (launch-failures.ts), the pod fails with the reason and an Event.
import { backoffDelay } from '../../domain/backoff.js';
import { PodRejectedError } from '../../domain/errors.js';
import type { Clock } from '../../ports/clock.js';
import type { EventRecorder } from '../../ports/kube.js';
import type { PodTable } from '../pod-table.js';
import type { Batcher } from '../batcher.js';
import { wanted, type LaunchItem } from './batch-launch.js';
import { retriedAfter, type LaunchFailureReason } from './launch-failures.js';
import type { LaunchPlan, LaunchPlanner, Planned } from './launch-plan.js';

/** A pod waiting for a launch, before or after it has a plan. */
export type Waiting = Omit<LaunchItem, 'plan'>;

/** Passes over a pod's offerings before it fails for lack of capacity. */
export const launchRounds = 5;
const retryPolicy = { baseMs: 10_000, maxMs: 160_000 };

export interface LaunchRetriesDeps {
  readonly table: PodTable;
  readonly clock: Clock;
  readonly events: EventRecorder;
  readonly planner: LaunchPlanner;
  readonly batcher: Batcher<LaunchItem>;
  readonly stop: AbortSignal;
  /** The budgets' say before a plan enters a batch: the plan to launch, or undefined when the pod waits or was rejected. */
  readonly check?: (item: Waiting, plan: LaunchPlan) => LaunchPlan | undefined;
}

export class LaunchRetries {
  readonly #d: LaunchRetriesDeps;

  constructor(deps: LaunchRetriesDeps) {
    this.#d = deps;
  }

  /** Queues the pod for launch, or waits and tries again when nothing has capacity. */
  queue(item: Waiting, planned: Planned): void {
    const message = planned.ok ? `waiting to launch ${planned.plan.ranked[0]?.type ?? ''}` : planned.wait;
    this.#d.table.setLaunch(item.ref.uid, { state: 'queued', message });
    if (planned.ok) this.#toBatch(item, planned.plan);
    else this.#waitAndRetry(item, 'NoCapacity', planned.wait);
  }

  /** Into a launch batch, once the budgets allow it. */
  #toBatch(item: Waiting, plan: LaunchPlan): void {
    const allowed = this.#d.check === undefined ? plan : this.#d.check(item, plan);
    if (allowed !== undefined) this.#d.batcher.add(allowed.key, { ...item, plan: allowed });
  }

  failed(item: Waiting, reason: LaunchFailureReason, message: string): void {
    if (!wanted(this.#d.table, item.ref)) return;
    const round = item.round + 1;
    if (retriedAfter[reason] && round < launchRounds) this.#waitAndRetry({ ...item, round }, reason, message);
    else this.giveUp(item, reason, message);
  }

  giveUp(item: Pick<Waiting, 'pod' | 'ref'>, reason: string, message: string): void {
    this.#d.events.podEvent(item.pod, 'Warning', reason, message);
    this.#d.table.setLaunch(item.ref.uid, { state: 'failed', reason, message });
  }

  /** Shows the pod as waiting for capacity, then plans and queues it again after a delay. */
  #waitAndRetry(item: Waiting, reason: string, why: string): void {
    const delay = backoffDelay(Math.max(1, item.round), retryPolicy);
    const message = `${why}; trying again in ${delay / 1000}s (round ${item.round + 1} of ${launchRounds})`;
    this.#d.events.podEvent(item.pod, 'Warning', reason, message);
    this.#d.table.setLaunch(item.ref.uid, { state: 'retrying', reason, message });
    void this.#retryAfter(item, delay);
  }

  async #retryAfter(item: Waiting, delay: number): Promise<void> {
    try {
      await this.#d.clock.sleep(delay, this.#d.stop);
    } catch {
      return;
    }
    if (!wanted(this.#d.table, item.ref)) return;
    try {
      const planned = await this.#d.planner.plan(item.pod, item.hints, item.request);
      if (planned.ok) this.#toBatch(item, planned.plan);
      else this.#waitAndRetry(item, 'NoCapacity', planned.wait);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof PodRejectedError) this.giveUp(item, err.reason, message);
      else this.failed(item, 'LaunchFailed', message);
    }
  }
}
