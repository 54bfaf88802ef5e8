// `npm run demo`: brings the demo up step by step, recording each started process in the state as
// it goes, so that Ctrl-C (the signal aborts `signal`) or any failure stops everything started so far.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '../../test/e2e/testbed/paths.js';
import { kubectlOf, prepareCluster, startBed } from './bed.js';
import { runQuickstart, waitNodeReady, type Watch } from './job.js';
import { isAlive } from './processes.js';
import type { Progress } from './progress.js';
import { stopDemo } from './teardown.js';
import { usage, writeEnvFile } from './usage.js';
import { printUserView } from './user-view.js';
import { clearState, livePids, readState, readSupervisor, writeJson, type BedInfo, type DemoPaths, type DemoState, type SupervisorState } from './state.js';

/** A demo already runs: `up` refuses and stops nothing. */
export class DemoRunningError extends Error {
  override readonly name = 'DemoRunningError';
}

export interface UpOptions {
  readonly paths: DemoPaths;
  readonly progress: Progress;
  readonly signal: AbortSignal;
}

function tailOf(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).map((l) => `  ${l}`).join('\n');
  } catch {
    return '  (no log)';
  }
}

/** Refuses while a recorded process lives; clears a stale state whose processes are all gone. */
function claim(o: UpOptions): DemoState {
  const state = readState(o.paths);
  if (state !== undefined && livePids(o.paths).length > 0) {
    throw new DemoRunningError(`a demo is already running (started ${state.startedAt}); npm run demo:down stops it`);
  }
  if (state !== undefined) {
    o.progress.step(`a previous demo's state was left in ${o.paths.dir} and none of its processes runs: cleared`);
    clearState(o.paths);
  }
  const fresh: DemoState = { startedAt: new Date().toISOString(), upPid: process.pid };
  writeJson(o.paths.state, fresh);
  return fresh;
}

function spawnSupervisor(paths: DemoPaths): number {
  mkdirSync(paths.logs, { recursive: true });
  const fd = openSync(join(paths.logs, 'supervisor.log'), 'a');
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts', 'demo', 'supervisor.ts')], {
      cwd: repoRoot, detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, ORCA_DEMO_DIR: paths.dir },
    });
    child.unref();
    if (child.pid === undefined) throw new Error('the supervisor did not start');
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** Throws, with the supervisor's and ORCA's last lines, once the supervisor is gone. */
function supervisorCheck(paths: DemoPaths, pid: number): () => void {
  return () => {
    if (isAlive(pid)) return;
    throw new Error(`the supervisor stopped; its log:\n${tailOf(join(paths.logs, 'supervisor.log'))}\nORCA's log:\n${tailOf(join(paths.logs, 'orca.log'))}`);
  };
}

async function waitSupervisor(o: UpOptions, check: () => void): Promise<SupervisorState> {
  for (let i = 0; i < 120; i++) {
    o.signal.throwIfAborted();
    check();
    const sup = readSupervisor(o.paths);
    if (sup !== undefined) return sup;
    await sleep(500);
  }
  throw new Error(`the supervisor did not start ORCA within 60 s; its log:\n${tailOf(join(o.paths.logs, 'supervisor.log'))}`);
}

async function startAll(o: UpOptions, state: DemoState): Promise<{ bed: BedInfo; watch: Watch }> {
  o.progress.step('starting the control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) and moto');
  const bed = await startBed(o.paths);
  writeJson(o.paths.state, { ...state, bed });
  o.progress.step(`control plane up at ${bed.apiserverUrl}, moto at ${bed.aws.endpoint}`);
  o.signal.throwIfAborted();
  await prepareCluster(bed, o.paths, o.progress, o.signal);
  const supervisorPid = spawnSupervisor(o.paths);
  writeJson(o.paths.state, { ...state, bed, supervisorPid });
  const check = supervisorCheck(o.paths, supervisorPid);
  const sup = await waitSupervisor(o, check);
  writeJson(o.paths.state, { ...state, bed, supervisorPid, supervisor: sup });
  o.progress.step(`instance emulator and Session Manager stand-in up; ORCA running (pid ${sup.orcaPid}, config ${o.paths.config})`);
  return { bed, watch: { kubectl: kubectlOf(bed), progress: o.progress, signal: o.signal, check } };
}

/** Brings the demo up and leaves it running; on any failure or abort, stops what it started and rethrows. */
export async function up(o: UpOptions, prepare: () => Promise<void>): Promise<void> {
  const state = claim(o);
  try {
    await prepare();
    const { bed, watch } = await startAll(o, state);
    await waitNodeReady(watch, 120_000);
    const outcome = await runQuickstart(watch, 240_000);
    await printUserView({ bed, kubectl: watch.kubectl, pod: outcome.pod, progress: o.progress });
    if (!outcome.succeeded) throw new Error(`the quickstart Job failed: its pod ${outcome.pod} did not succeed (its Events and logs are above)`);
    writeEnvFile(o.paths, bed);
    writeJson(o.paths.state, { ...readState(o.paths), readyAt: new Date().toISOString() });
    o.progress.raw(usage(o.paths, o.progress.elapsed()));
  } catch (e) {
    o.progress.step(`stopping everything the demo started (${o.signal.aborted ? 'interrupted' : 'failed'})`);
    await stopDemo(o.paths);
    throw e;
  }
}

