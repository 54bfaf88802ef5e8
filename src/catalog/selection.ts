// Pure: from a pod's request and hints to a ranked list of offerings (type × zone × capacity type)
// with prices, and the reason every other candidate was turned down. Order: the pod's capacity
// preference first, then price, then the configured zone order, then the type name.
import { PREFIX, type CapacityType, type PodHints } from '../domain/annotations.js';
import type { CapacityReservationInfo } from '../domain/instance.js';
import type { AcceleratorResource, PodRequest } from '../domain/pod-request.js';
import { extendedResources, type InstanceTypeInfo } from './types.js';
import { offeringKey, type OfferingKey } from './unavailable.js';

export type SelectionMode = 'explicit' | 'template' | 'auto';

export interface Offering {
  readonly type: string;
  /** The AZ; '*' for reserved capacity, whose AZ is the reservation's. */
  readonly zone: string;
  readonly capacity: CapacityType;
  /** Marginal USD per hour: 0 for capacity already paid for (reservations, blocks). */
  readonly usdPerHour: number;
  /** The capacity reservation to target (found among the account's, for a pod that names none). */
  readonly reservationId?: string;
}

export interface Rejection {
  readonly candidate: string;
  readonly reason: string;
  /** The offering ran out of capacity a short while ago: waiting may help (nothing else does). */
  readonly unavailable?: true;
}

export const recentlyOut = 'recently out of capacity';

export interface SelectionContext {
  readonly mode: SelectionMode;
  readonly types: ReadonlyMap<string, InstanceTypeInfo>;
  readonly onDemandUsdPerHour: Readonly<Record<string, number>>;
  readonly spotUsdPerHour: (type: string, zone: string) => number | undefined;
  /** Configured zones, in preference order. */
  readonly zones: readonly string[];
  /** Types an admin allows; empty allows every catalogued type. */
  readonly allowedTypes: readonly string[];
  readonly templates: Readonly<Record<string, { readonly instanceType: string }>>;
  readonly isUnavailable: (key: OfferingKey) => boolean;
  /** The account's active capacity reservations; pods preferring `reserved` without naming one use these. */
  readonly reservations?: readonly CapacityReservationInfo[];
  /** Where each type is sold through Capacity Blocks for ML (regions, Local Zones); says why a type has no on-demand price. */
  readonly capacityBlockLocations?: Readonly<Record<string, readonly string[]>>;
}

export type Selection =
  | { readonly ok: true; readonly ranked: readonly Offering[]; readonly rejected: readonly Rejection[] }
  | { readonly ok: false; readonly reason: 'InvalidInstanceSelection' | 'NoInstanceType'; readonly message: string; readonly rejected: readonly Rejection[] };

type Candidates = { readonly names: readonly string[] } | { readonly error: string };

function candidateTypes(h: PodHints, ctx: SelectionContext): Candidates {
  if (h.instanceType !== undefined) return { names: [h.instanceType] };
  if (h.workloadTemplate !== undefined) {
    const t = ctx.templates[h.workloadTemplate];
    if (ctx.mode === 'explicit') return { error: 'workload templates are not enabled (instances.selectionMode is explicit)' };
    return t === undefined ? { error: `no workload template named "${h.workloadTemplate}" in the configuration` } : { names: [t.instanceType] };
  }
  if (ctx.mode !== 'auto') return { error: 'the pod must name orca.research/instance-type (or orca.research/workload-template)' };
  return { names: [...ctx.types.keys()] };
}

function shortfall(req: PodRequest, t: InstanceTypeInfo): string | undefined {
  if (req.cpuCores > t.vcpus) return `needs ${req.cpuCores} CPUs, has ${t.vcpus}`;
  if (req.memoryMiB > t.memoryMiB) return `needs ${Math.ceil(req.memoryMiB / 1024)}Gi memory, has ${t.memoryMiB / 1024}Gi`;
  const has = extendedResources(t);
  const missing = (Object.entries(req.accelerators) as [AcceleratorResource, number][]).find(([r, n]) => n > (has[r] ?? 0));
  return missing === undefined ? undefined : `needs ${missing[1]} ${missing[0]}, has ${has[missing[0]] ?? 0}`;
}

function typeProblem(name: string, req: PodRequest, ctx: SelectionContext): string | undefined {
  const t = ctx.types.get(name);
  if (t === undefined) return 'is not in the instance catalog';
  if (ctx.allowedTypes.length > 0 && !ctx.allowedTypes.includes(name)) return 'is not in instances.allowedInstanceTypes';
  return shortfall(req, t);
}

function zonesFor(h: PodHints, ctx: SelectionContext): readonly string[] {
  return h.zone === undefined ? ctx.zones : ctx.zones.filter((z) => z === h.zone);
}

type Priced = { readonly offering: Offering } | { readonly rejection: Rejection };

interface Slot { readonly type: string; readonly zone: string; readonly capacity: CapacityType }

