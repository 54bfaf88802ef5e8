// The pods of a manifest file: each workload kind's pod template, the shape the apiserver would
// insist on, and the usage errors (not YAML, not Kubernetes objects, no pod).
import { describe, expect, it } from 'vitest';
import { manifestPods, type Manifests } from './cli-manifests.js';

const spec = 'spec: {containers: [{name: c, resources: {requests: {cpu: 8, memory: 64Gi}}}]}';
const template = (indent: string): string => `${indent}template:\n${indent}  metadata: {annotations: {orca.research/instance-type: g6e.xlarge}}\n${indent}  ${spec}`;

function pods(text: string): Manifests {
  const r = manifestPods(text);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

describe('manifestPods', () => {
  it.each([
    ['Pod', `kind: Pod\nmetadata: {name: w, namespace: ml, annotations: {orca.research/instance-type: g6e.xlarge}}\n${spec}`, 'Pod ml/w'],
    ['Job', `kind: Job\nmetadata: {name: w, namespace: ml}\nspec:\n${template('  ')}`, 'Job ml/w (pod template)'],
    ['Deployment', `kind: Deployment\nmetadata: {name: w, namespace: ml}\nspec:\n${template('  ')}`, 'Deployment ml/w (pod template)'],
    ['StatefulSet', `kind: StatefulSet\nmetadata: {name: w, namespace: ml}\nspec:\n${template('  ')}`, 'StatefulSet ml/w (pod template)'],
    ['DaemonSet', `kind: DaemonSet\nmetadata: {name: w, namespace: ml}\nspec:\n${template('  ')}`, 'DaemonSet ml/w (pod template)'],
    ['CronJob', `kind: CronJob\nmetadata: {name: w, namespace: ml}\nspec:\n  jobTemplate:\n    spec:\n${template('      ')}`, 'CronJob ml/w (pod template)'],
  ])('takes the pod of a %s, its annotations and its requests as strings', (_kind, text, source) => {
    const [p] = pods(text).pods;
    expect(p?.source).toBe(source);
    expect(p?.problems).toEqual([]);
    expect(p?.pod?.metadata).toMatchObject({ namespace: 'ml', annotations: { 'orca.research/instance-type': 'g6e.xlarge' } });
    expect(p?.pod?.spec.containers[0]?.resources?.requests).toEqual({ cpu: '8', memory: '64Gi' });
  });

  it('puts a pod without a namespace in default, and skips documents without a pod', () => {
    const m = pods(`kind: Service\nmetadata: {name: web}\n---\nkind: Pod\nmetadata: {name: x}\n${spec}\n---\n`);
    expect(m.pods.map((p) => p.source)).toEqual(['Pod default/x']);
    expect(m.skipped).toEqual(['Service web']);
  });

  it.each([
    ['a workload without a template', 'kind: Job\nmetadata: {name: j}\nspec: {}', ['spec.template: missing: a Job needs a pod template']],
    ['a pod without containers', 'kind: Pod\nmetadata: {name: p}\nspec: {containers: []}', ['spec.containers: a pod needs at least one container']],
    ['an annotation that is not a string', `kind: Pod\nmetadata: {name: p, annotations: {orca.research/max-spot-price: 12.5}}\n${spec}`,
      ['metadata.annotations.orca.research/max-spot-price: an annotation value must be a string: quote it in the YAML']],
    ['a request that is not a quantity', 'kind: Job\nmetadata: {name: j}\nspec:\n  template:\n    spec: {containers: [{name: c, resources: {limits: {memory: lots}}}]}',
      ['spec.template.spec.containers[c].resources.limits.memory: "lots" is not a quantity such as "8", "500m" or "64Gi"']],
  ])('says what is wrong with %s', (_what, text, problems) => {
    const [p] = pods(text).pods;
    expect(p?.pod).toBeUndefined();
    expect(p?.problems).toEqual(problems);
  });

  it.each([
    ['not YAML', 'kind: Pod\n  x: [', /^not YAML: document 1: /],
    ['a scalar', 'hello', /^document 1 is not a Kubernetes object/],
    ['a mapping without a kind', '---\nkind: Pod\nmetadata: {name: x}\n' + spec + '\n---\nmetadata: {name: y}\n', /^document 2 is not a Kubernetes object/],
    ['nothing with a pod', 'kind: ConfigMap\nmetadata: {name: c}\n', /^no Pod, Job, .* in the file \(only ConfigMap c\)$/],
    ['an empty file', '', /^no Pod, Job, .* in the file$/],
  ])('is a usage error for %s', (_what, text, message) => {
    const r = manifestPods(text);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(message);
  });
});
