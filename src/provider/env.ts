// Resolves a container's environment the way a kubelet does, for every provider to call: envFrom
// (ConfigMaps, Secrets, with prefixes) first, then env in order — literal values with $(VAR)
// expansion, configMapKeyRef, secretKeyRef and fieldRef (the downward API). Values from Secrets are
// marked so that callers can keep them out of user data, tags, Events and logs.
import { ConfigRefError, PodRejectedError } from '../domain/errors.js';
import type { ContainerSpec, EnvFromSource, EnvVar, KeyRef, Pod } from '../domain/pod.js';
import type { ConfigSource } from '../ports/kube.js';

export interface ResolvedEnvVar {
  readonly name: string;
  readonly value: string;
  /** True when the value came from a Secret. */
  readonly secret: boolean;
}

type Kind = 'configmap' | 'secret';
type Data = Readonly<Record<string, string>> | undefined;

const validName = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** Reads each ConfigMap and Secret once per resolution. */
function cachedSource(src: ConfigSource, namespace: string): (kind: Kind, name: string) => Promise<Data> {
  const seen = new Map<string, Promise<Data>>();
  return (kind, name) => {
    const k = `${kind}/${name}`;
    let p = seen.get(k);
    if (p === undefined) {
      p = kind === 'secret' ? src.secret(namespace, name) : src.configMap(namespace, name);
      seen.set(k, p);
    }
    return p;
  };
}

/** $(VAR) becomes VAR's value when VAR is already defined; $$ escapes; anything else stays as written. */
export function expand(text: string, vars: ReadonlyMap<string, string>): string {
  return text.replace(/\$\$|\$\(([^)]*)\)/g, (m: string, name: string | undefined) => {
    if (m === '$$') return '$';
    return name !== undefined && vars.has(name) ? vars.get(name) ?? '' : m;
  });
}

export function fieldValue(pod: Pod, path: string): string {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m !== null) return (m[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations)?.[m[2] ?? ''] ?? '';
  const simple: Record<string, string | undefined> = {
    'metadata.name': pod.metadata.name,
    'metadata.namespace': pod.metadata.namespace,
    'metadata.uid': pod.metadata.uid,
    'spec.nodeName': pod.spec.nodeName,
    'spec.serviceAccountName': pod.spec.serviceAccountName,
    'status.hostIP': pod.status?.hostIP,
    'status.podIP': pod.status?.podIP,
  };
  if (!(path in simple)) throw new PodRejectedError('UnsupportedFieldRef', `env fieldRef ${path} is not supported`);
  return simple[path] ?? '';
}

async function fromRef(kind: Kind, ref: KeyRef, get: (kind: Kind, name: string) => Promise<Data>): Promise<string | undefined> {
  const data = await get(kind, ref.name);
  const value = data?.[ref.key];
  if (value !== undefined || ref.optional === true) return value;
  throw new ConfigRefError(data === undefined ? `${kind} "${ref.name}" not found` : `couldn't find key ${ref.key} in ${kind} "${ref.name}"`);
}

async function fromEnvFrom(src: EnvFromSource, get: (kind: Kind, name: string) => Promise<Data>): Promise<ResolvedEnvVar[]> {
  const kind: Kind = src.secretRef === undefined ? 'configmap' : 'secret';
  const ref = src.secretRef ?? src.configMapRef;
  if (ref === undefined) return [];
  const data = await get(kind, ref.name);
  if (data === undefined) {
    if (ref.optional === true) return [];
    throw new ConfigRefError(`${kind} "${ref.name}" not found`);
  }
  return Object.entries(data)
    .map(([k, value]) => ({ name: `${src.prefix ?? ''}${k}`, value, secret: kind === 'secret' }))
    .filter((v) => validName.test(v.name));
}

async function fromEnvVar(pod: Pod, v: EnvVar, vars: ReadonlyMap<string, string>, get: (kind: Kind, name: string) => Promise<Data>): Promise<ResolvedEnvVar | undefined> {
  const from = v.valueFrom;
  if (from === undefined) return { name: v.name, value: expand(v.value ?? '', vars), secret: false };
  if (from.fieldRef !== undefined) return { name: v.name, value: fieldValue(pod, from.fieldRef.fieldPath), secret: false };
  const [kind, ref]: [Kind, KeyRef | undefined] = from.secretKeyRef === undefined ? ['configmap', from.configMapKeyRef] : ['secret', from.secretKeyRef];
  if (ref === undefined) throw new PodRejectedError('UnsupportedEnvSource', `env ${v.name}: only value, configMapKeyRef, secretKeyRef and fieldRef are supported`);
  const value = await fromRef(kind, ref, get);
  return value === undefined ? undefined : { name: v.name, value, secret: kind === 'secret' };
}

/** The container's environment, in the order a kubelet would set it; later names win. */
export async function resolveEnv(pod: Pod, container: ContainerSpec, src: ConfigSource): Promise<ResolvedEnvVar[]> {
  const get = cachedSource(src, pod.metadata.namespace);
  const out = new Map<string, ResolvedEnvVar>();
  for (const ef of container.envFrom ?? []) for (const v of await fromEnvFrom(ef, get)) out.set(v.name, v);
  for (const e of container.env ?? []) {
    const vars = new Map([...out.values()].map((v) => [v.name, v.value]));
    const v = await fromEnvVar(pod, e, vars, get);
    if (v !== undefined) out.set(v.name, v);
  }
  return [...out.values()];
}
