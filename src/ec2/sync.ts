// What the EC2 provider does with each instance listing, in steps: take the listing into the pod
// table, take back the pod objects a restart lost, deliver assignments, collect instances nobody
// was given, enforce max-lifetimes, follow the agents, ask again for every termination EC2 has not
// started, and forget deleted pods that are done. Each step, and each pod within a step, fails
// alone: one instance EC2 refuses to terminate never stops the others from being followed.
import { parsePodHints, type PodHints } from '../domain/annotations.js';
import { isLive } from '../domain/instance.js';
import { parsePodKey, type Pod, type PodKey } from '../domain/pod.js';
import { podRequest } from '../domain/pod-request.js';
import type { Logger } from '../observability/logger.js';
import type { Clock } from '../ports/clock.js';
import type { EventRecorder } from '../ports/kube.js';
import type { InstanceSignals } from '../ports/signals.js';
import { buildAssignment } from '../agent-protocol/assignment-builder.js';
import { podTags } from '../agent-protocol/tags.js';
import { decide, type Decision } from './agent-decisions.js';
import type { AssignmentDelivery } from './assignment-delivery.js';
import { shapeOf } from './instance-status.js';
import type { Listing } from './inventory.js';
import type { Launches } from './launch/launches.js';
import { guardIdle, type IdleGuardDeps } from './idle-guard.js';
import type { BudgetGate } from '../ports/budget-gate.js';
import type { PodRecord, PodTable } from './pod-table.js';
import type { Ec2Settings } from './settings.js';
import type { Tagger } from './tagger.js';
import type { Terminations } from './terminations.js';

export interface SyncDeps {
  readonly table: PodTable;
  readonly launches: Launches;
  readonly terminations: Terminations;
  readonly delivery: AssignmentDelivery;
  readonly tagger: Tagger;
  readonly signals: InstanceSignals;
  readonly events: EventRecorder;
  readonly clock: Clock;
  readonly log: Logger;
  readonly settings: Ec2Settings;
  readonly config: Parameters<typeof buildAssignment>[1];
  readonly podLookup?: (key: PodKey) => Pod | undefined;
  /** The budgets: their idleTimeout for pods that set none. */
  readonly budgets?: Pick<BudgetGate, 'idleTimeoutSeconds'>;
}

/** The pod object for Events: the one ORCA was given, else its identity from the tags. */
export function podFor(p: PodRecord): Pod {
  const { namespace, name } = parsePodKey(p.ref.key);
  return p.pod ?? { metadata: { namespace, name, uid: p.ref.uid }, spec: { containers: [] } };
}

/** The pod's annotations, with the configured defaults; throws nothing (a pod already accepted parses). */
export function hintsFor(pod: Pod, s: Ec2Settings): PodHints | undefined {
  const r = parsePodHints(pod.metadata.annotations ?? {}, { capacityOrder: s.defaultCapacityOrder, onInterruption: s.defaultOnInterruption });
  return r.ok ? r.value : undefined;
}

/** A child logger for the pod; at debug level for a pod annotated orca.research/debug. */
export function podLog(log: Logger, p: Pick<PodRecord, 'ref' | 'debug'>): Logger {
  return p.debug ? log.child({ pod: p.ref.key }, { level: 'debug' }) : log.child({ pod: p.ref.key });
}

export class InstanceSync {
  readonly #d: SyncDeps;

  readonly #idle: IdleGuardDeps;

  constructor(deps: SyncDeps) {
    this.#d = deps;
    const s = deps.settings.idle ?? { idleBelow: 0.05, warnAfterMs: 30 * 60_000 };
    this.#idle = { table: deps.table, terminations: deps.terminations, events: deps.events, settings: s, podFor, ...(deps.budgets === undefined ? {} : { budgets: deps.budgets }) };
  }