function price({ type, zone, capacity }: Slot, h: PodHints, ctx: SelectionContext): Priced {
  const candidate = `${type} ${capacity} in ${zone}`;
  if (capacity === 'reserved') return { offering: { type, zone: '*', capacity, usdPerHour: 0 } };
  if (ctx.isUnavailable(offeringKey(capacity, type, zone))) return { rejection: { candidate, reason: recentlyOut, unavailable: true } };
  if (capacity === 'on-demand') {
    const usd = ctx.onDemandUsdPerHour[type];
    return usd === undefined ? { rejection: { candidate, reason: 'no known on-demand price' } } : { offering: { type, zone, capacity, usdPerHour: usd } };
  }
  const spot = ctx.spotUsdPerHour(type, zone);
  if (spot === undefined) return { rejection: { candidate, reason: 'no spot price' } };
  const max = h.maxSpotPrice ?? ctx.onDemandUsdPerHour[type];
  if (max !== undefined && spot > max) return { rejection: { candidate, reason: `spot price ${spot} is above the maximum ${max}` } };
  return { offering: { type, zone, capacity, usdPerHour: spot } };
}

/** Reserved offerings from the account's reservations with free instances of `type` in the pod's zones. */
function listedReservations(type: string, h: PodHints, ctx: SelectionContext): Priced[] {
  const zones = zonesFor(h, ctx);
  const fits = (ctx.reservations ?? []).filter((r) => r.instanceType === type && r.available > 0 && zones.includes(r.zone));
  if (fits.length === 0) return [{ rejection: { candidate: `${type} reserved`, reason: 'no capacity reservation with free instances in the configured zones' } }];
  return fits.map((r) => (ctx.isUnavailable(offeringKey('reserved', type, r.zone))
    ? { rejection: { candidate: `${type} reserved in ${r.zone}`, reason: recentlyOut, unavailable: true } }
    : { offering: { type, zone: r.zone, capacity: 'reserved', usdPerHour: 0, reservationId: r.id } }));
}

/** A type without an on-demand price because AWS sells it through Capacity Blocks for ML only. */
function soldAsCapacityBlock(type: string, h: PodHints, ctx: SelectionContext): Rejection | undefined {
  const where = ctx.capacityBlockLocations?.[type] ?? [];
  if (ctx.onDemandUsdPerHour[type] !== undefined || where.length === 0) return undefined;
  const use = h.capacityBlockId === undefined
    ? `name one with ${PREFIX}capacity-block-id and put reserved in ${PREFIX}launch-type`
    : `put reserved in ${PREFIX}launch-type to launch into ${h.capacityBlockId}`;
  return { candidate: type, reason: `has no on-demand price: it is sold through Capacity Blocks for ML (${where.join(', ')}); ${use}` };
}

function noZone(type: string, capacity: CapacityType, h: PodHints, ctx: SelectionContext): Rejection {
  const configured = ctx.zones.length === 0 ? 'no zone is configured' : `the configured zones are ${ctx.zones.join(', ')}`;
  const reason = h.zone === undefined ? configured : `${PREFIX}zone ${h.zone} is not a configured zone (${configured})`;
  return { candidate: `${type} ${capacity}`, reason };
}

function offeringsOf(type: string, h: PodHints, ctx: SelectionContext): Priced[] {
  const named = h.capacityReservationId !== undefined || h.capacityBlockId !== undefined;
  const zones = zonesFor(h, ctx);
  return h.capacityOrder.flatMap((capacity): Priced[] => {
    if (capacity === 'reserved') return named ? [price({ type, zone: '*', capacity }, h, ctx)] : listedReservations(type, h, ctx);
    const blockOnly = capacity === 'on-demand' ? soldAsCapacityBlock(type, h, ctx) : undefined;
    if (blockOnly !== undefined) return [{ rejection: blockOnly }];
    if (zones.length === 0) return [{ rejection: noZone(type, capacity, h, ctx) }];
    return zones.map((zone) => price({ type, zone, capacity }, h, ctx));
  });
}

function rank(h: PodHints, ctx: SelectionContext): (a: Offering, b: Offering) => number {
  const capRank = (o: Offering): number => h.capacityOrder.indexOf(o.capacity);
  const zoneRank = (o: Offering): number => ctx.zones.indexOf(o.zone);
  return (a, b) => capRank(a) - capRank(b) || a.usdPerHour - b.usdPerHour || zoneRank(a) - zoneRank(b) || a.type.localeCompare(b.type);
}

export function selectOfferings(req: PodRequest, h: PodHints, ctx: SelectionContext): Selection {
  const c = candidateTypes(h, ctx);
  if ('error' in c) return { ok: false, reason: 'InvalidInstanceSelection', message: c.error, rejected: [] };
  const rejected: Rejection[] = [];
  const offerings: Offering[] = [];
  for (const name of c.names) {
    const problem = typeProblem(name, req, ctx);
    if (problem !== undefined) {
      rejected.push({ candidate: name, reason: problem });
      continue;
    }
    for (const p of offeringsOf(name, h, ctx)) {
      if ('offering' in p) offerings.push(p.offering);
      else rejected.push(p.rejection);
    }
  }
  if (offerings.length > 0) return { ok: true, ranked: offerings.sort(rank(h, ctx)), rejected };
  return { ok: false, reason: 'NoInstanceType', message: refusal(c.names, h, rejected), rejected };
}

/** Why no offering is left: never empty. */
function refusal(names: readonly string[], h: PodHints, rejected: readonly Rejection[]): string {
  if (names.length !== 1) return `none of ${names.length} instance types fits and has capacity`;
  const why = rejected.map((r) => `${r.candidate} ${r.reason}`).join('; ');
  return why !== '' ? why : `${names[0] ?? ''} has no capacity type to try (${PREFIX}launch-type: ${h.capacityOrder.join(',')})`;
}
