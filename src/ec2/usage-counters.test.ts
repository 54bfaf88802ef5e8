import { describe, expect, it } from 'vitest';
import type { AgentUsage, ContainerUsage } from '../agent-protocol/usage.js';
import { foldUsage, podSecondsAt, secondsAt, usageStaleMs, type CurrentRun, type UsageObservation, type UsageTrack } from './usage-counters.js';

const t0 = Date.parse('2026-11-23T12:00:00Z');
const s = (n: number): number => t0 + n * 1000;
const mib = 2 ** 20;

/** A fake clock for the folds: seconds after t0. */
class Clock {
  now = t0;
  at(seconds: number): number {
    this.now = s(seconds);
    return this.now;
  }
}

const entry = (run: number, millicores: number, memMiB = 64): ContainerUsage => ({ run, cpuMillicores: millicores, memoryBytes: memMiB * mib });
const report = (measuredSecond: number, containers: (ContainerUsage | undefined)[], extra: Partial<AgentUsage> = {}): AgentUsage => ({ measuredAt: s(measuredSecond), containers, accelerators: [], ...extra });
const running = (runs: Record<string, CurrentRun>): Map<string, CurrentRun> => new Map(Object.entries(runs));

function observe(r: AgentUsage | undefined, runs: Record<string, CurrentRun>, names = ['main'], instanceId = 'i-1'): UsageObservation {
  return { instanceId, names, running: running(runs), ...(r === undefined ? {} : { report: r }) };
}

const main0 = { main: { run: 0, startedAt: s(0) } };
const run = (u: UsageTrack | undefined, name = 'main') => {
  const r = u?.runs.get(name);
  if (r === undefined) throw new Error(`no counter for ${name}`);
  return r;
};

