// Pure: the agent's orca.research/usage tag (docs/agent.md) → what the pod's containers and its
// instance's accelerators used when the agent last measured them. Entries are positional (one per
// app container, in the pod's order); a token this version does not know is skipped, and one that
// is malformed in a container's place leaves that container unmeasured, so the others keep their
// places.
import type { AcceleratorUsage } from '../provider/provider.js';

/** EC2's limit on a tag value; the agent keeps the value within it. */
export const maxTagValueLength = 256;
/** The agent rewrites an unchanged value at least this often… */
export const usageRefreshSeconds = 600;
/** …so a value older than this means the agent stopped measuring. */
export const usageStaleSeconds = 900;

const mib = 2 ** 20;

/** One container run's usage, as measured. */
export interface ContainerUsage {
  /** The run measured: the container's restart count when it started. */
  readonly run: number;
  readonly cpuMillicores: number;
  /** Working set. */
  readonly memoryBytes: number;
}

export interface AgentUsage {
  /** When the agent measured, in milliseconds since the epoch. */
  readonly measuredAt: number;
  /** One per app container in the pod's order; undefined where the container was not measured. */
  readonly containers: readonly (ContainerUsage | undefined)[];
  /** Containers after those listed, summed (a pod with more than fit in the tag). */
  readonly rest?: { readonly containers: number; readonly cpuMillicores: number; readonly memoryBytes: number };
  readonly accelerators: readonly AcceleratorUsage[];
}

const whole = (s: string | undefined): number | undefined => (s !== undefined && /^\d{1,15}$/.test(s) ? Number(s) : undefined);

/** `<a>:<b>:<c>` of whole numbers. */
function triple(token: string): [number, number, number] | undefined {
  const fields = token.split(':');
  if (fields.length !== 3) return undefined;
  const [a, b, c] = fields.map(whole);
  return a === undefined || b === undefined || c === undefined ? undefined : [a, b, c];
}

function container(token: string): ContainerUsage | undefined {
  const t = triple(token);
  return t === undefined ? undefined : { run: t[0], cpuMillicores: t[1], memoryBytes: t[2] * mib };
}

function rest(token: string): AgentUsage['rest'] {
  const t = triple(token.slice(1));
  return t === undefined || t[0] === 0 ? undefined : { containers: t[0], cpuMillicores: t[1], memoryBytes: t[2] * mib };
}

const kinds: ReadonlyMap<string, AcceleratorUsage['kind']> = new Map([['nvidia', 'nvidia'], ['neuron', 'neuron']]);

/** `<kind>:<devices>:<utilization-%>:<used-MiB>:<total-MiB>`; undefined for a kind or shape this version does not know. */
function accelerator(token: string): AcceleratorUsage | undefined {
  const [name = '', ...rest] = token.split(':');
  const kind = kinds.get(name);
  const [count, util, used, total] = rest.map(whole);
  if (kind === undefined || rest.length !== 4 || count === undefined || util === undefined || used === undefined || total === undefined) return undefined;
  if (count === 0 || util > 100) return undefined;
  return { kind, count, utilization: util / 100, memoryUsedBytes: used * mib, memoryTotalBytes: total * mib };
}

interface Parts { containers: (ContainerUsage | undefined)[]; accelerators: AcceleratorUsage[]; rest?: AgentUsage['rest'] }

function add(parts: Parts, token: string): void {
  if (/^[a-z]/.test(token)) {
    const a = accelerator(token);
    if (a !== undefined) parts.accelerators.push(a);
  } else if (token.startsWith('+')) {
    parts.rest = rest(token);
  } else {
    parts.containers.push(token === '-' ? undefined : container(token));
  }
}

/** The usage the tag's value gives; undefined for no value, another version, or no measurement time. */
export function parseUsage(value: string | undefined): AgentUsage | undefined {
  const [version, at, ...tokens] = (value ?? '').split(' ').filter((t) => t !== '');
  const seconds = whole(at);
  if (version !== 'u1' || seconds === undefined || seconds === 0) return undefined;
  const parts: Parts = { containers: [], accelerators: [] };
  for (const t of tokens) add(parts, t);
  const { rest: r, ...listed } = parts;
  return { measuredAt: seconds * 1000, ...listed, ...(r === undefined ? {} : { rest: r }) };
}
