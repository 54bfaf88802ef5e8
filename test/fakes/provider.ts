// A scriptable in-memory Provider for controller unit tests.
import type { Pod, PodKey, PodRef } from '../../src/domain/pod.js';
import type { ReportedStatus } from '../../src/domain/pod-status.js';
import type { Provider, ProviderPod } from '../../src/provider/provider.js';

export class FakeProvider implements Provider {
  readonly statuses = new Map<string, ProviderPod>();
  readonly creates: string[] = [];
  readonly deletes: string[] = [];
  readonly updates: string[] = [];
  /** Error thrown by the next updatePod call. */
  updateError: Error | undefined;
  /** Errors thrown by the next createPod calls, in order. */
  readonly createErrors: Error[] = [];
  /** Status a pod gets when created. */
  onCreate: ReportedStatus = { phase: 'Pending', startTime: '2026-11-23T12:00:00Z' };
  /** Status a pod gets when deleted; undefined leaves it as it was (a stuck pod). */
  onDelete: ReportedStatus | undefined = { phase: 'Failed', reason: 'Killed' };
  #notify: (key: PodKey) => void = () => undefined;

  createPod(pod: Pod): Promise<void> {
    const e = this.createErrors.shift();
    if (e !== undefined) return Promise.reject(e);
    this.creates.push(pod.metadata.uid);
    const ref = { key: `${pod.metadata.namespace}/${pod.metadata.name}` as PodKey, uid: pod.metadata.uid };
    if (!this.statuses.has(pod.metadata.uid)) this.statuses.set(pod.metadata.uid, { ref, status: this.onCreate });
    return Promise.resolve();
  }

  updatePod(pod: Pod): Promise<void> {
    const e = this.updateError;
    this.updateError = undefined;
    if (e !== undefined) return Promise.reject(e);
    this.updates.push(`${pod.metadata.uid}:${pod.spec.containers.map((c) => c.image ?? '').join(',')}`);
    return Promise.resolve();
  }

  deletePod(ref: PodRef): Promise<void> {
    this.deletes.push(ref.uid);
    const p = this.statuses.get(ref.uid);
    if (p !== undefined && this.onDelete !== undefined) this.statuses.set(ref.uid, { ...p, status: this.onDelete });
    return Promise.resolve();
  }

  getPodStatus(ref: PodRef): Promise<ReportedStatus | undefined> {
    return Promise.resolve(this.statuses.get(ref.uid)?.status);
  }

  listPods(): Promise<readonly ProviderPod[]> {
    return Promise.resolve([...this.statuses.values()]);
  }

  onStatusChange(notify: (key: PodKey) => void): void {
    this.#notify = notify;
  }

  /** Sets a pod's status, as the provider would observe it, and notifies the controller. */
  report(ref: PodRef, status: ReportedStatus): void {
    this.statuses.set(ref.uid, { ref, status });
    this.#notify(ref.key);
  }
}
