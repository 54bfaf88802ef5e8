// One container of the docker stand-in: the image's command (entrypoint + args) run as a local
// process in its own process group, in a directory that stands for the container's root, with only
// its `-e` environment (never the emulator's). Nothing is isolated: an image is a name, `-v` is a
// symlink under that root, and GPU, device, user, limit and security flags are recorded, not applied.
// Its state is kept in <dir>/<name>.json (as `docker inspect` shows it) on every change.
import { createHash } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { constants, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { AwsLogsStream } from './awslogs.js';
import { all, environment, last, memoryBytes, type RunCommand } from './docker-cli.js';
import { release, track } from './reaper.js';

/** What an image would set: a usual PATH (the emulator's own is not passed on). */
const basePath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Linux USER_HZ: /proc times are in these ticks. */
const ticksPerSecond = 100;

export interface ContainerState {
  readonly Status: 'running' | 'exited';
  readonly Running: boolean;
  readonly ExitCode: number;
  readonly OOMKilled: boolean;
  readonly Pid: number;
  readonly StartedAt: string;
  readonly FinishedAt: string;
}

export interface ContainerOptions {
  readonly name: string;
  readonly run: RunCommand;
  /** The stand-in's containers directory. */
  readonly dir: string;
  readonly log: AwsLogsStream | undefined;
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal === null ? 0 : constants.signals[signal]);
}

/** Lays out the container's root: its working directory and a symlink per `-v SRC:DST[:ro]`. */
function prepareRoot(root: string, run: RunCommand): string {
  mkdirSync(root, { recursive: true });
  for (const v of all(run, 'volume')) {
    const [src = '', dst = ''] = v.split(':');
    const at = join(root, dst);
    mkdirSync(dirname(at), { recursive: true });
    symlinkSync(src, at);
  }
  const cwd = join(root, last(run, 'workdir') ?? '/');
  mkdirSync(cwd, { recursive: true });
  return cwd;
}

function human(bytes: number): string {
  const units: readonly [string, number][] = [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]];
  const [unit, size] = units.find(([, s]) => bytes >= s) ?? ['B', 1];
  return `${(bytes / size).toFixed(2)}${unit}`;
}

export class Container {
  readonly id = randomBytes(32).toString('hex');
  readonly name: string;
  readonly run: RunCommand;
  readonly #file: string;
  readonly #exited: Promise<unknown>;
  #state: ContainerState;

  private constructor(o: ContainerOptions, child: ChildProcess) {
    this.name = o.name;
    this.run = o.run;
    this.#file = join(o.dir, `${o.name}.json`);
    this.#state = {
      Status: 'running', Running: true, ExitCode: 0, OOMKilled: false, Pid: child.pid ?? 0,
      StartedAt: new Date().toISOString(), FinishedAt: '0001-01-01T00:00:00Z',
    };
    this.#exited = once(child, 'exit');
    child.on('exit', (code, signal) => { this.#finish(exitCodeOf(code, signal)); });
    this.#save();
  }

  /** Starts the command; fails (as `docker run` does) when it cannot be executed. */
  static async start(o: ContainerOptions): Promise<Container> {
    const command = [...(o.run.flags.has('entrypoint') ? [last(o.run, 'entrypoint') ?? ''] : []), ...o.run.args];
    const [file, ...args] = command;
    if (file === undefined || file === '') throw new Error(`no command specified (the emulator knows no image's default command)`);
    const cwd = prepareRoot(join(o.dir, o.name, 'rootfs'), o.run);
    const env = { PATH: basePath, HOSTNAME: o.name, HOME: '/root', ...environment(o.run) };
    const child = spawn(file, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    await once(child, 'spawn');
    track(child.pid);
    for (const out of [child.stdout, child.stderr]) createInterface({ input: out, crlfDelay: Infinity }).on('line', (line) => o.log?.line(line));
    child.on('close', () => {
      release(child.pid);
      void o.log?.close();
    });
    return new Container(o, child);
  }

  get state(): ContainerState {
    return this.#state;
  }

  /** What `docker inspect` shows (the fields templates use). */
  inspect(): Record<string, unknown> {
    // Image: the image's id as docker reports it (here a digest of its name).
    return { Id: this.id, Name: `/${this.name}`, Image: `sha256:${createHash('sha256').update(this.run.image).digest('hex')}`, State: this.#state, Config: { Image: this.run.image, Cmd: this.run.args } };
  }

  /** Signals the container's processes (docker signals PID 1; here its whole group, so nothing outlives it). */
  signal(signal: NodeJS.Signals): void {
    if (!this.#state.Running) return;
    try {
      process.kill(-this.#state.Pid, signal);
    } catch {
      // Already gone: its exit event is on its way.
    }
  }

  /** `docker stop -t seconds`: SIGTERM, then SIGKILL after the grace period; resolves once it has exited. */
  async stop(seconds: number): Promise<void> {
    if (!this.#state.Running) return;
    this.signal('SIGTERM');
    const timer = setTimeout(() => { this.signal('SIGKILL'); }, seconds * 1000);
    await this.#exited;
    clearTimeout(timer);
  }

  async exited(): Promise<void> {
    if (this.#state.Running) await this.#exited;
  }

  /** `{{.CPUPerc}} {{.MemUsage}}` of the main process: CPU over its lifetime, resident memory. */
  stats(): { readonly CPUPerc: string; readonly MemUsage: string; readonly Name: string } {
    if (!this.#state.Running) return { CPUPerc: '0.00%', MemUsage: '0B / 0B', Name: this.name };
    const limit = this.run.flags.has('memory') ? memoryBytes(last(this.run, 'memory') ?? '0') : totalmem();
    let cpu = 0;
    let rss = 0;
    try {
      const stat = readFileSync(`/proc/${this.#state.Pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime + stime, and cutime + cstime of the children it waited for (a cgroup counts both).
      const seconds = [11, 12, 13, 14].reduce((n, f) => n + Number(fields[f]), 0) / ticksPerSecond;
      cpu = (100 * seconds) / Math.max(1, (Date.now() - Date.parse(this.#state.StartedAt)) / 1000);
      rss = 1024 * Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${this.#state.Pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // Exiting right now: report nothing used.
    }
    return { CPUPerc: `${cpu.toFixed(2)}%`, MemUsage: `${human(rss)} / ${human(limit)}`, Name: this.name };
  }

  #finish(exitCode: number): void {
    this.#state = { ...this.#state, Status: 'exited', Running: false, ExitCode: exitCode, FinishedAt: new Date().toISOString() };
    this.#save();
    // A container ends with its first process: whatever it left behind goes with it.
    try {
      process.kill(-this.#state.Pid, 'SIGKILL');
    } catch {
      // Nothing left.
    }
  }

  #save(): void {
    writeFileSync(this.#file, `${JSON.stringify({ ...this.inspect(), Flags: Object.fromEntries(this.run.flags) }, null, 2)}\n`);
  }
}
