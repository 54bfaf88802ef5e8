// The contract between ORCA's controllers and whatever runs pods (the EC2 provider; a test provider
// in test/). Small on purpose: optional capabilities (logs, exec, stats) are separate interfaces.
import type { Pod, PodKey, PodRef } from '../domain/pod.js';
import type { ReportedStatus } from '../domain/pod-status.js';

/** A pod the provider runs, as it reports it. */
export interface ProviderPod {
  readonly ref: PodRef;
  readonly status: ReportedStatus;
}

export interface Provider {
  /**
   * Starts running `pod`. Idempotent by pod UID: calling it again for a pod the provider already
   * has must not start a second copy. Throws PodRejectedError when the pod can never run (bad
   * annotations, unsupported volumes …); any other error is treated as transient and retried.
   */
  createPod(pod: Pod, signal: AbortSignal): Promise<void>;

  /**
   * Applies a change to a pod the provider already runs: its containers' images, its labels or
   * annotations. Called once per change. Throws PodRejectedError for a change it cannot apply
   * (the pod keeps running as it was); any other error is retried.
   */
  updatePod(pod: Pod, signal: AbortSignal): Promise<void>;

  /**
   * Stops `pod`: SIGTERM, then SIGKILL after its grace period. May be called several times for
   * the same pod. Afterwards the provider reports a terminal status (every container terminated).
   * Resolves without error when the provider does not know the pod.
   */
  deletePod(ref: PodRef, signal: AbortSignal): Promise<void>;

  /** The provider's current view of the pod; undefined means the provider does not have it. */
  getPodStatus(ref: PodRef, signal: AbortSignal): Promise<ReportedStatus | undefined>;

  /** Every pod the provider runs, including ones whose pod object is gone (for start-up cleanup). */
  listPods(signal: AbortSignal): Promise<readonly ProviderPod[]>;

  /** Registers the callback the provider calls whenever a pod's status changes. */
  onStatusChange(notify: (key: PodKey) => void): void;

  /**
   * Optional: how long after a pod's deletionTimestamp the provider may still need to report its
   * containers stopped (a remote instance reports on its next poll). The pod controller waits that
   * much longer before it gives up on a graceful stop. 0 when absent.
   */
  readonly stopSlackMs?: number;
}

/** Optional: a provider that must be started (timers, pollers) before use. */
export interface RunnableProvider extends Provider {
  run(signal: AbortSignal): Promise<void>;
}

export function isRunnable(p: Provider): p is RunnableProvider {
  return typeof (p as Partial<RunnableProvider>).run === 'function';
}
