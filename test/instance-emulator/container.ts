// One container of the docker stand-in: the image's command (entrypoint + args) run as a local
// process in its own process group, in a directory that stands for the container's root, with only
// its `-e` environment (never the emulator's). Nothing is isolated: an image is a name, `-v` is a
// symlink under that root, and GPU, device, user, limit and security flags are recorded, not applied.
// With `-i` its stdin is a pipe kept open for `docker attach`; `-t` is recorded (no terminal is
// emulated). Its output goes to the log driver line by line and, as it comes, to every attached
// client. Its state is kept in <dir>/<name>.json (as `docker inspect` shows it) on every change.
import { createHash } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { constants, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
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

/** Where `docker exec` runs a command: the container's root, its working directory in it, its environment. */
export interface ExecContext {
  readonly root: string;
  readonly workdir: string;
  readonly env: Readonly<Record<string, string>>;
}

/** Receives a container's output from the time it attached: 1 is stdout, 2 stderr. */
export type OutputListener = (stream: 1 | 2, data: Buffer) => void;

export interface ContainerOptions {
  readonly name: string;
  readonly run: RunCommand;
  /** The stand-in's containers directory. */
  readonly dir: string;
  readonly log: AwsLogsStream | undefined;
  /** A directory put first on the container's PATH (the GPU tools of a container run with --gpus). */
  readonly gpuBin?: string;
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
  readonly #closed: Promise<unknown>;
  readonly #exec: ExecContext;
  readonly #stdin: Writable | null;
  readonly #listeners = new Set<OutputListener>();
  #state: ContainerState;

  private constructor(o: ContainerOptions, child: ChildProcess, exec: ExecContext) {
    this.name = o.name;
    this.run = o.run;
    this.#exec = exec;
    this.#stdin = child.stdin;
    this.#stdin?.on('error', () => undefined);
    this.#file = join(o.dir, `${o.name}.json`);
    this.#state = {
      Status: 'running', Running: true, ExitCode: 0, OOMKilled: false, Pid: child.pid ?? 0,
      StartedAt: new Date().toISOString(), FinishedAt: '0001-01-01T00:00:00Z',
    };
    this.#exited = once(child, 'exit');
    this.#closed = once(child, 'close');
    child.on('exit', (code, signal) => { this.#finish(exitCodeOf(code, signal)); });
    child.stdout?.on('data', (chunk: Buffer) => { this.#emit(1, chunk); });
    child.stderr?.on('data', (chunk: Buffer) => { this.#emit(2, chunk); });
    this.#save();
  }

  /** Starts the command; fails (as `docker run` does) when it cannot be executed. */
  static async start(o: ContainerOptions): Promise<Container> {
    const command = [...(o.run.flags.has('entrypoint') ? [last(o.run, 'entrypoint') ?? ''] : []), ...o.run.args];
    const [file, ...args] = command;
    if (file === undefined || file === '') throw new Error(`no command specified (the emulator knows no image's default command)`);
    const root = join(o.dir, o.name, 'rootfs');
    const cwd = prepareRoot(root, o.run);
    const env = { PATH: o.gpuBin === undefined ? basePath : `${o.gpuBin}:${basePath}`, HOSTNAME: o.name, HOME: '/root', ...environment(o.run) };
    const child = spawn(file, args, { cwd, env, detached: true, stdio: [o.run.flags.has('interactive') ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    await once(child, 'spawn');
    track(child.pid);
    for (const out of [child.stdout, child.stderr]) if (out !== null) createInterface({ input: out, crlfDelay: Infinity }).on('line', (line) => o.log?.line(line));
    child.on('close', () => {
      release(child.pid);
      void o.log?.close();
    });
    return new Container(o, child, { root, workdir: last(o.run, 'workdir') ?? '/', env });
  }

  get state(): ContainerState {
    return this.#state;
  }

  /** Where `docker exec` runs its command. */
  get execContext(): ExecContext {
    return this.#exec;
  }

  /** Whether it was run with `-i` (its stdin takes what attached clients send). */
  get interactive(): boolean {
    return this.#stdin !== null;
  }

  /** How many clients are attached now. */
  get attached(): number {
    return this.#listeners.size;
  }

  /** Sends `listener` the output from now on; returns the function that detaches it. */
  attach(listener: OutputListener): () => void {
    this.#listeners.add(listener);
    return () => { this.#listeners.delete(listener); };
  }

  /** Bytes for the main process's stdin (dropped without `-i`, or once it is gone). */
  input(data: Buffer): void {
    if (this.#stdin?.writable === true) this.#stdin.write(data);
  }

  /** Resolves once it has exited and all its output is out. */
  async outputDone(): Promise<void> {
    await this.#closed;
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

  #emit(stream: 1 | 2, data: Buffer): void {
    for (const l of this.#listeners) l(stream, data);
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
