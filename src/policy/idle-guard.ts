// Pure: whether a pod's accelerators have sat idle, from the agent's measurements one after another.
// A measurement in which every accelerator's utilisation is below the threshold starts (or goes on
// with) an idle spell; any busy one ends it. After `warnAfterMs` of idle the pod is warned once per
// spell; after `stopAfterMs` (orca.research/idle-timeout, else its budget's idleTimeout) it is
// stopped. A forgotten notebook on a p5.48xlarge costs thousands of dollars a day.

export interface IdleSettings {
  /** Utilisation (0..1) below which an accelerator counts as idle. */
  readonly idleBelow: number;
  /** Idle this long: a Warning Event. */
  readonly warnAfterMs: number;
  /** Idle this long: the pod is stopped (reason IdleTimeout); absent: never. */
  readonly stopAfterMs?: number;
}

/** One measurement of the pod's accelerators (the agent's usage report). */
export interface IdleMeasurement {
  /** When it was measured, ms since the epoch. */
  readonly at: number;
  readonly accelerators: readonly { readonly utilization: number }[];
}

/** What is known of the pod's idleness. */
export interface IdleTrack {
  /** The measurement last taken in. */
  readonly measuredAt: number;
  /** The first measurement of the current idle spell; absent while busy. */
  readonly idleSince?: number;
  /** The spell was warned about. */
  readonly warned: boolean;
}

export type IdleAction = 'none' | 'warn' | 'stop';

const busy = (at: number): IdleTrack => ({ measuredAt: at, warned: false });

/**
 * The track after a measurement, and what to do now. A measurement no newer than the last one taken
 * in, or one without accelerators (a CPU pod, a report before the devices were read), changes nothing.
 */
export function followIdle(prev: IdleTrack | undefined, m: IdleMeasurement, s: IdleSettings): { readonly track: IdleTrack | undefined; readonly action: IdleAction } {
  if (m.accelerators.length === 0 || (prev !== undefined && m.at <= prev.measuredAt)) return { track: prev, action: 'none' };
  if (!m.accelerators.every((a) => a.utilization < s.idleBelow)) return { track: busy(m.at), action: 'none' };
  const spell = prev?.idleSince === undefined ? { idleSince: m.at, warned: false } : { idleSince: prev.idleSince, warned: prev.warned };
  const track = { measuredAt: m.at, ...spell };
  return { track: { ...track, warned: track.warned || actionOf(track, s) === 'warn' }, action: actionOf(track, s) };
}

function actionOf(t: Required<IdleTrack>, s: IdleSettings): IdleAction {
  const idleMs = t.measuredAt - t.idleSince;
  if (s.stopAfterMs !== undefined && idleMs >= s.stopAfterMs) return 'stop';
  return !t.warned && idleMs >= s.warnAfterMs ? 'warn' : 'none';
}

/** The Event message of a warning or a stop: names the time idle and what the instance costs. */
export function idleMessage(action: Exclude<IdleAction, 'none'>, idleMs: number, stopAfterMs: number | undefined): string {
  const minutes = Math.floor(idleMs / 60_000);
  const stop = stopAfterMs === undefined ? 'set orca.research/idle-timeout (or the budget\'s idleTimeout) to stop such pods' : `it is stopped after ${Math.round(stopAfterMs / 60_000)} min idle`;
  return action === 'stop'
    ? `its accelerators were idle for ${minutes} min, past its idle timeout: the pod is stopped`
    : `its accelerators have been idle for ${minutes} min while the instance bills; ${stop}`;
}
