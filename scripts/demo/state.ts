// The demo's state directory (ORCA_DEMO_DIR, default .demo/ in the repository): state.json, written
// by `up` step by step (so a demo being brought up is known too), and supervisor.json, written by the
// supervisor once ORCA runs. `down` and a second `up` read both; every recorded pid is checked alive.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot } from '../../test/e2e/testbed/paths.js';
import type { ComponentInfo } from '../../test/e2e/testbed/testbed.js';
import { isAlive } from './processes.js';

export interface DemoPaths {
  readonly dir: string;
  readonly state: string;
  readonly supervisor: string;
  readonly env: string;
  readonly config: string;
  /** The bed's run directory (certificates, kubeconfig, etcd data) and every log. */
  readonly run: string;
  readonly logs: string;
}

export function demoPaths(env: NodeJS.ProcessEnv): DemoPaths {
  const dir = resolve(repoRoot, env.ORCA_DEMO_DIR ?? '.demo');
  const run = join(dir, 'run');
  return {
    dir, run, logs: join(run, 'logs'),
    state: join(dir, 'state.json'), supervisor: join(dir, 'supervisor.json'), env: join(dir, 'env'), config: join(dir, 'config.yaml'),
  };
}

/** What the supervisor and the commands a user runs need of the bed. */
export interface BedInfo {
  readonly kubeconfig: string;
  readonly kubectl: string;
  readonly apiserverUrl: string;
  readonly aws: { readonly endpoint: string; readonly region: string; readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly awsCli: string;
  readonly pki: { readonly caCert: string; readonly orcaServingCert: string; readonly orcaServingKey: string };
  readonly components: readonly ComponentInfo[];
}

export interface DemoState {
  readonly startedAt: string;
  /** The `up` that brought the demo up (alive only while it runs). */
  readonly upPid: number;
  readonly bed?: BedInfo;
  readonly supervisorPid?: number;
  /** A copy of supervisor.json, once the supervisor has written it. */
  readonly supervisor?: SupervisorState;
  /** When `up` finished and left the demo running. */
  readonly readyAt?: string;
}

/** What the supervisor records once ORCA runs. */
export interface SupervisorState {
  readonly pid: number;
  readonly orcaPid: number;
  readonly node: string;
  readonly clusterId: string;
  /** Every loopback port the supervisor's processes listen on, by what listens. */
  readonly ports: Readonly<Record<string, number>>;
  readonly orcaLog: string;
}

function readJson(file: string): unknown {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** Written whole or not at all (a reader never sees half a file). */
export function writeJson(file: string, value: unknown): void {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

export const readState = (p: DemoPaths): DemoState | undefined => readJson(p.state) as DemoState | undefined;
export const readSupervisor = (p: DemoPaths): SupervisorState | undefined => readJson(p.supervisor) as SupervisorState | undefined;

/** Every pid the demo recorded: the `up`, the bed's components, the supervisor and ORCA. */
export function recordedPids(state: DemoState, sup: SupervisorState | undefined): number[] {
  const pids = [state.upPid, ...(state.bed?.components ?? []).map((c) => c.pid)];
  if (state.supervisorPid !== undefined) pids.push(state.supervisorPid);
  for (const s of [sup, state.supervisor]) if (s !== undefined) pids.push(s.pid, s.orcaPid);
  return [...new Set(pids)];
}

/** The recorded pids still alive, other than this process. */
export function livePids(p: DemoPaths): number[] {
  const state = readState(p);
  if (state === undefined) return [];
  return recordedPids(state, readSupervisor(p)).filter((pid) => pid !== process.pid && isAlive(pid));
}

/** Removes the state files (logs and certificates stay for a look afterwards). */
export function clearState(p: DemoPaths): void {
  rmSync(p.state, { force: true });
  rmSync(p.supervisor, { force: true });
  rmSync(p.env, { force: true });
}