describe('foldUsage', () => {
  it('has nothing before the agent measured', () => {
    expect(foldUsage(undefined, observe(undefined, main0), s(10))).toBeUndefined();
    expect(foldUsage(undefined, undefined, s(10))).toBeUndefined();
  });

  it('starts a run\'s counter at the rate since the run started, then carries it on at that rate', () => {
    const u = foldUsage(undefined, observe(report(55, [entry(0, 1500, 1200)]), main0), s(60));
    const r = run(u);
    expect(secondsAt(r, s(60))).toBeCloseTo(90);
    expect(secondsAt(r, s(70))).toBeCloseTo(105);
    expect(r.memoryBytes).toBe(1200 * mib);
    expect(u?.measuredAt).toBe(s(55));
  });

  it('takes a lower rate in from when ORCA reads it, so what was shown is never taken back', () => {
    const clock = new Clock();
    let u = foldUsage(undefined, observe(report(0, [entry(0, 1000)]), main0), clock.at(0));
    const shown = secondsAt(run(u), clock.at(70));
    // Measured at 60 s (rate 0), read at 75 s: the counter stays at what it reached.
    u = foldUsage(u, observe(report(60, [entry(0, 0)]), main0), clock.at(75));
    expect(secondsAt(run(u), clock.at(80))).toBeCloseTo(75);
    expect(secondsAt(run(u), clock.now)).toBeGreaterThanOrEqual(shown);
  });

  it('changes no rate for a report it already took in, or an older one', () => {
    const first = foldUsage(undefined, observe(report(60, [entry(0, 1000)]), main0), s(60));
    expect(foldUsage(first, observe(report(60, [entry(0, 9000)]), main0), s(70))?.runs.get('main')?.cores).toBe(1);
    expect(foldUsage(first, observe(report(30, [entry(0, 9000)]), main0), s(70))?.runs.get('main')?.cores).toBe(1);
  });

  it('starts a new counter for a new run and keeps the ended run\'s time in the pod\'s counter', () => {
    let u = foldUsage(undefined, observe(report(0, [entry(0, 1000)]), main0), s(0));
    const before = podSecondsAt(u as UsageTrack, s(100));
    // The container restarted at 100 s; the report of run 1 comes at 130 s.
    u = foldUsage(u, observe(report(120, [entry(1, 2000)]), { main: { run: 1, startedAt: s(100) } }), s(130));
    expect(run(u).run).toBe(1);
    expect(secondsAt(run(u), s(130))).toBeCloseTo(60);
    expect(u?.endedSeconds).toBeCloseTo(130);
    expect(podSecondsAt(u as UsageTrack, s(130))).toBeGreaterThan(before);
  });

  it('stops a run the container tags show ended, without waiting for a report', () => {
    const u = foldUsage(foldUsage(undefined, observe(report(0, [entry(0, 1000)]), main0), s(0)), observe(report(0, [entry(0, 1000)]), {}), s(40));
    expect(u?.runs.size).toBe(0);
    expect(u?.endedSeconds).toBeCloseTo(40);
    expect(podSecondsAt(u as UsageTrack, s(400))).toBeCloseTo(40);
  });

  it('keeps no counter for a report of another run than the one running, nor for a container not measured', () => {
    const stale = foldUsage(undefined, observe(report(0, [entry(0, 1000)]), { main: { run: 1, startedAt: s(0) } }), s(10));
    expect(stale?.runs.size).toBe(0);
    const unmeasured = foldUsage(undefined, observe(report(0, [undefined]), main0), s(10));
    expect(unmeasured?.runs.size).toBe(0);
  });

  it('stops every counter when the report is older than the agent\'s refresh allows', () => {
    const u = foldUsage(undefined, observe(report(0, [entry(0, 1000)]), main0), s(0));
    const later = foldUsage(u, observe(report(0, [entry(0, 1000)]), main0), t0 + usageStaleMs + 1000);
    expect(later?.runs.size).toBe(0);
    expect(later?.endedSeconds).toBeCloseTo(usageStaleMs / 1000 + 1);
  });

  it('ends every run when the pod leaves its instance, and goes on counting on the next one', () => {
    const u = foldUsage(undefined, observe(report(0, [entry(0, 1000)]), main0), s(0));
    const gone = foldUsage(u, undefined, s(30));
    expect(gone?.runs.size).toBe(0);
    expect(gone?.endedSeconds).toBeCloseTo(30);
    const relaunched = foldUsage(u, observe(report(50, [entry(0, 500)]), { main: { run: 0, startedAt: s(40) } }, ['main'], 'i-2'), s(60));
    expect(relaunched?.instanceId).toBe('i-2');
    expect(relaunched?.endedSeconds).toBeCloseTo(60);
    expect(secondsAt(run(relaunched), s(60))).toBeCloseTo(10);
  });

  it('counts the containers the agent summed in the pod\'s counter only, from 0', () => {
    const names = ['a', 'b'];
    const r = report(0, [entry(0, 1000), undefined], { rest: { containers: 3, cpuMillicores: 3000, memoryBytes: 512 * mib } });
    const u = foldUsage(undefined, observe(r, { a: { run: 0, startedAt: s(0) } }, names), s(0));
    expect(u?.rest).toMatchObject({ containers: 3, cores: 3, memoryBytes: 512 * mib });
    expect(podSecondsAt(u as UsageTrack, s(10))).toBeCloseTo(40);
    const without = foldUsage(u, observe(report(20, [entry(0, 1000), undefined]), { a: { run: 0, startedAt: s(0) } }, names), s(20));
    expect(without?.rest).toBeUndefined();
    expect(podSecondsAt(without as UsageTrack, s(20))).toBeCloseTo(80);
  });

  it('keeps the accelerators of the last report', () => {
    const gpu = { kind: 'nvidia' as const, count: 4, utilization: 0.5, memoryUsedBytes: mib, memoryTotalBytes: 2 * mib };
    const u = foldUsage(undefined, observe(report(0, [entry(0, 1)], { accelerators: [gpu] }), main0), s(0));
    expect(foldUsage(u, observe(report(0, [entry(0, 1)]), main0), s(10))?.accelerators).toEqual([gpu]);
  });

  it('never decreases a run\'s or the pod\'s counter over reports, restarts and late reads', () => {
    let u: UsageTrack | undefined;
    let seed = 7;
    const random = (n: number): number => { seed = (seed * 48271) % 2147483647; return seed % n; };
    let runNo = 0;
    let startedAt = s(0);
    let lastRun = 0;
    let lastPod = 0;
    for (let poll = 1; poll <= 500; poll++) {
      const now = s(poll * 10);
      if (random(20) === 0) { runNo++; startedAt = now - random(5) * 1000; lastRun = 0; }
      const measured = Math.max(0, poll * 10 - random(70));
      u = foldUsage(u, observe(report(measured, [entry(runNo, random(4000))]), { main: { run: runNo, startedAt } }), now);
      for (const t of [now, now + 3000, now + 9000]) {
        const r = u?.runs.get('main');
        const value = r === undefined ? lastRun : secondsAt(r, t);
        if (r !== undefined) expect(value).toBeGreaterThanOrEqual(lastRun - 1e-9);
        lastRun = value;
        const pod = podSecondsAt(u as UsageTrack, t);
        expect(pod).toBeGreaterThanOrEqual(lastPod - 1e-9);
        lastPod = pod;
      }
    }
    expect(lastPod).toBeGreaterThan(0);
  });
});
