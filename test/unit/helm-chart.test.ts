// The chart keeps one source of truth with deploy/: its CRD is deploy/crds' file byte for byte, its
// RBAC rules are deploy/rbac/orca.yaml's (the permissions the code uses, proven by rbac.e2e), and its
// appVersion is package.json's version.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../e2e/testbed/paths.js';

const chart = join(repoRoot, 'deploy', 'helm', 'orca');
const read = (...p: string[]): string => readFileSync(join(repoRoot, ...p), 'utf8');

interface Manifest { readonly kind: string; readonly metadata: { readonly name: string }; readonly rules?: unknown }

function rbacRules(kind: string, name = 'orca'): unknown {
  const docs = parseAllDocuments(read('deploy', 'rbac', 'orca.yaml')).map((d) => d.toJS() as Manifest);
  const found = docs.filter((d) => d.kind === kind && d.metadata.name === name);
  expect(found).toHaveLength(1);
  return found[0]?.rules;
}

describe('deploy/helm/orca', () => {
  it('ships deploy/crds/burstbudgets.orca.research.yaml unchanged in crds/', () => {
    expect(read('deploy', 'helm', 'orca', 'crds', 'burstbudgets.orca.research.yaml')).toBe(read('deploy', 'crds', 'burstbudgets.orca.research.yaml'));
  });

  it('grants the ClusterRole rules of deploy/rbac/orca.yaml, no more and no fewer', () => {
    const rules = parse(readFileSync(join(chart, 'files', 'clusterrole-rules.yaml'), 'utf8')) as unknown;
    expect(rules).toEqual(rbacRules('ClusterRole'));
    expect(readFileSync(join(chart, 'templates', 'clusterrole.yaml'), 'utf8')).toContain('.Files.Get "files/clusterrole-rules.yaml"');
  });

  it('grants the kube-node-lease Role rules of deploy/rbac/orca.yaml', () => {
    const rules = parse(readFileSync(join(chart, 'files', 'node-lease-rules.yaml'), 'utf8')) as unknown;
    expect(rules).toEqual(rbacRules('Role', 'orca-node-lease'));
    expect(readFileSync(join(chart, 'templates', 'node-lease-role.yaml'), 'utf8')).toContain('.Files.Get "files/node-lease-rules.yaml"');
  });

  it('grants the ledger ConfigMap Role rules of deploy/rbac/orca.yaml', () => {
    const rules = parse(readFileSync(join(chart, 'files', 'ledger-rules.yaml'), 'utf8')) as unknown;
    expect(rules).toEqual(rbacRules('Role', 'orca-ledger'));
    expect(readFileSync(join(chart, 'templates', 'ledger-role.yaml'), 'utf8')).toContain('.Files.Get "files/ledger-rules.yaml"');
  });

  it('has apiVersion v2, package.json\'s version as appVersion and Kubernetes >= 1.29', () => {
    const meta = parse(readFileSync(join(chart, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
    const pkg = JSON.parse(read('package.json')) as { version: string };
    expect(meta).toMatchObject({ apiVersion: 'v2', name: 'orca', appVersion: pkg.version, kubeVersion: '>=1.29.0-0' });
  });

  it('ships a dashboard whose queries name only metrics ORCA serves', () => {
    const dashboard = JSON.parse(readFileSync(join(chart, 'files', 'dashboard.json'), 'utf8')) as { panels: { targets: { expr: string }[] }[] };
    const names = dashboard.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/\borca_[a-z_]+/g) ?? []));
    expect(names.length).toBeGreaterThan(5);
    const served = metricNames();
    expect(names.map((n) => n.replace(/_bucket$/, '')).filter((n) => !served.has(n))).toEqual([]);
  });

  it('alerts only on metrics ORCA serves', () => {
    const rule = readFileSync(join(chart, 'templates', 'prometheusrule.yaml'), 'utf8');
    const names = [...rule.matchAll(/expr: (.*)$/gm)].flatMap((m) => m[1]?.match(/\borca_[a-z_]+/g) ?? []);
    expect(names.length).toBeGreaterThan(5);
    const served = metricNames();
    expect(names.map((n) => n.replace(/_bucket$/, '')).filter((n) => !served.has(n))).toEqual([]);
  });
});

/** The metric names declared in src/observability/. */
function metricNames(): Set<string> {
  const files = ['metrics.ts', 'budget-metrics.ts'].map((f) => read('src', 'observability', f));
  return new Set(files.flatMap((t) => [...t.matchAll(/'(orca_[a-z_]+)'/g)].map((m) => m[1] ?? '')));
}
