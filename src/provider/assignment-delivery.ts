// Gets each pod's assignment to its instance's agent: stored once the pod has an instance, stored
// again at every poll until that worked, deleted when the pod ends; and rebuilt from the pod for an
// agent still waiting a minute after launch when this process never delivered it (ORCA restarted
// between launch and delivery). Assignment texts hold secret values: never logged.
import type { Pod, PodKey, PodRef } from '../domain/pod.js';
import type { AssignmentStore } from '../ports/assignments.js';
import type { ConfigSource } from '../ports/kube.js';
import type { Logger } from '../observability/logger.js';
import { STATE_TAG } from './agent-state.js';
import { buildAssignment } from './assignment-builder.js';
import type { TrackedPod } from './instance-status.js';

export interface AssignmentDeliveryDeps {
  readonly store: AssignmentStore;
  readonly config: ConfigSource;
  readonly log: Logger;
  readonly podLookup?: (key: PodKey) => Pod | undefined;
  /** The provider learns the pod object it rebuilt an assignment from. */
  readonly adopt: (ref: PodRef, pod: Pod) => void;
}

type Tracked = TrackedPod & { readonly ref: PodRef };

export class AssignmentDelivery {
  readonly #d: AssignmentDeliveryDeps;
  /** Assignment texts not yet stored for their instance, by pod UID. */
  readonly #pending = new Map<string, string>();
  readonly #delivered = new Set<string>();

  constructor(deps: AssignmentDeliveryDeps) {
    this.#d = deps;
  }

  prepare(uid: string, text: string): void {
    this.#pending.set(uid, text);
  }

  forget(uid: string): void {
    this.#pending.delete(uid);
  }

  async deliver(uid: string, instanceId: string): Promise<void> {
    const text = this.#pending.get(uid);
    if (text === undefined) return;
    try {
      await this.#d.store.put(instanceId, text);
      this.#delivered.add(uid);
      if (this.#pending.get(uid) === text) this.#pending.delete(uid);
    } catch (err) {
      this.#d.log.warn({ err, instanceId }, 'could not store the pod assignment; trying again at the next poll');
    }
  }

  async withdraw(uid: string, instanceId: string | undefined): Promise<void> {
    this.#pending.delete(uid);
    if (instanceId === undefined) return;
    try {
      await this.#d.store.remove(instanceId);
    } catch (err) {
      this.#d.log.warn({ err, instanceId }, 'could not delete the pod assignment');
    }
  }

  /** At every poll: rebuild what a restart lost, then store every pending assignment whose pod has an instance. */
  async catchUp(pods: readonly Tracked[], now: number): Promise<void> {
    for (const t of pods) if (this.#lost(t, now)) await this.#rebuild(t);
    for (const t of pods) {
      const id = t.instance?.id;
      if (id !== undefined && this.#pending.has(t.ref.uid)) await this.deliver(t.ref.uid, id);
    }
  }

  #lost(t: Tracked, now: number): boolean {
    const i = t.instance;
    if (i === undefined || t.deleting || this.#pending.has(t.ref.uid) || this.#delivered.has(t.ref.uid)) return false;
    const waiting = i.tags[STATE_TAG]?.startsWith('v1 WaitingForAssignment') === true;
    return waiting && (i.state === 'running' || i.state === 'pending') && Date.parse(i.launchTime) + 60_000 < now;
  }

  async #rebuild(t: Tracked): Promise<void> {
    const pod = this.#d.podLookup?.(t.ref.key);
    if (pod?.metadata.uid !== t.ref.uid) return;
    try {
      this.#pending.set(t.ref.uid, await buildAssignment(pod, this.#d.config));
      // A process that stopped mid-delivery may have left some parts: start from none.
      if (t.instance !== undefined) await this.#d.store.remove(t.instance.id);
      this.#d.adopt(t.ref, pod);
    } catch (err) {
      this.#d.log.warn({ err, pod: t.ref.key }, 'could not rebuild the pod assignment');
    }
  }
}
