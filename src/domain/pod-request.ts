// What a pod needs from an instance, computed as the scheduler does: per resource, the larger of
// the sum over containers and the largest init container; a container's request, or its limit when
// it sets no request. Pure.
import type { ContainerSpec, Pod } from './pod.js';
import { parseQuantity } from './quantity.js';

export const acceleratorResources = ['nvidia.com/gpu', 'aws.amazon.com/neuron', 'aws.amazon.com/neuroncore', 'vpc.amazonaws.com/efa'] as const;
export type AcceleratorResource = (typeof acceleratorResources)[number];

export interface PodRequest {
  readonly cpuCores: number;
  readonly memoryMiB: number;
  readonly ephemeralStorageGiB: number;
  readonly accelerators: Readonly<Record<AcceleratorResource, number>>;
}

type Tracked = 'cpu' | 'memory' | 'ephemeral-storage' | AcceleratorResource;

function amount(c: ContainerSpec, r: Tracked): number {
  const q = c.resources?.requests?.[r] ?? c.resources?.limits?.[r];
  return q === undefined ? 0 : parseQuantity(q) ?? 0;
}

export function podRequest(pod: Pod): PodRequest {
  const need = (r: Tracked): number => {
    const sum = pod.spec.containers.reduce((s, c) => s + amount(c, r), 0);
    const init = Math.max(0, ...(pod.spec.initContainers ?? []).map((c) => amount(c, r)));
    return Math.max(sum, init);
  };
  return {
    cpuCores: need('cpu'),
    memoryMiB: need('memory') / 2 ** 20,
    ephemeralStorageGiB: need('ephemeral-storage') / 2 ** 30,
    accelerators: Object.fromEntries(acceleratorResources.map((r) => [r, need(r)])) as Record<AcceleratorResource, number>,
  };
}
