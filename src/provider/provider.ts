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

  /** Optional: why the provider cannot act yet (empty when it can); part of ORCA's readiness. */
  notReadyReasons?(): readonly string[];

  /** Optional: resolves once the provider can act (ORCA logs "orca ready" after it). */
  readonly ready?: Promise<void>;
}

/** Optional: a provider that must be started (timers, pollers) before use. */
export interface RunnableProvider extends Provider {
  run(signal: AbortSignal): Promise<void>;
}

export function isRunnable(p: Provider): p is RunnableProvider {
  return typeof (p as Partial<RunnableProvider>).run === 'function';
}

// The optional capabilities the kubelet API serves (kubectl logs, exec/attach/port-forward, top),
// each a separate interface a provider may also implement; the kubelet API detects them at run time.

export interface LogOptions {
  readonly follow: boolean;
  readonly previous: boolean;
  readonly timestamps: boolean;
  readonly tailLines?: number;
  readonly sinceTime?: string;
  readonly limitBytes?: number;
}

/** `kubectl logs`: a container's output, as lines. */
export interface LogsCapable {
  containerLogs(ref: PodRef, container: string, options: LogOptions, signal: AbortSignal): AsyncIterable<string>;
}

/** One stream session into a container: exec, attach or a forwarded port. */
export interface StreamSession {
  readonly stdout: AsyncIterable<Uint8Array>;
  readonly stderr?: AsyncIterable<Uint8Array>;
  write(data: Uint8Array): Promise<void>;
  resize?(cols: number, rows: number): void;
  /** Resolves with the exit code (exec, attach) once the session ends. */
  readonly exit: Promise<number>;
}

/** `kubectl exec`, `attach` and `port-forward`. */
export interface ExecCapable {
  exec(ref: PodRef, container: string, command: readonly string[], tty: boolean, signal: AbortSignal): Promise<StreamSession>;
  attach(ref: PodRef, container: string, tty: boolean, signal: AbortSignal): Promise<StreamSession>;
  portForward(ref: PodRef, port: number, signal: AbortSignal): Promise<StreamSession>;
}

/** `kubectl top`: usage per pod, as the agent last reported it. */
export interface StatsCapable {
  podUsage(ref: PodRef): { readonly cpuMillicores: number; readonly memoryBytes: number; readonly at: string } | undefined;
}
