// The contract between ORCA's controllers and whatever runs pods (the EC2 provider; a test provider
// in test/). Small on purpose: optional capabilities (logs, exec, stats) are separate interfaces.
import type { Duplex, Readable, Writable } from 'node:stream';
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

/** What a /containerLogs request asks for (kubelet-api/log-options.ts parses it). */
export interface LogOptions {
  readonly follow: boolean;
  /** The run before the current one (lastState.terminated). */
  readonly previous: boolean;
  /** Each line prefixed with its time, as a kubelet writes it. */
  readonly timestamps: boolean;
  /** The last N lines (before `since` is applied); with follow, only where to start. */
  readonly tailLines?: number;
  /** Lines older than this are skipped (sinceSeconds or sinceTime). */
  readonly since?: Date;
  /** Stop after this many bytes (the last line may be cut). */
  readonly limitBytes?: number;
}

/** Which run of which container: runs count from 0 (the container's restartCount when it started). */
export interface LogTarget {
  readonly ref: PodRef;
  readonly container: string;
  readonly run: number;
}

/** One line of a container's output, without its newline. */
export interface LogLine {
  /** When it was written, in milliseconds since the epoch. */
  readonly at: number;
  readonly text: string;
}

/** `kubectl logs`: a container run's output. */
export interface LogsCapable {
  /**
   * The run's lines that `options` select (tailLines, since), oldest first, in batches: the first
   * (possibly empty) comes after the first read, so a store that cannot be read fails before
   * anything is sent. With
   * `options.follow`, then every new line until `endedAt` gives a time (the run stopped writing, or
   * the pod is gone) and the lines written before it are out, or until `signal` aborts. Formatting
   * (timestamps, limitBytes) is the caller's.
   */
  containerLogs(target: LogTarget, options: LogOptions, endedAt: () => Date | undefined, signal: AbortSignal): AsyncIterable<readonly LogLine[]>;
}

/** A terminal's size, in character cells. */
export interface TerminalSize {
  readonly cols: number;
  readonly rows: number;
}

/** What a /exec or /attach request asks for (kubelet-api parses the query). */
export interface ExecRequest {
  readonly container: string;
  /** The exact argv, never joined or re-quoted; empty for attach. */
  readonly command: readonly string[];
  readonly stdin: boolean;
  readonly stdout: boolean;
  /** Never with tty (a terminal has one output). */
  readonly stderr: boolean;
  readonly tty: boolean;
}

/**
 * The client's side of an exec or attach, whatever the transport (SPDY or WebSocket): the streams it
 * asked for. `stdin` ends at the client's end-of-file; the provider ends `stdout` and `stderr` when
 * the process's output is all written. `resizes` ends with the connection.
 */
export interface ContainerIo {
  readonly stdin?: Readable;
  readonly stdout?: Writable;
  readonly stderr?: Writable;
  readonly resizes?: AsyncIterable<TerminalSize>;
}

/** How an exec or attach ended: the process's exit code, or why it could not run (a kubelet's InternalError). */
export type ExecOutcome =
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'failed'; readonly message: string };

/** The forwarded ports of one /portForward request; everything it opened ends when its signal aborts. */
export interface PortForwarder {
  /**
   * One client connection to `port` in the pod, piped both ways over `connection` until either side
   * ends. Rejects (with the reason a kubelet writes on the port's error stream) when the port cannot
   * be reached.
   */
  forward(port: number, connection: Duplex): Promise<void>;
}

/** `kubectl exec`, `attach`, `cp` and `port-forward`. */
export interface ExecCapable {
  /**
   * Runs `request.command` in the container with `io`; resolves once it ended and its output is
   * written. Rejects with StreamRefusedError before anything ran (no such pod or container, not
   * running, too many sessions). `signal` aborts when the client goes away: the process is then
   * signalled and the session closed.
   */
  exec(ref: PodRef, request: ExecRequest, io: ContainerIo, signal: AbortSignal): Promise<ExecOutcome>;
  /** Attaches `io` to the container's main process (`request.command` is empty); as exec. */
  attach(ref: PodRef, request: ExecRequest, io: ContainerIo, signal: AbortSignal): Promise<ExecOutcome>;
  /** Rejects with StreamRefusedError when the pod cannot be reached. */
  portForwarder(ref: PodRef, signal: AbortSignal): Promise<PortForwarder>;
}

export function isExecCapable(p: object): p is ExecCapable {
  const c = p as Partial<ExecCapable>;
  return typeof c.exec === 'function' && typeof c.attach === 'function' && typeof c.portForwarder === 'function';
}

/** One kind of accelerator on the machine that runs a pod, all its devices together. */
export interface AcceleratorUsage {
  readonly kind: 'nvidia' | 'neuron';
  /** Devices measured. */
  readonly count: number;
  /** Mean utilisation of the devices, 0..1. */
  readonly utilization: number;
  readonly memoryUsedBytes: number;
  readonly memoryTotalBytes: number;
}

/** A container's current run. */
export interface ContainerUsageSample {
  readonly name: string;
  /** When the run started. */
  readonly startTime: Date;
  /** CPU time the run has used, in core-seconds: never decreases; a new run counts from its start. */
  readonly cpuCoreSeconds: number;
  /** The CPU rate last measured, in cores. */
  readonly cpuCores: number;
  readonly memoryWorkingSetBytes: number;
}

/** What one pod uses, at UsageSamples.at. */
export interface PodUsageSample {
  readonly ref: PodRef;
  readonly startTime: Date;
  /** When the measurement the sample extrapolates was taken. */
  readonly measuredAt: Date;
  /** The containers whose current run was measured (a run just started is missing until it is). */
  readonly containers: readonly ContainerUsageSample[];
  /** The pod's CPU time in core-seconds (all its containers, earlier runs included): never decreases. */
  readonly cpuCoreSeconds: number;
  readonly cpuCores: number;
  /** The working set of all its running containers (also those the provider cannot tell apart). */
  readonly memoryWorkingSetBytes: number;
  readonly accelerators: readonly AcceleratorUsage[];
  /** Since when all the pod's accelerators have been idle (the idle guard), if they are. */
  readonly acceleratorsIdleSince?: Date;
}

/** What the provider's pods use at one time (`at`, which is also every sample's time). */
export interface UsageSamples {
  readonly at: Date;
  readonly pods: readonly PodUsageSample[];
  /** CPU time (core-seconds) of pods no longer in `pods`: the node's counter adds it, so it never decreases. */
  readonly endedCpuCoreSeconds: number;
}

/**
 * `kubectl top`: a usage sample of every pod the provider runs that has been measured. CPU is a
 * cumulative counter, since metrics-server computes rates between two scrapes.
 */
export interface StatsCapable {
  podStats(signal: AbortSignal): Promise<UsageSamples>;
}

export function isStatsCapable(p: object): p is StatsCapable {
  return typeof (p as Partial<StatsCapable>).podStats === 'function';
}
