// What launch planning reads about offerings, kept as passive caches with their own refresh loop:
// on-demand prices (the shipped seed), spot prices (DescribeSpotPriceHistory for the types pods
// asked for, read once when first asked and again every spotRefreshMs), the account's capacity
// reservations (read when first asked, again every reservationRefreshMs while pods ask for them),
// and boot images (resolved once, again every imageRefreshMs). A failed refresh keeps the last
// good values; a failed first read is retried by the next request.
import type { CapacityReservationInfo } from '../../domain/instance.js';
import type { Logger } from '../../observability/logger.js';
import type { BootImage, ImageSource, ReservationSource, SpotPriceSource } from '../../ports/catalog.js';
import type { Clock } from '../../ports/clock.js';
import type { Ec2Timings } from '../settings.js';

export interface PriceBookDeps {
  readonly spot: SpotPriceSource;
  readonly reservations: ReservationSource;
  readonly images: ImageSource;
  readonly onDemandUsdPerHour: Readonly<Record<string, number>>;
  readonly clock: Clock;
  readonly log: Logger;
  readonly timings: Pick<Ec2Timings, 'spotRefreshMs' | 'reservationRefreshMs' | 'imageRefreshMs'>;
}

interface Timed<T> { readonly at: number; readonly value: Promise<T> }

export class PriceBook {
  readonly #d: PriceBookDeps;
  /** Spot prices by "type/zone". */
  readonly #spot = new Map<string, number>();
  /** Per type: when its spot prices were read, and the read (in flight or done). */
  readonly #spotReads = new Map<string, Timed<void>>();
  #reservations: Timed<readonly CapacityReservationInfo[]> | undefined;
  #reservationsAskedAt = -Infinity;
  readonly #images = new Map<string, Timed<BootImage>>();

  constructor(deps: PriceBookDeps) {
    this.#d = deps;
  }

  #now(): number {
    return this.#d.clock.now().getTime();
  }

  onDemand(type: string): number | undefined {
    return this.#d.onDemandUsdPerHour[type];
  }

  spotPrice(type: string, zone: string): number | undefined {
    return this.#spot.get(`${type}/${zone}`);
  }

  /** Reads the spot prices of the types never read before (one call for all of them), and waits for the reads in flight. */
  async ensureSpot(types: readonly string[]): Promise<void> {
    const unread = types.filter((t) => !this.#spotReads.has(t));
    if (unread.length > 0) {
      const entry = { at: this.#now(), value: this.#readSpot(unread) };
      for (const t of unread) this.#spotReads.set(t, entry);
      entry.value.catch(() => { for (const t of unread) if (this.#spotReads.get(t) === entry) this.#spotReads.delete(t); });
    }
    await Promise.all(types.flatMap((t) => this.#spotReads.get(t)?.value ?? []));
  }

  async #readSpot(types: readonly string[]): Promise<void> {
    const fresh = await this.#d.spot.spotPrices(types);
    for (const [k, v] of fresh) this.#spot.set(k, v);
  }

  async #refreshSpot(now: number): Promise<void> {
    const stale = [...this.#spotReads].filter(([, e]) => now - e.at >= this.#d.timings.spotRefreshMs).map(([type]) => type);
    if (stale.length === 0) return;
    try {
      await this.#readSpot(stale);
      for (const t of stale) this.#spotReads.set(t, { at: now, value: Promise.resolve() });
    } catch (err) {
      this.#d.log.warn({ err, types: stale.length }, 'could not read spot prices again; keeping the last ones');
    }
  }

  /** The account's active reservations: the last read, or a first read now. */
  reservations(): Promise<readonly CapacityReservationInfo[]> {
    this.#reservationsAskedAt = this.#now();
    this.#reservations ??= this.#readReservations();
    return this.#reservations.value;
  }

  #readReservations(): Timed<readonly CapacityReservationInfo[]> {
    const value = this.#d.reservations.activeReservations();
    const entry = { at: this.#now(), value };
    value.catch(() => { if (this.#reservations === entry) this.#reservations = undefined; });
    return entry;
  }

  /** The boot image of an SSM public parameter or AMI id. */
  image(wanted: string): Promise<BootImage> {
    const hit = this.#images.get(wanted);
    if (hit !== undefined) return hit.value;
    return this.#resolve(wanted).value;
  }

  #resolve(wanted: string): Timed<BootImage> {
    const entry = this.#readImage(wanted);
    this.#images.set(wanted, entry);
    entry.value.catch(() => { if (this.#images.get(wanted) === entry) this.#images.delete(wanted); });
    return entry;
  }

  /** A resolution not yet used: a refresh keeps serving the last image until it succeeds. */
  #readImage(wanted: string): Timed<BootImage> {
    return { at: this.#now(), value: this.#d.images.resolve(wanted) };
  }

  /** One pass of the refresh loop: whatever is older than its refresh period is read again. */
  async refresh(): Promise<void> {
    const t = this.#d.timings;
    const now = this.#now();
    await this.#refreshSpot(now);
    if (this.#reservations !== undefined && now - this.#reservations.at >= t.reservationRefreshMs && now - this.#reservationsAskedAt < 10 * t.reservationRefreshMs) {
      await this.#keep(this.#reservations, this.#readReservations(), (e) => { this.#reservations = e; }, 'capacity reservations');
    }
    for (const [wanted, hit] of [...this.#images]) {
      if (now - hit.at >= t.imageRefreshMs) await this.#keep(hit, this.#readImage(wanted), (e) => { this.#images.set(wanted, e); }, `boot image ${wanted}`);
    }
  }

  /** Uses a fresh read when it succeeds; keeps the last good value when it fails. */
  async #keep<T>(last: Timed<T>, fresh: Timed<T>, set: (e: Timed<T>) => void, what: string): Promise<void> {
    try {
      await fresh.value;
      set(fresh);
    } catch (err) {
      set({ at: this.#now(), value: last.value });
      this.#d.log.warn({ err, what }, 'could not read again; keeping the last values');
    }
  }

  /** Refreshes every minute until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const stopping = (): boolean => signal.aborted;
    while (!stopping()) {
      await this.#d.clock.sleep(60_000, signal).catch(() => undefined);
      if (!stopping()) await this.refresh();
    }
  }
}
