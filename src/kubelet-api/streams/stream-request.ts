// Pure: what a /exec, /attach or /portForward request asks for, checked as a kubelet checks it
// before it upgrades the connection (its NewOptions and GetExec/GetAttach/GetPortForward), with the
// kubelet's texts, which kubectl shows after "unable to upgrade connection:".
import { err, ok, type Result } from '../../domain/result.js';
import type { Pod } from '../../domain/pod.js';
import type { ExecRequest } from '../../provider/provider.js';

export type StreamKind = 'exec' | 'attach' | 'portForward';

export interface StreamPath {
  readonly kind: StreamKind;
  readonly namespace: string;
  readonly pod: string;
  readonly uid?: string;
  /** exec and attach only. */
  readonly container?: string;
}

export interface StreamRefusal {
  readonly status: 400 | 401 | 403 | 404 | 429 | 500;
  readonly message: string;
}

const refuse = <T>(status: StreamRefusal['status'], message: string): Result<T, StreamRefusal> => err({ status, message });

const segment = (s: string): string | undefined => {
  try {
    const d = decodeURIComponent(s);
    return d === '' ? undefined : d;
  } catch {
    return undefined;
  }
};

/** The route a streaming path names (the route table's /exec, /attach and /portForward forms), or undefined. */
export function streamPath(pathname: string): StreamPath | undefined {
  const parts = pathname.split('/').slice(1).map(segment);
  if (parts.some((p) => p === undefined)) return undefined;
  const [head, namespace, pod, ...rest] = parts as string[];
  if (namespace === undefined || pod === undefined) return undefined;
  if (head === 'portForward') return rest.length <= 1 ? { kind: 'portForward', namespace, pod, ...(rest[0] === undefined ? {} : { uid: rest[0] }) } : undefined;
  return head === 'exec' || head === 'attach' ? containerPath(head, namespace, pod, rest) : undefined;
}

/** /{kind}/{ns}/{pod}/{container} or /{kind}/{ns}/{pod}/{uid}/{container}. */
function containerPath(kind: 'exec' | 'attach', namespace: string, pod: string, rest: readonly string[]): StreamPath | undefined {
  const [first, second] = rest;
  if (rest.length === 1 && first !== undefined) return { kind, namespace, pod, container: first };
  if (rest.length === 2 && first !== undefined && second !== undefined) return { kind, namespace, pod, uid: first, container: second };
  return undefined;
}

const flag = (q: URLSearchParams, name: string): boolean => q.get(name) === '1';

/** The streams and command of an exec or attach (a TTY has no separate stderr). */
export function execRequest(path: StreamPath, query: URLSearchParams): Result<ExecRequest, StreamRefusal> {
  const tty = flag(query, 'tty');
  const request: ExecRequest = {
    container: path.container ?? '', command: path.kind === 'exec' ? query.getAll('command') : [],
    stdin: flag(query, 'input'), stdout: flag(query, 'output'), stderr: flag(query, 'error') && !tty, tty,
  };
  if (!request.stdin && !request.stdout && !flag(query, 'error')) return refuse(400, 'you must specify at least 1 of stdin, stdout, stderr');
  if (path.kind === 'exec' && request.command.length === 0) return refuse(400, 'you must specify at least one command for the container');
  return ok(request);
}


/** The pod the request names, if it is on the node (and has the UID, when the path gives one). */
export function streamPod(path: StreamPath, pod: Pod | undefined): Result<Pod, StreamRefusal> {
  if (pod === undefined || (path.uid !== undefined && pod.metadata.uid !== path.uid)) return refuse(404, 'pod does not exist');
  return ok(pod);
}

/** A kubelet execs only into a running container (its runtime's findContainer). */
export function runningContainer(pod: Pod, container: string): Result<string, StreamRefusal> {
  const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
  const running = statuses.find((c) => c.name === container)?.state?.running !== undefined;
  return running ? ok(container) : refuse(500, `container not found ("${container}")`);
}

/** The ports of a WebSocket port-forward (`port=`, repeated or comma-separated); SPDY clients name them per stream. */
export function queryPorts(query: URLSearchParams): Result<readonly number[], StreamRefusal> {
  const words = query.getAll('port').flatMap((v) => v.split(',')).map((w) => w.trim()).filter((w) => w !== '');
  const ports: number[] = [];
  for (const w of words) {
    const n = /^\d{1,5}$/.test(w) ? Number(w) : Number.NaN;
    if (!(n >= 1 && n <= 65535)) return refuse(400, `unable to parse "${w}" as a port: port must be between 1 and 65535`);
    ports.push(n);
  }
  return ok(ports);
}
