// `npm run demo` and `npm run demo:down` as a person runs them, in this repository, with their own
// state directory (ORCA_DEMO_DIR) so a demo someone runs here is not touched. The demo starts its own
// second test bed beside the suites' one (every bed takes free ports). Up brings the quickstart Job
// to Succeeded and prints the user view; a second up while it runs refuses; down leaves none of the
// recorded processes (nor their children) alive and none of their ports listening. A SIGINT during
// up (Ctrl-C: the whole foreground process group gets it) stops everything up had started.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { descendants, isAlive } from '../../scripts/demo/processes.js';
import type { DemoState, SupervisorState } from '../../scripts/demo/state.js';
import { repoRoot } from './testbed/paths.js';
import { runCommand } from './testbed/testbed.js';

const dirs: string[] = [];
let failed = false;

/** The demo's own logs, for a failing test's output: the supervisor's, and ORCA's warnings and errors. */
function demoLogs(dir: string): string {
  const tail = (file: string, keep: (l: string) => boolean, n: number): string =>
    (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(keep).slice(-n).map((l) => l.slice(0, 600)).join('\n') : '(none)');
  const logs = join(dir, 'run', 'logs');
  return `--- ${logs}/supervisor.log\n${tail(join(logs, 'supervisor.log'), () => true, 30)}\n`
    + `--- ${logs}/orca.log (level >= 40)\n${tail(join(logs, 'orca.log'), (l) => /"level":[4-6]0/.test(l), 30)}\n`;
}

beforeEach(({ onTestFailed }) => {
  onTestFailed(() => {
    failed = true;
    for (const dir of dirs) process.stderr.write(`\ndemo logs in ${dir}:\n${demoLogs(dir)}`);
  });
});

function demoDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'orca-demo-e2e-'));
  dirs.push(dir);
  return dir;
}

interface Run {
  readonly pid: number;
  output(): string;
  readonly exited: Promise<number | null>;
}

/** `npm run <script>` in the repository, in its own process group (as a shell runs a foreground job). */
function npmRun(script: string, dir: string): Run {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST')));
  const child = spawn('npm', ['run', script], { cwd: repoRoot, env: { ...env, ORCA_DEMO_DIR: dir }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => { child.once('exit', (code) => { resolve(code); }); });
  return { pid: child.pid ?? 0, output: () => out, exited };
}

async function npmDone(script: string, dir: string): Promise<{ code: number | null; out: string }> {
  const r = npmRun(script, dir);
  const code = await r.exited;
  return { code, out: r.output() };
}

const readJson = (file: string): unknown => (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as unknown : undefined);
const readState = (dir: string): DemoState | undefined => readJson(join(dir, 'state.json')) as DemoState | undefined;
const readSupervisor = (dir: string): SupervisorState | undefined => readJson(join(dir, 'supervisor.json')) as SupervisorState | undefined;

/** Every pid the state records, and every process below them now. */
function demoProcesses(dir: string): number[] {
  const state = readState(dir);
  const sup = readSupervisor(dir);
  const roots = [
    ...(state?.bed?.components ?? []).map((c) => c.pid),
    ...(state?.supervisorPid === undefined ? [] : [state.supervisorPid]),
    ...(sup === undefined ? [] : [sup.pid, sup.orcaPid]),
  ];
  return [...new Set([...roots, ...descendants(roots)])];
}

/** Listening TCP sockets (IPv4 and IPv6): inode → port. */
function listeners(): Map<string, number> {
  const out = new Map<string, number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of (existsSync(file) ? readFileSync(file, 'utf8') : '').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A' && f[1] !== undefined && f[9] !== undefined) out.set(f[9], parseInt(f[1].split(':').at(-1) ?? '0', 16));
    }
  }
  return out;
}

/** The ports the processes listen on, from their sockets in /proc. */
function portsOf(pids: readonly number[]): number[] {
  const byInode = listeners();
  const ports = new Set<number>();
  const entries = (dir: string): string[] => { try { return readdirSync(dir); } catch { return []; } };
  const target = (link: string): string => { try { return readlinkSync(link); } catch { return ''; } };
  for (const pid of pids) {
    for (const fd of entries(`/proc/${pid}/fd`)) {
      const port = byInode.get(/^socket:\[(\d+)\]$/.exec(target(`/proc/${pid}/fd/${fd}`))?.[1] ?? '');
      if (port !== undefined) ports.add(port);
    }
  }
  return [...ports].sort((a, b) => a - b);
}

const listening = (ports: readonly number[]): number[] => {
  const now = new Set(listeners().values());
  return ports.filter((p) => now.has(p));
};

