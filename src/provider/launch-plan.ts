// What a pod's launch will be: its ranked offerings, the launch parameters it shares with identical
// pods (so they may go out in one RunInstances call), and the tags only its own instance carries.
// Spot prices are read at most every five minutes and boot images resolved at most hourly, so a
// burst of pods costs one read of each.
import { createHash } from 'node:crypto';
import { selectOfferings, type Offering } from '../catalog/selection.js';
import type { UnavailableOfferings } from '../catalog/unavailable.js';
import type { PodHints } from '../domain/annotations.js';
import { PodRejectedError } from '../domain/errors.js';
import type { InstanceTypeInfo } from '../domain/instance-type.js';
import { defined } from '../domain/objects.js';
import type { Pod } from '../domain/pod.js';
import type { PodRequest } from '../domain/pod-request.js';
import type { CapacityReservationInfo } from '../domain/instance.js';
import type { BootImage, ImageSource, ReservationSource, SpotPriceSource } from '../ports/catalog.js';
import type { Clock } from '../ports/clock.js';
import { TAG, type Ec2Settings } from './ec2-settings.js';
import type { BaseSpec } from './placement.js';

export interface LaunchPlan {
  readonly ranked: readonly Offering[];
  /** Launch parameters shared by every pod with the same key; count 1. */
  readonly base: BaseSpec;
  /** Tags that only this pod's instance carries. */
  readonly podTags: Readonly<Record<string, string>>;
  /** Equal for pods whose launches are identical: they may share a RunInstances call. */
  readonly key: string;
  /** Digest of the launch parameters, tagged on the instances (TAG.launchKey). */
  readonly launchKey: string;
}

/** A plan, or why the pod has to wait (every offering it could use recently ran out of capacity). */
export type Planned = { readonly ok: true; readonly plan: LaunchPlan } | { readonly ok: false; readonly wait: string };

export interface LaunchPlannerDeps {
  readonly settings: Ec2Settings;
  readonly catalog: { readonly types: ReadonlyMap<string, InstanceTypeInfo>; readonly onDemandUsdPerHour: Readonly<Record<string, number>> };
  readonly spot: SpotPriceSource;
  readonly images: ImageSource;
  readonly reservations: ReservationSource;
  readonly clock: Clock;
  readonly unavailable: UnavailableOfferings;
}

export const digest = (text: string, chars = 16): string => createHash('sha256').update(text).digest('hex').slice(0, chars);

export class LaunchPlanner {
  readonly #d: LaunchPlannerDeps;
  /** Spot prices by "type/zone", with when each type was last read. */
  readonly #spot = new Map<string, number>();
  readonly #spotReadAt = new Map<string, number>();
  readonly #images = new Map<string, { readonly at: number; readonly image: Promise<BootImage> }>();
  /** The account's active reservations, read at most once a minute. */
  #reservations: { readonly at: number; readonly list: Promise<readonly CapacityReservationInfo[]> } | undefined;

  constructor(deps: LaunchPlannerDeps) {
    this.#d = deps;
  }

  async plan(pod: Pod, h: PodHints, req: PodRequest): Promise<Planned> {
    const ranked = await this.#rank(req, h);
    if ('wait' in ranked) return ranked;
    const first = ranked[0];
    if (first === undefined) throw new PodRejectedError('NoInstanceType', 'no offering to try');
    const kind = this.#kindOf(first);
    const sameImage = ranked.filter((o) => this.#kindOf(o) === kind);
    const base = await this.#baseSpec(pod, h, kind, req);
    const launchKey = digest(JSON.stringify(base));
    const { namespace, name, uid } = pod.metadata;
    return {
      ok: true,
      plan: {
        ranked: sameImage, base: { ...base, tags: { ...base.tags, [TAG.launchKey]: launchKey } }, launchKey,
        podTags: { Name: `orca-${namespace}-${name}`.slice(0, 255), [TAG.podName]: name, [TAG.podUid]: uid },
        key: JSON.stringify([launchKey, sameImage.map((o) => [o.type, o.zone, o.capacity])]),
      },
    };
  }

  #kindOf(o: Offering): string {
    return this.#d.catalog.types.get(o.type)?.accelerator?.kind ?? 'cpu';
  }