  async apply(listing: Listing): Promise<void> {
    const now = this.#d.clock.now().getTime();
    const steps: readonly [string, () => Promise<void> | void][] = [
      ['observe', () => { this.#observe(listing, now); }],
      ['adopt', () => { this.#adopt(); }],
      ['assignments', () => this.#d.delivery.catchUp(now)],
      ['unassigned', () => { this.#collectUnassigned(now); }],
      ['lifetimes', () => { this.#each((p) => { this.#enforceLifetime(p, now); }); }],
      ['agents', () => this.#eachAsync((p) => this.#followAgent(p, now))],
      ['idle', () => { this.#each((p) => { guardIdle(p, this.#idle); }); }],
      ['terminations', () => { this.#d.terminations.requestDue(); }],
      ['forget', () => { this.#d.table.forgetDone(); }],
    ];
    for (const [name, step] of steps) {
      try {
        await step();
      } catch (err) {
        this.#d.log.error({ err, step: name }, 'a step of the instance sync failed; the others go on');
      }
    }
  }

  #each(act: (p: PodRecord) => void): void {
    for (const p of this.#d.table.pods()) {
      try {
        act(p);
      } catch (err) {
        this.#d.log.error({ err, pod: p.ref.key }, 'acting on the pod failed; trying again at the next poll');
      }
    }
  }

  async #eachAsync(act: (p: PodRecord) => Promise<void>): Promise<void> {
    for (const p of this.#d.table.pods()) {
      try {
        await act(p);
      } catch (err) {
        this.#d.log.error({ err, pod: p.ref.key }, 'acting on the pod failed; trying again at the next poll');
      }
    }
  }

  /** Takes the listing in; writes the pod's tags again on an instance that does not show them yet. */
  #observe(listing: Listing, now: number): void {
    const { table, tagger } = this.#d;
    table.observe(listing.instances, now, listing.sequence === 0);
    for (const p of table.pods()) {
      const i = table.instanceOf(p.ref.uid)?.observed;
      if (i === undefined || i.pod !== undefined || !isLive(i)) continue;
      const { namespace, name } = parsePodKey(p.ref.key);
      void tagger.tag(i.id, podTags({ namespace, name, uid: p.ref.uid }), p.ref.key);
    }
  }

  /** A pod found only through its instance's tags (after a restart) takes back its pod object. */
  #adopt(): void {
    const { table, podLookup, settings } = this.#d;
    if (podLookup === undefined) return;
    for (const p of table.pods()) {
      if (p.pod !== undefined) continue;
      const pod = podLookup(p.ref.key);
      if (pod?.metadata.uid !== p.ref.uid) continue;
      const hints = hintsFor(pod, settings);
      table.adopt(p.ref.uid, { ...shapeOf(pod), pod, debug: hints?.debug ?? false, ...(hints === undefined ? {} : { hints }) });
    }
  }

  /** Terminates live instances no pod was given within the grace period (a launch cut off before tagging). */
  #collectUnassigned(now: number): void {
    const grace = this.#d.settings.unassignedGraceMs;
    for (const i of this.#d.table.instances.idle()) {
      const r = this.#d.table.instances.get(i.id);
      if (r === undefined || r.launchedHere || Date.parse(i.launchTime) + grace > now) continue;
      this.#d.terminations.request(i.id, `no pod was given this instance within ${String(grace / 60_000)} minutes of its launch`);
    }
  }

  #enforceLifetime(p: PodRecord, now: number): void {
    const i = this.#d.table.instanceOf(p.ref.uid)?.observed;
    const limit = i?.maxLifetimeSeconds;
    if (i === undefined || limit === undefined || p.deleting || p.expired === true || !isLive(i) || Date.parse(i.launchTime) + limit * 1000 > now) return;
    this.#d.terminations.request(i.id, 'the pod reached its max-lifetime');
    this.#d.events.podEvent(podFor(p), 'Warning', 'MaxLifetimeExceeded', `instance ${i.id} terminated: the pod reached its orca.research/max-lifetime of ${String(limit)}s`);
    this.#d.table.expire(p.ref.uid);
  }

  async #followAgent(p: PodRecord, now: number): Promise<void> {
    const view = this.#d.table.view(p);
    const mode = view.instance?.onInterruption ?? this.#d.settings.defaultOnInterruption;
    for (const d of decide(view, mode, now)) {
      podLog(this.#d.log, p).debug({ decision: d.kind }, 'acting on the agent\'s report');
      await this.#apply(p.ref.uid, d, now);
    }
  }

  async #apply(uid: string, d: Decision, now: number): Promise<void> {
    const { table } = this.#d;
    const p = table.pod(uid);
    const id = p?.instanceId;
    if (p === undefined || id === undefined) return;
    const actions: { readonly [K in Decision['kind']]: (x: Extract<Decision, { kind: K }>) => Promise<void> | void } = {
      final: (x) => { table.finish(uid, x.status); },
      noticed: (x) => { table.noticed(uid, x.notice); },
      event: (x) => { this.#d.events.podEvent(podFor(p), 'Warning', x.reason, x.message); },
      stop: () => this.requestStop(uid, id, now),
      terminate: (x) => { this.terminate(id, x.why); },
      // Without its pod object (found only through its tags) a pod cannot launch again: it is stopped.
      relaunch: () => (p.pod === undefined ? this.requestStop(uid, id, now) : this.#relaunch(p, p.pod)),
    };
    await (actions[d.kind] as (x: Decision) => Promise<void> | void)(d);
  }

  /** Ends the instance and deletes its assignment. */
  terminate(id: string, why: string): void {
    this.#d.terminations.request(id, why);
    void this.#d.delivery.withdraw(id);
  }

  /** Asks the agent to stop the containers: SIGTERM, then SIGKILL after the grace period. */
  async requestStop(uid: string, id: string, now: number, reason?: string): Promise<void> {
    try {
      await this.#d.signals.stop(id);
    } catch (err) {
      this.#d.log.warn({ err, instanceId: id }, 'could not ask the agent to stop; the instance is terminated after the grace period');
    }
    this.#d.table.requestStop(uid, now, reason);
  }

  /** A spot-interrupted pod starts again on a new instance (same pod, new ClientTokens). */
  async #relaunch(p: PodRecord, pod: Pod): Promise<void> {
    const { table, launches } = this.#d;
    const old = table.relaunch(p.ref.uid, 'relaunching after a spot interruption');
    if (old !== undefined) this.terminate(old, 'spot interruption; the pod is relaunched');
    const generation = table.pod(p.ref.uid)?.generation ?? 1;
    try {
      const hints = p.hints ?? hintsFor(pod, this.#d.settings);
      if (hints === undefined) throw new Error('the pod\'s annotations no longer parse');
      const request = podRequest(pod);
      table.setAssignment(p.ref.uid, { text: await buildAssignment(pod, this.#d.config), delivered: false });
      launches.queue({ pod, ref: p.ref, hints, request, round: 0, generation }, await launches.plan(pod, hints, request));
    } catch (err) {
      launches.giveUp(pod, p.ref, 'RelaunchFailed', err instanceof Error ? err.message : String(err));
    }
  }
}
