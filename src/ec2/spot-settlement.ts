// The exact charge of a spot instance that ended: its life priced from its pool's spot price history
// (DescribeSpotPriceHistory from its launch to when ORCA saw it gone), not the prices sampled at each
// poll. Read once per instance in the background; while it is read the budgets hold the pod's money
// as it stands; a read that fails is tried again, and after `attempts` failures the sampled charge
// stands (logged once). Entries of instances no longer listed are dropped.
import type { Logger } from '../observability/logger.js';
import { costOverTime, microUsdFromUsd } from '../policy/money.js';
import type { MicroUsd } from '../policy/budget-types.js';
import type { SpotPriceHistory } from '../ports/catalog.js';
import type { Clock } from '../ports/clock.js';

export type SpotLife =
  | { readonly kind: 'exact'; readonly microUsd: MicroUsd }
  | { readonly kind: 'reading' }
  /** The history could not be read: the charge followed poll by poll stands. */
  | { readonly kind: 'sampled' };

export interface EndedSpot {
  readonly instanceId: string;
  readonly type: string;
  readonly zone: string;
  /** EC2's launch time, ms since the epoch. */
  readonly launchedAt: number;
}

export interface SpotSettlementDeps {
  readonly history: SpotPriceHistory;
  readonly clock: Clock;
  readonly log: Logger;
  /** Reads tried before the sampled charge stands (default 3). */
  readonly attempts?: number;
  /** Wait before a failed read is tried again (default 30 s). */
  readonly retryMs?: number;
}

interface Entry {
  /** When ORCA first saw the instance gone: its charge ends there, as the poll-by-poll charge does. */
  readonly endedAt: number;
  life: SpotLife;
  failures: number;
  retryAt: number;
}

export class SpotSettlement {
  readonly #d: SpotSettlementDeps;
  readonly #entries = new Map<string, Entry>();

  constructor(deps: SpotSettlementDeps) {
    this.#d = deps;
  }

  /** The instance's charge over its life, as far as it is known now (asking starts the read). */
  of(i: EndedSpot): SpotLife {
    const now = this.#d.clock.now().getTime();
    let e = this.#entries.get(i.instanceId);
    if (e === undefined) {
      e = { endedAt: Math.max(now, i.launchedAt), life: { kind: 'reading' }, failures: 0, retryAt: now };
      this.#entries.set(i.instanceId, e);
    }
    if (e.life.kind === 'reading' && e.retryAt <= now) this.#read(i, e);
    return e.life;
  }

  /** Forgets the instances not in `listed`. */
  retain(listed: ReadonlySet<string>): void {
    for (const id of this.#entries.keys()) if (!listed.has(id)) this.#entries.delete(id);
  }

  #read(i: EndedSpot, e: Entry): void {
    // Not again until this read has answered (or failed and waited).
    e.retryAt = Infinity;
    this.#d.history.history({ type: i.type, zone: i.zone, from: new Date(i.launchedAt), to: new Date(e.endedAt) }).then((points) => {
      const cost = costOverTime(points.map((p) => ({ at: p.at, perHour: microUsdFromUsd(p.usdPerHour) })), i.launchedAt, e.endedAt);
      if (cost === undefined) throw new Error(`no spot price of ${i.type} in ${i.zone} between its launch and its end`);
      e.life = { kind: 'exact', microUsd: cost };
    }).catch((err: unknown) => {
      e.failures += 1;
      if (e.failures >= (this.#d.attempts ?? 3)) {
        e.life = { kind: 'sampled' };
        this.#d.log.warn({ err, instanceId: i.instanceId }, 'could not read the spot price history of an ended instance; its charge followed poll by poll stands');
      } else e.retryAt = this.#d.clock.now().getTime() + (this.#d.retryMs ?? 30_000);
    });
  }
}
