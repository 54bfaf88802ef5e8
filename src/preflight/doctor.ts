// `orca doctor`'s checks: each asks the apiserver or AWS one question ORCA depends on and says pass,
// fail (with the fix) or skip (with why). They run against the ports, so every pass and failure is
// unit-tested with fakes; cli-doctor.ts wires the real adapters and prints the results.
import type { StartupError } from '../domain/errors.js';
import type { AwsDoctorProbe, KubeDoctorProbe } from '../ports/preflight.js';
import { fail, guarded, pass, type CheckResult, type DoctorConfig } from './check-result.js';
import { awsChecks } from './doctor-aws.js';
import { describePermission, permissionsOf, requiredRules, type RbacRule } from './permissions.js';
import { aborted, limited, missingPermissions, RBAC_FIX } from './startup.js';

export type { CheckResult, CheckStatus, DoctorConfig } from './check-result.js';

/** The kubeconfig as loaded: its probe and where it points, or why it could not be loaded. */
export type LoadedKube = { readonly probe: KubeDoctorProbe; readonly server: string } | { readonly error: StartupError };

export interface DoctorDeps {
  readonly kube: LoadedKube;
  readonly aws: AwsDoctorProbe;
  readonly config: DoctorConfig;
  readonly signal: AbortSignal;
  /** How long the checks may take together (default 30 s). */
  readonly timeoutMs?: number;
  /** The permissions to check (rulesFor the config); every rule of deploy/rbac/orca.yaml when not given. */
  readonly rules?: readonly RbacRule[];
}

function ruleName(rule: RbacRule): string {
  return `rbac ${rule.resources.join(',')}${rule.namespace === undefined ? '' : ` (${rule.namespace})`}`;
}

async function rbacRow(probe: KubeDoctorProbe, rule: RbacRule, signal: AbortSignal): Promise<CheckResult> {
  const name = ruleName(rule);
  return guarded(name, RBAC_FIX, async () => {
    const missing = await missingPermissions(probe, permissionsOf(rule), signal);
    if (missing.length === 0) return pass(name, rule.verbs.join(', '));
    return fail(name, `may not ${missing.map(describePermission).join(', ')}`, RBAC_FIX);
  });
}

/** The kubeconfig, then each rule of deploy/rbac/orca.yaml, then the CRD; all skipped once the apiserver cannot be reached. */
export async function kubeChecks(kube: LoadedKube, signal: AbortSignal, rules: readonly RbacRule[] = requiredRules): Promise<CheckResult[]> {
  if ('error' in kube) return [fail('kubeconfig', kube.error.message, kube.error.fix)];
  const rows = [pass('kubeconfig', kube.server)];
  const [first, ...rest] = rules;
  if (first === undefined) return rows;
  const firstRow = await Promise.race([rbacRow(kube.probe, first, signal), aborted(signal)])
    .catch(() => fail('apiserver', `no answer from ${kube.server} in time`, 'check that the apiserver runs and this host can reach it'));
  if (firstRow.status === 'fail' && !firstRow.detail.startsWith('may not')) return [...rows, { ...firstRow, check: 'apiserver' }];
  rows.push(firstRow, ...await Promise.all(rest.map((r) => rbacRow(kube.probe, r, signal))));
  rows.push(await guarded('BurstBudget CRD', 'see the message', async () => (await kube.probe.budgetCrdInstalled(signal)
    ? pass('BurstBudget CRD', 'burstbudgets.orca.research installed')
    : fail('BurstBudget CRD', 'burstbudgets.orca.research is not installed', 'kubectl apply -f deploy/crds/burstbudgets.orca.research.yaml'))));
  return rows;
}

/** Every check, the Kubernetes ones first; the AWS ones run while the Kubernetes ones do. */
export async function runDoctor(deps: DoctorDeps): Promise<CheckResult[]> {
  const { signal, done } = limited(deps.signal, deps.timeoutMs ?? 30_000);
  try {
    const [kube, aws] = await Promise.all([kubeChecks(deps.kube, signal, deps.rules), awsChecks(deps.aws, deps.config, signal)]);
    return [...kube, ...aws];
  } finally {
    done();
  }
}