afterAll(async () => {
  // A failed test must not leave a demo behind; its logs stay for a look.
  for (const dir of dirs) {
    if (existsSync(join(dir, 'state.json'))) await npmDone('demo:down', dir);
    if (!failed) rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

describe('npm run demo', () => {
  it('runs the quickstart Job to Succeeded and prints the user view; a second demo refuses; down leaves no process or listener', async () => {
    const dir = demoDir();
    const up = await npmDone('demo', dir);
    expect(up.code, up.out).toBe(0);
    expect(up.out).toMatch(/virtual node orca-demo is Ready/);
    expect(up.out).toMatch(/pod quickstart-\w+: Succeeded/);
    expect(up.out).toMatch(/pod\/quickstart-\w+ +0\/1 +Completed +0 .* orca-demo/);
    expect(up.out).toMatch(/Normal +InstanceLaunched +pod\/quickstart-\w+ +g6\.xlarge on-demand in us-east-1[ab]: launched i-[0-9a-f]+/);
    expect(up.out).toContain('quickstart: hello from a burst instance\n');
    expect(up.out).toMatch(/^GPU 0: NVIDIA L4 \(UUID: GPU-[0-9a-f]+-0\)$/m);
    expect(up.out).toContain('quickstart: done\n');
    expect(up.out).toMatch(/InstanceType +g6\.xlarge\nState +terminated\nLifecycle +on-demand\nZone +us-east-1[ab]/);
    expect(up.out).toContain('orca.research/pod-namespace=demo');
    const spent = /# spent so far: \$(\d+\.\d{6}) \((\d+) µUSD/.exec(up.out);
    expect(Number(spent?.[2])).toBeGreaterThan(0);
    expect(up.out).toMatch(/\$ node dist\/main\.js cost -n demo\nNAMESPACE +BUDGET .*\ndemo +demo .* g6\.xlarge +on-demand/);
    expect(up.out).toContain(`source ${join(dir, 'env')}`);
    expect(up.out).toContain('npm run demo:down');

    // The env file is what a person sources: the bed's kubectl and kubeconfig reach the demo.
    const viaEnv = await runCommand('sh', ['-c', `. '${join(dir, 'env')}' && kubectl get pods -n demo --no-headers`]);
    expect(viaEnv.stdout, viaEnv.stderr).toMatch(/^quickstart-\w+ +0\/1 +Completed/);

    const second = await npmDone('demo', dir);
    expect(second.code).not.toBe(0);
    expect(second.out).toMatch(/a demo is already running \(started \d{4}-\d\d-\d\dT[\d:.]+Z\); npm run demo:down stops it/);

    const pids = demoProcesses(dir);
    const sup = readSupervisor(dir);
    const recordedPorts = Object.values(sup?.ports ?? {});
    const ports = [...new Set([...portsOf(pids), ...recordedPorts])].sort((a, b) => a - b);
    expect(pids.length).toBeGreaterThanOrEqual(7);
    expect(pids.every(isAlive)).toBe(true);
    expect(recordedPorts.length).toBe(4);
    expect(listening(ports)).toEqual(ports);

    const down = await npmDone('demo:down', dir);
    expect(down.code, down.out).toBe(0);
    expect(down.out).toContain('demo stopped');
    expect(pids.filter(isAlive)).toEqual([]);
    expect(listening(ports)).toEqual([]);
    expect(existsSync(join(dir, 'state.json'))).toBe(false);
    expect((await npmDone('demo:down', dir)).out).toContain('no demo is running');
  }, 400_000);

  it('clears a stale state, and a SIGINT during up (the pod running) stops every process it had started', async () => {
    const dir = demoDir();
    // A state left by a demo whose processes are gone (this pid has exited).
    const gone = spawn('true');
    await new Promise((resolve) => gone.once('exit', resolve));
    const stale: DemoState = { startedAt: '2026-01-01T00:00:00.000Z', upPid: gone.pid ?? 0 };
    writeFileSync(join(dir, 'state.json'), JSON.stringify(stale));

    const up = npmRun('demo', dir);
    // Interrupted once the quickstart pod runs: the bed, the supervisor, ORCA and an emulated instance's agent are up.
    const deadline = Date.now() + 240_000;
    while (Date.now() < deadline && !/pod quickstart-\w+: Running/.test(up.output())) await sleep(200);
    expect(up.output()).toMatch(/pod quickstart-\w+: Running/);
    const pids = demoProcesses(dir);
    const ports = portsOf(pids);
    const sup = readSupervisor(dir);
    expect(pids).toContain(sup?.orcaPid);
    // Below the supervisor: ORCA and at least one emulated instance's agent.
    expect(descendants([sup?.pid ?? 0]).length).toBeGreaterThanOrEqual(2);
    expect(ports.length).toBeGreaterThanOrEqual(8);
    process.kill(-up.pid, 'SIGINT');
    const code = await up.exited;
    const out = up.output();
    expect(out).toContain('none of its processes runs: cleared');
    expect(code, out).not.toBe(0);
    expect(out).toContain('SIGINT: stopping');
    expect(out).toContain('npm run demo: stopped, nothing of it is left running: interrupted by SIGINT');
    expect(pids.filter(isAlive)).toEqual([]);
    expect(listening(ports)).toEqual([]);
    expect(existsSync(join(dir, 'state.json'))).toBe(false);
  }, 400_000);
});
