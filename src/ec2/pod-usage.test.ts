import { describe, expect, it } from 'vitest';
import { observed, refOf } from '../../test/fakes/builders.js';
import { podSample, usageObservation, usageSamples } from './pod-usage.js';
import type { UsageTrack } from './usage-counters.js';

const t0 = Date.parse('2026-11-23T12:00:00Z');
const mib = 2 ** 20;
const track = (over: Partial<UsageTrack> = {}): UsageTrack => ({
  instanceId: 'i-1', measuredAt: t0, endedSeconds: 5, accelerators: [],
  runs: new Map([['main', { run: 0, startedAt: t0 - 60_000, baseSeconds: 10, cores: 2, since: t0, memoryBytes: 100 * mib }]]), ...over,
});
const entry = (usage: UsageTrack | undefined) => ({ ref: refOf(), startTime: '2026-11-23T11:00:00Z' as string | undefined, usage });

describe('usageObservation', () => {
  it('gives the running containers\' runs and the report of a live instance with an agent', () => {
    const i = observed('i-1', {}, { 'orca.research/state': 'v1 Running - -', 'orca.research/usage': 'u1 1795000000 0:100:64', 'orca.research/c/main': 'running - - 3 1795000000 - - - - -', 'orca.research/c/side': 'terminated Error 1 0 1795000000 1795000001 - - - -' });
    const o = usageObservation(['main', 'side'], i);
    expect(o?.running).toEqual(new Map([['main', { run: 3, startedAt: 1_795_000_000_000 }]]));
    expect(o?.report?.containers).toHaveLength(1);
  });

  it('is undefined without an agent, or for an instance that is going', () => {
    expect(usageObservation(['main'], observed('i-1'))).toBeUndefined();
    expect(usageObservation(['main'], observed('i-1', { state: 'shutting-down' }, { 'orca.research/state': 'v1 Running - -' }))).toBeUndefined();
    expect(usageObservation(['main'], undefined)).toBeUndefined();
  });
});

describe('podSample', () => {
  it('counts the summed rest in the pod\'s CPU and working set, not as a container', () => {
    const s = podSample(entry(track({ rest: { containers: 3, cores: 1, since: t0, baseSeconds: 0, memoryBytes: 50 * mib } })), t0 + 10_000);
    expect(s?.containers.map((c) => c.name)).toEqual(['main']);
    expect(s).toMatchObject({ cpuCoreSeconds: 5 + 30 + 10, cpuCores: 3, memoryWorkingSetBytes: 150 * mib, startTime: new Date('2026-11-23T11:00:00Z') });
  });

  it('is undefined with nothing running measured, or without a start time', () => {
    expect(podSample(entry(track({ runs: new Map() })), t0)).toBeUndefined();
    expect(podSample({ ...entry(track()), startTime: undefined }, t0)).toBeUndefined();
    expect(podSample(entry(undefined), t0)).toBeUndefined();
  });
});

describe('usageSamples', () => {
  it('counts the pods without a sample, and those forgotten, as ended', () => {
    const s = usageSamples([entry(track()), entry(track({ runs: new Map() })), entry(undefined)], 100, new Date(t0));
    expect(s.pods).toHaveLength(1);
    expect(s.endedCpuCoreSeconds).toBe(105);
  });
});
