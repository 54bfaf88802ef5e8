import { describe, expect, it } from 'vitest';
import { followIdle, idleMessage, type IdleSettings, type IdleTrack } from './idle-guard.js';

const MIN = 60_000;
const settings = { idleBelow: 0.05, warnAfterMs: 30 * MIN, stopAfterMs: 60 * MIN };
const idle = (at: number) => ({ at, accelerators: [{ utilization: 0 }, { utilization: 0.04 }] });
const busy = (at: number) => ({ at, accelerators: [{ utilization: 0 }, { utilization: 0.5 }] });

/** Feeds the measurements in order; the actions taken. */
function run(ms: readonly { at: number; accelerators: readonly { utilization: number }[] }[], s: IdleSettings = settings): string[] {
  let track: IdleTrack | undefined;
  const actions: string[] = [];
  for (const m of ms) {
    const r = followIdle(track, m, s);
    track = r.track;
    actions.push(r.action);
  }
  return actions;
}

describe('followIdle', () => {
  it.each([
    ['idle from the first measurement: warned at 30 min, stopped at 60', [idle(0), idle(29 * MIN), idle(30 * MIN), idle(45 * MIN), idle(60 * MIN)], ['none', 'none', 'warn', 'none', 'stop']],
    ['one busy device keeps the pod busy', [idle(0), busy(20 * MIN), idle(40 * MIN), idle(69 * MIN), idle(70 * MIN)], ['none', 'none', 'none', 'none', 'warn']],
    ['a busy spell ends the idle one and its warning', [idle(0), idle(30 * MIN), busy(31 * MIN), idle(32 * MIN), idle(62 * MIN)], ['none', 'warn', 'none', 'none', 'warn']],
    ['a repeated or older measurement changes nothing', [idle(0), idle(30 * MIN), idle(30 * MIN), idle(10 * MIN)], ['none', 'warn', 'none', 'none']],
    ['exactly at the threshold counts as busy', [{ at: 0, accelerators: [{ utilization: 0.05 }] }, { at: 90 * MIN, accelerators: [{ utilization: 0.05 }] }], ['none', 'none']],
    ['a report without accelerators (a CPU pod) never acts', [{ at: 0, accelerators: [] }, { at: 90 * MIN, accelerators: [] }], ['none', 'none']],
  ])('%s', (_what, ms, expected) => {
    expect(run(ms)).toEqual(expected);
  });

  it('never stops without an idle timeout, and warns once per spell', () => {
    const s = { idleBelow: 0.05, warnAfterMs: 30 * MIN };
    expect(run([idle(0), idle(30 * MIN), idle(600 * MIN), idle(6000 * MIN)], s)).toEqual(['none', 'warn', 'none', 'none']);
  });

  it('says how long the accelerators were idle and what happens next', () => {
    expect(idleMessage('warn', 31 * MIN, 60 * MIN)).toBe('its accelerators have been idle for 31 min while the instance bills; it is stopped after 60 min idle');
    expect(idleMessage('warn', 31 * MIN, undefined)).toMatch(/set orca.research\/idle-timeout/);
    expect(idleMessage('stop', 61 * MIN, 60 * MIN)).toBe('its accelerators were idle for 61 min, past its idle timeout: the pod is stopped');
  });
});
