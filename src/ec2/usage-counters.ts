// Pure: the agent reports CPU as a rate (a minute apart at most); metrics-server wants a cumulative
// counter per container that never decreases and computes the rate between two scrapes itself.
// Each container run gets a counter: estimated at its first report as the reported rate since the
// run started, then carried on at the last reported rate, counter(t) = counter(report) + rate ×
// (t − report). A report counts from when ORCA read it (not when it was measured, which can be a
// minute and a poll earlier), so a late report never takes back CPU time already shown. A new run
// starts a new counter; the pod's counter adds the runs that ended, so it never decreases either.
import type { AcceleratorUsage } from '../provider/provider.js';
import { usageStaleSeconds, type AgentUsage, type ContainerUsage } from '../agent-protocol/usage.js';

/** Core-seconds `baseSeconds` at `since` (ms), growing by `cores` per second after it. */
export interface CpuCounter {
  readonly baseSeconds: number;
  readonly cores: number;
  readonly since: number;
}

/** One container run's counter and working set. */
export interface RunTrack extends CpuCounter {
  readonly run: number;
  /** When the run started (ms). */
  readonly startedAt: number;
  readonly memoryBytes: number;
}

/** The containers the agent could only report summed (more than fit in its tag). */
export interface RestTrack extends CpuCounter {
  readonly containers: number;
  readonly memoryBytes: number;
}

/** What ORCA integrated of one pod's reports. */
export interface UsageTrack {
  /** The instance the reports come from: another one (a relaunch) ends every run. */
  readonly instanceId: string;
  /** The measurement last taken in (ms); 0 before any. */
  readonly measuredAt: number;
  readonly runs: ReadonlyMap<string, RunTrack>;
  readonly rest?: RestTrack;
  /** CPU time of the runs that ended: part of the pod's counter. */
  readonly endedSeconds: number;
  readonly accelerators: readonly AcceleratorUsage[];
}

/** The run a container is in, and when it started (ms), as its container tag says. */
export interface CurrentRun {
  readonly run: number;
  readonly startedAt: number;
}

/** What the pod's instance shows at one poll. */
export interface UsageObservation {
  readonly instanceId: string;
  /** The pod's app containers in order: the report's positions. */
  readonly names: readonly string[];
  /** The containers running, by name. */
  readonly running: ReadonlyMap<string, CurrentRun>;
  readonly report?: AgentUsage;
}

/** A report measured longer ago than this means the agent stopped measuring: every counter stops. */
export const usageStaleMs = usageStaleSeconds * 1000;

/** The counter's value at `t` (ms); never below its base, also when the clock steps back. */
export const secondsAt = (c: CpuCounter, t: number): number => c.baseSeconds + (c.cores * Math.max(0, t - c.since)) / 1000;

/** The pod's CPU time at `t`: the ended runs, the running ones and the summed rest. */
export function podSecondsAt(u: UsageTrack, t: number): number {
  let sum = u.endedSeconds + (u.rest === undefined ? 0 : secondsAt(u.rest, t));
  for (const r of u.runs.values()) sum += secondsAt(r, t);
  return sum;
}

const fresh = (instanceId: string, endedSeconds: number): UsageTrack => ({ instanceId, measuredAt: 0, runs: new Map(), endedSeconds, accelerators: [] });

/** Every counter stops at `now`: what they counted becomes the pod's ended time. */
function endAll(u: UsageTrack, now: number): UsageTrack {
  return { instanceId: u.instanceId, measuredAt: u.measuredAt, runs: new Map(), accelerators: [], endedSeconds: podSecondsAt(u, now) };
}

/** The track the poll continues: a new one (keeping the pod's CPU time) for another instance. */
function continued(u: UsageTrack | undefined, instanceId: string, now: number): UsageTrack {
  if (u === undefined) return fresh(instanceId, 0);
  return u.instanceId === instanceId ? u : fresh(instanceId, podSecondsAt(u, now));
}

const usable = (r: AgentUsage | undefined, now: number): r is AgentUsage => r !== undefined && now - r.measuredAt <= usageStaleMs;

/** The run's counter after a report: carried on when the report measured the same run, started when a new one. */
function measured(prev: RunTrack | undefined, current: CurrentRun | undefined, entry: ContainerUsage | undefined, now: number): RunTrack | undefined {
  if (current === undefined || entry === undefined || entry.run !== current.run) return undefined;
  const cores = entry.cpuMillicores / 1000;
  const baseSeconds = prev?.run === entry.run ? secondsAt(prev, now) : (cores * Math.max(0, now - current.startedAt)) / 1000;
  return { run: entry.run, startedAt: current.startedAt, baseSeconds, cores, since: now, memoryBytes: entry.memoryBytes };
}

/** Each container's run after this poll: `undefined` for one that ended or is not measured. */
function nextRuns(u: UsageTrack, o: UsageObservation, report: AgentUsage | undefined, now: number): Map<string, RunTrack> {
  const runs = new Map<string, RunTrack>();
  o.names.forEach((name, i) => {
    const prev = u.runs.get(name);
    const current = o.running.get(name);
    const next = report === undefined ? (prev !== undefined && current?.run === prev.run ? prev : undefined) : measured(prev, current, report.containers[i], now);
    if (next !== undefined) runs.set(name, next);
  });
  return runs;
}

function nextRest(u: UsageTrack, report: AgentUsage, now: number): RestTrack | undefined {
  const r = report.rest;
  if (r === undefined) return undefined;
  const cores = r.cpuMillicores / 1000;
  return { containers: r.containers, cores, memoryBytes: r.memoryBytes, since: now, baseSeconds: u.rest === undefined ? 0 : secondsAt(u.rest, now) };
}

/** CPU time of the counters in `u` that `runs` and `rest` no longer carry on. */
function endedBy(u: UsageTrack, runs: ReadonlyMap<string, RunTrack>, rest: RestTrack | undefined, now: number): number {
  let ended = u.endedSeconds + (u.rest !== undefined && rest === undefined ? secondsAt(u.rest, now) : 0);
  for (const [name, r] of u.runs) if (runs.get(name)?.run !== r.run) ended += secondsAt(r, now);
  return ended;
}

/**
 * The pod's counters after one poll at `now` (ms). `o` undefined: the pod runs on no instance any
 * more (every counter stops). A report not newer than the last one taken in changes no rate, but
 * runs that ended (the container tags say so) stop.
 */
export function foldUsage(u: UsageTrack | undefined, o: UsageObservation | undefined, now: number): UsageTrack | undefined {
  if (o === undefined) return u === undefined ? undefined : endAll(u, now);
  const base = continued(u, o.instanceId, now);
  const report = o.report;
  if (!usable(report, now)) return u === undefined ? undefined : endAll(base, now);
  const isNew = report.measuredAt > base.measuredAt;
  const runs = nextRuns(base, o, isNew ? report : undefined, now);
  const rest = isNew ? nextRest(base, report, now) : base.rest;
  return {
    instanceId: o.instanceId, measuredAt: isNew ? report.measuredAt : base.measuredAt, runs, endedSeconds: endedBy(base, runs, rest, now),
    accelerators: isNew ? report.accelerators : base.accelerators, ...(rest === undefined ? {} : { rest }),
  };
}
