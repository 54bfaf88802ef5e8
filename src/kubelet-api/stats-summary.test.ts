import { describe, expect, it } from 'vitest';
import { at, container, mib, podSample, samples } from '../../test/fakes/usage-samples.js';
import { minimumCpuCoreSeconds, statsSummary } from './stats-summary.js';

const nodeStartTime = new Date('2026-11-23T08:00:00Z');
const time = '2026-11-23T12:00:00Z';

describe('statsSummary', () => {
  it('is the kubelet\'s Summary: the node as the sum of its pods (and the CPU time of ended ones), each pod with its containers', () => {
    const s = statsSummary({ nodeName: 'orca-aws', nodeStartTime, samples });
    expect(s.node).toEqual({
      nodeName: 'orca-aws', startTime: '2026-11-23T08:00:00Z',
      cpu: { time, usageNanoCores: 1_510_000_000, usageCoreNanoSeconds: 5_512_500_000_000 },
      memory: { time, workingSetBytes: 1265 * mib },
    });
    expect(s.pods[0]).toEqual({
      podRef: { name: 'train-0', namespace: 'lab', uid: 'uid-lab/train-0' }, startTime: '2026-11-23T10:59:00Z',
      containers: [
        { name: 'main', startTime: '2026-11-23T11:00:00Z', cpu: { time, usageNanoCores: 1_500_000_000, usageCoreNanoSeconds: 5_400_000_000_000 }, memory: { time, workingSetBytes: 1200 * mib } },
        { name: 'side', startTime: '2026-11-23T11:00:00Z', cpu: { time, usageNanoCores: 10_000_000, usageCoreNanoSeconds: 12_500_000_000 }, memory: { time, workingSetBytes: 64 * mib } },
      ],
      cpu: { time, usageNanoCores: 1_510_000_000, usageCoreNanoSeconds: 5_412_500_000_000 },
      memory: { time, workingSetBytes: 1264 * mib },
    });
  });

  it('counts a container idle since it started 1 µs, so metrics-server keeps its pod', () => {
    const idle = statsSummary({ nodeName: 'n', nodeStartTime, samples }).pods[1];
    expect(idle?.containers[0]?.cpu).toEqual({ time, usageNanoCores: 0, usageCoreNanoSeconds: minimumCpuCoreSeconds * 1e9 });
  });

  it('gives a node with nothing measured 1 µs and 1 byte, and no pods', () => {
    const s = statsSummary({ nodeName: 'n', nodeStartTime, samples: { at, pods: [], endedCpuCoreSeconds: 0 } });
    expect(s).toEqual({ node: { nodeName: 'n', startTime: '2026-11-23T08:00:00Z', cpu: { time, usageNanoCores: 0, usageCoreNanoSeconds: 1000 }, memory: { time, workingSetBytes: 1 } }, pods: [] });
  });

  it('gives the pod\'s own totals, which count containers the provider could not tell apart', () => {
    const p = podSample('lab/many', [container('a', 10, 1, 100)], { cpuCoreSeconds: 50, cpuCores: 3, memoryWorkingSetBytes: 300 * mib });
    const s = statsSummary({ nodeName: 'n', nodeStartTime, samples: { at, pods: [p], endedCpuCoreSeconds: 0 } });
    expect(s.pods[0]?.cpu).toEqual({ time, usageNanoCores: 3e9, usageCoreNanoSeconds: 50e9 });
    expect(s.node.memory.workingSetBytes).toBe(300 * mib);
  });

  it('is JSON of whole numbers where the API has uint64', () => {
    const json = JSON.stringify(statsSummary({ nodeName: 'n', nodeStartTime, samples: { ...samples, pods: [podSample('lab/x', [container('c', 1 / 3, 1 / 3, 1.5)])] } }));
    for (const m of json.matchAll(/"(usageNanoCores|usageCoreNanoSeconds|workingSetBytes)":([^,}]+)/g)) expect(m[2], m[0]).toMatch(/^\d+$/);
  });
});
