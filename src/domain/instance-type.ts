// Instance types and prices as plain data: what each type is (DescribeInstanceTypes), what it
// costs on demand (the Pricing API) and as a Capacity Block for ML, each with where and when it was read.

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

/** USD per instance-hour by instance type, then by location (a region, or a Local Zone such as us-east-1-atl-2a). */
export type UsdPerHourByLocation = Readonly<Record<string, Readonly<Record<string, number>>>>;

/** One reading of the Capacity Block rates. */
export interface CapacityBlockReading {
  readonly source: string;
  /** RFC 3339 time the rates were read. */
  readonly readAt: string;
  /** Effective USD per instance-hour. A type absent here is not sold through Capacity Blocks. */
  readonly usdPerHour: UsdPerHourByLocation;
}

export interface CapacityBlockData extends CapacityBlockReading {
  /** What the rates are, and what they leave out. */
  readonly meaning: string;
  /** The reading before, kept to show how the rates moved. */
  readonly previous?: CapacityBlockReading;
}
