// Sends one batch of identical pod launches: instances left unassigned by an earlier launch are
// given out first, then one RunInstances call asks for the rest (MinCount 1, MaxCount N) and what
// EC2 returns is assigned in order; a partly filled offering moves the rest on to the next one.
// Every pod gets an Event for each attempt that concerned it.
import type { PodHints } from '../domain/annotations.js';
import { batchToken, launchToken, type Instance } from '../domain/instance.js';
import type { Pod, PodRef } from '../domain/pod.js';
import type { PodRequest } from '../domain/pod-request.js';
import type { EventRecorder } from '../ports/kube.js';
import { digest, type LaunchPlan } from './launch-plan.js';
import { describeOffering, place, type Attempt, type FailureReason, type PlacementDeps, type PlacementResult } from './placement.js';

/** A pod waiting to launch. `round` counts the passes over its offerings that found no capacity. */
export interface LaunchItem {
  readonly pod: Pod;
  readonly ref: PodRef;
  readonly hints: PodHints;
  readonly request: PodRequest;
  readonly plan: LaunchPlan;
  readonly round: number;
  /** How many times the pod was relaunched (after a spot interruption): each launch gets new ClientTokens. */
  readonly generation?: number;
}

export interface BatchLaunchDeps extends PlacementDeps {
  readonly events: EventRecorder;
  /** Is the pod still waiting for an instance (not deleted, not yet given one)? */
  readonly wanted: (item: LaunchItem) => boolean;
  /** Takes up to `n` unassigned instances launched with this plan's parameters. */
  readonly claimIdle: (plan: LaunchPlan, n: number) => readonly Instance[];
  /** Gives the pod its instance, at once (before any other launch or poll can see it as unassigned). */
  readonly assign: (item: LaunchItem, instance: Instance) => void;
  /** Writes the pod's tags on its instance (a batched or taken-over instance does not carry them yet). */
  readonly tagPod: (item: LaunchItem, instance: Instance) => Promise<void>;
  /** The pod got no instance: retry later (capacity) or fail it. */
  readonly failed: (item: LaunchItem, reason: FailureReason | 'DryRun', message: string) => void;
}

function tokens(items: readonly LaunchItem[]): (attempt: number) => string {
  const round = Math.max(...items.map((i) => i.round + 100 * (i.generation ?? 0)));
  const [only] = items;
  if (items.length === 1 && only !== undefined) return (a) => launchToken(only.ref.uid, a, round);
  const d = digest(items.map((i) => i.ref.uid).sort().join(','), 32);
  return (a) => batchToken(d, a, round);
}

/** The Events a pod gets: every attempt before the one that launched its instance, then that one. */
function eventsFor(item: LaunchItem, attempts: readonly Attempt[], mine: Instance | undefined, deps: BatchLaunchDeps): void {
  for (const a of attempts) {
    const launched = a.instances ?? [];
    if (mine !== undefined && launched.some((x) => x.id === mine.id)) {
      const shared = launched.length > 1 ? ` (one of ${launched.length} launched together)` : '';
      deps.events.podEvent(item.pod, 'Normal', 'InstanceLaunched', `${describeOffering(a.offering)}: launched ${mine.id}${shared}`);
      return;
    }
    const message = a.outcome === 'launched' ? `trying ${describeOffering(a.offering)}: EC2 launched ${launched.length} and had no more` : a.message;
    deps.events.podEvent(item.pod, a.outcome === 'dry-run' ? 'Normal' : 'Warning', a.outcome === 'dry-run' ? 'DryRun' : 'InstanceUnavailable', message);
  }
}

async function assignAll(pairs: readonly (readonly [LaunchItem, Instance])[], retag: boolean, deps: BatchLaunchDeps): Promise<void> {
  for (const [item, inst] of pairs) deps.assign(item, inst);
  if (!retag) return;
  for (let i = 0; i < pairs.length; i += 10) {
    await Promise.all(pairs.slice(i, i + 10).map(([item, inst]) => deps.tagPod(item, inst)));
  }
}

function settle(rest: readonly LaunchItem[], r: PlacementResult, deps: BatchLaunchDeps): (readonly [LaunchItem, Instance])[] {
  const pairs: (readonly [LaunchItem, Instance])[] = [];
  for (const [j, item] of rest.entries()) {
    const mine = r.instances[j];
    eventsFor(item, r.attempts, mine, deps);
    if (mine !== undefined) pairs.push([item, mine]);
    else if (r.dryRun) deps.failed(item, 'DryRun', `dry run passed for ${r.attempts.map((a) => describeOffering(a.offering)).at(-1) ?? 'the launch'}; nothing was launched (dryRun is on)`);
    else deps.failed(item, r.failure?.reason ?? 'LaunchFailed', r.failure?.message ?? 'EC2 launched fewer instances than asked for');
  }
  return pairs;
}

export async function sendBatch(items: readonly LaunchItem[], deps: BatchLaunchDeps): Promise<void> {
  const live = items.filter((i) => deps.wanted(i));
  const [first] = live;
  if (first === undefined) return;
  const { plan } = first;
  const idle = plan.base.dryRun ? [] : deps.claimIdle(plan, live.length);
  const taken = idle.map((inst, j) => [live[j] as LaunchItem, inst] as const);
  for (const [item, inst] of taken) deps.events.podEvent(item.pod, 'Normal', 'InstanceAssigned', `took over ${inst.id} (${inst.type} in ${inst.zone}), launched earlier and not yet given a pod`);
  await assignAll(taken, true, deps);
  const rest = live.slice(idle.length);
  if (rest.length === 0) return;
  const single = rest.length === 1 ? rest[0] : undefined;
  const tags = single === undefined ? plan.base.tags : { ...plan.base.tags, ...single.plan.podTags };
  const r = await place(plan.ranked, { ...plan.base, count: rest.length, tags }, deps, tokens(rest));
  await assignAll(settle(rest, r, deps), single === undefined, deps);
}
