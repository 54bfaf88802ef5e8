import { describe, expect, it } from 'vitest';
import { parseQuantity } from './quantity.js';
import { podRequest } from './pod-request.js';
import type { Pod } from './pod.js';

describe('parseQuantity', () => {
  it.each([
    ['2', 2], ['500m', 0.5], ['1.5', 1.5], ['16Gi', 16 * 2 ** 30], ['512Mi', 512 * 2 ** 20], ['1k', 1000], ['1e3', 1000],
    ['100M', 1e8], ['.5', 0.5], ['8', 8],
  ])('%s = %d', (q, v) => { expect(parseQuantity(q)).toBeCloseTo(v, 6); });

  it.each(['', 'lots', '1.2.3', '5 Gi', 'Gi', '1KiB', '1K'])('%j is not a quantity', (q) => { expect(parseQuantity(q)).toBeUndefined(); });

  it('divides for the sub-unit suffixes and negative exponents, so milli-values are exact', () => {
    expect(['9m', '13m', '1500m', '9e-3', '250u', '7n'].map((q) => parseQuantity(q))).toEqual([0.009, 0.013, 1.5, 0.009, 0.00025, 7e-9]);
  });
});

describe('podRequest', () => {
  const pod = (spec: Partial<Pod['spec']>): Pod => ({ metadata: { namespace: 'n', name: 'p', uid: 'u' }, spec: { containers: [], ...spec } });

  it('sums containers, takes the largest init container, and uses limits when requests are absent', () => {
    const r = podRequest(pod({
      containers: [
        { name: 'a', resources: { requests: { cpu: '4', memory: '16Gi' }, limits: { 'nvidia.com/gpu': '2' } } },
        { name: 'b', resources: { limits: { cpu: '500m', memory: '1Gi', 'nvidia.com/gpu': '1' } } },
      ],
      initContainers: [{ name: 'i', resources: { requests: { cpu: '8', memory: '2Gi', 'ephemeral-storage': '100Gi' } } }],
    }));
    expect(r).toEqual({
      cpuCores: 8, memoryMiB: 17 * 1024, ephemeralStorageGiB: 100,
      accelerators: { 'nvidia.com/gpu': 3, 'aws.amazon.com/neuron': 0, 'aws.amazon.com/neuroncore': 0, 'vpc.amazonaws.com/efa': 0 },
    });
  });

  it('asks for nothing when the pod sets no resources', () => {
    expect(podRequest(pod({ containers: [{ name: 'a' }] })).cpuCores).toBe(0);
  });
});
