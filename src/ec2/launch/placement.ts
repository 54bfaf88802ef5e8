// Tries a launch's ranked offerings in order until it has as many instances as it wants. Capacity
// errors, full reservations and unsupported combinations hide that offering for a while and move on
// to the next; so does an offering that filled only part of a batched request (EC2 launched what it
// had). Quota, permission and parameter errors stop at once (the next offering would fail the same
// way). Every attempt is reported, for the pods' Events ("trying p5.48xlarge spot in us-east-1b: …").
import type { Offering } from '../../catalog/selection.js';
import { offeringKey, type UnavailableOfferings } from '../../catalog/unavailable.js';
import { LaunchError, type LaunchErrorKind } from '../../domain/errors.js';
import type { Instance, LaunchSpec } from '../../domain/instance.js';
import type { InstanceLauncher } from '../../ports/launcher.js';

export interface Attempt {
  readonly offering: Offering;
  readonly outcome: 'launched' | 'dry-run' | LaunchErrorKind;
  readonly message: string;
  /** For a launch: the instances it returned, in order (fewer than asked for when EC2 ran short). */
  readonly instances?: readonly Instance[];
}

export type FailureReason = 'NoCapacity' | 'QuotaExceeded' | 'LaunchUnauthorized' | 'InvalidLaunch' | 'LaunchFailed';

export interface PlacementResult {
  /** Every instance launched, in the order the attempts returned them. */
  readonly instances: readonly Instance[];
  readonly attempts: readonly Attempt[];
  /** EC2 accepted a dry run: nothing was launched. */
  readonly dryRun: boolean;
  /** Why fewer instances than wanted were launched; absent when every one was. */
  readonly failure?: { readonly reason: FailureReason; readonly message: string };
}

export interface PlacementDeps {
  readonly launcher: InstanceLauncher;
  readonly unavailable: UnavailableOfferings;
  readonly now: () => number;
  /** The configured subnet of a zone; undefined when none is configured there. */
  readonly subnetFor: (zone: string) => string | undefined;
  /** Told at once of every instance a call returned, before the next call (they have no pod yet). */
  readonly launched?: (instances: readonly Instance[]) => void;
  /** Aborts the launch calls (shutdown). */
  readonly signal?: AbortSignal;
}

/** What every attempt of one launch shares; the offering fills in type, capacity and subnet. */
export type BaseSpec = Omit<LaunchSpec, 'instanceType' | 'capacity' | 'subnetId' | 'clientToken'>;

const movesOn: ReadonlySet<LaunchErrorKind> = new Set(['capacity', 'reservation-full', 'unsupported']);
const stopReason: Readonly<Record<LaunchErrorKind, Exclude<FailureReason, 'NoCapacity'>>> = {
  quota: 'QuotaExceeded', unauthorized: 'LaunchUnauthorized', invalid: 'InvalidLaunch',
  capacity: 'LaunchFailed', 'reservation-full': 'LaunchFailed', unsupported: 'LaunchFailed',
  throttled: 'LaunchFailed', idempotency: 'LaunchFailed', unknown: 'LaunchFailed',
};

export function describeOffering(o: Offering): string {
  if (o.capacity !== 'reserved') return `${o.type} ${o.capacity} in ${o.zone}`;
  return o.reservationId === undefined ? `${o.type} reserved` : `${o.type} reserved (${o.reservationId}) in ${o.zone}`;
}

function specFor(o: Offering, base: BaseSpec, at: { readonly subnetId: string; readonly clientToken: string }): LaunchSpec {
  return { ...base, ...at, instanceType: o.type, capacity: o.capacity, zone: o.zone, ...(o.reservationId === undefined ? {} : { capacityReservationId: o.reservationId }) };
}

function launchedMessage(o: Offering, got: readonly Instance[], wanted: number): string {
  const ids = got.map((x) => x.id).join(', ');
  return wanted === 1 ? `${describeOffering(o)}: launched ${ids}` : `${describeOffering(o)}: launched ${got.length} of ${wanted} (${ids})`;
}

type Step = { readonly done: true; readonly failure?: PlacementResult['failure'] } | { readonly done: false };

/** One attempt: launch what is still wanted on offering `o`; says whether to stop. */
async function attempt(o: Offering, spec: LaunchSpec, deps: PlacementDeps, into: { attempts: Attempt[]; instances: Instance[] }): Promise<Step> {
  try {
    const got = await deps.launcher.launch(spec, deps.signal);
    if (spec.dryRun) {
      into.attempts.push({ offering: o, outcome: 'dry-run', message: `${describeOffering(o)}: dry run passed` });
      return { done: true };
    }
    deps.launched?.(got);
    into.instances.push(...got);
    into.attempts.push({ offering: o, outcome: 'launched', message: launchedMessage(o, got, spec.count), instances: got });
    if (got.length >= spec.count) return { done: true };
  } catch (e) {
    if (!(e instanceof LaunchError)) throw e;
    into.attempts.push({ offering: o, outcome: e.kind, message: `trying ${describeOffering(o)}: ${e.awsCode}` });
    if (!movesOn.has(e.kind)) return { done: true, failure: { reason: stopReason[e.kind], message: e.message } };
  }
  deps.unavailable.mark(offeringKey(o.capacity, o.type, o.zone), deps.now());
  return { done: false };
}

/**
 * Launches `base.count` instances over the ranked offerings, in as few calls as EC2's capacity
 * allows. `tokenFor(i)` gives attempt i its ClientToken (derived from the pods' UIDs, so a
 * repeated launch cannot launch twice).
 */
export async function place(ranked: readonly Offering[], base: BaseSpec, deps: PlacementDeps, tokenFor: (attempt: number) => string): Promise<PlacementResult> {
  const into = { attempts: [] as Attempt[], instances: [] as Instance[] };
  for (const [i, o] of ranked.entries()) {
    const subnetId = deps.subnetFor(o.zone === '*' ? '' : o.zone);
    if (subnetId === undefined) continue;
    const spec = specFor(o, { ...base, count: base.count - into.instances.length }, { subnetId, clientToken: tokenFor(i) });
    const step = await attempt(o, spec, deps, into);
    if (step.done) return { ...into, dryRun: base.dryRun && step.failure === undefined, ...(step.failure === undefined ? {} : { failure: step.failure }) };
  }
  const tried = into.attempts.map((a) => a.message).join('; ');
  const short = into.instances.length === 0 ? 'no capacity' : `no capacity for ${base.count - into.instances.length} of ${base.count}`;
  const message = into.attempts.length === 0 ? 'no configured subnet in any offered zone' : `${short}: ${tried}`;
  return { ...into, dryRun: false, failure: { reason: 'NoCapacity', message } };
}
