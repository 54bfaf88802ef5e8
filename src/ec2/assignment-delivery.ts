// Gets each pod's assignment to its instance's agent: stored once the pod has an instance, stored
// again at every poll until that worked, deleted when the pod ends; and rebuilt from the pod object
// for an agent still waiting a while after launch when this process never delivered it (ORCA
// restarted between launch and delivery). The texts are kept in the pod table until stored;
// they hold secret values and are never logged.
import { isLive } from '../domain/instance.js';
import type { Pod, PodKey } from '../domain/pod.js';
import type { AssignmentStore } from '../ports/assignments.js';
import type { ConfigSource } from '../ports/kube.js';
import type { Logger } from '../observability/logger.js';
import { buildAssignment } from '../agent-protocol/assignment-builder.js';
import type { PodRecord, PodTable } from './pod-table.js';

export interface AssignmentDeliveryDeps {
  readonly table: PodTable;
  readonly store: AssignmentStore;
  readonly config: ConfigSource;
  readonly log: Logger;
  /** The pod objects bound to the node (the informer's cache). */
  readonly podLookup?: (key: PodKey) => Pod | undefined;
  /** An agent still waiting this long after launch gets its assignment rebuilt. */
  readonly rebuildAfterMs: number;
}

export class AssignmentDelivery {
  readonly #d: AssignmentDeliveryDeps;

  constructor(deps: AssignmentDeliveryDeps) {
    this.#d = deps;
  }

  /** Stores the pod's pending assignment for its instance. */
  async deliver(uid: string, instanceId: string): Promise<void> {
    const { table, store, log } = this.#d;
    const text = table.pod(uid)?.assignment.text;
    if (text === undefined) return;
    try {
      await store.put(instanceId, text);
      if (table.pod(uid)?.assignment.text === text) table.setAssignment(uid, { delivered: true });
    } catch (err) {
      log.warn({ err, instanceId }, 'could not store the pod assignment; trying again at the next poll');
    }
  }

  /** Deletes the instance's assignment (its pod ended or left it). */
  async withdraw(instanceId: string): Promise<void> {
    try {
      await this.#d.store.remove(instanceId);
    } catch (err) {
      this.#d.log.warn({ err, instanceId }, 'could not delete the pod assignment');
    }
  }

  /** At every poll: rebuild what a restart lost, then store every pending assignment whose pod has an instance. */
  async catchUp(now: number): Promise<void> {
    const { table } = this.#d;
    for (const p of table.pods()) if (this.#lost(p, now)) await this.#rebuild(p);
    for (const p of table.pods()) {
      if (p.instanceId !== undefined && p.assignment.text !== undefined && !p.deleting) await this.deliver(p.ref.uid, p.instanceId);
    }
  }

  #lost(p: PodRecord, now: number): boolean {
    const i = this.#d.table.instanceOf(p.ref.uid)?.observed;
    if (i === undefined || p.deleting || p.assignment.text !== undefined || p.assignment.delivered) return false;
    return i.agent?.pod === 'WaitingForAssignment' && isLive(i) && Date.parse(i.launchTime) + this.#d.rebuildAfterMs < now;
  }

  async #rebuild(p: PodRecord): Promise<void> {
    const pod = p.pod ?? this.#d.podLookup?.(p.ref.key);
    if (pod?.metadata.uid !== p.ref.uid || p.instanceId === undefined) return;
    try {
      const text = await buildAssignment(pod, this.#d.config);
      // A process that stopped mid-delivery may have left some parts: start from none.
      await this.#d.store.remove(p.instanceId);
      this.#d.table.setAssignment(p.ref.uid, { text, delivered: false });
    } catch (err) {
      this.#d.log.warn({ err, pod: p.ref.key }, 'could not rebuild the pod assignment');
    }
  }
}
