// Sends one batch of identical pod launches: instances left unassigned by an earlier launch are
// given out first, then one RunInstances call asks for the rest (MinCount 1, MaxCount N) and what
// EC2 returns is assigned in order; a partly filled offering moves the rest on to the next one.
// Every pod gets an Event for each attempt that concerned it. The pods and instances are the pod
// table's; a pod deleted meanwhile gets no instance (the one EC2 returned for it is terminated).
import type { UnavailableOfferings } from '../../catalog/unavailable.js';
import type { PodHints } from '../../domain/annotations.js';
import { batchToken, launchToken, type Instance } from '../../domain/instance.js';
import type { Pod, PodRef } from '../../domain/pod.js';
import type { PodRequest } from '../../domain/pod-request.js';
import type { Logger } from '../../observability/logger.js';
import type { EventRecorder } from '../../ports/kube.js';
import type { InstanceLauncher } from '../../ports/launcher.js';
import { decodeInstance, type ObservedInstance } from '../../agent-protocol/tags.js';
import type { AssignmentDelivery } from '../assignment-delivery.js';
import type { PodTable } from '../pod-table.js';
import type { Tagger } from '../tagger.js';
import type { Terminations } from '../terminations.js';
import type { Ec2Settings } from '../settings.js';
import { digest, type LaunchPlan } from './launch-plan.js';
import { describeOffering, place, type Attempt, type PlacementResult } from './placement.js';
import type { LaunchFailureReason } from './launch-failures.js';

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

export interface BatchLaunchDeps {
  readonly table: PodTable;
  readonly launcher: InstanceLauncher;
  readonly unavailable: UnavailableOfferings;
  readonly events: EventRecorder;
  readonly settings: Pick<Ec2Settings, 'subnets'>;
  readonly now: () => number;
  /** Stores the pod's assignment for its new instance. */
  readonly delivery: Pick<AssignmentDelivery, 'deliver'>;
  /** Writes the pod's tags on an instance launched in a batch or taken over. */
  readonly tagger: Pick<Tagger, 'tag'>;
  /** Ends an instance EC2 returned for a pod that no longer wants it. */
  readonly terminations: Pick<Terminations, 'request'>;
  /** A pod that got no instance: retried later (capacity) or failed. */
  readonly retries: { failed(item: LaunchItem, reason: LaunchFailureReason, message: string): void };
  readonly log: Logger;
}

/** Is the pod still waiting for an instance (known, not deleted, not given one, not failed)? */
export function wanted(table: PodTable, ref: PodRef): boolean {
  const p = table.pod(ref.uid);
  return p !== undefined && !p.deleting && p.instanceId === undefined && (p.stage === 'queued' || p.stage === 'launching');
}

function tokens(items: readonly LaunchItem[]): (attempt: number) => string {
  const round = Math.max(...items.map((i) => i.round + 100 * (i.generation ?? 0)));
  const [only] = items;
  if (items.length === 1 && only !== undefined) return (a) => launchToken(only.ref.uid, a, round);
  const d = digest(items.map((i) => i.ref.uid).sort().join(','), 32);
  return (a) => batchToken(d, a, round);
}

/** The Events a pod gets: every attempt before the one that launched its instance, then that one. */
function eventsFor(item: LaunchItem, attempts: readonly Attempt[], mine: Instance | undefined, events: EventRecorder): void {
  for (const a of attempts) {
    const launched = a.instances ?? [];
    if (mine !== undefined && launched.some((x) => x.id === mine.id)) {
      const shared = launched.length > 1 ? ` (one of ${launched.length} launched together)` : '';
      events.podEvent(item.pod, 'Normal', 'InstanceLaunched', `${describeOffering(a.offering)}: launched ${mine.id}${shared}`);
      return;
    }
    const message = a.outcome === 'launched' ? `trying ${describeOffering(a.offering)}: EC2 launched ${launched.length} and had no more` : a.message;
    events.podEvent(item.pod, a.outcome === 'dry-run' ? 'Normal' : 'Warning', a.outcome === 'dry-run' ? 'DryRun' : 'InstanceUnavailable', message);
  }
}

