// A pod's way to an instance when the first try does not get one: a launch that found no capacity
// anywhere waits (10, 20, 40, 80 s) and is planned and queued again; after five rounds, or at an
// error that another try cannot fix, the pod fails with the reason and an Event.
import { PodRejectedError } from '../domain/errors.js';
import type { PodRef } from '../domain/pod.js';
import type { Clock } from '../ports/clock.js';
import type { EventRecorder } from '../ports/kube.js';
import type { LaunchItem } from './batch-launch.js';
import type { LaunchState } from './instance-status.js';
import type { LaunchBatcher } from './launch-batcher.js';
import type { LaunchPlanner, Planned } from './launch-plan.js';
import type { FailureReason } from './placement.js';

/** A pod waiting for a launch, before or after it has a plan. */
export type Waiting = Omit<LaunchItem, 'plan'>;

/** Passes over a pod's offerings before it fails for lack of capacity. */
export const launchRounds = 5;
const retryDelayMs = (round: number): number => Math.min(10_000 * 2 ** (round - 1), 160_000);
const recoverable: ReadonlySet<string> = new Set(['NoCapacity', 'LaunchFailed']);

export interface LaunchRetriesDeps {
  readonly clock: Clock;
  readonly events: EventRecorder;
  readonly planner: LaunchPlanner;
  readonly batcher: LaunchBatcher<LaunchItem>;
  readonly stop: AbortSignal;
  /** Is the pod still waiting for an instance? */
  readonly wanted: (ref: PodRef) => boolean;
  readonly setLaunch: (ref: PodRef, l: LaunchState) => void;
}

export class LaunchRetries {
  readonly #d: LaunchRetriesDeps;

  constructor(deps: LaunchRetriesDeps) {
    this.#d = deps;
  }

  /** Queues the pod for launch, or waits and tries again when nothing has capacity. */
  queue(item: Waiting, planned: Planned): void {
    const message = planned.ok ? `waiting to launch ${planned.plan.ranked[0]?.type ?? ''}` : planned.wait;
    this.#d.setLaunch(item.ref, { state: 'queued', message });
    if (planned.ok) this.#d.batcher.add(planned.plan.key, { ...item, plan: planned.plan });
    else this.#waitAndRetry(item, 'NoCapacity', planned.wait);
  }

  failed(item: Waiting, reason: FailureReason | 'DryRun', message: string): void {
    if (!this.#d.wanted(item.ref)) return;
    const round = item.round + 1;
    if (recoverable.has(reason) && round < launchRounds) this.#waitAndRetry({ ...item, round }, reason, message);
    else this.giveUp(item, reason, message);
  }

  giveUp(item: Waiting, reason: string, message: string): void {
    this.#d.events.podEvent(item.pod, 'Warning', reason, message);
    this.#d.setLaunch(item.ref, { state: 'failed', reason, message });
  }

  /** Shows the pod as waiting for capacity, then plans and queues it again after a delay. */
  #waitAndRetry(item: Waiting, reason: string, why: string): void {
    const delay = retryDelayMs(Math.max(1, item.round));
    const message = `${why}; trying again in ${delay / 1000}s (round ${item.round + 1} of ${launchRounds})`;
    this.#d.events.podEvent(item.pod, 'Warning', reason, message);
    this.#d.setLaunch(item.ref, { state: 'retrying', reason, message });
    void this.#retryAfter(item, delay);
  }

  async #retryAfter(item: Waiting, delay: number): Promise<void> {
    try {
      await this.#d.clock.sleep(delay, this.#d.stop);
    } catch {
      return;
    }
    if (!this.#d.wanted(item.ref)) return;
    try {
      const planned = await this.#d.planner.plan(item.pod, item.hints, item.request);
      if (planned.ok) this.#d.batcher.add(planned.plan.key, { ...item, plan: planned.plan });
      else this.#waitAndRetry(item, 'NoCapacity', planned.wait);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof PodRejectedError) this.giveUp(item, err.reason, message);
      else this.failed(item, 'LaunchFailed', message);
    }
  }
}
