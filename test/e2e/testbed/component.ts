// One test-bed process: started with its output in a log file, awaited until its readiness probe
// passes, and stopped with SIGTERM then SIGKILL. Any failure names the component and its log file.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestbedError } from './errors.js';

export interface ComponentSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly logFile: string;
  readonly ready: () => Promise<boolean>;
  readonly readyTimeoutMs: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Detached components outlive this process (`npm run testbed:up`). */
  readonly detached?: boolean;
}

export interface RunningComponent {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  stop(): Promise<void>;
}

interface Exit { code: number | null; signal: NodeJS.Signals | null }

function launch(spec: ComponentSpec): { child: ChildProcess; exited: Promise<Exit> } {
  const fd = openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.command, [...spec.args], {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...spec.env },
      cwd: spec.cwd,
      detached: spec.detached === true,
    });
    const exited = new Promise<Exit>((resolveExit) => {
      child.on('exit', (code, signal) => {
        resolveExit({ code, signal });
      });
      child.on('error', () => {
        resolveExit({ code: -1, signal: null });
      });
    });
    if (spec.detached === true) child.unref();
    return { child, exited };
  } finally {
    closeSync(fd);
  }
}

async function waitReady(spec: ComponentSpec, exited: Promise<Exit>): Promise<Exit | 'ready' | 'timeout'> {
  let exit: Exit | undefined;
  void exited.then((e) => (exit = e));
  const deadline = Date.now() + spec.readyTimeoutMs;
  while (Date.now() < deadline) {
    if (exit !== undefined) return exit;
    if (await spec.ready()) return 'ready';
    await sleep(200);
  }
  return 'timeout';
}

export async function stopProcess(pid: number, exited?: Promise<unknown>, graceMs = 5000): Promise<void> {
  const alive = (): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive() && Date.now() < deadline) {
    if (exited !== undefined) await Promise.race([exited, sleep(100)]);
    else await sleep(100);
  }
  if (alive()) process.kill(pid, 'SIGKILL');
  if (exited !== undefined) await exited;
}

export async function startComponent(spec: ComponentSpec): Promise<RunningComponent> {
  const { child, exited } = launch(spec);
  const pid = child.pid;
  const outcome = await waitReady(spec, exited);
  if (outcome === 'ready' && pid !== undefined) {
    return { name: spec.name, pid, logFile: spec.logFile, stop: () => stopProcess(pid, exited) };
  }
  if (outcome === 'timeout') {
    if (pid !== undefined) await stopProcess(pid, exited);
    throw new TestbedError(spec.name, `not ready after ${spec.readyTimeoutMs / 1000}s`, spec.logFile);
  }
  const how = outcome === 'ready' ? 'did not start' : outcome.signal ?? `code ${String(outcome.code)}`;
  throw new TestbedError(spec.name, `exited (${how}) before it was ready`, spec.logFile);
}