/** Gives each pod its instance at once (before any poll can see it as unassigned), then writes the tags, ten at a time. */
async function assignAll(pairs: readonly (readonly [LaunchItem, ObservedInstance])[], retag: boolean, deps: BatchLaunchDeps): Promise<void> {
  const given = pairs.filter(([item, inst]) => {
    if (deps.table.assign(item.ref.uid, inst)) return true;
    deps.terminations.request(inst.id, 'its pod was deleted while it launched');
    return false;
  });
  for (const [item, inst] of given) {
    deps.log.info({ pod: item.ref.key, instanceId: inst.id, type: inst.type, zone: inst.zone }, 'instance launched');
    void deps.delivery.deliver(item.ref.uid, inst.id);
  }
  if (!retag) return;
  for (let i = 0; i < given.length; i += 10) {
    await Promise.all(given.slice(i, i + 10).map(([item, inst]) => deps.tagger.tag(inst.id, item.plan.podTags, item.ref.key)));
  }
}

function settle(rest: readonly LaunchItem[], r: PlacementResult, deps: BatchLaunchDeps): (readonly [LaunchItem, ObservedInstance])[] {
  const pairs: (readonly [LaunchItem, ObservedInstance])[] = [];
  for (const [j, item] of rest.entries()) {
    const mine = r.instances[j];
    eventsFor(item, r.attempts, mine, deps.events);
    if (mine !== undefined) pairs.push([item, decodeInstance(mine)]);
    else if (r.dryRun) deps.retries.failed(item, 'DryRun', `dry run passed for ${r.attempts.map((a) => describeOffering(a.offering)).at(-1) ?? 'the launch'}; nothing was launched (dryRun is on)`);
    else deps.retries.failed(item, r.failure?.reason ?? 'LaunchFailed', r.failure?.message ?? 'EC2 launched fewer instances than asked for');
  }
  return pairs;
}

/** Up to `n` live instances nobody has, launched earlier with this plan's parameters on one of its offerings. */
function claimIdle(plan: LaunchPlan, n: number, table: PodTable): ObservedInstance[] {
  const capacity = (i: ObservedInstance): string => (i.lifecycle === 'spot' ? 'spot' : 'on-demand');
  const offered = (i: ObservedInstance): boolean => plan.ranked.some((o) => o.type === i.type && (o.zone === '*' || o.zone === i.zone) && capacity(i) === (o.capacity === 'spot' ? 'spot' : 'on-demand'));
  return table.instances.idle().filter((i) => !(table.instances.get(i.id)?.launchedHere ?? false) && i.launchKey === plan.launchKey && offered(i)).slice(0, n);
}

/** The subnet a launch in `zone` goes to: the pod's, else the configured one of the zone ('' for a reservation's: the first). */
export function launchSubnet(subnets: readonly { readonly zone: string; readonly subnetId: string }[], podSubnet: string | undefined, zone: string): string | undefined {
  return podSubnet ?? (zone === '' ? subnets[0]?.subnetId : subnets.find((x) => x.zone === zone)?.subnetId);
}

function subnetFor(deps: BatchLaunchDeps, plan: LaunchPlan): (zone: string) => string | undefined {
  return (z) => launchSubnet(deps.settings.subnets, plan.subnetId, z);
}

export async function sendBatch(items: readonly LaunchItem[], deps: BatchLaunchDeps, signal?: AbortSignal): Promise<void> {
  const live = items.filter((i) => wanted(deps.table, i.ref));
  const [first] = live;
  if (first === undefined) return;
  const { plan } = first;
  const idle = plan.base.dryRun ? [] : claimIdle(plan, live.length, deps.table);
  const taken = idle.map((inst, j) => [live[j] as LaunchItem, inst] as const);
  for (const [item, inst] of taken) deps.events.podEvent(item.pod, 'Normal', 'InstanceAssigned', `took over ${inst.id} (${inst.type} in ${inst.zone}), launched earlier and not yet given a pod`);
  await assignAll(taken, true, deps);
  const rest = live.slice(idle.length);
  if (rest.length === 0) return;
  for (const item of rest) deps.table.launching(item.ref.uid);
  const single = rest.length === 1 ? rest[0] : undefined;
  const tags = single === undefined ? plan.base.tags : { ...plan.base.tags, ...single.plan.podTags };
  const placement = {
    launcher: deps.launcher, unavailable: deps.unavailable, now: deps.now, subnetFor: subnetFor(deps, plan),
    launched: (got: readonly Instance[]) => { deps.table.instances.launched(got.map(decodeInstance)); }, ...(signal === undefined ? {} : { signal }),
  };
  const r = await place(plan.ranked, { ...plan.base, count: rest.length, tags }, placement, tokens(rest));
  await assignAll(settle(rest, r, deps), single === undefined, deps);
}
