// The Kubernetes permissions ORCA needs, in one list: the start-up check and `orca doctor` ask the
// apiserver about each (SelfSubjectAccessReview), and a unit test keeps the list equal to the rules
// of deploy/rbac/orca.yaml.
import type { Permission } from '../ports/preflight.js';

export interface RbacRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  /** A Role's namespace; absent for the ClusterRole's rules. */
  readonly namespace?: string;
}

export const requiredRules: readonly RbacRule[] = [
  { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'create', 'patch'] },
  { apiGroups: [''], resources: ['nodes/status'], verbs: ['patch'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'delete'] },
  { apiGroups: [''], resources: ['pods/status'], verbs: ['patch'] },
  { apiGroups: [''], resources: ['configmaps', 'secrets'], verbs: ['get'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
  { apiGroups: ['orca.research'], resources: ['burstbudgets'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['orca.research'], resources: ['burstbudgets/status'], verbs: ['patch', 'update'] },
  { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
  { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'], namespace: 'kube-node-lease' },
  // The ledger ConfigMap of the config's own budgets, in budgets.ledgerNamespace (orca-system in deploy/rbac/orca.yaml).
  { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'create', 'update'], namespace: 'orca-system' },
];

const LEDGER_NAMESPACE = 'orca-system';

/** What of the budgets config decides the permissions: whether it has books of its own, and where they are kept. */
export interface BudgetsRbac {
  readonly withoutBudget: string;
  readonly clusterLimit?: unknown;
  readonly ledgerNamespace: string;
}

const isLedgerRule = (r: RbacRule): boolean => r.namespace === LEDGER_NAMESPACE && r.resources.includes('configmaps');

/**
 * The rules this configuration needs: the ledger ConfigMap's only with budgets.clusterLimit or
 * withoutBudget: Default, in budgets.ledgerNamespace.
 */
export function rulesFor(b: BudgetsRbac): RbacRule[] {
  const books = b.clusterLimit !== undefined || b.withoutBudget === 'Default';
  return requiredRules.flatMap((r) => {
    if (!isLedgerRule(r)) return [r];
    return books ? [{ ...r, namespace: b.ledgerNamespace }] : [];
  });
}

/** One access question per verb, resource and group of `rule`. */
export function permissionsOf(rule: RbacRule): Permission[] {
  return rule.apiGroups.flatMap((group) => rule.resources.flatMap((r) => {
    const [resource = r, subresource] = r.split('/');
    return rule.verbs.map((verb) => ({
      group, resource, verb, ...(subresource === undefined ? {} : { subresource }), ...(rule.namespace === undefined ? {} : { namespace: rule.namespace }),
    }));
  }));
}

/** How kubectl would name the permission: "patch nodes/status", "create leases in kube-node-lease". */
export function describePermission(p: Permission): string {
  const group = p.group === '' ? '' : `.${p.group}`;
  const sub = p.subresource === undefined ? '' : `/${p.subresource}`;
  return `${p.verb} ${p.resource}${group}${sub}${p.namespace === undefined ? '' : ` in ${p.namespace}`}`;
}
