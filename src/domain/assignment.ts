// A pod's assignment as the on-instance agent reads it (architecture §2): a POSIX shell fragment
// that only sets variables and defines functions, built from single-quoted literals, so nothing in
// it runs by being read and no pod field can break out of its quotes. The agent sources it, then
// calls orca_run_<container> with its own `docker run` flags in front of the pod's. Pure.
import type { ContainerSpec, Pod, Volume } from './pod.js';
import { parseQuantity } from './quantity.js';

export interface EnvPair { readonly name: string; readonly value: string }

/** Devices on the instance given to one container (indices from 0). */
export interface Devices { readonly gpus: readonly number[]; readonly neuron: readonly number[]; readonly efa: number }

export interface ContainerPlan {
  readonly spec: ContainerSpec;
  readonly env: readonly EnvPair[];
  readonly devices: Devices;
}

/** A file of a configMap, secret or downwardAPI volume; content is base64. */
export interface VolumeFile { readonly volume: string; readonly path: string; readonly mode: number; readonly base64: string }

export interface RegistryAuth { readonly registry: string; readonly username: string; readonly password: string }

export interface Assignment {
  readonly pod: Pod;
  readonly init: readonly ContainerPlan[];
  readonly app: readonly ContainerPlan[];
  readonly emptyDirs: readonly string[];
  readonly files: readonly VolumeFile[];
  readonly registryAuth: readonly RegistryAuth[];
}

/** The volume kinds a burst instance provides. */
const supported = ['emptyDir', 'configMap', 'secret', 'downwardAPI'] as const;

/** The service-account token volume the apiserver adds to every pod: dropped (burst instances do not reach the apiserver). */
export const isServiceAccountVolume = (v: Volume): boolean => v.projected !== undefined && v.name.startsWith('kube-api-access-');

/** Why each volume the instance cannot provide is refused (PVC, hostPath …); empty when all are fine. */
export function volumeProblems(pod: Pod): string[] {
  return (pod.spec.volumes ?? []).filter((v) => !isServiceAccountVolume(v) && !supported.some((k) => v[k] !== undefined)).map((v) => {
    const kind = Object.keys(v).find((k) => k !== 'name') ?? 'unknown';
    return `volume ${v.name}: ${kind} volumes are not supported on burst instances (use emptyDir, configMap, secret or downwardAPI)`;
  });
}

/** Single-quotes `s` for POSIX sh: the only character that needs care inside single quotes is the quote itself. */
export function shq(s: string): string {
  if (s.includes('\0')) throw new Error('a value contains a NUL character, which no process argument can carry');
  return `'${s.replaceAll("'", "'\\''")}'`;
}

/** Shell-safe function name part for a container name (DNS label: a-z, 0-9, '-'). */
export const fnName = (container: string): string => container.replaceAll('-', '_');

function firstOf(limits: Readonly<Record<string, string>> | undefined, key: string): number {
  const v = Number(limits?.[key] ?? '0');
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : 0;
}

/**
 * Gives devices to containers the way a device plugin would: app containers get disjoint ranges
 * in order; init containers run one at a time, so each may use the first devices.
 */
export function allocateDevices(pod: Pod): { readonly init: readonly Devices[]; readonly app: readonly Devices[] } {
  const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);
  const want = (c: ContainerSpec) => ({
    gpus: firstOf(c.resources?.limits, 'nvidia.com/gpu'),
    neuron: firstOf(c.resources?.limits, 'aws.amazon.com/neuron'),
    efa: firstOf(c.resources?.limits, 'vpc.amazonaws.com/efa'),
  });
  const init = (pod.spec.initContainers ?? []).map((c) => { const w = want(c); return { gpus: range(0, w.gpus), neuron: range(0, w.neuron), efa: w.efa }; });
  let gpu = 0;
  let neuron = 0;
  const app = pod.spec.containers.map((c) => {
    const w = want(c);
    const d = { gpus: range(gpu, w.gpus), neuron: range(neuron, w.neuron), efa: w.efa };
    gpu += w.gpus;
    neuron += w.neuron;
    return d;
  });
  return { init, app };
}

/** The pod's own `docker run` words for one container: env, workdir, mounts, limits, security, image, command. */
export function containerWords(c: ContainerPlan, pod: Pod): string[] {
  const s = c.spec;
  const [entry, ...rest] = s.command ?? [];
  return [
    ...c.env.flatMap((e) => ['-e', shq(`${e.name}=${e.value}`)]),
    ...(s.workingDir === undefined ? [] : ['--workdir', shq(s.workingDir)]),
    ...mountWords(s, pod),
    ...securityWords(s),
    ...limitWords(s),
    ...(entry === undefined ? [] : ['--entrypoint', shq(entry)]),
    shq(s.image ?? ''),
    ...[...rest, ...(s.args ?? [])].map(shq),
  ];
}

