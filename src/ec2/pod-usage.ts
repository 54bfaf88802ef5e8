// Pure: a pod's usage from what the pod table holds — what its instance shows at a poll (the input
// of the CPU counters, usage-counters.ts), and the samples the provider gives for `kubectl top`.
import { isLive } from '../domain/instance.js';
import type { PodRef } from '../domain/pod.js';
import type { ContainerUsageSample, PodUsageSample, UsageSamples } from '../provider/provider.js';
import type { AgentState } from '../agent-protocol/agent-state.js';
import type { ObservedInstance } from '../agent-protocol/tags.js';
import { podSecondsAt, secondsAt, type CurrentRun, type UsageObservation, type UsageTrack } from './usage-counters.js';

/** The running containers' current runs, by name (the container tags). */
function runningRuns(agent: AgentState): Map<string, CurrentRun> {
  const running = new Map<string, CurrentRun>();
  for (const c of agent.containers.values()) {
    const startedAt = Date.parse(c.run?.startedAt ?? '');
    if (c.state === 'running' && Number.isFinite(startedAt)) running.set(c.name, { run: c.restarts, startedAt });
  }
  return running;
}

/** What the pod's instance shows for the counters; undefined when no agent runs the pod there any more. */
export function usageObservation(names: readonly string[], i: ObservedInstance | undefined): UsageObservation | undefined {
  const agent = i?.agent;
  if (i === undefined || agent === undefined || !isLive(i)) return undefined;
  return { instanceId: i.id, names, running: runningRuns(agent), ...(agent.usage === undefined ? {} : { report: agent.usage }) };
}

/** The CPU time the track had counted at its last poll (for a pod being forgotten: its counters stopped). */
export function countedSeconds(u: UsageTrack): number {
  return podSecondsAt(u, Number.NEGATIVE_INFINITY);
}

/** A pod the table knows, as the samples need it. */
export interface UsageEntry {
  readonly ref: PodRef;
  /** RFC 3339: when its instance launched. */
  readonly startTime: string | undefined;
  readonly usage: UsageTrack | undefined;
  /** Since when all its accelerators sit idle (ms), if they do. */
  readonly idleSince?: number;
}

/** The pod's sample at `now` (ms); undefined while none of its containers is measured. */
export function podSample(e: UsageEntry, now: number): PodUsageSample | undefined {
  const u = e.usage;
  const start = Date.parse(e.startTime ?? '');
  if (u === undefined || !Number.isFinite(start) || (u.runs.size === 0 && u.rest === undefined)) return undefined;
  const containers: ContainerUsageSample[] = [...u.runs].map(([name, r]) => ({
    name, startTime: new Date(r.startedAt), cpuCoreSeconds: secondsAt(r, now), cpuCores: r.cores, memoryWorkingSetBytes: r.memoryBytes,
  }));
  const rest = u.rest === undefined ? [] : [u.rest];
  const sum = (f: (x: { readonly cores: number; readonly memoryBytes: number }) => number): number => [...u.runs.values(), ...rest].reduce((a, x) => a + f(x), 0);
  return {
    ref: e.ref, startTime: new Date(start), measuredAt: new Date(u.measuredAt), containers,
    cpuCoreSeconds: podSecondsAt(u, now), cpuCores: sum((x) => x.cores), memoryWorkingSetBytes: sum((x) => x.memoryBytes), accelerators: u.accelerators,
    ...(e.idleSince === undefined ? {} : { acceleratorsIdleSince: new Date(e.idleSince) }),
  };
}

/** Every measured pod's sample at `now`; the CPU time of the others, and of pods forgotten (`forgottenSeconds`), as ended. */
export function usageSamples(entries: readonly UsageEntry[], forgottenSeconds: number, now: Date): UsageSamples {
  const t = now.getTime();
  const pods: PodUsageSample[] = [];
  let ended = forgottenSeconds;
  for (const e of entries) {
    if (e.usage === undefined) continue;
    const sample = podSample(e, t);
    if (sample === undefined) ended += podSecondsAt(e.usage, t);
    else pods.push(sample);
  }
  return { at: now, pods, endedCpuCoreSeconds: ended };
}
