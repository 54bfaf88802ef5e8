// The instance catalog's data: what each instance type is (from DescribeInstanceTypes) and what it
// costs (from the AWS Pricing API), each with where and when it was read.

export type AcceleratorKind = 'nvidia' | 'neuron';

export interface Accelerator {
  readonly kind: AcceleratorKind;
  /** As AWS names it: H100, H200, B200, A100, L40S, L4, A10G, Trainium, Trainium2, Inferentia2. */
  readonly model: string;
  readonly count: number;
  /** Memory of one device. */
  readonly memoryMiB: number;
  /** NeuronCores per device (Neuron only). */
  readonly coresPerDevice?: number;
}

export interface InstanceTypeInfo {
  readonly type: string;
  readonly vcpus: number;
  readonly memoryMiB: number;
  readonly architectures: readonly ('x86_64' | 'arm64')[];
  readonly accelerator?: Accelerator;
  /** Maximum EFA interfaces; 0 when the type has no EFA. */
  readonly efaInterfaces: number;
  readonly networkPerformance: string;
}

export interface CatalogData {
  readonly source: string;
  /** RFC 3339 time the data was read. */
  readonly readAt: string;
  readonly types: readonly InstanceTypeInfo[];
}

export interface PriceData {
  readonly region: string;
  readonly source: string;
  readonly readAt: string;
  /** On-demand Linux USD per hour by instance type. A type absent here has no known price. */
  readonly onDemandUsdPerHour: Readonly<Record<string, number>>;
}

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
