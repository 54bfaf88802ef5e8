import { describe, expect, it } from 'vitest';
import { extendedResources, type InstanceTypeInfo } from './types.js';

const base: InstanceTypeInfo = { type: 'x', vcpus: 4, memoryMiB: 16384, architectures: ['x86_64'], efaInterfaces: 0, networkPerformance: 'Up to 10 Gigabit' };

describe('extendedResources', () => {
  it.each<[string, InstanceTypeInfo, Record<string, number>]>([
    ['a CPU type', base, {}],
    ['an NVIDIA type with EFA', { ...base, accelerator: { kind: 'nvidia', model: 'H100', count: 8, memoryMiB: 81920 }, efaInterfaces: 32 }, { 'nvidia.com/gpu': 8, 'vpc.amazonaws.com/efa': 32 }],
    ['a Trainium type', { ...base, accelerator: { kind: 'neuron', model: 'Trainium', count: 16, memoryMiB: 32768, coresPerDevice: 2 }, efaInterfaces: 8 },
      { 'aws.amazon.com/neuron': 16, 'aws.amazon.com/neuroncore': 32, 'vpc.amazonaws.com/efa': 8 }],
  ])('for %s', (_w, t, want) => {
    expect(extendedResources(t)).toEqual(want);
  });
});
