// Builds a pod's assignment (domain/assignment.ts) with everything resolved the way a kubelet
// would: env from ConfigMaps, Secrets and the downward API, configMap/secret/downwardAPI volume
// files, image pull credentials from the pod's imagePullSecrets, and the devices of each container.
// A missing ConfigMap or Secret is a ConfigRefError (the pod waits, nothing is launched); a volume
// kind an instance cannot provide is a PodRejectedError. A container with `stdin: true` or
// `tty: true` gets orca_stdin_<c> / orca_tty_<c> lines, and the agent runs it with -i / -t (what
// kubectl attach needs).
import { allocateDevices, fnName, isServiceAccountVolume, renderAssignment, volumeProblems, type RegistryAuth, type VolumeFile } from '../domain/assignment.js';
import { ConfigRefError, PodRejectedError } from '../domain/errors.js';
import type { ContainerSpec, KeyToPath, Pod, Volume } from '../domain/pod.js';
import type { ConfigSource } from '../ports/kube.js';
import { fieldValue, resolveEnv } from '../provider/env.js';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

interface Source { readonly kind: 'configmap' | 'secret'; readonly name: string; readonly optional?: boolean; readonly items?: readonly KeyToPath[]; readonly defaultMode?: number }

const sourceOf = (v: Volume): Source | undefined => (v.configMap !== undefined
  ? { ...v.configMap, kind: 'configmap' }
  : v.secret === undefined ? undefined : { ...v.secret, kind: 'secret', name: v.secret.secretName });

async function dataOf(v: Volume, pod: Pod, src: ConfigSource): Promise<{ data: Readonly<Record<string, string>>; items?: readonly KeyToPath[]; mode?: number } | undefined> {
  const s = sourceOf(v);
  if (s === undefined) return undefined;
  const ns = pod.metadata.namespace;
  const data = s.kind === 'secret' ? await src.secret(ns, s.name) : await src.configMap(ns, s.name);
  if (data === undefined && s.optional !== true) throw new ConfigRefError(`volume ${v.name}: ${s.kind} "${s.name}" not found`);
  return { data: data ?? {}, ...(s.items === undefined ? {} : { items: s.items }), ...(s.defaultMode === undefined ? {} : { mode: s.defaultMode }) };
}

async function volumeFiles(v: Volume, pod: Pod, src: ConfigSource): Promise<VolumeFile[]> {
  if (v.downwardAPI !== undefined) {
    return (v.downwardAPI.items ?? []).filter((i) => i.fieldRef !== undefined)
      .map((i) => ({ volume: v.name, path: i.path, mode: i.mode ?? v.downwardAPI?.defaultMode ?? 0o644, base64: b64(fieldValue(pod, i.fieldRef?.fieldPath ?? '')) }));
  }
  const d = await dataOf(v, pod, src);
  if (d === undefined) return [];
  const items: readonly KeyToPath[] = d.items ?? Object.keys(d.data).map((key) => ({ key, path: key }));
  return items.filter((i) => d.data[i.key] !== undefined)
    .map((i) => ({ volume: v.name, path: i.path, mode: i.mode ?? d.mode ?? 0o644, base64: b64(d.data[i.key] ?? '') }));
}

type DockerAuth = { readonly username?: string; readonly password?: string; readonly auth?: string };

function credentials(registry: string, a: DockerAuth): RegistryAuth {
  const [user = '', ...pass] = a.auth === undefined ? [] : Buffer.from(a.auth, 'base64').toString('utf8').split(':');
  return { registry, username: a.username ?? user, password: a.password ?? pass.join(':') };
}

/** The registries of a .dockerconfigjson; a Secret that is not one is the pod's error, never retried. */
function dockerAuths(raw: string, secret: string): Record<string, DockerAuth> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new PodRejectedError('InvalidImagePullSecret', `imagePullSecrets: Secret "${secret}" has a .dockerconfigjson that is not valid JSON`);
  }
  const auths = (parsed as { auths?: unknown } | null)?.auths;
  if (typeof auths !== 'object' || auths === null || Array.isArray(auths)) {
    throw new PodRejectedError('InvalidImagePullSecret', `imagePullSecrets: Secret "${secret}" has a .dockerconfigjson without an "auths" object`);
  }
  return auths as Record<string, DockerAuth>;
}

async function registryAuth(pod: Pod, src: ConfigSource): Promise<RegistryAuth[]> {
  const out: RegistryAuth[] = [];
  for (const ref of pod.spec.imagePullSecrets ?? []) {
    const raw = (await src.secret(pod.metadata.namespace, ref.name))?.['.dockerconfigjson'];
    if (raw === undefined) continue;
    out.push(...Object.entries(dockerAuths(raw, ref.name)).map(([registry, a]) => credentials(registry, a)));
  }
  return out;
}


/** The agent runs a container whose line says true with -i (stdin) or -t (tty), so kubectl attach has them. */
export function terminalLines(pod: Pod): string[] {
  return [...(pod.spec.initContainers ?? []), ...pod.spec.containers].flatMap((c: ContainerSpec) => [
    ...(c.stdin === true ? [`orca_stdin_${fnName(c.name)}='true'`] : []),
    ...(c.tty === true ? [`orca_tty_${fnName(c.name)}='true'`] : []),
  ]);
}

/** The assignment text of `pod`; it holds secret values and must only go to the encrypted store. */
export async function buildAssignment(pod: Pod, src: ConfigSource): Promise<string> {
  const problems = volumeProblems(pod);
  if (problems.length > 0) throw new PodRejectedError('UnsupportedVolume', problems.join('; '));
  const devices = allocateDevices(pod);
  const plans = async (cs: Pod['spec']['containers'], ds: typeof devices.app) => Promise.all(cs.map(async (spec, i) => ({
    spec, env: (await resolveEnv(pod, spec, src)).map(({ name, value }) => ({ name, value })), devices: ds[i] ?? { gpus: [], neuron: [], efa: 0 },
  })));
  const volumes = (pod.spec.volumes ?? []).filter((v) => !isServiceAccountVolume(v));
  const text = renderAssignment({
    pod, init: await plans(pod.spec.initContainers ?? [], devices.init), app: await plans(pod.spec.containers, devices.app),
    emptyDirs: volumes.filter((v) => v.emptyDir !== undefined).map((v) => v.name),
    files: (await Promise.all(volumes.map((v) => volumeFiles(v, pod, src)))).flat(),
    registryAuth: await registryAuth(pod, src),
  });
  return text + terminalLines(pod).map((l) => `${l}\n`).join('');
}
