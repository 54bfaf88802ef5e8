// Instance types and prices as plain data: what each type is (DescribeInstanceTypes) and what it
// costs (the Pricing API), each with where and when it was read.

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

