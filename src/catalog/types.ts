// The families ORCA serves and the Kubernetes resources an instance type provides.

import type { InstanceTypeInfo } from '../domain/instance-type.js';

export type {
  Accelerator, AcceleratorKind, CapacityBlockData, CapacityBlockReading, CatalogData, InstanceTypeInfo, PriceData, UsdPerHourByLocation,
} from '../domain/instance-type.js';

/** The instance families ORCA serves: accelerated ones, and CPU families users burst to. */
export const catalogFamilies = [
  'p6-b200', 'p6-b300', 'p5', 'p5e', 'p5en', 'p4d', 'p4de', 'g6e', 'g6', 'g5', 'trn1', 'trn1n', 'trn2', 'inf2',
  'c7i', 'm7i', 'r7i', 'c7a', 'm7a', 'r7a',
] as const;

/** The Kubernetes extended resources an instance type provides, from catalog attributes only. */
export function extendedResources(t: InstanceTypeInfo): Record<string, number> {
  const a = t.accelerator;
  const out: Record<string, number> = {};
  if (a?.kind === 'nvidia') out['nvidia.com/gpu'] = a.count;
  if (a?.kind === 'neuron') {
    out['aws.amazon.com/neuron'] = a.count;
    out['aws.amazon.com/neuroncore'] = a.count * (a.coresPerDevice ?? 0);
  }
  if (t.efaInterfaces > 0) out['vpc.amazonaws.com/efa'] = t.efaInterfaces;
  return out;
}
