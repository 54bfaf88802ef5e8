// Offerings that just failed for lack of capacity, hidden for a while so that the next pod does not
// retry the same empty pool (Karpenter's unavailable-offerings cache). Time is passed in.
import type { CapacityType } from '../domain/annotations.js';

export type OfferingKey = `${CapacityType}:${string}:${string}`;

export const offeringKey = (capacity: CapacityType, type: string, zone: string): OfferingKey => `${capacity}:${type}:${zone}`;

export class UnavailableOfferings {
  readonly #until = new Map<OfferingKey, number>();
  readonly #ttlMs: number;

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

  /** Hides `key` until `now + ttl`. */
  mark(key: OfferingKey, now: number): void {
    this.#until.set(key, now + this.#ttlMs);
  }

  isUnavailable(key: OfferingKey, now: number): boolean {
    const until = this.#until.get(key);
    if (until === undefined) return false;
    if (now < until) return true;
    this.#until.delete(key);
    return false;
  }
}
