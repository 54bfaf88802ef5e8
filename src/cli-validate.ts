// `orca validate`: what the EC2 provider would do with a pod, decided by the provider's own code and
// nothing else — its annotation parser, its volume check, its launch planner (placement hints, EC2's
// tag limit, offering selection in the provider's order) — over the shipped catalog and the
// configuration, with every AWS read replaced by what is known offline: no spot price is read (the
// catalog's spot figures when it has them, else the pod's spot ceiling stands in), no capacity
// reservation is listed, no image is resolved. Nothing is launched and no AWS API is called.
import type { LoadedCatalog } from './catalog-files.js';
import type { SpotFigures } from './catalog-spot.js';
import { lowestSpot } from './catalog-spot.js';
import type { Offering } from './catalog/selection.js';
import { UnavailableOfferings } from './catalog/unavailable.js';
import type { Config } from './config/schema.js';
import { parsePodHints, type PodHints } from './domain/annotations.js';
import { volumeProblems } from './domain/assignment.js';
import { PodRejectedError } from './domain/errors.js';
import type { Pod } from './domain/pod.js';
import { podRequest } from './domain/pod-request.js';
import { launchSubnet } from './ec2/launch/batch-launch.js';
import { ceilingUsd } from './ec2/launch/budget-check.js';
import { LaunchPlanner } from './ec2/launch/launch-plan.js';
import { PriceBook } from './ec2/launch/price-book.js';
import { ec2Timings, type Ec2Settings } from './ec2/settings.js';
import { ec2SettingsOf } from './ec2-settings.js';
import { createLogger } from './observability/logger.js';
import type { SpotPriceSource } from './ports/catalog.js';
import type { Clock } from './ports/clock.js';

/** How one offering's hourly price is known offline. */
export type PriceKind = 'on-demand' | 'catalog-spot' | 'spot-ceiling' | 'reserved';

export interface OfferingLine {
  readonly type: string;
  readonly capacity: Offering['capacity'];
  /** The AZ; "(reservation's)" for reserved capacity; "any" without a configuration. */
  readonly zone: string;
  /** The subnet ORCA would launch into; "-" without a configuration. */
  readonly subnet: string;
  readonly usdPerHour: number;
  readonly price: PriceKind;
  readonly reservationId?: string;
  /** "8 H100 80Gi", "-" for none. */
  readonly accelerators: string;
}

export type Verdict =
  | { readonly source: string; readonly ok: false; readonly problems: readonly string[] }
  | { readonly source: string; readonly ok: true; readonly offerings: readonly OfferingLine[]; readonly ceilingUsdPerHour: number; readonly notes: readonly string[] };

export interface ValidateContext {
  /** The configuration given with --config, else ORCA's defaults (then zones and subnets are unknown). */
  readonly config: Config;
  /** Whether `config` was read from a file (else it holds only ORCA's defaults). */
  readonly configured: boolean;
  readonly catalog: LoadedCatalog;
  readonly spot?: SpotFigures | undefined;
}

/** The zone a pod lands in without a configuration: the one it names, else any. */
const ANY = 'any';
const UNKNOWN_SUBNET = 'subnet-00000000';
const fixedClock: Clock = { now: () => new Date(0), sleep: () => Promise.resolve() };

/** The provider's settings from the configuration (as ORCA runs it, but a dry run); subnets stand in for the pod when none are configured. */
function settingsOf(ctx: ValidateContext, h: PodHints): Ec2Settings {
  const { aws, node } = ctx.config;
  const s = ec2SettingsOf(ctx.config, { clusterId: aws.clusterId ?? node.name, nodeName: node.name, userData: '' });
  const subnets = ctx.configured ? s.subnets : [{ zone: h.zone ?? ANY, subnetId: h.subnet ?? UNKNOWN_SUBNET }];
  return { ...s, subnets, dryRun: true, batchWindowMs: 0 };
}

/** Spot prices offline: the catalog's figure for the type and zone, else the pod's ceiling (max-spot-price, else on demand). */
function offlineSpot(ctx: ValidateContext, h: PodHints, zones: readonly string[], ceilings: Set<string>): SpotPriceSource {
  return {
    spotPrices: (types) => {
      const out = new Map<string, number>();
      for (const t of types) {
        for (const z of zones) {
          const figure = z === ANY ? lowestSpot(ctx.spot, t)?.usdPerHour : ctx.spot?.usdPerHour[t]?.[z];
          const ceiling = h.maxSpotPrice ?? ctx.catalog.onDemandUsdPerHour[t];
          if (figure !== undefined) out.set(`${t}/${z}`, figure);
          else if (ceiling !== undefined) { out.set(`${t}/${z}`, ceiling); ceilings.add(`${t}/${z}`); }
        }
      }
      return Promise.resolve(out);
    },
  };
}

function plannerFor(ctx: ValidateContext, settings: Ec2Settings, spot: SpotPriceSource): LaunchPlanner {
  const prices = new PriceBook({
    spot, reservations: { activeReservations: () => Promise.resolve([]) },
    images: { resolve: (wanted) => Promise.resolve({ imageId: wanted, rootDeviceName: '/dev/xvda' }) },
    onDemandUsdPerHour: ctx.catalog.onDemandUsdPerHour, clock: fixedClock, log: createLogger('silent'), timings: ec2Timings,
  });
  return new LaunchPlanner({ settings, catalog: ctx.catalog, prices, clock: fixedClock, unavailable: new UnavailableOfferings(ec2Timings.unavailableTtlMs) });
}

const rejection = (e: unknown): string => {
  if (e instanceof PodRejectedError) return `${e.reason}: ${e.message}`;
  throw e;
};

