// What the demo needs before it starts anything: the test bed's binaries (built once into
// ~/.cache/orca-testbed by test/e2e/testbed/build/all.sh, each component's line shown as it comes
// with the elapsed time) and ORCA's build (npm run build when dist/ is missing or older than src/).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { binaries, cacheDir, readVersions, repoRoot, testbedDir } from '../../test/e2e/testbed/paths.js';
import type { Progress } from './progress.js';

/** The bed's binaries the demo runs (helm and metrics-server are not among them), by component and version. */
function neededBinaries(): Record<string, string> {
  const v = readVersions();
  const b = binaries(v);
  const k8s = `Kubernetes ${v.kubernetes}`;
  return {
    [`etcd ${v.etcd}`]: b.etcd, [`kube-apiserver (${k8s})`]: b.kubeApiserver, [`kube-controller-manager (${k8s})`]: b.kubeControllerManager,
    [`kube-scheduler (${k8s})`]: b.kubeScheduler, [`kubectl (${k8s})`]: b.kubectl, [`moto ${v.moto}`]: b.motoServer, [`AWS CLI (beside moto ${v.moto})`]: b.awsCli,
  };
}

/** Runs `command`, each output line through `line`; rejects on a non-zero exit with the last lines. */
export function runStreaming(command: string, args: readonly string[], line: (text: string) => void, signal: AbortSignal): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, [...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], signal });
    const tail: string[] = [];
    const keep = (text: string): void => { tail.push(text); if (tail.length > 20) tail.shift(); };
    createInterface({ input: child.stdout }).on('line', (t) => { keep(t); line(t); });
    createInterface({ input: child.stderr }).on('line', keep);
    child.on('error', reject);
    child.on('exit', (code, sig) => {
      if (code === 0) resolveRun();
      else reject(new Error(`${command} ${args.join(' ')} failed (${sig ?? `exit ${String(code)}`}):\n${tail.join('\n')}`));
    });
  });
}

export async function ensureTestbed(progress: Progress, signal: AbortSignal): Promise<void> {
  const needed = Object.entries(neededBinaries());
  const missing = needed.filter(([, path]) => !existsSync(path)).map(([name]) => name);
  if (missing.length === 0) {
    progress.step(`test bed: every component cached in ${cacheDir()}`);
    for (const [name] of needed) progress.step(`  ${name}: cached`);
    return;
  }
  progress.step(`building the test bed into ${cacheDir()} (missing: ${missing.join(', ')}); the first build compiles etcd and Kubernetes with Go and takes several minutes`);
  const ticker = setInterval(() => { progress.step('  … still building'); }, 30_000);
  try {
    await runStreaming('bash', [join(testbedDir, 'build', 'all.sh')], (text) => { progress.step(`  ${text}`); }, signal);
  } finally {
    clearInterval(ticker);
  }
  progress.step('test bed built');
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) newest = Math.max(newest, statSync(join(e.parentPath, e.name)).mtimeMs);
  }
  return newest;
}

export async function ensureBuild(progress: Progress, signal: AbortSignal): Promise<void> {
  const main = join(repoRoot, 'dist', 'main.js');
  if (existsSync(main) && statSync(main).mtimeMs >= newestMtime(join(repoRoot, 'src'))) {
    progress.step('ORCA is built (dist/ is newer than src/)');
    return;
  }
  progress.step(existsSync(main) ? 'src/ changed since the last build: npm run build' : 'building ORCA: npm run build');
  await runStreaming('npm', ['run', '--silent', 'build'], (text) => { progress.step(`  ${text}`); }, signal);
  progress.step('ORCA built');
}
