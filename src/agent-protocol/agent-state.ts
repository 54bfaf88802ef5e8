// Pure: the on-instance agent's state tags (docs/agent.md) → a pod status, the way a kubelet maps
// its containers onto phases, conditions, containerStatuses and lastState.
import { isTerminalPhase, type ContainerState, type ContainerStatus, type PodPhase, type RestartPolicy } from '../domain/pod.js';
import { kubeTime, type ReportedStatus } from '../domain/pod-status.js';
import { defined } from '../domain/objects.js';
import { TAG } from './tag-keys.js';
import { parseUsage, type AgentUsage } from './usage.js';

/** The pod states the agent reports, in the order it goes through them. */
export const agentPodStates = ['WaitingForAssignment', 'Initializing', 'InitFailed', 'Running', 'Finished', 'Stopped'] as const;
export type AgentPodState = (typeof agentPodStates)[number];

/** A notice the agent read from IMDS: EC2 reclaims the spot instance, or recommends rebalancing. */
export type AgentNotice =
  | { readonly kind: 'spot-interruption'; readonly action: string; readonly text: string }
  | { readonly kind: 'rebalance'; readonly text: string };

interface Run { readonly exitCode: number; readonly reason: string; readonly startedAt?: string; readonly finishedAt?: string }

export interface AgentContainer {
  readonly name: string;
  readonly state: 'waiting' | 'running' | 'terminated';
  readonly reason?: string;
  readonly restarts: number;
  /** The image's id as the container runtime reports it (sha256:…). */
  readonly imageID?: string;
  readonly run?: Partial<Omit<Run, 'reason'>>;
  readonly last?: Run;
}

export interface AgentState {
  readonly pod: AgentPodState;
  /** The tag's text: spot-interruption:<action> or rebalance. */
  readonly notice?: AgentNotice;
  /** What the containers and accelerators used when the agent last measured (its usage tag). */
  readonly usage?: AgentUsage;
  readonly containers: ReadonlyMap<string, AgentContainer>;
}

const dash = (v: string | undefined): string | undefined => (v === undefined || v === '-' ? undefined : v);
const time = (v: string | undefined): string | undefined => {
  const s = Number(dash(v));
  return Number.isFinite(s) && s > 0 ? kubeTime(new Date(s * 1000)) : undefined;
};
const int = (v: string | undefined): number | undefined => {
  const n = Number(dash(v));
  return dash(v) === undefined || !Number.isInteger(n) ? undefined : n;
};

function parseContainer(name: string, value: string): AgentContainer | undefined {
  const [state, reason, exit, restarts, started, finished, lastExit, lastReason, lastStarted, lastFinished, imageID] = value.split(' ');
  if (state !== 'waiting' && state !== 'running' && state !== 'terminated') return undefined;
  const lastCode = int(lastExit);
  return {
    name, state, restarts: int(restarts) ?? 0,
    run: defined({ exitCode: int(exit), startedAt: time(started), finishedAt: time(finished) }),
    ...defined({ reason: dash(reason), imageID: dash(imageID) }),
    ...(lastCode === undefined ? {} : { last: { exitCode: lastCode, reason: dash(lastReason) ?? 'Error', ...defined({ startedAt: time(lastStarted), finishedAt: time(lastFinished) }) } }),
  };
}

function parseNotice(v: string | undefined): AgentNotice | undefined {
  const text = dash(v);
  if (text === 'rebalance') return { kind: 'rebalance', text };
  const prefix = 'spot-interruption:';
  return text?.startsWith(prefix) === true ? { kind: 'spot-interruption', action: text.slice(prefix.length), text } : undefined;
}

const podState = (v: string | undefined): AgentPodState | undefined => agentPodStates.find((s) => s === v);

/** The agent's state from an instance's tags; undefined before the agent reported anything it understands. */
export function parseAgentState(tags: Readonly<Record<string, string>>): AgentState | undefined {
  // The fourth field once held the pod's usage (now the usage tag): ignored.
  const [version, pod, notice] = (tags[TAG.state] ?? '').split(' ');
  const state = podState(pod);
  if (version !== 'v1' || state === undefined) return undefined;
  const containers = new Map<string, AgentContainer>();
  for (const [k, v] of Object.entries(tags)) {
    if (!k.startsWith(TAG.containerPrefix)) continue;
    const c = parseContainer(k.slice(TAG.containerPrefix.length), v);
    if (c !== undefined) containers.set(c.name, c);
  }
  return { pod: state, containers, ...defined({ notice: parseNotice(notice), usage: parseUsage(tags[TAG.usage]) }) };
}

