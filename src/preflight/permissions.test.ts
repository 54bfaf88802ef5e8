// The permissions the start-up check and orca doctor ask about are exactly deploy/rbac/orca.yaml's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../../test/e2e/testbed/paths.js';
import { describePermission, permissionsOf, requiredRules, rulesFor, type RbacRule } from './permissions.js';

interface Manifest { kind: string; metadata: { namespace?: string }; rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[] }

function manifestRules(): RbacRule[] {
  const docs = parseAllDocuments(readFileSync(join(repoRoot, 'deploy', 'rbac', 'orca.yaml'), 'utf8')).map((d) => d.toJS() as Manifest);
  return docs.filter((d) => d.kind === 'ClusterRole' || d.kind === 'Role').flatMap((d) => (d.rules ?? []).map((r) => ({
    apiGroups: r.apiGroups, resources: r.resources, verbs: r.verbs, ...(d.kind === 'Role' && d.metadata.namespace !== undefined ? { namespace: d.metadata.namespace } : {}),
  })));
}

describe('the required permissions', () => {
  it('equal the rules of deploy/rbac/orca.yaml (ClusterRole, the kube-node-lease Role and the ledger Role)', () => {
    expect(requiredRules).toEqual(manifestRules());
  });

  it('become one question per verb, with subresources and namespaces split out', () => {
    expect(permissionsOf({ apiGroups: [''], resources: ['nodes', 'nodes/status'], verbs: ['patch'] })).toEqual([
      { group: '', resource: 'nodes', verb: 'patch' }, { group: '', resource: 'nodes', subresource: 'status', verb: 'patch' },
    ]);
    expect(permissionsOf({ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'update'], namespace: 'kube-node-lease' })).toEqual([
      { group: 'coordination.k8s.io', resource: 'leases', verb: 'get', namespace: 'kube-node-lease' },
      { group: 'coordination.k8s.io', resource: 'leases', verb: 'update', namespace: 'kube-node-lease' },
    ]);
    expect(requiredRules.flatMap(permissionsOf)).toHaveLength(26);
  });

  it('are named as kubectl names them', () => {
    expect(describePermission({ group: '', resource: 'nodes', subresource: 'status', verb: 'patch' })).toBe('patch nodes/status');
    expect(describePermission({ group: 'orca.research', resource: 'burstbudgets', verb: 'list' })).toBe('list burstbudgets.orca.research');
    expect(describePermission({ group: 'coordination.k8s.io', resource: 'leases', verb: 'get', namespace: 'kube-node-lease' })).toBe('get leases.coordination.k8s.io in kube-node-lease');
  });

  it('ask for the ledger ConfigMap only when the config has budgets of its own, in budgets.ledgerNamespace', () => {
    const ledger = (rules: readonly RbacRule[]): RbacRule | undefined => rules.find((r) => r.resources.includes('configmaps') && r.namespace !== undefined);
    expect(ledger(rulesFor({ withoutBudget: 'Refuse', ledgerNamespace: 'orca-system' }))).toBeUndefined();
    expect(rulesFor({ withoutBudget: 'Allow', ledgerNamespace: 'x' })).toHaveLength(requiredRules.length - 1);
    expect(ledger(rulesFor({ withoutBudget: 'Default', ledgerNamespace: 'research' }))).toEqual({ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'create', 'update'], namespace: 'research' });
    expect(ledger(rulesFor({ withoutBudget: 'Refuse', clusterLimit: { limitUSD: 1 }, ledgerNamespace: 'orca-system' }))?.namespace).toBe('orca-system');
  });
});
