// Drives every pod bound to the virtual node through its life with a kubelet's semantics: create in
// the provider, post status only when it changed, graceful deletion (provider delete, terminal
// status, then the final DELETE with grace 0 and a UID precondition), start-up clean-up of pods the
// API no longer has. One keyed, level-triggered queue: every trigger enqueues a key; the reconcile
// re-reads the pod and the provider.
import type { BackoffPolicy } from '../domain/backoff.js';
import { ConfigRefError, PodRejectedError, ProviderFailedError } from '../domain/errors.js';
import { isTerminalPhase, refOf, type Pod, type PodKey, type PodRef } from '../domain/pod.js';
import { canonical, clearedFields, kubeletStatus, kubeTime, statusDiffers, type ReportedStatus } from '../domain/pod-status.js';
import type { Clock } from '../ports/clock.js';
import type { EventRecorder, PodSource, PodWriter } from '../ports/kube.js';
import type { Provider, ProviderPod } from '../provider/provider.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { done, requeueAfter, WorkQueue, type Outcome } from './work-queue.js';

export interface PodControllerDeps {
  readonly pods: PodSource;
  readonly writer: PodWriter;
  readonly events: EventRecorder;
  readonly provider: Provider;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** The node's InternalIP, posted as every pod's hostIP. */
  readonly hostIP: string;
  readonly workers?: number;
  /** Transient provider failures tolerated per pod before it is failed (default 5). */
  readonly maxProviderAttempts?: number;
  /** Every pod is reconciled at least this often (default 60 s). */
  readonly resyncMs?: number;
  /**
   * A provider pod whose pod object is missing is deleted once it has been missing on two resyncs at
   * least this long apart (default 60 s): a pod the informer has not delivered yet is never collected.
   */
  readonly gcGraceMs?: number;
  /** Back-off after a failure: first delay, doubling up to the maximum (default 1 s … 60 s). */
  readonly retry?: BackoffPolicy;
}

/** What a provider may be asked to change in a running pod. */
function mutableFields(pod: Pod): string {
  return canonical({ images: pod.spec.containers.map((c) => c.image), labels: pod.metadata.labels, annotations: pod.metadata.annotations });
}

export class PodController {
  readonly #d: PodControllerDeps;
  readonly #log: Logger;
  readonly #queue: WorkQueue<PodKey>;
  readonly #uids = new Map<PodKey, string>();
  readonly #deleteSent = new Set<string>();
  readonly #lastWritten = new Map<PodKey, NonNullable<Pod['status']>>();
  /** The mutable part of each pod's spec as the provider last saw it (UID → canonical JSON). */
  readonly #dispatched = new Map<string, string>();
  /** Provider pods missing from the API: UID → when first seen missing. */
  readonly #suspects = new Map<string, number>();
  #signal: AbortSignal = new AbortController().signal;

  constructor(deps: PodControllerDeps) {
    this.#d = deps;
    this.#log = deps.log.child({ component: 'pods' });
    this.#queue = new WorkQueue<PodKey>({ backoff: deps.retry ?? { baseMs: 1000, maxMs: 60_000 }, clock: deps.clock });
    deps.pods.onChange((key) => { this.#queue.add(key); });
    deps.provider.onStatusChange((key) => { this.#queue.add(key); });
  }

  async #writeStatus(pod: Pod, reported: ReportedStatus): Promise<void> {
    const key = refOf(pod).key;
    const desired = kubeletStatus(pod, reported, this.#d.hostIP, kubeTime(this.#d.clock.now()));
    const last = this.#lastWritten.get(key);
    if (!statusDiffers(pod.status, desired) || (last !== undefined && !statusDiffers(last, desired))) return;
    await this.#d.writer.patchStatus(refOf(pod), desired, clearedFields(pod.status, desired));
    this.#lastWritten.set(key, desired);
    this.#d.metrics.podStatusWrites.inc();
  }

  async #fail(pod: Pod, reason: string, message: string, provisioning = false): Promise<Outcome> {
    this.#d.events.podEvent(pod, 'Warning', reason, message);
    await this.#writeStatus(pod, { phase: 'Failed', reason, message, ...(provisioning ? { provisioningFailure: { reason, message } } : {}) });
    return done;
  }

  async #providerError(pod: Pod, err: unknown): Promise<Outcome> {
    const key = refOf(pod).key;
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof PodRejectedError) return this.#fail(pod, err.reason, message, true);
    const max = this.#d.maxProviderAttempts ?? 5;
    const attempt = this.#queue.failures(key) + 1;
    if (attempt >= max) return this.#giveUp(pod, new ProviderFailedError(attempt, { cause: err }), message);
    this.#log.warn({ pod: key, err, attempt }, 'provider failed to create the pod');
    const reason = err instanceof ConfigRefError ? err.reason : ProviderFailedError.reason;
    this.#d.events.podEvent(pod, 'Warning', reason, `attempt ${attempt} of ${max}: ${message}`);
    await this.#writeStatus(pod, { phase: 'Pending', reason, message, provisioningFailure: { reason, message } });
    this.#queue.retry(key);
    return done;
  }

  /** The last attempt failed too: the pod fails with the failure's reason, its message and the last error's. */
  async #giveUp(pod: Pod, failure: ProviderFailedError, lastMessage: string): Promise<Outcome> {
    const key = refOf(pod).key;
    this.#queue.forget(key);
    this.#log.warn({ pod: key, err: failure, attempt: failure.attempts }, 'provider failed to create the pod');
    return this.#fail(pod, failure.reason, `${failure.message}: ${lastMessage}`, true);
  }

