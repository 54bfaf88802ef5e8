// The start-up checks: before ORCA starts its controllers it asks the apiserver whether it may do what
// deploy/rbac/orca.yaml grants, and (with subnets configured) asks EC2 whether the region, subnets and
// security groups exist. A failure a person must fix is a StartupError (one line, its own exit code);
// a check that could not be made (a timeout, a 500) is a warning, and ORCA starts and retries as usual.
import { setMaxListeners } from 'node:events';
import { StartupError } from '../domain/errors.js';
import type { AwsProbe, KubeProbe, Permission } from '../ports/preflight.js';
import { describePermission, permissionsOf, requiredRules, type RbacRule } from './permissions.js';

export interface StartupConfig {
  readonly region: string;
  readonly endpoint?: string | undefined;
  readonly subnets: readonly { readonly zone: string; readonly subnetID: string }[];
  readonly securityGroupIDs: readonly string[];
}

export interface StartupCheckDeps {
  readonly kube: KubeProbe;
  /** Absent when no subnets are configured: ORCA then calls no AWS API. */
  readonly aws?: AwsProbe | undefined;
  readonly config: StartupConfig;
  /** Aborts the checks (SIGTERM while they run). */
  readonly signal: AbortSignal;
  /** How long each group of checks may take before it counts as not made (default 10 s). */
  readonly timeoutMs?: number;
  /** The permissions to check (rulesFor the config); every rule of deploy/rbac/orca.yaml when not given. */
  readonly rules?: readonly RbacRule[];
}

export type StartupVerdict =
  | { readonly ok: true; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly error: StartupError };

export const RBAC_FIX = 'grant them with kubectl apply -f deploy/rbac/orca.yaml (its ServiceAccount orca-system/orca), or run ORCA as an identity that has them';

/** The permissions of `all` the kubeconfig's identity does not have; the first question alone, so an unreachable apiserver fails once. */
export async function missingPermissions(kube: KubeProbe, all: readonly Permission[], signal: AbortSignal): Promise<Permission[]> {
  const [first, ...rest] = all;
  if (first === undefined) return [];
  const firstAllowed = await kube.can(first, signal);
  const allowed = await Promise.all(rest.map((p) => kube.can(p, signal)));
  return [firstAllowed, ...allowed].flatMap((ok, i) => (ok ? [] : [all[i] as Permission]));
}

async function checkRbac(kube: KubeProbe, rules: readonly RbacRule[], signal: AbortSignal): Promise<void> {
  const missing = await missingPermissions(kube, rules.flatMap(permissionsOf), signal);
  if (missing.length === 0) return;
  throw new StartupError('rbac', `the kubeconfig's identity may not ${missing.map(describePermission).join(', ')}`, RBAC_FIX);
}

export async function checkRegion(aws: AwsProbe, region: string, signal: AbortSignal): Promise<void> {
  const known = (await aws.regions(signal)).find((r) => r.name === region);
  if (known === undefined) {
    throw new StartupError('unknown-region', `aws.region ${region} is not an EC2 region`, 'set aws.region to a region such as us-east-1 (aws ec2 describe-regions --all-regions lists them)');
  }
  if (!known.enabled) {
    throw new StartupError('unknown-region', `aws.region ${region} is an opt-in region this account has not enabled`, 'enable it (aws account enable-region) or choose another aws.region');
  }
}

export async function checkSubnets(aws: AwsProbe, c: StartupConfig, signal: AbortSignal): Promise<void> {
  const found = new Map((await aws.subnets(c.subnets.map((s) => s.subnetID), signal)).map((s) => [s.id, s.zone]));
  const missing = c.subnets.filter((s) => !found.has(s.subnetID)).map((s) => s.subnetID);
  if (missing.length > 0) {
    throw new StartupError('missing-subnets', `aws.subnets ${missing.join(', ')} ${missing.length === 1 ? 'does' : 'do'} not exist in ${c.region}`, 'use subnet ids of your VPC in this region (aws ec2 describe-subnets)');
  }
  const misplaced = c.subnets.filter((s) => found.get(s.subnetID) !== s.zone);
  if (misplaced.length > 0) {
    const where = misplaced.map((s) => `${s.subnetID} is in ${found.get(s.subnetID) ?? '?'}, not ${s.zone}`).join('; ');
    throw new StartupError('missing-subnets', `aws.subnets: ${where}`, 'give each subnet the zone it is in (aws ec2 describe-subnets)');
  }
}

