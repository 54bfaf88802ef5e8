// The one owner of the EC2 provider's state: every pod it runs and every instance of its node, and
// which runs which. A pod moves through explicit stages (queued → launching → assigned → running →
// stopping → final → forgotten); the launch, agent, termination and delivery helpers change it only
// through the transitions here. Each change recomputes the pod's status and notifies when it changed.
// Each listing also feeds the agents' usage reports into the pods' CPU counters (usage-counters.ts).
import type { PodHints } from '../domain/annotations.js';
import { isGone, isLive } from '../domain/instance.js';
import { podKey, type Pod, type PodKey, type PodRef } from '../domain/pod.js';
import { canonical } from '../domain/pod-status.js';
import type { ObservedInstance } from '../agent-protocol/tags.js';
import { instanceStatus, type LaunchState, type TrackedPod } from './instance-status.js';
import { InstanceRecords, type InstanceRecord, type InstanceRecordsSettings } from './instance-records.js';
import { countedSeconds, usageObservation } from './pod-usage.js';
import { foldUsage, type UsageTrack } from './usage-counters.js';
import type { IdleTrack } from '../policy/idle-guard.js';

export type Stage = 'queued' | 'launching' | 'assigned' | 'running' | 'stopping' | 'final';

/** The stages each stage may move to; a transition not listed is refused. */
export const stageMoves: Readonly<Record<Stage, readonly Stage[]>> = {
  queued: ['queued', 'launching', 'assigned', 'final'],
  launching: ['queued', 'launching', 'assigned', 'final'],
  assigned: ['assigned', 'running', 'stopping', 'final', 'queued'],
  running: ['running', 'stopping', 'final', 'queued'],
  stopping: ['stopping', 'final'],
  final: ['final'],
};

/** A pod's assignment text until it is stored for its instance (it holds secrets: never logged). */
export interface AssignmentState {
  readonly text?: string;
  readonly delivered: boolean;
}

export interface PodRecord extends Omit<TrackedPod, 'instance'> {
  readonly ref: PodRef;
  readonly stage: Stage;
  /** The pod object, for Events and relaunches; absent while the pod is known only from its instance's tags. */
  readonly pod?: Pod;
  /** The pod's parsed annotations (with the pod object). */
  readonly hints?: PodHints;
  /** Log this pod's decisions at debug level (orca.research/debug). */
  readonly debug: boolean;
  readonly instanceId?: string;
  /** Launches so far after spot interruptions: each gets new ClientTokens. */
  readonly generation: number;
  readonly assignment: AssignmentState;
  /** The status last computed (canonical JSON), to notify only on change. */
  readonly status: string;
  /** Deleted, final and without a live instance at the last poll: forgotten at the next. */
  readonly done: boolean;
  /** The CPU counters integrated from the agent's usage reports (`kubectl top`). */
  readonly usage?: UsageTrack;
  /** Whether its accelerators sit idle (the idle guard). */
  readonly idle?: IdleTrack;
}

