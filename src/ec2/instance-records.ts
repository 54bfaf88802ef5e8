// The instances side of the pod table: what ORCA knows of each instance of its node beyond the last
// listing — which pod owns it, whether this process launched it and has not given it out yet,
// whether a pod left it, and whether ORCA wants it terminated (kept until EC2 says it is going).
// A record goes once its instance is gone and no pod needs it.
import { isGone, isLive } from '../domain/instance.js';
import type { ObservedInstance } from '../agent-protocol/tags.js';

export interface InstanceRecord {
  readonly observed: ObservedInstance;
  /** The UID of the pod it runs. */
  readonly owner?: string;
  /** Launched by this process and not yet given a pod: never taken over or collected meanwhile. */
  readonly launchedHere: boolean;
  /** A pod left it (relaunch after a spot interruption): never given to a pod again. */
  readonly retired: boolean;
  /** ORCA wants it terminated, since when and why; asked again at every poll until EC2 says it is going. */
  readonly terminate?: { readonly why: string; readonly since: number };
  /** Listings in a row that did not list it. */
  readonly missing: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface InstanceRecordsSettings {
  /** Listings that must miss an instance (older than visibleMs) before it is taken as gone. */
  readonly missingPolls: number;
  readonly visibleMs: number;
}

export class InstanceRecords {
  readonly #byId = new Map<string, Mutable<InstanceRecord>>();
  readonly #s: InstanceRecordsSettings;

  constructor(s: InstanceRecordsSettings = { missingPolls: 3, visibleMs: 120_000 }) {
    this.#s = s;
  }

  get size(): number {
    return this.#byId.size;
  }

  get(id: string): InstanceRecord | undefined {
    return this.#byId.get(id);
  }

  all(): InstanceRecord[] {
    return [...this.#byId.values()];
  }

  /** Instances a launch of this process just returned (they have no pod yet). */
  launched(instances: readonly ObservedInstance[]): void {
    for (const o of instances) this.#byId.set(o.id, { observed: o, launchedHere: true, retired: false, missing: 0 });
  }

  /** This process gave the instance out (to a pod, or to termination). */
  given(o: ObservedInstance): void {
    const r = this.#byId.get(o.id) ?? { observed: o, retired: false, missing: 0, launchedHere: false };
    r.launchedHere = false;
    this.#byId.set(o.id, r);
  }

  own(id: string, uid: string): void {
    const r = this.#byId.get(id);
    if (r !== undefined) r.owner = uid;
  }

  /** Its pod is forgotten: the record goes too unless the instance still runs. */
  disown(id: string): void {
    const r = this.#byId.get(id);
    if (r === undefined) return;
    delete r.owner;
    if (!isLive(r.observed) && r.terminate === undefined) this.#byId.delete(id);
  }

  retire(id: string): void {
    const r = this.#byId.get(id);
    if (r === undefined) return;
    delete r.owner;
    r.retired = true;
  }

  requestTerminate(id: string, why: string, at: number): void {
    const r = this.#byId.get(id);
    if (r !== undefined && r.terminate === undefined) r.terminate = { why, since: at };
  }

  /** Instances ORCA wants terminated that EC2 still runs (or shows in a state ORCA does not know). */
  dueTerminations(): InstanceRecord[] {
    return this.all().filter((r) => r.terminate !== undefined && !isGone(r.observed));
  }

  /** EC2 accepted their termination; returns the UIDs of their pods. */
  shuttingDown(ids: readonly string[]): string[] {
    const owners: string[] = [];
    for (const id of ids) {
      const r = this.#byId.get(id);
      if (r === undefined) continue;
      if (!isGone(r.observed)) r.observed = { ...r.observed, state: 'shutting-down' };
      if (r.owner !== undefined) owners.push(r.owner);
    }
    return owners;
  }

  /**
   * Takes one listed instance in: updated when known; recorded when live (or when `acceptGone`: the
   * first listing after a start, or a pod that is known). Tags this process wrote that the listing
   * does not show yet are kept.
   */
  observe(o: ObservedInstance, acceptGone: boolean): InstanceRecord | undefined {
    const r = this.#byId.get(o.id);
    if (r === undefined) {
      if (!isLive(o) && !acceptGone) return undefined;
      const fresh = { observed: o, launchedHere: false, retired: false, missing: 0 };
      this.#byId.set(o.id, fresh);
      return fresh;
    }
    r.observed = o.pod === undefined && r.observed.pod !== undefined ? { ...o, pod: r.observed.pod } : o;
    r.missing = 0;
    if (isGone(o)) delete r.terminate;
    return r;
  }

  /** Counts a listing that did not list these records; returns the pods whose instance is now taken as gone. */
  missed(listed: ReadonlySet<string>, at: number): string[] {
    const owners: string[] = [];
    for (const r of this.#byId.values()) {
      if (listed.has(r.observed.id) || isGone(r.observed)) continue;
      r.missing++;
      const old = Date.parse(r.observed.launchTime) + this.#s.visibleMs <= at;
      if (r.missing < this.#s.missingPolls || !old) continue;
      r.observed = { ...r.observed, state: 'terminated' };
      delete r.terminate;
      if (r.owner !== undefined) owners.push(r.owner);
    }
    this.#prune();
    return owners;
  }

  /** Live instances that no pod has and no pod left. */
  idle(): ObservedInstance[] {
    return this.all().filter((r) => r.owner === undefined && !r.retired && isLive(r.observed)).map((r) => r.observed);
  }

  #prune(): void {
    for (const [id, r] of this.#byId) if (r.owner === undefined && !isLive(r.observed) && r.terminate === undefined) this.#byId.delete(id);
  }
}
