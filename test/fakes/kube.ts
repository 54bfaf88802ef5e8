// In-memory fakes of ORCA's Kubernetes ports, recording every call, with failure knobs.
import type { NodeManifest, NodeStatus } from '../../src/domain/node.js';
import { podKey, type Pod, type PodKey, type PodRef, type PodStatus } from '../../src/domain/pod.js';
import type { EventRecorder, EventType, LeaseApi, NodeApi, PodSource, PodWriter } from '../../src/ports/kube.js';

export class FakeNodeApi implements NodeApi {
  node: (NodeManifest & { uid: string }) | undefined;
  readonly calls: string[] = [];
  /** Errors thrown by the next calls, in order. */
  readonly failNext: Error[] = [];

  #maybeFail(op: string): void {
    this.calls.push(op);
    const e = this.failNext.shift();
    if (e !== undefined) throw e;
  }

  get(): Promise<(NodeManifest & { readonly uid: string }) | undefined> {
    this.#maybeFail('get');
    return Promise.resolve(this.node);
  }

  create(node: NodeManifest): Promise<string> {
    this.#maybeFail('create');
    this.node = { ...node, uid: 'node-uid-1' };
    return Promise.resolve('node-uid-1');
  }

  patchMeta(node: NodeManifest): Promise<void> {
    this.#maybeFail('patchMeta');
    if (this.node !== undefined) this.node = { ...this.node, metadata: node.metadata, spec: node.spec };
    return Promise.resolve();
  }

  patchStatus(_name: string, status: NodeStatus): Promise<void> {
    this.#maybeFail('patchStatus');
    if (this.node !== undefined) this.node = { ...this.node, status };
    return Promise.resolve();
  }
}

export class FakeLeaseApi implements LeaseApi {
  readonly renewals: { name: string; uid: string; at: string }[] = [];
  failNext = 0;

  renew(name: string, uid: string, _d: number, now: Date): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      return Promise.reject(new Error('lease conflict'));
    }
    this.renewals.push({ name, uid, at: now.toISOString() });
    return Promise.resolve();
  }
}

export class FakePods implements PodSource, PodWriter, EventRecorder {
  readonly pods = new Map<PodKey, Pod>();
  readonly writes: { key: PodKey; uid: string; status: PodStatus; clear: readonly string[] }[] = [];
  readonly deletes: PodRef[] = [];
  readonly events: { key: string; type: EventType; reason: string; message: string }[] = [];
  readonly #handlers: ((k: PodKey) => void)[] = [];
  #markSynced: () => void = () => undefined;
  readonly synced = new Promise<void>((r) => { this.#markSynced = r; });
  /** When true, status writes are applied to the stored pod (as the informer would show them). */
  applyWrites = true;

  get(key: PodKey): Pod | undefined {
    return this.pods.get(key);
  }

  list(): readonly Pod[] {
    return [...this.pods.values()];
  }

  onChange(h: (key: PodKey) => void): void {
    this.#handlers.push(h);
  }

  run(): Promise<void> {
    this.#markSynced();
    return Promise.resolve();
  }

  /** Adds or replaces a pod, as a watch event would, and tells the handlers. */
  put(pod: Pod): void {
    const key = podKey(pod.metadata.namespace, pod.metadata.name);
    this.pods.set(key, pod);
    for (const h of this.#handlers) h(key);
  }

  remove(key: PodKey): void {
    this.pods.delete(key);
    for (const h of this.#handlers) h(key);
  }

  patchStatus(ref: PodRef, status: PodStatus, clear: readonly string[]): Promise<void> {
    this.writes.push({ key: ref.key, uid: ref.uid, status, clear });
    const pod = this.pods.get(ref.key);
    if (this.applyWrites && pod?.metadata.uid === ref.uid) this.pods.set(ref.key, { ...pod, status });
    return Promise.resolve();
  }

  deleteNow(ref: PodRef): Promise<void> {
    this.deletes.push(ref);
    if (this.pods.get(ref.key)?.metadata.uid === ref.uid) this.remove(ref.key);
    return Promise.resolve();
  }

  podEvent(pod: Pod, type: EventType, reason: string, message: string): void {
    this.events.push({ key: `${pod.metadata.namespace}/${pod.metadata.name}`, type, reason, message });
  }
}