export type NewPod = Pick<PodRecord, 'containers' | 'debug'> & Partial<Pick<PodRecord, 'initContainers' | 'restartPolicy' | 'graceSeconds' | 'pod' | 'hints' | 'launch' | 'assignment'>>;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class PodTable {
  readonly #pods = new Map<string, Mutable<PodRecord>>();
  readonly instances: InstanceRecords;
  readonly #notify: (key: PodKey) => void;
  #forgottenCpuSeconds = 0;

  constructor(notify: (key: PodKey) => void, settings?: InstanceRecordsSettings) {
    this.#notify = notify;
    this.instances = new InstanceRecords(settings);
  }

  get size(): number {
    return this.#pods.size;
  }

  pod(uid: string): PodRecord | undefined {
    return this.#pods.get(uid);
  }

  pods(): PodRecord[] {
    return [...this.#pods.values()];
  }

  /** The pod with its instance, as its status is computed from. */
  view(p: PodRecord): TrackedPod & PodRecord {
    const instance = p.instanceId === undefined ? undefined : this.instances.get(p.instanceId)?.observed;
    return instance === undefined ? p : { ...p, instance };
  }

  /** CPU time (core-seconds) of the pods forgotten so far: the node's CPU counter keeps it. */
  get forgottenCpuSeconds(): number {
    return this.#forgottenCpuSeconds;
  }

  instanceOf(uid: string): InstanceRecord | undefined {
    const id = this.#pods.get(uid)?.instanceId;
    return id === undefined ? undefined : this.instances.get(id);
  }

  add(ref: PodRef, init: NewPod): PodRecord {
    const p: Mutable<PodRecord> = { ref, stage: 'queued', generation: 0, deleting: false, assignment: { delivered: false }, status: '', done: false, ...init };
    this.#pods.set(ref.uid, p);
    this.#changed(p);
    return p;
  }

  /** The pod object is known again (a restart found the pod through its instance's tags). */
  adopt(uid: string, shape: NewPod): void {
    const p = this.#pods.get(uid);
    if (p === undefined || p.pod !== undefined) return;
    Object.assign(p, shape);
    this.#changed(p);
  }

  /** How the launch of a pod without an instance is going; `failed` makes it final. */
  setLaunch(uid: string, launch: LaunchState): void {
    this.#move(uid, launch.state === 'failed' ? 'final' : 'queued', { launch });
  }

  /** What the budgets decided for the pod (its orca.research/Budget condition once it may launch). */
  setBudget(uid: string, budget: NonNullable<PodRecord['budget']>): void {
    const p = this.#pods.get(uid);
    if (p === undefined) return;
    p.budget = budget;
    this.#changed(p);
  }

  launching(uid: string): void {
    this.#move(uid, 'launching', {});
  }

  /**
   * Gives the pod its instance; false when the pod no longer wants one (the caller terminates it).
   * True for the instance it already has: a poll may list a new instance, tagged with its pod, before
   * the RunInstances call that launched it has answered, and link the two first.
   */
  assign(uid: string, instance: ObservedInstance): boolean {
    const p = this.#pods.get(uid);
    this.instances.given(instance);
    if (p !== undefined && !p.deleting && p.instanceId === instance.id) return true;
    if (p === undefined || p.deleting || p.instanceId !== undefined || !['queued', 'launching'].includes(p.stage)) return false;
    this.instances.own(instance.id, uid);
    delete p.launch;
    Object.assign(p, { instanceId: instance.id, stage: 'assigned' });
    this.#changed(p);
    return true;
  }

  finish(uid: string, final: NonNullable<TrackedPod['final']>): void {
    this.#move(uid, 'final', { final });
  }

  /** ORCA asked the agent to stop the containers (a pod already final keeps its status and stage); `reason` when not for its deletion. */
  requestStop(uid: string, at: number, reason?: string): void {
    const patch = { stopRequestedAt: at, ...(reason === undefined ? {} : { stopReason: reason }) };
    if (this.#pods.get(uid)?.stage === 'final') this.#update(uid, patch);
    else this.#move(uid, 'stopping', patch);
  }

  noticed(uid: string, notice: string): void {
    this.#update(uid, { noticed: notice });
  }

  expire(uid: string): void {
    this.#update(uid, { expired: true });
  }

  /** What is known of the pod's accelerators' idleness; `idledOut` once ORCA stopped it for that. */
  setIdle(uid: string, idle: IdleTrack | undefined, idledOut = false): void {
    this.#update(uid, { ...(idle === undefined ? {} : { idle }), ...(idledOut ? { idledOut } : {}) });
  }

  /** The pod object is being deleted; a pod without an instance is final at once. */
  markDeleting(uid: string): void {
    const p = this.#pods.get(uid);
    if (p === undefined) return;
    if (p.instanceId === undefined) this.#move(uid, 'final', { deleting: true, assignment: { delivered: false } });
    else this.#update(uid, { deleting: true });
  }

  setAssignment(uid: string, a: AssignmentState): void {
    const p = this.#pods.get(uid);
    if (p !== undefined) p.assignment = a;
  }

  /** The pod leaves its instance (spot interruption) to launch again; the instance is never given again. */
  relaunch(uid: string, message: string): string | undefined {
    const p = this.#pods.get(uid);
    const old = p?.instanceId;
    if (p === undefined) return undefined;
    if (old !== undefined) this.instances.retire(old);
    delete p.instanceId;
    delete p.noticed;
    Object.assign(p, { generation: p.generation + 1, stage: 'queued', launch: { state: 'queued', message } });
    this.#changed(p);
    return old;
  }

  /** Applies one listing: instances found, instances gone, pods found through their tags. Returns the live instances no pod has. */
  observe(listed: readonly ObservedInstance[], at: number, first: boolean): ObservedInstance[] {
    const touched = new Set<string>();
    for (const o of [...listed].sort((a, b) => Number(isLive(b)) - Number(isLive(a)))) {
      const r = this.instances.observe(o, first || this.#pods.has(o.pod?.uid ?? ''));
      if (r !== undefined) this.#link(r, touched);
    }
    for (const uid of this.instances.missed(new Set(listed.map((o) => o.id)), at)) touched.add(uid);
    for (const uid of touched) {
      const p = this.#pods.get(uid);
      if (p !== undefined) this.#follow(p);
      this.#changed(p);
    }
    this.#countAll(touched, at);
    return this.instances.idle();
  }

  /** EC2 accepted the termination of these instances. */
  terminated(ids: readonly string[]): void {
    for (const uid of this.instances.shuttingDown(ids)) this.#changed(this.#pods.get(uid));
  }

  /** Forgets the deleted pods that were done at the last poll too; marks the ones done now. */
  forgetDone(): PodRef[] {
    const forgotten: PodRef[] = [];
    for (const p of this.#pods.values()) {
      const done = p.deleting && p.stage === 'final' && this.instanceOf(p.ref.uid)?.terminate === undefined && !this.#liveInstance(p);
      if (done && p.done) forgotten.push(p.ref);
      p.done = done;
    }
    for (const ref of forgotten) this.forget(ref.uid);
    return forgotten;
  }

  forget(uid: string): void {
    const p = this.#pods.get(uid);
    const id = p?.instanceId;
    if (p?.usage !== undefined) this.#forgottenCpuSeconds += countedSeconds(p.usage);
    this.#pods.delete(uid);
    if (id !== undefined) this.instances.disown(id);
  }

  #liveInstance(p: PodRecord): boolean {
    const i = p.instanceId === undefined ? undefined : this.instances.get(p.instanceId)?.observed;
    return i !== undefined && !isGone(i);
  }

  /** Links a listed instance to its pod: the pod's own, a waiting pod's, or a pod found only through its tags. */
  #link(r: InstanceRecord, touched: Set<string>): void {
    const uid = r.owner ?? r.observed.pod?.uid;
    if (uid === undefined) return;
    touched.add(uid);
    const p = this.#pods.get(uid) ?? this.#fromTags(r);
    if (p.instanceId === undefined) {
      this.#takeOver(p, r);
      return;
    }
    if (p.instanceId !== r.observed.id && r.owner === undefined) this.instances.retire(r.observed.id);
  }

  /** A pod waiting for an instance takes a live one carrying its tags (launched before a restart), never one it was relaunched from. */
  #takeOver(p: PodRecord, r: InstanceRecord): void {
    if (isLive(r.observed) && !r.retired && (p.stage === 'queued' || p.stage === 'launching')) this.assign(p.ref.uid, r.observed);
  }

  #fromTags(r: InstanceRecord): Mutable<PodRecord> {
    const pod = r.observed.pod ?? { namespace: '', name: '', uid: '' };
    const p: Mutable<PodRecord> = {
      ref: { key: podKey(pod.namespace, pod.name), uid: pod.uid }, stage: 'assigned', instanceId: r.observed.id, containers: [],
      generation: 0, deleting: false, assignment: { delivered: false }, status: '', done: false, debug: false,
    };
    this.#pods.set(pod.uid, p);
    this.instances.own(r.observed.id, pod.uid);
    return p;
  }

  /** The stage the pod's instance implies: running once the agent reports, final once the instance is gone. */
  #follow(p: Mutable<PodRecord>): void {
    const i = this.instances.get(p.instanceId ?? '')?.observed;
    if (i === undefined) return;
    if (isGone(i)) p.stage = 'final';
    else if (p.stage === 'assigned' && i.agent !== undefined && i.agent.pod !== 'WaitingForAssignment') p.stage = 'running';
  }

  /** Takes the usage reports in: of the pods this listing touched, and of every pod with counters (one that left its instance stops them). */
  #countAll(touched: ReadonlySet<string>, at: number): void {
    for (const p of this.#pods.values()) if (p.usage !== undefined || touched.has(p.ref.uid)) this.#count(p, at);
  }

  /** Takes the agent's usage report in (the pod's shape gives the report's positions: none known, nothing read). */
  #count(p: Mutable<PodRecord>, at: number): void {
    if (p.containers.length === 0) return;
    const i = this.instances.get(p.instanceId ?? '')?.observed;
    const usage = foldUsage(p.usage, usageObservation(p.containers.map((c) => c.name), i), at);
    if (usage === undefined) delete p.usage;
    else p.usage = usage;
  }

  #move(uid: string, to: Stage, patch: Partial<Mutable<PodRecord>>): void {
    const p = this.#pods.get(uid);
    if (p === undefined || !stageMoves[p.stage].includes(to)) return;
    Object.assign(p, patch, { stage: to });
    this.#changed(p);
  }

  #update(uid: string, patch: Partial<Mutable<PodRecord>>): void {
    const p = this.#pods.get(uid);
    if (p === undefined) return;
    Object.assign(p, patch);
    this.#changed(p);
  }

  #changed(p: Mutable<PodRecord> | undefined): void {
    if (p === undefined) return;
    const status = canonical(instanceStatus(this.view(p)));
    if (status === p.status) return;
    p.status = status;
    this.#notify(p.ref.key);
  }
}