export async function checkSecurityGroups(aws: AwsProbe, c: StartupConfig, signal: AbortSignal): Promise<void> {
  if (c.securityGroupIDs.length === 0) return;
  const found = new Set(await aws.securityGroups(c.securityGroupIDs, signal));
  const missing = c.securityGroupIDs.filter((id) => !found.has(id));
  if (missing.length === 0) return;
  throw new StartupError('missing-security-groups', `aws.securityGroupIDs ${missing.join(', ')} ${missing.length === 1 ? 'does' : 'do'} not exist in ${c.region}`, 'use security group ids of the subnets\' VPC (aws ec2 describe-security-groups)');
}

async function checkAws(aws: AwsProbe, c: StartupConfig, signal: AbortSignal): Promise<void> {
  await checkRegion(aws, c.region, signal);
  await checkSubnets(aws, c, signal);
  await checkSecurityGroups(aws, c, signal);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0] ?? err.name : String(err);
}

/**
 * A signal that aborts with `parent` or after `ms`, and the function that releases its timer. An
 * AbortController and a timer, not AbortSignal.any/timeout: on Node 20 a signal those combine can be
 * collected before it fires, and the checks would then wait for ever. Every one of the checks'
 * concurrent requests listens to it.
 */
export function limited(parent: AbortSignal, ms: number): { readonly signal: AbortSignal; readonly done: () => void } {
  const stop = new AbortController();
  setMaxListeners(100, stop.signal);
  const onParent = (): void => { stop.abort(parent.reason); };
  const timer = setTimeout(() => { stop.abort(new Error(`no answer within ${String(ms / 1000)} s`)); }, ms);
  parent.addEventListener('abort', onParent, { once: true });
  if (parent.aborted) onParent();
  return { signal: stop.signal, done: () => { clearTimeout(timer); parent.removeEventListener('abort', onParent); } };
}

/** Rejects when `signal` aborts: a request that ignores its signal (a TLS handshake that never ends) is left behind. */
export function aborted(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_, reject) => { signal.addEventListener('abort', () => { reject(signal.reason as Error); }, { once: true }); });
}

/** Runs `check` under the time limit: a StartupError is the verdict; any other failure, a warning. */
async function attempt(what: string, check: (signal: AbortSignal) => Promise<void>, deps: StartupCheckDeps): Promise<StartupError | string | undefined> {
  const limitMs = deps.timeoutMs ?? 10_000;
  const { signal, done } = limited(deps.signal, limitMs);
  try {
    await Promise.race([check(signal), aborted(signal)]);
    return undefined;
  } catch (e) {
    if (e instanceof StartupError) return e;
    const why = signal.aborted && !deps.signal.aborted ? `no answer within ${String(limitMs / 1000)} s` : describe(e);
    return `could not check ${what} (${why}); starting anyway`;
  } finally {
    done();
  }
}

/** The start-up checks, the apiserver's first: the first StartupError, else the checks that could not be made. */
export async function runStartupChecks(deps: StartupCheckDeps): Promise<StartupVerdict> {
  const warnings: string[] = [];
  const kube = await attempt('the Kubernetes permissions', (s) => checkRbac(deps.kube, deps.rules ?? requiredRules, s), deps);
  if (kube instanceof StartupError) return { ok: false, error: kube };
  if (kube !== undefined) warnings.push(kube);
  const { aws } = deps;
  if (aws !== undefined && !deps.signal.aborted) {
    const found = await attempt('the AWS region, subnets and security groups', (s) => checkAws(aws, deps.config, s), deps);
    if (found instanceof StartupError) return { ok: false, error: found };
    if (found !== undefined) warnings.push(found);
  }
  return { ok: true, warnings };
}

/** The one line a failed start prints: the problem, then the fix. */
export function startupLine(e: StartupError): string {
  return `orca: ${e.message}. Fix: ${e.fix}.`;
}
