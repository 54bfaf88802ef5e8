// Where the instance catalog comes from: the cloud's own descriptions and price lists.
import type { CapacityReservationInfo } from '../domain/instance.js';
import type { InstanceTypeInfo } from '../domain/instance-type.js';

export interface CatalogSource {
  /** Every instance type of the given families (e.g. "p5", "g6e"), as the cloud describes them. */
  instanceTypes(families: readonly string[], signal?: AbortSignal): Promise<InstanceTypeInfo[]>;
}

export interface PriceSource {
  /** On-demand Linux USD per hour, by instance type, in `region`. Types without a price are absent. */
  onDemandPrices(region: string, types: readonly string[], signal?: AbortSignal): Promise<Record<string, number>>;
}

export interface SpotPriceSource {
  /** The latest Linux spot price per "type/zone" for the given types, in USD per hour. */
  spotPrices(types: readonly string[], signal?: AbortSignal): Promise<ReadonlyMap<string, number>>;
}

/** A spot price from the time it took effect. */
export interface SpotPricePoint {
  /** ms since the epoch. */
  readonly at: number;
  readonly usdPerHour: number;
}

/** One spot pool (an instance type in a zone) over a span of time. */
export interface SpotHistoryQuery {
  readonly type: string;
  readonly zone: string;
  readonly from: Date;
  readonly to: Date;
}

export interface SpotPriceHistory {
  /**
   * The Linux spot prices of one pool (type and zone) in effect between `from` and `to`, oldest first:
   * the one in effect at `from`, then each change. Rejects when they could not be read.
   */
  history(q: SpotHistoryQuery, signal?: AbortSignal): Promise<readonly SpotPricePoint[]>;
}

/** The image an instance boots, and the device name of its root volume (from the AMI itself). */
export interface BootImage {
  readonly imageId: string;
  readonly rootDeviceName: string;
}

export interface ImageSource {
  /** Resolves an SSM public parameter (e.g. the latest Deep Learning AMI) or an ami-… id to a bootable image. */
  resolve(parameterOrAmi: string, signal?: AbortSignal): Promise<BootImage>;
}

export interface ReservationSource {
  /** The account's active capacity reservations in the region (On-Demand Capacity Reservations). */
  activeReservations(signal?: AbortSignal): Promise<readonly CapacityReservationInfo[]>;
}
