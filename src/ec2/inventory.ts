// The instance inventory: every instance of this node, read with one tag-filtered DescribeInstances
// (paginated, 1000 per page) per poll and decoded once (agent-protocol/tags.ts). A passive cache with
// its own refresh loop: the provider, its garbage collection and, later, the budget ledger and warm
// pools read the last listing; listeners hear of each new one. Until a listing succeeded it says
// why it is not ready.
import type { Logger } from '../observability/logger.js';
import type { Clock } from '../ports/clock.js';
import type { InstanceLauncher } from '../ports/launcher.js';
import { decodeInstance, TAG, type ObservedInstance } from '../agent-protocol/tags.js';

export interface InventoryDeps {
  readonly launcher: Pick<InstanceLauncher, 'listTagged'>;
  readonly clock: Clock;
  readonly log: Logger;
  readonly clusterId: string;
  readonly nodeName: string;
  readonly pollMs: number;
}

export interface Listing {
  readonly instances: readonly ObservedInstance[];
  /** When the listing was read (ms since the epoch). */
  readonly at: number;
  /** How many listings succeeded before this one: 0 for the first. */
  readonly sequence: number;
}

const describe = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));
const abortError = (signal: AbortSignal): Error => (signal.reason instanceof Error ? signal.reason : new Error('aborted'));

export class Inventory {
  readonly #d: InventoryDeps;
  #last: Listing | undefined;
  #lastError: string | undefined;
  readonly #listeners: ((l: Listing) => Promise<void>)[] = [];
  /** Every listener has taken a listing in: the provider's state holds what EC2 showed. */
  #heard = false;
  #markReady: () => void = () => undefined;
  readonly #ready = new Promise<void>((r) => { this.#markReady = r; });

  constructor(deps: InventoryDeps) {
    this.#d = deps;
  }

  /** The last successful listing; undefined before the first. */
  get last(): Listing | undefined {
    return this.#last;
  }

  /** Called with every new listing; a listener's error is logged, never fails the refresh. */
  onListing(listener: (l: Listing) => Promise<void>): void {
    this.#listeners.push(listener);
  }

  /** Resolves once a listing succeeded and every listener has acted on it; rejects when `signal` aborts first. */
  ready(signal?: AbortSignal): Promise<void> {
    if (this.#heard) return Promise.resolve();
    if (signal === undefined) return this.#ready;
    if (signal.aborted) return Promise.reject(abortError(signal));
    return new Promise((resolve, reject) => {
      const abort = (): void => { reject(abortError(signal)); };
      signal.addEventListener('abort', abort, { once: true });
      void this.#ready.then(() => { signal.removeEventListener('abort', abort); resolve(); });
    });
  }

  /** Empty once a listing succeeded; else why the provider cannot act yet. */
  notReadyReasons(): readonly string[] {
    if (this.#last !== undefined) return [];
    return [`EC2 instances not listed yet${this.#lastError === undefined ? '' : `: ${this.#lastError}`}`];
  }

  /** One DescribeInstances of this node's instances; throws when it fails (the last listing stays). */
  async refresh(signal?: AbortSignal): Promise<Listing> {
    let seen;
    try {
      seen = await this.#d.launcher.listTagged(TAG.node, this.#d.nodeName, signal);
    } catch (err) {
      this.#lastError = describe(err);
      throw err;
    }
    const instances = seen.map(decodeInstance).filter((i) => i.clusterId === this.#d.clusterId);
    const listing = { instances, at: this.#d.clock.now().getTime(), sequence: this.#last === undefined ? 0 : this.#last.sequence + 1 };
    this.#last = listing;
    this.#lastError = undefined;
    await this.#tell(listing);
    this.#heard = true;
    this.#markReady();
    return listing;
  }

  /** Every listener hears the listing, whatever the ones before it did (threw or rejected). */
  async #tell(listing: Listing): Promise<void> {
    for (const l of this.#listeners) {
      try {
        await l(listing);
      } catch (err) {
        this.#d.log.error({ err }, 'acting on the instance listing failed');
      }
    }
  }

  /** Refreshes every pollMs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const stopping = (): boolean => signal.aborted;
    while (!stopping()) {
      try {
        await this.refresh(signal);
      } catch (err) {
        if (!stopping()) this.#d.log.warn({ err }, 'instance poll failed');
      }
      await this.#d.clock.sleep(this.#d.pollMs, signal).catch(() => undefined);
    }
  }
}
