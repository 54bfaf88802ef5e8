// What the provider tells the budgets after every poll: each pod's instance with the price paid for
// it an hour now (on demand its price, spot the zone's current spot price, Capacity Blocks the
// configured reserved rate), and the pods that were allowed and still wait for an instance. An ended
// spot instance is charged its life priced from its pool's price history once that is read.
import { isGone } from '../domain/instance.js';
import { parsePodKey } from '../domain/pod.js';
import type { InstanceTypeInfo } from '../domain/instance-type.js';
import { microUsdFromUsd } from '../policy/money.js';
import type { CapacityType } from '../policy/budget-types.js';
import type { ObservedInstance } from '../agent-protocol/tags.js';
import type { ChargeReport, InstanceCharge } from '../ports/budget-gate.js';
import { acceleratorsOf } from './launch/budget-check.js';
import type { PodRecord, PodTable } from './pod-table.js';
import type { EndedSpot, SpotLife } from './spot-settlement.js';

export interface Rates {
  readonly types: ReadonlyMap<string, InstanceTypeInfo>;
  readonly onDemand: (type: string) => number | undefined;
  readonly spot: (type: string, zone: string) => number | undefined;
  readonly reservedUsdPerHour: number;
  /** The exact life of an ended spot instance; absent, the charge followed poll by poll stands. */
  readonly spotLife?: (i: EndedSpot) => SpotLife;
}

function capacityOf(i: ObservedInstance): CapacityType {
  if (i.lifecycle === 'spot') return 'spot';
  return i.lifecycle === 'capacity-block' ? 'reserved' : 'on-demand';
}

function usdPerHour(i: ObservedInstance, rates: Rates): number {
  const capacity = capacityOf(i);
  if (capacity === 'reserved') return rates.reservedUsdPerHour;
  const onDemand = rates.onDemand(i.type) ?? 0;
  return capacity === 'spot' ? rates.spot(i.type, i.zone) ?? onDemand : onDemand;
}

function chargeOf(p: PodRecord, i: ObservedInstance, rates: Rates): InstanceCharge | undefined {
  const launchedAt = Date.parse(i.launchTime);
  if (!Number.isFinite(launchedAt)) return undefined;
  const { namespace, name } = parsePodKey(p.ref.key);
  const maxRuntimeSeconds = p.hints?.maxLifetimeSeconds ?? i.maxLifetimeSeconds ?? p.pod?.spec.activeDeadlineSeconds;
  return {
    podUid: p.ref.uid, namespace, name, chargeTo: p.hints?.budgetNamespace ?? i.budgetNamespace ?? namespace,
    instanceType: i.type, capacityType: capacityOf(i), accelerators: acceleratorsOf(rates.types.get(i.type)), launchedAt,
    ratePerHour: microUsdFromUsd(usdPerHour(i, rates)), ended: isGone(i),
    ...(maxRuntimeSeconds === undefined ? {} : { maxRuntimeSeconds }), ...lifeOf(i, launchedAt, rates),
  };
}

function lifeOf(i: ObservedInstance, launchedAt: number, rates: Rates): Pick<InstanceCharge, 'lifeCost' | 'pricing'> {
  if (rates.spotLife === undefined || capacityOf(i) !== 'spot' || !isGone(i)) return {};
  const life = rates.spotLife({ instanceId: i.id, type: i.type, zone: i.zone, launchedAt });
  if (life.kind === 'exact') return { lifeCost: life.microUsd };
  return life.kind === 'reading' ? { pricing: true } : {};
}

/** Waits for an instance with its money reserved: not waiting for budgets, not failed, not deleted. */
function launching(p: PodRecord): boolean {
  const state = p.launch?.state;
  return !p.deleting && p.final === undefined && state !== 'failed' && state !== 'budget';
}

export function chargeReport(table: PodTable, rates: Rates): ChargeReport {
  const instances: InstanceCharge[] = [];
  const waiting: string[] = [];
  for (const p of table.pods()) {
    const observed = table.instanceOf(p.ref.uid)?.observed;
    const charge = observed === undefined ? undefined : chargeOf(p, observed, rates);
    if (charge !== undefined) instances.push(charge);
    else if (launching(p)) waiting.push(p.ref.uid);
  }
  return { launching: waiting, instances };
}
