// Where the instance catalog comes from: the cloud's own descriptions and price lists.
import type { InstanceTypeInfo } from '../domain/instance-type.js';

export interface CatalogSource {
  /** Every instance type of the given families (e.g. "p5", "g6e"), as the cloud describes them. */
  instanceTypes(families: readonly string[], signal?: AbortSignal): Promise<InstanceTypeInfo[]>;
}

export interface PriceSource {
  /** On-demand Linux USD per hour, by instance type, in `region`. Types without a price are absent. */
  onDemandPrices(region: string, types: readonly string[], signal?: AbortSignal): Promise<Record<string, number>>;
}
