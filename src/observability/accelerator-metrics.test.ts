import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { PodKey } from '../domain/pod.js';
import type { PodUsageSample, UsageSamples } from '../provider/provider.js';
import { createMetrics } from './metrics.js';

const gib = 2 ** 30;
const at = new Date('2026-11-23T12:00:00Z');
const sample = (key: string, accelerators: PodUsageSample['accelerators']): PodUsageSample => ({
  ref: { key: key as PodKey, uid: `uid-${key}` }, startTime: at, measuredAt: at, containers: [], cpuCoreSeconds: 1, cpuCores: 1, memoryWorkingSetBytes: 1, accelerators,
});
const samples = (pods: PodUsageSample[]): UsageSamples => ({ at, pods, endedCpuCoreSeconds: 0 });

const lines = (text: string, name: string): string[] => text.split('\n').filter((l) => l.startsWith(`${name}{`)).sort();

describe('orca_pod_accelerator_*', () => {
  it('are read from the source at each scrape, by namespace, pod and kind, and forget pods that went', async () => {
    const registry = new Registry();
    const m = createMetrics(registry);
    let now = samples([sample('lab/train-0', [{ kind: 'nvidia', count: 8, utilization: 0.87, memoryUsedBytes: 40 * gib, memoryTotalBytes: 640 * gib }]), sample('lab/cpu-only', [])]);
    m.trackAccelerators(() => Promise.resolve(now));
    const first = await registry.metrics();
    expect(lines(first, 'orca_pod_accelerator_utilization_ratio')).toEqual(['orca_pod_accelerator_utilization_ratio{namespace="lab",pod="train-0",kind="nvidia"} 0.87']);
    expect(lines(first, 'orca_pod_accelerator_memory_bytes')).toEqual([`orca_pod_accelerator_memory_bytes{namespace="lab",pod="train-0",kind="nvidia"} ${String(40 * gib)}`]);
    now = samples([sample('lab/infer-1', [{ kind: 'neuron', count: 1, utilization: 0.1, memoryUsedBytes: gib, memoryTotalBytes: 32 * gib }])]);
    expect(lines(await registry.metrics(), 'orca_pod_accelerator_utilization_ratio')).toEqual(['orca_pod_accelerator_utilization_ratio{namespace="lab",pod="infer-1",kind="neuron"} 0.1']);
  });

  it('have no series without a source, or when the source fails, and the scrape still works', async () => {
    const registry = new Registry();
    const m = createMetrics(registry);
    expect(lines(await registry.metrics(), 'orca_pod_accelerator_utilization_ratio')).toEqual([]);
    m.trackAccelerators(() => Promise.reject(new Error('provider not ready')));
    const text = await registry.metrics();
    expect(lines(text, 'orca_pod_accelerator_memory_bytes')).toEqual([]);
    expect(text).toContain('# TYPE orca_pod_accelerator_memory_bytes gauge');
  });
});
