// The pods of a manifest file for `orca validate`: every YAML document that is a Pod, or a workload
// with a pod template (Job, Deployment, StatefulSet, DaemonSet, ReplicaSet, CronJob), as the Pod its
// controller would create. The shape ORCA reads is checked as the apiserver would check it
// (annotation values are strings, quantities parse), so that what follows sees a well-formed Pod.
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { err, ok, type Result } from './domain/result.js';
import type { Pod } from './domain/pod.js';
import { parseQuantity } from './domain/quantity.js';

/** One pod of the file: where it comes from, and the Pod or why there is none. */
export interface ManifestPod {
  /** "Job biology/train (pod template)", "Pod default/x". */
  readonly source: string;
  readonly pod?: Pod;
  /** What makes the object no valid Pod (each on its own line). */
  readonly problems: readonly string[];
}

export interface Manifests {
  readonly pods: readonly ManifestPod[];
  /** Documents without a pod ("Service default/web"). */
  readonly skipped: readonly string[];
}

const TEMPLATED: ReadonlySet<string> = new Set(['Job', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']);

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const field = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((v, k) => (isRecord(v) ? v[k] : undefined), o);

const Quantities = z.record(z.string(), z.union([z.string(), z.number()])).optional();
const Container = z.looseObject({
  name: z.string().min(1),
  resources: z.looseObject({ requests: Quantities, limits: Quantities }).optional(),
});
const PodSpec = z.looseObject({
  containers: z.array(Container).min(1, 'a pod needs at least one container'),
  initContainers: z.array(Container).optional(),
  volumes: z.array(z.looseObject({ name: z.string() })).optional(),
});
const Metadata = z.looseObject({
  name: z.string().optional(),
  annotations: z.record(z.string(), z.string('an annotation value must be a string: quote it in the YAML')).optional(),
  labels: z.record(z.string(), z.string()).optional(),
}).optional();

/** The pod template of an object, and the path it is at; undefined for kinds that have none. */
function templateOf(kind: string, o: Json): { readonly at: string; readonly template: unknown } | undefined {
  if (kind === 'Pod') return { at: '', template: { metadata: o['metadata'], spec: o['spec'] } };
  if (TEMPLATED.has(kind)) return { at: 'spec.template.', template: field(o, 'spec', 'template') };
  if (kind === 'CronJob') return { at: 'spec.jobTemplate.spec.template.', template: field(o, 'spec', 'jobTemplate', 'spec', 'template') };
  return undefined;
}

function quantityProblems(spec: z.infer<typeof PodSpec>, at: string): string[] {
  const all = [...spec.containers.map((c) => ['containers', c] as const), ...(spec.initContainers ?? []).map((c) => ['initContainers', c] as const)];
  return all.flatMap(([list, c]) => (['requests', 'limits'] as const).flatMap((k) => Object.entries(c.resources?.[k] ?? {})
    .filter(([, q]) => (parseQuantity(String(q)) ?? -1) < 0)
    .map(([r, q]) => `${at}spec.${list}[${c.name}].resources.${k}.${r}: "${String(q)}" is not a quantity such as "8", "500m" or "64Gi"`)));
}

/** Quantities as the strings the API returns ("8", not 8). */
const stringQuantities = (spec: unknown): unknown => JSON.parse(JSON.stringify(spec, (k, v: unknown) => ((k === 'requests' || k === 'limits') && isRecord(v)
  ? Object.fromEntries(Object.entries(v).map(([r, q]) => [r, String(q)])) : v)));

const text = (v: unknown, fallback: string): string => (typeof v === 'string' && v !== '' ? v : fallback);

/** What the schemas found wrong, each with its path in the object. */
function shapeProblems(found: { readonly at: string }, parts: readonly (readonly [string, z.ZodSafeParseResult<unknown>])[]): string[] {
  return parts.flatMap(([root, r]) => (r.success ? [] : r.error.issues.map((i) => `${found.at}${[root, ...i.path.map(String)].join('.')}: ${i.message}`)));
}

function podOf(kind: string, o: Json, found: { readonly at: string; readonly template: unknown }): ManifestPod {
  const namespace = text(field(o, 'metadata', 'namespace'), 'default');
  const name = text(field(o, 'metadata', 'name'), '(unnamed)');
  const source = `${kind} ${namespace}/${name}${found.at === '' ? '' : ' (pod template)'}`;
  if (!isRecord(found.template)) return { source, problems: [`${found.at.replace(/\.$/, '')}: missing: a ${kind} needs a pod template`] };
  const meta = Metadata.safeParse(found.template['metadata']);
  const spec = PodSpec.safeParse(found.template['spec']);
  const problems = [...shapeProblems(found, [['metadata', meta], ['spec', spec]]), ...(spec.success ? quantityProblems(spec.data, found.at) : [])];
  if (!meta.success || !spec.success || problems.length > 0) return { source, problems };
  return { source, pod: podFrom({ namespace, name }, meta.data ?? {}, spec.data), problems: [] };
}

/** The Pod the workload's controller would create (a fixed UID: nothing is created). */
function podFrom(id: { readonly namespace: string; readonly name: string }, m: NonNullable<z.infer<typeof Metadata>>, spec: z.infer<typeof PodSpec>): Pod {
  return {
    metadata: { namespace: id.namespace, name: m.name ?? id.name, uid: '00000000-0000-4000-8000-000000000000', annotations: m.annotations ?? {}, labels: m.labels ?? {} },
    spec: stringQuantities(spec),
  } as Pod;
}

/** The documents of the text as plain values, or why it is not YAML. */
function documents(source: string): Result<unknown[], string> {
  const list = [...parseAllDocuments(source)];
  const broken = list.flatMap((d, i) => d.errors.map((e) => `document ${i + 1}: ${e.message.split('\n')[0] ?? e.message}`));
  return broken.length > 0 ? err(`not YAML: ${broken.join('; ')}`) : ok(list.map((d) => d.toJS() as unknown));
}

/** The pods of a file's YAML documents, or a usage error (not YAML, not Kubernetes objects, no pod at all). */
export function manifestPods(source: string): Result<Manifests, string> {
  const docs = documents(source);
  if (!docs.ok) return docs;
  const pods: ManifestPod[] = [];
  const skipped: string[] = [];
  for (const [i, o] of docs.value.entries()) {
    if (o === null || o === undefined) continue;
    const kind = field(o, 'kind');
    if (!isRecord(o) || typeof kind !== 'string') return err(`document ${i + 1} is not a Kubernetes object (it has no kind)`);
    const found = templateOf(kind, o);
    if (found === undefined) skipped.push(`${kind} ${text(field(o, 'metadata', 'name'), '(unnamed)')}`);
    else pods.push(podOf(kind, o, found));
  }
  if (pods.length === 0) return err(`no Pod, Job, Deployment, StatefulSet, DaemonSet, ReplicaSet or CronJob in the file${skipped.length > 0 ? ` (only ${skipped.join(', ')})` : ''}`);
  return ok({ pods, skipped });
}