  async #create(pod: Pod): Promise<Outcome> {
    const ref = refOf(pod);
    try {
      await this.#d.provider.createPod(pod, this.#signal);
    } catch (err) {
      return this.#providerError(pod, err);
    }
    this.#queue.forget(ref.key);
    this.#dispatched.set(ref.uid, mutableFields(pod));
    this.#log.info({ pod: ref.key, uid: ref.uid }, 'pod created in the provider');
    const reported = await this.#d.provider.getPodStatus(ref, this.#signal);
    if (reported !== undefined) await this.#writeStatus(pod, reported);
    return done;
  }

  /**
   * Dispatches a change of the pod's mutable fields (images, labels, annotations) to the provider,
   * once. The first sight after a start only records them: the provider already has that pod.
   */
  async #updateIfChanged(pod: Pod): Promise<void> {
    const uid = pod.metadata.uid;
    const now = mutableFields(pod);
    const before = this.#dispatched.get(uid);
    this.#dispatched.set(uid, now);
    if (before === undefined || before === now) return;
    try {
      await this.#d.provider.updatePod(pod, this.#signal);
      this.#d.events.podEvent(pod, 'Normal', 'Updated', 'The provider applied the changed pod spec');
    } catch (err) {
      if (!(err instanceof PodRejectedError)) {
        this.#dispatched.set(uid, before);
        throw err;
      }
      this.#d.events.podEvent(pod, 'Warning', err.reason, err.message);
    }
  }

  /** A pod that had started but that the provider no longer knows (lost instance, provider reset). */
  #wasStarted(pod: Pod): boolean {
    return pod.status?.phase === 'Running' || (pod.status?.containerStatuses ?? []).some((c) => c.state?.waiting === undefined);
  }

  async #deleting(pod: Pod, ref: PodRef): Promise<Outcome> {
    const reported = await this.#d.provider.getPodStatus(ref, this.#signal);
    if (reported === undefined) return this.#finalDelete(ref);
    const apiTerminal = isTerminalPhase(pod.status?.phase);
    if (!this.#deleteSent.has(ref.uid)) {
      await this.#d.provider.deletePod(ref, this.#signal);
      this.#deleteSent.add(ref.uid);
      if (!apiTerminal) this.#d.events.podEvent(pod, 'Normal', 'Killing', 'Stopping the pod in the provider');
    }
    if (apiTerminal) return this.#finalDelete(ref);
    if (isTerminalPhase(reported.phase)) {
      await this.#writeStatus(pod, reported);
      return this.#finalDelete(ref);
    }
    const left = Date.parse(pod.metadata.deletionTimestamp ?? '') + (this.#d.provider.stopSlackMs ?? 0) - this.#d.clock.now().getTime();
    if (left > 0) return requeueAfter(Math.min(left, 1000));
    this.#log.warn({ pod: ref.key }, 'pod still running after its grace period; deleting it from the API');
    await this.#fail(pod, 'DeletionGracePeriodExpired', 'The provider did not stop the pod within its termination grace period');
    return this.#finalDelete(ref);
  }

  async #finalDelete(ref: PodRef): Promise<Outcome> {
    await this.#d.writer.deleteNow(ref);
    // The provider has already let go of it (or never had it): nothing left for #gone to do.
    this.#uids.delete(ref.key);
    this.#deleteSent.delete(ref.uid);
    this.#dispatched.delete(ref.uid);
    this.#log.info({ pod: ref.key, uid: ref.uid }, 'pod deleted');
    return done;
  }

  /** The pod object is gone from the API: make sure the provider lets go of it too. */
  async #gone(key: PodKey): Promise<Outcome> {
    const uid = this.#uids.get(key);
    this.#uids.delete(key);
    this.#lastWritten.delete(key);
    if (uid === undefined) return done;
    this.#deleteSent.delete(uid);
    this.#dispatched.delete(uid);
    await this.#d.provider.deletePod({ key, uid }, this.#signal);
    return done;
  }

  async #reconcile(key: PodKey): Promise<Outcome> {
    const pod = this.#d.pods.get(key);
    if (pod === undefined) return this.#gone(key);
    const ref = refOf(pod);
    this.#uids.set(key, ref.uid);
    if (pod.metadata.deletionTimestamp !== undefined) return this.#deleting(pod, ref);
    if (isTerminalPhase(pod.status?.phase)) return done;
    const reported = await this.#d.provider.getPodStatus(ref, this.#signal);
    if (reported !== undefined) {
      await this.#updateIfChanged(pod);
      await this.#writeStatus(pod, reported);
      return done;
    }
    if (this.#wasStarted(pod)) {
      return this.#fail(pod, 'ProviderLost', 'The provider no longer has this pod; it may have been stopped outside ORCA');
    }
    return this.#create(pod);
  }

  async #timedReconcile(key: PodKey): Promise<Outcome> {
    const end = this.#d.metrics.reconcileSeconds.startTimer();
    try {
      const outcome = await this.#reconcile(key);
      end({ outcome: 'ok' });
      return outcome;
    } catch (err) {
      end({ outcome: 'error' });
      throw err;
    } finally {
      this.#d.metrics.queueDepth.set(this.#queue.depth);
    }
  }

  #onError(key: PodKey, err: unknown): void {
    this.#d.metrics.apiErrors.inc({ operation: 'pod-reconcile' });
    const attempt = this.#queue.retry(key);
    this.#log.warn({ pod: key, err, attempt }, 'pod reconcile failed; retrying');
  }

  /** Provider pods whose pod object is not in the API. */
  async #missingFromApi(): Promise<ProviderPod[]> {
    const inApi = new Set(this.#d.pods.list().map((p) => p.metadata.uid));
    return (await this.#d.provider.listPods(this.#signal)).filter((p) => !inApi.has(p.ref.uid));
  }

  /** Provider pods whose pod object no longer exists (deleted while ORCA was down) are deleted. */
  async #cleanUpDangling(): Promise<void> {
    for (const p of await this.#missingFromApi()) {
      this.#log.info({ pod: p.ref.key, uid: p.ref.uid }, 'deleting a provider pod that the API no longer has');
      await this.#d.provider.deletePod(p.ref, this.#signal);
    }
  }

  /** Garbage collection while running: two passes, a grace period, then the provider lets go. */
  async #collect(): Promise<void> {
    const now = this.#d.clock.now().getTime();
    const missing = await this.#missingFromApi();
    const missingUids = new Set(missing.map((p) => p.ref.uid));
    for (const uid of this.#suspects.keys()) if (!missingUids.has(uid)) this.#suspects.delete(uid);
    for (const p of missing) {
      const since = this.#suspects.get(p.ref.uid);
      if (since === undefined) {
        this.#suspects.set(p.ref.uid, now);
      } else if (now - since >= (this.#d.gcGraceMs ?? 60_000)) {
        this.#log.info({ pod: p.ref.key, uid: p.ref.uid }, 'collecting a provider pod whose pod object is gone');
        this.#suspects.delete(p.ref.uid);
        await this.#d.provider.deletePod(p.ref, this.#signal);
      }
    }
  }

  #countPhases(): void {
    const counts = new Map<string, number>([['Pending', 0], ['Running', 0], ['Succeeded', 0], ['Failed', 0]]);
    for (const p of this.#d.pods.list()) {
      const phase = p.status?.phase ?? 'Pending';
      counts.set(phase, (counts.get(phase) ?? 0) + 1);
    }
    for (const [phase, n] of counts) this.#d.metrics.podsByPhase.set({ phase }, n);
  }

  async #every(ms: number, signal: AbortSignal, task: () => void): Promise<void> {
    const stopping = (): boolean => signal.aborted;
    while (!stopping()) {
      await this.#d.clock.sleep(ms, signal).catch(() => undefined);
      if (!stopping()) task();
    }
  }

  #resync(): void {
    for (const p of this.#d.pods.list()) if (!isTerminalPhase(p.status?.phase)) this.#queue.add(refOf(p).key);
  }

  /** Waits for the pod cache, cleans up, then reconciles until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    this.#signal = signal;
    const aborted = new Promise<void>((resolveAbort) => { signal.addEventListener('abort', () => { resolveAbort(); }, { once: true }); });
    await Promise.race([this.#d.pods.synced, aborted]);
    if (signal.aborted) return;
    await this.#cleanUpDangling().catch((err: unknown) => {
      this.#log.warn({ err }, 'start-up clean-up of provider pods failed');
    });
    for (const p of this.#d.pods.list()) this.#queue.add(refOf(p).key);
    this.#countPhases();
    await Promise.all([
      this.#queue.run(this.#d.workers ?? 16, (k) => this.#timedReconcile(k), (k, e) => { this.#onError(k, e); }, signal),
      this.#every(this.#d.resyncMs ?? 60_000, signal, () => {
        this.#resync();
        this.#collect().catch((err: unknown) => { this.#log.warn({ err }, 'garbage collection failed'); });
      }),
      this.#every(10_000, signal, () => { this.#countPhases(); }),
    ]);
  }
}