  async #rank(req: PodRequest, h: PodHints): Promise<readonly Offering[] | { readonly ok: false; readonly wait: string }> {
    const s = this.#d.settings;
    const names = h.instanceType !== undefined ? [h.instanceType] : [...this.#d.catalog.types.keys()];
    const now = this.#d.clock.now().getTime();
    if (h.capacityOrder.includes('spot')) await this.#refreshSpot(names, now);
    const listed = h.capacityOrder.includes('reserved') && h.capacityReservationId === undefined && h.capacityBlockId === undefined;
    const reservations = listed ? await this.#reservationList(now) : [];
    const spot = this.#spot;
    const sel = selectOfferings(req, h, {
      reservations,
      mode: s.selectionMode, types: this.#d.catalog.types, onDemandUsdPerHour: this.#d.catalog.onDemandUsdPerHour,
      spotUsdPerHour: (t, z) => spot.get(`${t}/${z}`), zones: s.subnets.map((x) => x.zone), allowedTypes: s.allowedTypes,
      templates: s.templates, isUnavailable: (k) => this.#d.unavailable.isUnavailable(k, now),
    });
    if (sel.ok) return sel.ranked;
    const waiting = sel.rejected.length > 0 && sel.rejected.every((r) => r.reason === 'recently out of capacity');
    if (waiting) return { ok: false, wait: `every offering recently ran out of capacity: ${sel.rejected.map((r) => r.candidate).join(', ')}` };
    throw new PodRejectedError(sel.reason, sel.message);
  }

  #reservationList(now: number): Promise<readonly CapacityReservationInfo[]> {
    if (this.#reservations === undefined || now - this.#reservations.at >= 60_000) {
      const list = this.#d.reservations.activeReservations();
      this.#reservations = { at: now, list };
      list.catch(() => { this.#reservations = undefined; });
    }
    return this.#reservations.list;
  }

  /** Reads spot prices for the types not read in the last five minutes. */
  async #refreshSpot(types: readonly string[], now: number): Promise<void> {
    const stale = types.filter((t) => now - (this.#spotReadAt.get(t) ?? -Infinity) > 300_000);
    if (stale.length === 0) return;
    const fresh = await this.#d.spot.spotPrices(stale);
    for (const t of stale) this.#spotReadAt.set(t, now);
    for (const [k, v] of fresh) this.#spot.set(k, v);
  }

  #image(wanted: string): Promise<BootImage> {
    const now = this.#d.clock.now().getTime();
    const hit = this.#images.get(wanted);
    if (hit !== undefined && now - hit.at < 3_600_000) return hit.image;
    const image = this.#d.images.resolve(wanted);
    this.#images.set(wanted, { at: now, image });
    image.catch(() => { this.#images.delete(wanted); });
    return image;
  }

  async #baseSpec(pod: Pod, h: PodHints, kind: string, req: PodRequest): Promise<BaseSpec> {
    const s = this.#d.settings;
    const wanted = h.ami ?? s.images[kind as keyof Ec2Settings['images']];
    if (wanted === '') throw new PodRejectedError('NoImage', `no image is configured for ${kind} instances (instances.images.${kind})`);
    const image = await this.#image(wanted);
    const { namespace } = pod.metadata;
    return {
      imageId: image.imageId, rootDeviceName: image.rootDeviceName, count: 1,
      rootVolumeGiB: Math.max(s.rootVolumeGiB, Math.ceil(req.ephemeralStorageGiB) + 50),
      securityGroupIds: s.securityGroupIds, userData: s.userData, terminationProtection: h.terminationProtection, dryRun: s.dryRun,
      ...defined({
        instanceProfileArn: s.instanceProfileArn, maxSpotPrice: h.maxSpotPrice, capacityReservationId: h.capacityReservationId,
        capacityReservationPreference: h.capacityReservationPreference, capacityBlockId: h.capacityBlockId,
      }),
      tags: {
        ...s.tags, Name: `orca-${namespace}`.slice(0, 255), [TAG.cluster]: s.clusterId, [TAG.node]: s.nodeName,
        [TAG.podNamespace]: namespace, [TAG.budget]: h.budgetNamespace ?? namespace,
        [TAG.onInterruption]: h.onInterruption,
        ...(h.maxLifetimeSeconds === undefined ? {} : { [TAG.maxLifetime]: String(h.maxLifetimeSeconds) }),
      },
    };
  }
}
