// Tries a pod's ranked offerings in order until one launches. Capacity errors, full reservations and
// unsupported combinations hide that offering for a while and move on to the next; quota,
// permission and parameter errors stop at once (the next offering would fail the same way). Every
// attempt is reported, for the pod's Events ("trying p5.48xlarge spot in us-east-1b: …").
import type { Offering } from '../catalog/selection.js';
import { offeringKey, type UnavailableOfferings } from '../catalog/unavailable.js';
import { LaunchError, type LaunchErrorKind } from '../domain/errors.js';
import type { Instance, LaunchSpec } from '../domain/instance.js';
import type { InstanceLauncher } from '../ports/launcher.js';

export interface Attempt {
  readonly offering: Offering;
  readonly outcome: 'launched' | 'dry-run' | LaunchErrorKind;
  readonly message: string;
}

export type PlacementResult =
  | { readonly ok: true; readonly offering: Offering; readonly instances: readonly Instance[]; readonly attempts: readonly Attempt[] }
  | { readonly ok: false; readonly reason: 'NoCapacity' | 'QuotaExceeded' | 'LaunchUnauthorized' | 'InvalidLaunch' | 'LaunchFailed'; readonly message: string; readonly attempts: readonly Attempt[] };

export interface PlacementDeps {
  readonly launcher: InstanceLauncher;
  readonly unavailable: UnavailableOfferings;
  readonly now: () => number;
  /** The configured subnet of a zone; undefined when none is configured there. */
  readonly subnetFor: (zone: string) => string | undefined;
}

/** What every attempt of one pod shares; the offering fills in type, capacity and subnet. */
export type BaseSpec = Omit<LaunchSpec, 'instanceType' | 'capacity' | 'subnetId' | 'clientToken'>;

const movesOn: ReadonlySet<LaunchErrorKind> = new Set(['capacity', 'reservation-full', 'unsupported']);
const stopReason: Readonly<Record<LaunchErrorKind, 'QuotaExceeded' | 'LaunchUnauthorized' | 'InvalidLaunch' | 'LaunchFailed'>> = {
  quota: 'QuotaExceeded', unauthorized: 'LaunchUnauthorized', invalid: 'InvalidLaunch',
  capacity: 'LaunchFailed', 'reservation-full': 'LaunchFailed', unsupported: 'LaunchFailed',
  throttled: 'LaunchFailed', idempotency: 'LaunchFailed', unknown: 'LaunchFailed',
};

export function describeOffering(o: Offering): string {
  return o.capacity === 'reserved' ? `${o.type} reserved` : `${o.type} ${o.capacity} in ${o.zone}`;
}

function specFor(o: Offering, base: BaseSpec, subnetId: string, token: string): LaunchSpec {
  return { ...base, instanceType: o.type, capacity: o.capacity, subnetId, clientToken: token };
}

/**
 * Launches the first offering that has capacity. `tokenFor(i)` gives attempt i its ClientToken
 * (derived from the pod UID, so a retried create cannot launch twice).
 */
export async function place(ranked: readonly Offering[], base: BaseSpec, deps: PlacementDeps, tokenFor: (attempt: number) => string): Promise<PlacementResult> {
  const attempts: Attempt[] = [];
  for (const [i, o] of ranked.entries()) {
    const subnet = deps.subnetFor(o.zone === '*' ? '' : o.zone);
    if (subnet === undefined) continue;
    try {
      const instances = await deps.launcher.launch(specFor(o, base, subnet, tokenFor(i)));
      attempts.push({ offering: o, outcome: base.dryRun ? 'dry-run' : 'launched', message: `${describeOffering(o)}: ${base.dryRun ? 'dry run passed' : `launched ${instances.map((x) => x.id).join(', ')}`}` });
      return { ok: true, offering: o, instances, attempts };
    } catch (e) {
      if (!(e instanceof LaunchError)) throw e;
      attempts.push({ offering: o, outcome: e.kind, message: `trying ${describeOffering(o)}: ${e.awsCode}` });
      if (!movesOn.has(e.kind)) return { ok: false, reason: stopReason[e.kind], message: e.message, attempts };
      deps.unavailable.mark(offeringKey(o.capacity, o.type, o.zone), deps.now());
    }
  }
  const tried = attempts.map((a) => a.message).join('; ');
  return { ok: false, reason: 'NoCapacity', message: attempts.length === 0 ? 'no configured subnet in any offered zone' : `no capacity: ${tried}`, attempts };
}
