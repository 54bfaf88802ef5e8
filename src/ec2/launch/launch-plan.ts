// What a pod's launch will be: its ranked offerings, the launch parameters it shares with identical
// pods (so they may go out in one RunInstances call), the tags only its own instance carries, and
// the subnet it names. Prices, reservations and boot images come from the price book.
import { createHash } from 'node:crypto';
import { selectOfferings, type Offering } from '../../catalog/selection.js';
import type { UnavailableOfferings } from '../../catalog/unavailable.js';
import { PREFIX, type PodHints } from '../../domain/annotations.js';
import { PodRejectedError } from '../../domain/errors.js';
import type { InstanceTypeInfo } from '../../domain/instance-type.js';
import { defined } from '../../domain/objects.js';
import type { Pod } from '../../domain/pod.js';
import type { PodRequest } from '../../domain/pod-request.js';
import { launchTags, maxTagsPerInstance, podTags, tagCount, TAG } from '../../agent-protocol/tags.js';
import type { Clock } from '../../ports/clock.js';
import type { Ec2Settings } from '../settings.js';
import type { BaseSpec } from './placement.js';
import type { PriceBook } from './price-book.js';

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
  /** The subnet the pod names (orca.research/subnet); else the configured one of each offering's zone. */
  readonly subnetId?: string;
}

/** A plan, or why the pod has to wait (every offering it could use recently ran out of capacity). */
export type Planned = { readonly ok: true; readonly plan: LaunchPlan } | { readonly ok: false; readonly wait: string };

export interface InstanceCatalog {
  readonly types: ReadonlyMap<string, InstanceTypeInfo>;
  readonly onDemandUsdPerHour: Readonly<Record<string, number>>;
  /** Where types are sold through Capacity Blocks for ML, by type. */
  readonly capacityBlockLocations?: Readonly<Record<string, readonly string[]>>;
}

export interface LaunchPlannerDeps {
  readonly settings: Ec2Settings;
  readonly catalog: InstanceCatalog;
  readonly prices: PriceBook;
  readonly clock: Clock;
  readonly unavailable: UnavailableOfferings;
}

/** Equal for pods whose launches are identical: the launch parameters and the offerings in order. */
export const planKey = (launchKey: string, ranked: readonly Offering[]): string => JSON.stringify([launchKey, ranked.map((o) => [o.type, o.zone, o.capacity])]);

export const digest = (text: string, chars = 16): string => createHash('sha256').update(text).digest('hex').slice(0, chars);

const refuse = (key: string, value: string, problem: string): PodRejectedError => new PodRejectedError('InvalidAnnotation', `${PREFIX}${key}: "${value}" ${problem}`);

/**
 * The pod's zone and subnet hints against the configured subnets: the zone the pod may launch in
 * (the subnet's, when it names one), or a refusal that says what is configured.
 */
export function placementHints(h: PodHints, subnets: Ec2Settings['subnets']): Pick<PodHints, 'zone' | 'subnet'> {
  const zones = [...new Set(subnets.map((s) => s.zone))].join(', ');
  if (h.zone !== undefined && /-az\d+$/.test(h.zone)) throw refuse('zone', h.zone, `is an Availability Zone id; name the zone instead (aws.subnets has ${zones})`);
  if (h.zone !== undefined && !subnets.some((s) => s.zone === h.zone)) throw refuse('zone', h.zone, `has no configured subnet (aws.subnets has ${zones})`);
  if (h.subnet === undefined) return defined({ zone: h.zone });
  const named = subnets.find((s) => s.subnetId === h.subnet);
  if (named === undefined) throw refuse('subnet', h.subnet, `is not one of the configured subnets (aws.subnets): ${subnets.map((s) => `${s.subnetId} (${s.zone})`).join(', ')}`);
  if (h.zone !== undefined && h.zone !== named.zone) throw refuse('subnet', h.subnet, `is in ${named.zone}, not in ${PREFIX}zone ${h.zone}`);
  return { zone: named.zone, subnet: named.subnetId };
}

export class LaunchPlanner {
  readonly #d: LaunchPlannerDeps;

  constructor(deps: LaunchPlannerDeps) {
    this.#d = deps;
  }