function mountWords(s: ContainerSpec, pod: Pod): string[] {
  return (s.volumeMounts ?? []).flatMap((m) => {
    const vol = (pod.spec.volumes ?? []).find((v) => v.name === m.name);
    if (vol === undefined || isServiceAccountVolume(vol)) return [];
    const sub = m.subPath === undefined || m.subPath === '' ? '' : `/${m.subPath}`;
    return ['-v', `"$ORCA_VOLUMES"${shq(`/${m.name}${sub}:${m.mountPath}${m.readOnly === true ? ':ro' : ''}`)}`];
  });
}

function securityWords(s: ContainerSpec): string[] {
  const sc = s.securityContext ?? {};
  const user = sc.runAsUser === undefined ? undefined : [sc.runAsUser, sc.runAsGroup].filter((x) => x !== undefined).join(':');
  return [
    ...(user === undefined ? [] : ['--user', shq(user)]),
    ...(sc.privileged === true ? ['--privileged'] : []),
    ...(sc.readOnlyRootFilesystem === true ? ['--read-only'] : []),
    ...(sc.capabilities?.add ?? []).flatMap((cap) => ['--cap-add', shq(cap)]),
    ...(sc.capabilities?.drop ?? []).flatMap((cap) => ['--cap-drop', shq(cap)]),
  ];
}

function limitWords(s: ContainerSpec): string[] {
  const l = s.resources?.limits ?? {};
  const words: string[] = [];
  const cpu = l.cpu;
  if (cpu !== undefined) words.push('--cpus', shq(dockerNumber(cpu, (cores) => cores)));
  const mem = l.memory;
  if (mem !== undefined) words.push('--memory', shq(dockerNumber(mem, Math.ceil)));
  return words;
}

/** A Kubernetes quantity as a plain number docker accepts (cores; whole bytes); as given when it is none. */
function dockerNumber(q: string, round: (n: number) => number): string {
  const n = parseQuantity(q);
  return n === undefined ? q : String(round(n));
}

function containerBlock(kind: 'init' | 'app', c: ContainerPlan, pod: Pod): string[] {
  const n = fnName(c.spec.name);
  return [
    `orca_image_${n}=${shq(c.spec.image ?? '')}`,
    `orca_gpus_${n}=${shq(c.devices.gpus.join(','))}`,
    `orca_neuron_${n}=${shq(c.devices.neuron.join(' '))}`,
    `orca_efa_${n}=${shq(String(c.devices.efa))}`,
    `orca_run_${n}() { "$@" ${containerWords(c, pod).join(' ')}; }`,
    `# ${kind} container ${c.spec.name}`,
  ];
}

/** The assignment text. Secret values appear in it: it is stored encrypted and read only by the pod's instance. */
export function renderAssignment(a: Assignment): string {
  const { pod } = a;
  const names = (cs: readonly ContainerPlan[]): string => shq(cs.map((c) => c.spec.name).join(' '));
  const lines = [
    '# orca-assignment v1',
    `ORCA_POD_NAMESPACE=${shq(pod.metadata.namespace)}`,
    `ORCA_POD_NAME=${shq(pod.metadata.name)}`,
    `ORCA_POD_UID=${shq(pod.metadata.uid)}`,
    `ORCA_RESTART_POLICY=${shq(pod.spec.restartPolicy ?? 'Always')}`,
    `ORCA_GRACE_SECONDS=${shq(String(pod.spec.terminationGracePeriodSeconds ?? 30))}`,
    `ORCA_INIT_CONTAINERS=${names(a.init)}`,
    `ORCA_CONTAINERS=${names(a.app)}`,
    `ORCA_EMPTY_DIRS=${shq(a.emptyDirs.join(' '))}`,
    ...a.init.flatMap((c) => containerBlock('init', c, pod)),
    ...a.app.flatMap((c) => containerBlock('app', c, pod)),
    'orca_volume_files() {',
    ...a.files.map((f) => `  orca_file ${shq(f.volume)} ${shq(f.path)} ${shq(f.mode.toString(8))} ${shq(f.base64)}`),
    '  :',
    '}',
    'orca_registry_logins() {',
    ...a.registryAuth.map((r) => `  orca_login ${shq(r.registry)} ${shq(r.username)} ${shq(r.password)}`),
    '  :',
    '}',
    '',
  ];
  return lines.join('\n');
}
