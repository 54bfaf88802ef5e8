// Stopping a demo, from its recorded state: a still-running `up` is asked to stop (it tears down what
// it started), then the supervisor (ORCA, the emulator's instances, the stand-in, the proxy), then the
// bed's components in reverse order; whatever of the recorded process trees is still alive after that
// is killed. The state files go; logs and certificates stay in the run directory.
import { removeData } from '../../test/e2e/testbed/testbed.js';
import { descendants, isAlive, killHard, stopPids, waitGone } from './processes.js';
import { clearState, readState, readSupervisor, recordedPids, type DemoPaths } from './state.js';

async function stopUp(upPid: number): Promise<void> {
  if (upPid === process.pid || !isAlive(upPid)) return;
  process.kill(upPid, 'SIGTERM');
  await waitGone([upPid], 120_000);
}

/** Stops everything the demo's state records; resolves with the pids that had to be killed. */
export async function stopDemo(paths: DemoPaths): Promise<number[]> {
  const first = readState(paths);
  if (first !== undefined) await stopUp(first.upPid);
  const state = readState(paths);
  if (state === undefined) return [];
  const sup = readSupervisor(paths);
  const roots = recordedPids(state, sup).filter((pid) => pid !== process.pid);
  const tree = [...roots, ...descendants(roots)];
  const supervisor = state.supervisorPid ?? sup?.pid;
  if (supervisor !== undefined) await stopPids([supervisor], 40_000);
  for (const c of [...(state.bed?.components ?? [])].reverse()) await stopPids([c.pid], 5000);
  const survivors = tree.filter((pid) => pid !== process.pid && isAlive(pid));
  killHard(survivors);
  await waitGone(survivors, 5000);
  removeData(paths.run);
  clearState(paths);
  return survivors;
}