  /** Refuses what can never launch before anything is asked of AWS: the placement hints, EC2's tag limit. */
  check(pod: Pod, h: PodHints): void {
    placementHints(h, this.#d.settings.subnets);
    const containers = pod.spec.containers.length + (pod.spec.initContainers?.length ?? 0);
    const n = tagCount(this.#tags(pod, h), containers);
    if (n > maxTagsPerInstance) {
      throw new PodRejectedError('TooManyTags', `the instance would carry ${String(n)} tags (aws.tags, ORCA's own, one per container); EC2 allows ${String(maxTagsPerInstance)}`);
    }
  }

  async plan(pod: Pod, hints: PodHints, req: PodRequest): Promise<Planned> {
    const h = { ...hints, ...placementHints(hints, this.#d.settings.subnets) };
    const ranked = await this.#rank(req, h);
    if ('wait' in ranked) return ranked;
    const first = ranked[0];
    if (first === undefined) throw new PodRejectedError('NoInstanceType', 'no offering to try');
    const kind = this.#kindOf(first);
    const sameImage = ranked.filter((o) => this.#kindOf(o) === kind);
    const base = await this.#baseSpec(pod, h, kind, req);
    const launchKey = digest(JSON.stringify(h.subnet === undefined ? base : [base, h.subnet]));
    const { namespace, name, uid } = pod.metadata;
    return {
      ok: true,
      plan: {
        ranked: sameImage, base: { ...base, tags: { ...base.tags, [TAG.launchKey]: launchKey } }, launchKey,
        podTags: podTags({ namespace, name, uid }), ...defined({ subnetId: h.subnet }),
        key: planKey(launchKey, sameImage),
      },
    };
  }

  #kindOf(o: Offering): string {
    return this.#d.catalog.types.get(o.type)?.accelerator?.kind ?? 'cpu';
  }

  async #rank(req: PodRequest, h: PodHints): Promise<readonly Offering[] | { readonly ok: false; readonly wait: string }> {
    const s = this.#d.settings;
    const book = this.#d.prices;
    const names = h.instanceType !== undefined ? [h.instanceType] : [...this.#d.catalog.types.keys()];
    const now = this.#d.clock.now().getTime();
    if (h.capacityOrder.includes('spot')) await book.ensureSpot(names);
    const listed = h.capacityOrder.includes('reserved') && h.capacityReservationId === undefined && h.capacityBlockId === undefined;
    const reservations = listed ? await book.reservations() : [];
    const sel = selectOfferings(req, h, {
      reservations, mode: s.selectionMode, types: this.#d.catalog.types, onDemandUsdPerHour: this.#d.catalog.onDemandUsdPerHour,
      spotUsdPerHour: (t, z) => book.spotPrice(t, z), zones: s.subnets.map((x) => x.zone), allowedTypes: s.allowedTypes,
      templates: s.templates, isUnavailable: (k) => this.#d.unavailable.isUnavailable(k, now),
      ...defined({ capacityBlockLocations: this.#d.catalog.capacityBlockLocations }),
    });
    if (sel.ok) return sel.ranked;
    const waiting = sel.rejected.length > 0 && sel.rejected.every((r) => r.unavailable === true);
    if (waiting) return { ok: false, wait: `every offering recently ran out of capacity: ${sel.rejected.map((r) => r.candidate).join(', ')}` };
    throw new PodRejectedError(sel.reason, sel.message);
  }

  #tags(pod: Pod, h: PodHints): Record<string, string> {
    const s = this.#d.settings;
    const { namespace } = pod.metadata;
    return launchTags({
      clusterId: s.clusterId, nodeName: s.nodeName, namespace, budgetNamespace: h.budgetNamespace ?? namespace, onInterruption: h.onInterruption,
      terminationProtection: h.terminationProtection, extra: s.tags, ...defined({ maxLifetimeSeconds: h.maxLifetimeSeconds }),
    });
  }

  async #baseSpec(pod: Pod, h: PodHints, kind: string, req: PodRequest): Promise<BaseSpec> {
    const s = this.#d.settings;
    const wanted = h.ami ?? s.images[kind as keyof Ec2Settings['images']];
    if (wanted === '') throw new PodRejectedError('NoImage', `no image is configured for ${kind} instances (instances.images.${kind})`);
    const image = await this.#d.prices.image(wanted);
    return {
      imageId: image.imageId, rootDeviceName: image.rootDeviceName, count: 1,
      rootVolumeGiB: Math.max(s.rootVolumeGiB, Math.ceil(req.ephemeralStorageGiB) + 50),
      securityGroupIds: s.securityGroupIds, userData: s.userData, terminationProtection: h.terminationProtection, dryRun: s.dryRun,
      ...defined({
        instanceProfileArn: s.instanceProfileArn, maxSpotPrice: h.maxSpotPrice, capacityReservationId: h.capacityReservationId,
        capacityReservationPreference: h.capacityReservationPreference, capacityBlockId: h.capacityBlockId,
      }),
      tags: this.#tags(pod, h),
    };
  }
}
