// Pure: which run of a container `kubectl logs` reads, decided from the pod's status as a kubelet
// decides it (its validateContainerLogStatus), with the kubelet's error texts, which kubectl shows
// as they are. A container's runs count from 0; its current run is its restartCount and the one
// in lastState the run before.
import { err, ok, type Result } from '../domain/result.js';
import type { ContainerStatus, Pod } from '../domain/pod.js';

export interface LogRun {
  /** The run to read. */
  readonly run: number;
  /** The run was still writing when the status was read (only then does a follow wait for more). */
  readonly running: boolean;
  /** When the run stopped, if it has (ms). */
  readonly finishedAt?: number;
}

export interface LogRefusal {
  readonly status: 400 | 404;
  readonly message: string;
}

const refuse = (status: LogRefusal['status'], message: string): Result<LogRun, LogRefusal> => err({ status, message });

const time = (t: string | undefined): { finishedAt?: number } => {
  const ms = t === undefined ? Number.NaN : Date.parse(t);
  return Number.isNaN(ms) ? {} : { finishedAt: ms };
};

function statusOf(pod: Pod, container: string): ContainerStatus | undefined {
  const s = pod.status;
  return [...(s?.containerStatuses ?? []), ...(s?.initContainerStatuses ?? [])].find((c) => c.name === container);
}

/** The run `previous` (or not) asks for, or what the kubelet answers instead. */
export function logRun(pod: Pod | undefined, podName: string, container: string, previous: boolean): Result<LogRun, LogRefusal> {
  if (pod === undefined) return refuse(404, `pod "${podName}" does not exist`);
  const inSpec = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].some((c) => c.name === container);
  if (!inSpec) return refuse(404, `container "${container}" not found in pod "${podName}"`);
  const c = statusOf(pod, container);
  if (c === undefined) return refuse(400, `container "${container}" in pod "${podName}" is not available`);
  const last = c.lastState?.terminated;
  if (!previous) return currentRun(c, `container "${container}" in pod "${podName}"`);
  return last === undefined
    ? refuse(400, `previous terminated container "${container}" in pod "${podName}" not found`)
    : ok({ run: c.restartCount - 1, running: false, ...time(last.finishedAt) });
}

const waitingWhy: Readonly<Record<string, string>> = { ErrImagePull: "image can't be pulled", ImagePullBackOff: 'trying and failing to pull image' };

/** The run a plain `kubectl logs` reads: the running or stopped one, else the one before a restart. */
function currentRun(c: ContainerStatus, what: string): Result<LogRun, LogRefusal> {
  const { state } = c;
  const last = c.lastState?.terminated;
  if (state?.running !== undefined) return ok({ run: c.restartCount, running: true });
  if (state?.terminated !== undefined) return ok({ run: c.restartCount, running: false, ...time(state.terminated.finishedAt) });
  if (last !== undefined) return ok({ run: c.restartCount - 1, running: false, ...time(last.finishedAt) });
  return refuse(400, waitingText(what, state?.waiting?.reason));
}

function waitingText(what: string, reason: string | undefined): string {
  if (reason === undefined) return `${what} is waiting to start - no logs yet`;
  return `${what} is waiting to start: ${waitingWhy[reason] ?? reason}`;
}

/** Whether the run is over in this newer status of the pod: the container moved on, stopped, or the pod (this UID) is gone. */
export function runOver(pod: Pod | undefined, uid: string, container: string, run: number): { readonly over: boolean; readonly finishedAt?: number } {
  if (pod?.metadata.uid !== uid) return { over: true };
  const c = statusOf(pod, container);
  if (c === undefined) return { over: false };
  if (c.restartCount > run) return { over: true, ...time(c.lastState?.terminated?.finishedAt) };
  const t = c.state?.terminated;
  return t === undefined ? { over: false } : { over: true, ...time(t.finishedAt) };
}
