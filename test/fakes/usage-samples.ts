// Usage samples (the provider contract's) the kubelet API renderers' tests are built from.
import type { PodKey } from '../../src/domain/pod.js';
import type { ContainerUsageSample, PodUsageSample, UsageSamples } from '../../src/provider/provider.js';

export const at = new Date('2026-11-23T12:00:00.250Z');
export const mib = 2 ** 20;

export const container = (name: string, cpuCoreSeconds: number, cpuCores: number, memMiB: number): ContainerUsageSample => ({
  name, startTime: new Date('2026-11-23T11:00:00.500Z'), cpuCoreSeconds, cpuCores, memoryWorkingSetBytes: memMiB * mib,
});

export function podSample(key: string, containers: ContainerUsageSample[], extra: Partial<PodUsageSample> = {}): PodUsageSample {
  return {
    ref: { key: key as PodKey, uid: `uid-${key}` }, startTime: new Date('2026-11-23T10:59:00Z'), measuredAt: new Date('2026-11-23T11:59:30Z'), containers,
    cpuCoreSeconds: containers.reduce((a, c) => a + c.cpuCoreSeconds, 0), cpuCores: containers.reduce((a, c) => a + c.cpuCores, 0),
    memoryWorkingSetBytes: containers.reduce((a, c) => a + c.memoryWorkingSetBytes, 0), accelerators: [], ...extra,
  };
}

/** Two pods: train-0 (main, side), idle-0 (a container that used no CPU since it started). */
export const samples: UsageSamples = {
  at,
  pods: [
    podSample('lab/train-0', [container('main', 5400, 1.5, 1200), container('side', 12.5, 0.01, 64)]),
    podSample('lab/idle-0', [container('sleep', 0, 0, 1)]),
  ],
  endedCpuCoreSeconds: 100,
};