function acceleratorsOf(ctx: ValidateContext, type: string): string {
  const a = ctx.catalog.types.get(type)?.accelerator;
  return a === undefined ? '-' : `${a.count} ${a.model} ${Number((a.memoryMiB / 1024).toFixed(1))}Gi`;
}

/** The subnet of an offering, as the launch chooses it. */
const subnetOf = (o: Offering, subnets: Ec2Settings['subnets'], h: PodHints): string | undefined => launchSubnet(subnets, h.subnet, o.zone === '*' ? '' : o.zone);

function priceKind(o: Offering, ceilings: ReadonlySet<string>): PriceKind {
  if (o.capacity !== 'spot') return o.capacity;
  return ceilings.has(`${o.type}/${o.zone}`) ? 'spot-ceiling' : 'catalog-spot';
}

function lineOf(o: Offering, ctx: ValidateContext, at: { readonly settings: Ec2Settings; readonly h: PodHints; readonly ceilings: ReadonlySet<string> }): OfferingLine {
  const subnetId = subnetOf(o, at.settings.subnets, at.h) ?? UNKNOWN_SUBNET;
  return {
    type: o.type, capacity: o.capacity, zone: o.zone === '*' ? '(reservation\'s)' : o.zone, subnet: subnetId === UNKNOWN_SUBNET ? '-' : subnetId,
    usdPerHour: o.usdPerHour, price: priceKind(o, at.ceilings), ...(o.reservationId === undefined ? {} : { reservationId: o.reservationId }), accelerators: acceleratorsOf(ctx, o.type),
  };
}

/** The most an hour of the pod may cost, as the budgets reserve it: each offering at its ceiling, the dearest. */
function ceilingOf(offerings: readonly Offering[], ctx: ValidateContext, h: PodHints): number {
  const ceiling = (o: Offering): number => ceilingUsd(o.capacity, ctx.catalog.onDemandUsdPerHour[o.type] ?? o.usdPerHour, h.maxSpotPrice, ctx.config.budgets.reservedUSDPerHour);
  return Math.max(0, ...offerings.map(ceiling));
}

function notesOf(ctx: ValidateContext, h: PodHints, lines: readonly OfferingLine[]): string[] {
  const notes: string[] = [];
  if (lines.some((l) => l.price === 'spot-ceiling')) notes.push('<= spot: the live spot price at launch, at most this (orca.research/max-spot-price, else the on-demand price); spot offerings are shown in this order, ORCA orders them by the live price.');
  if (lines.some((l) => l.price === 'catalog-spot') && ctx.spot !== undefined) notes.push(`spot: the catalog's spot figures (${ctx.spot.source}, read ${ctx.spot.readAt}); ORCA launches on the live price.`);
  if (h.capacityOrder.includes('reserved') && h.capacityReservationId === undefined && h.capacityBlockId === undefined) {
    notes.push('reserved: the account\'s capacity reservations are listed from EC2 at launch; none is known here, so none is shown.');
  }
  if (!ctx.configured) notes.push(`without --config: ORCA's defaults (selectionMode ${ctx.config.instances.selectionMode}, defaultLaunchType ${ctx.config.instances.defaultLaunchType.join(',')}), ${ctx.config.aws.region} prices; zones and subnets unknown.`);
  notes.push('ConfigMaps, Secrets and images are not looked up: the pod may still wait for one that is missing.');
  return notes;
}

async function planned(pod: Pod, h: PodHints, ctx: ValidateContext): Promise<{ readonly problems: string[] } | { readonly offerings: readonly Offering[]; readonly settings: Ec2Settings; readonly ceilings: ReadonlySet<string> }> {
  if (ctx.configured && ctx.config.aws.subnets.length === 0) {
    return { problems: ['NoProvider: This ORCA build has no EC2 provider configured, so it cannot run pods; nothing was launched (aws.subnets is empty)'] };
  }
  const settings = settingsOf(ctx, h);
  const ceilings = new Set<string>();
  const planner = plannerFor(ctx, settings, offlineSpot(ctx, h, [...new Set(settings.subnets.map((s) => s.zone))], ceilings));
  try {
    planner.check(pod, h);
    const p = await planner.plan(pod, h, podRequest(pod));
    if (!p.ok) return { problems: [`waiting: ${p.wait}`] };
    return { offerings: p.plan.ranked, settings, ceilings };
  } catch (e) {
    return { problems: [rejection(e)] };
  }
}

/** What the provider would do with the pod: every problem (each as its Event would say it), or the offerings it would try in order. */
export async function validatePod(source: string, pod: Pod, ctx: ValidateContext): Promise<Verdict> {
  const i = ctx.config.instances;
  const hints = parsePodHints(pod.metadata.annotations ?? {}, { capacityOrder: i.defaultLaunchType, onInterruption: i.defaultOnInterruption });
  const problems = [
    ...(hints.ok ? [] : hints.error.map((e) => `InvalidAnnotation: ${e.key}: "${e.value}" ${e.problem}`)),
    ...volumeProblems(pod).map((p) => `UnsupportedVolume: ${p}`),
  ];
  if (!hints.ok || problems.length > 0) return { source, ok: false, problems };
  const h = hints.value;
  const p = await planned(pod, h, ctx);
  if ('problems' in p) return { source, ok: false, problems: p.problems };
  const lines = p.offerings.map((o) => lineOf(o, ctx, { settings: p.settings, h, ceilings: p.ceilings }));
  return { source, ok: true, offerings: lines, ceilingUsdPerHour: ceilingOf(p.offerings, ctx, h), notes: notesOf(ctx, h, lines) };
}