function stateOf(c: AgentContainer): ContainerState {
  if (c.state === 'running') return { running: defined({ startedAt: c.run?.startedAt }) };
  if (c.state === 'terminated') return { terminated: { exitCode: c.run?.exitCode ?? 0, reason: c.reason ?? 'Error', ...defined({ startedAt: c.run?.startedAt, finishedAt: c.run?.finishedAt }) } };
  return { waiting: { reason: c.reason ?? 'ContainerCreating' } };
}

export function containerStatus(name: string, image: string, c: AgentContainer | undefined): ContainerStatus {
  if (c === undefined) return { name, image, imageID: '', ready: false, started: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } };
  return {
    name, image, imageID: c.imageID ?? '', restartCount: c.restarts, ready: c.state === 'running', started: c.state === 'running',
    state: stateOf(c), ...(c.last === undefined ? {} : { lastState: { terminated: c.last } }),
  };
}

interface Counts { running: number; waiting: number; stopped: number; succeeded: number }

function count(cs: readonly ContainerStatus[]): Counts {
  const n: Counts = { running: 0, waiting: 0, stopped: 0, succeeded: 0 };
  for (const c of cs) {
    if (c.state?.running !== undefined) n.running++;
    else if (c.state?.terminated !== undefined) { n.stopped++; if (c.state.terminated.exitCode === 0) n.succeeded++; }
    else if (c.lastState?.terminated !== undefined) n.stopped++;
    else n.waiting++;
  }
  return n;
}

/** The kubelet's phase rules over the containers' states (init containers first). */
export function podPhase(init: readonly ContainerStatus[], app: readonly ContainerStatus[], policy: RestartPolicy): PodPhase {
  const initFailed = init.some((c) => c.state?.terminated !== undefined && c.state.terminated.exitCode !== 0);
  if (initFailed && policy === 'Never') return 'Failed';
  if (init.some((c) => c.state?.terminated?.exitCode !== 0)) return 'Pending';
  const n = count(app);
  if (n.waiting > 0) return 'Pending';
  if (n.running > 0) return 'Running';
  if (policy === 'Always') return 'Running';
  if (n.stopped === n.succeeded) return 'Succeeded';
  return policy === 'Never' ? 'Failed' : 'Running';
}

export interface PodShape {
  readonly init: readonly { readonly name: string; readonly image: string }[];
  readonly app: readonly { readonly name: string; readonly image: string }[];
  readonly restartPolicy: RestartPolicy;
}

/**
 * The agent applied the pod's restartPolicy and ran its last container (Finished) or gave up on an
 * init container (InitFailed): nothing will run again, so the phase is terminal whatever policy the
 * caller assumed (a kubelet never reports Running once every container has terminated for good).
 */
function settled(s: AgentState, phase: PodPhase, app: readonly ContainerStatus[]): PodPhase {
  if (isTerminalPhase(phase)) return phase;
  if (s.pod === 'InitFailed') return 'Failed';
  if (s.pod !== 'Finished') return phase;
  return app.length > 0 && app.every((c) => c.state?.terminated?.exitCode === 0) ? 'Succeeded' : 'Failed';
}

/** The pod status the agent's state gives; `base` carries startTime and podIP. */
export function agentPodStatus(s: AgentState, shape: PodShape, base: Pick<ReportedStatus, 'startTime' | 'podIP'>): ReportedStatus {
  const known = shape.app.length > 0 ? shape.app : [...s.containers.keys()].filter((n) => !shape.init.some((i) => i.name === n)).map((name) => ({ name, image: '' }));
  const init = shape.init.map((c) => containerStatus(c.name, c.image, s.containers.get(c.name)));
  const app = known.map((c) => containerStatus(c.name, c.image, s.containers.get(c.name)));
  const phase = settled(s, podPhase(init, app, shape.restartPolicy), app);
  return { ...base, phase, containerStatuses: app, ...(init.length === 0 ? {} : { initContainerStatuses: init }) };
}
