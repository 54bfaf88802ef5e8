// The docker daemon of one emulated instance (a test component, never shipped). The `docker` on the
// agent's PATH (docker-shim.sh) sends it each command line over loopback HTTP; it answers the exit
// code on the first line, then the output. It knows the commands the agent uses — pull, login,
// run -d, inspect -f, stop -t, stats --no-stream — and kill, for tests. Images are names: a pull
// succeeds unless the name contains `does-not-exist`. Every command line is kept, and appended to
// <dir>/argv.log (a JSON array a line), so tests can check the flags the agent passed.
// Two commands stream, so they do not go through that one-shot reply: for `docker exec` (POST /exec)
// it answers a shell script the shim runs in its own place — the command with the container's root
// as working directory and the container's environment, on the shim's own stdio (a pty when the
// caller's stdin is one), so stdin, its end, the exit code and signals are the command's own; for
// `docker attach` (an upgraded POST /attach, relayed by attach-relay.py) it streams the container's
// output from then on in docker's 8-byte-header frames (1 stdout, 2 stderr; here 3 carries the exit
// code at the end) and, when the container was run with -i, passes what the client sends to its stdin.
import { once } from 'node:events';
import { appendFileSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { AwsLogsStream } from './awslogs.js';
import { Container } from './container.js';
import { environment, last, logOptions, parseAttach, parseExec, parseOptions, parseRun, render, UsageError, type ExecCommand, type RunCommand } from './docker-cli.js';

export interface DockerOptions {
  /** The instance's docker directory: argv.log and containers/. */
  readonly dir: string;
  readonly logs: CloudWatchLogsClient;
  /** On a GPU type: a directory holding only the nvidia-smi stand-in, put first on the PATH of a container run with --gpus (as the NVIDIA container toolkit mounts nvidia-smi). */
  readonly gpuBin?: string;
}

interface Reply { readonly code: number; readonly out: string }
type Handler = (words: readonly string[], stdin: string) => Reply | Promise<Reply>;

const ok = (out = ''): Reply => ({ code: 0, out });
const fail = (message: string, code = 1): Reply => ({ code, out: `${message}\n` });

class NoSuchContainer extends Error {}

/** More containers than this on one instance is a runaway loop: refused, so processes stay bounded. */
const maxContainers = 200;

function toReply(e: unknown): Reply {
  if (e instanceof UsageError) return fail(`docker: ${e.message}`, 125);
  if (e instanceof NoSuchContainer) return fail(`Error response from daemon: No such container: ${e.message}`);
  return fail(`Error response from daemon: ${e instanceof Error ? e.message : String(e)}`);
}

function signalOf(value: string): NodeJS.Signals {
  const byNumber = Object.entries(constants.signals).find(([, n]) => String(n) === value)?.[0];
  const name = byNumber ?? (value.startsWith('SIG') ? value : `SIG${value}`);
  if (!(name in constants.signals)) throw new UsageError(`invalid signal: ${value}`);
  return name as NodeJS.Signals;
}

/** Single-quotes `s` for sh. */
const shq = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;

/** The script docker-shim.sh runs for `docker exec`: it ends by exec'ing the command in the shim's place. */
function execScript(c: Container, e: ExecCommand): string {
  const ctx = c.execContext;
  const workdir = last(e, 'workdir') ?? ctx.workdir;
  const env = { ...ctx.env, ...environment(e) };
  const noCwd = `OCI runtime exec failed: exec failed: unable to start container process: chdir to cwd ("${workdir}") set in config.json failed: no such file or directory: unknown`;
  const stdin = !e.flags.has('interactive') ? ['exec </dev/null'] : e.flags.has('tty') ? ['[ -t 0 ] || { echo \'the input device is not a TTY\' >&2; exit 1; }'] : [];
  return [
    `cd ${shq(join(ctx.root, workdir))} 2>/dev/null || { echo ${shq(noCwd)} >&2; exit 126; }`,
    ...stdin,
    `exec env -i ${Object.entries(env).map(([k, v]) => shq(`${k}=${v}`)).join(' ')} ${e.argv.map(shq).join(' ')}`,
  ].join('\n');
}

/** One frame of an attach stream: docker's stdcopy header (stream, 3 zero bytes, length) and the data. */
function frame(stream: 1 | 2 | 3, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(data.length, 4);
  return Buffer.concat([head, data]);
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export class DockerStandIn {
  readonly #o: DockerOptions;
  readonly #server: Server;
  readonly #containers = new Map<string, Container>();
  readonly #calls: (readonly string[])[] = [];
  readonly #attachments = new Set<Duplex>();
  readonly #commands: ReadonlyMap<string, Handler> = new Map<string, Handler>([
    ['pull', (w: readonly string[]) => this.#pull(w)],
    ['login', (w: readonly string[], stdin: string) => this.#login(w, stdin)],
    ['run', (w: readonly string[]) => this.#run(w)],
    ['inspect', (w: readonly string[]) => this.#inspect(w)],
    ['stop', (w: readonly string[]) => this.#stop(w)],
    ['kill', (w: readonly string[]) => this.#kill(w)],
    ['stats', (w: readonly string[]) => this.#stats(w)],
  ]);

  private constructor(o: DockerOptions) {
    this.#o = o;
    mkdirSync(join(o.dir, 'containers'), { recursive: true });
    this.#server = createServer((req, res) => {
      void this.#answer(req).then((r) => res.end(`${r.code}\n${r.out}`));
    });
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex) => { this.#attach(req, socket); });
  }

  static async start(o: DockerOptions): Promise<DockerStandIn & { readonly host: string }> {
    const d = new DockerStandIn(o);
    d.#server.listen(0, '127.0.0.1');
    await once(d.#server, 'listening');
    return Object.assign(d, { host: `tcp://127.0.0.1:${(d.#server.address() as AddressInfo).port}` });
  }

  /** Every command line received, in order (without the program name). */
  get calls(): readonly (readonly string[])[] {
    return this.#calls;
  }

  container(name: string): Container | undefined {
    return this.#containers.get(name);
  }

  get names(): readonly string[] {
    return [...this.#containers.keys()];
  }

  /** Kills every container and closes the daemon. */
  async stop(): Promise<void> {
    const all = [...this.#containers.values()];
    for (const c of all) c.signal('SIGKILL');
    await Promise.all(all.map((c) => c.exited()));
    for (const s of this.#attachments) s.destroy();
    this.#server.closeAllConnections();
    this.#server.close();
  }

  async #answer(req: IncomingMessage): Promise<Reply> {
    if (req.method !== 'POST' || (req.url !== '/cli' && req.url !== '/exec')) return fail(`docker stand-in: no ${String(req.method)} ${String(req.url)}`);
    // NUL-separated: the CLI's stdin, then its arguments (docker-shim.sh).
    const fields = (await bodyOf(req)).split('\0');
    fields.pop();
    const [stdin = '', ...argv] = fields;
    this.#record(argv);
    const [command = '', ...words] = argv;
    if (req.url === '/exec') return this.#exec(words);
    const handler = this.#commands.get(command);
    if (handler === undefined) return fail(`docker: '${command}' is not a command the emulator's docker knows (${[...this.#commands.keys()].join(', ')})`);
    try {
      return await handler(words, stdin);
    } catch (e) {
      return toReply(e);
    }
  }

  #record(argv: readonly string[]): void {
    this.#calls.push(argv);
    appendFileSync(join(this.#o.dir, 'argv.log'), `${JSON.stringify(argv)}\n`);
  }

  /** `docker exec`: the script the shim runs, or docker's refusal. */
  #exec(words: readonly string[]): Reply {
    try {
      const e = parseExec(words);
      const [c] = this.#named([e.container]);
      if (c === undefined || !c.state.Running) return fail(`Error response from daemon: container ${c?.id ?? e.container} is not running`);
      return ok(execScript(c, e));
    } catch (err) {
      return toReply(err);
    }
  }

  /** `docker attach` over an upgraded connection (attach-relay.py): refused with a reply as /cli's, or streamed. */
  #attach(req: IncomingMessage, socket: Duplex): void {
    socket.on('error', () => undefined);
    const refuse = (r: Reply): void => {
      const body = `${r.code}\n${r.out}`;
      socket.end(`HTTP/1.1 200 OK\r\nContent-Length: ${String(Buffer.byteLength(body))}\r\nConnection: close\r\n\r\n${body}`);
    };
    const argv = JSON.parse(Buffer.from(String(req.headers['x-docker-argv'] ?? ''), 'base64').toString('utf8') || '[]') as string[];
    this.#record(argv);
    if (req.url !== '/attach' || argv[0] !== 'attach') { refuse(fail(`docker stand-in: no ${String(req.method)} ${String(req.url)}`)); return; }
    try {
      const a = parseAttach(argv.slice(1));
      const [c] = this.#named([a.container]);
      if (c === undefined || !c.state.Running) { refuse(fail('You cannot attach to a stopped container, start it first')); return; }
      this.#stream(c, socket, !a.flags.has('no-stdin') && c.interactive);
    } catch (err) {
      refuse(toReply(err));
    }
  }

  #stream(c: Container, socket: Duplex, stdin: boolean): void {
    this.#attachments.add(socket);
    socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nX-Docker-Stdin: ${stdin ? '1' : '0'}\r\n\r\n`);
    const detach = c.attach((stream, data) => { socket.write(frame(stream, data)); });
    // The client's stdin EOF leaves the container's stdin open (docker run -d -i keeps it for the next attach).
    socket.on('data', (data: Buffer) => { if (stdin) c.input(data); });
    socket.on('close', () => { detach(); this.#attachments.delete(socket); });
    void c.outputDone().then(() => {
      detach();
      socket.end(frame(3, Buffer.from(String(c.state.ExitCode))));
    });
  }

  #named(names: readonly string[]): Container[] {
    return names.map((n) => {
      const c = this.#containers.get(n);
      if (c === undefined) throw new NoSuchContainer(n);
      return c;
    });
  }

  #pull(words: readonly string[]): Reply {
    const [image] = parseOptions(words, ['--platform']).rest;
    if (image === undefined) throw new UsageError('"docker pull" requires exactly 1 argument.');
    if (image.includes('does-not-exist')) return fail(`Error response from daemon: pull access denied for ${image}, repository does not exist or may require 'docker login'`);
    return ok(`Status: Image is up to date for ${image}\n`);
  }

  #login(words: readonly string[], stdin: string): Reply {
    const o = parseOptions(words, ['--username', '-u']);
    if (!o.flags.has('--password-stdin')) throw new UsageError('the emulator\'s docker takes a password with --password-stdin only');
    if ((o.flags.get('--username') ?? o.flags.get('-u')) === undefined || stdin === '') return fail('Error: Cannot perform an interactive login from a non TTY device');
    return ok('Login Succeeded\n');
  }

  async #run(words: readonly string[]): Promise<Reply> {
    const run = parseRun(words);
    if (!run.flags.has('detach')) throw new UsageError('the emulator\'s docker runs containers detached (-d) only');
    if (run.image.includes('does-not-exist')) return fail(`docker: Error response from daemon: pull access denied for ${run.image}`, 125);
    const name = last(run, 'name') ?? `emulated-${this.#containers.size}`;
    if (this.#containers.has(name)) return fail(`docker: Error response from daemon: Conflict. The container name "/${name}" is already in use.`, 125);
    if (this.#containers.size >= maxContainers) return fail(`docker: the emulator allows ${maxContainers} containers per instance`, 125);
    const log = await this.#logDriver(run, name);
    try {
      const gpuBin = run.flags.has('gpus') ? this.#o.gpuBin : undefined;
      const c = await Container.start({ name, run, dir: join(this.#o.dir, 'containers'), log, ...(gpuBin === undefined ? {} : { gpuBin }) });
      this.#containers.set(name, c);
      return ok(`${c.id}\n`);
    } catch (e) {
      return fail(`docker: Error response from daemon: failed to create task for container: ${e instanceof Error ? e.message : String(e)}`, 127);
    }
  }

  async #logDriver(run: RunCommand, name: string): Promise<AwsLogsStream | undefined> {
    const driver = last(run, 'log-driver') ?? 'none';
    if (driver === 'none') return undefined;
    if (driver !== 'awslogs') throw new UsageError(`the emulator's docker has the awslogs log driver only, not "${driver}"`);
    const opts = logOptions(run);
    const group = opts.get('awslogs-group');
    if (group === undefined) throw new UsageError('failed to initialize logging driver: must specify a value for log opt \'awslogs-group\'');
    return AwsLogsStream.open(this.#o.logs, { group, stream: opts.get('awslogs-stream') ?? name, createGroup: opts.get('awslogs-create-group') === 'true' });
  }

  #inspect(words: readonly string[]): Reply {
    const o = parseOptions(words, ['-f', '--format', '--type']);
    const format = o.flags.get('-f') ?? o.flags.get('--format');
    const missing = o.rest.find((n) => !this.#containers.has(n));
    if (missing !== undefined) return fail(`Error: No such object: ${missing}`);
    const views = this.#named(o.rest).map((c) => c.inspect());
    if (format === undefined) return ok(`${JSON.stringify(views, null, 4)}\n`);
    return ok(views.map((v) => `${render(format, v)}\n`).join(''));
  }

  async #stop(words: readonly string[]): Promise<Reply> {
    const o = parseOptions(words, ['-t', '--time', '-s', '--signal']);
    const seconds = Number(o.flags.get('-t') ?? o.flags.get('--time') ?? '10');
    if (!Number.isInteger(seconds) || seconds < 0) throw new UsageError(`invalid argument for "-t, --time" flag`);
    await Promise.all(this.#named(o.rest).map((c) => c.stop(seconds)));
    return ok(o.rest.map((n) => `${n}\n`).join(''));
  }

  #kill(words: readonly string[]): Reply {
    const o = parseOptions(words, ['-s', '--signal']);
    const signal = signalOf(o.flags.get('-s') ?? o.flags.get('--signal') ?? 'KILL');
    const cs = this.#named(o.rest);
    const idle = cs.find((c) => !c.state.Running);
    if (idle !== undefined) return fail(`Error response from daemon: cannot kill container: ${idle.name}: container ${idle.id} is not running`);
    for (const c of cs) c.signal(signal);
    return ok(o.rest.map((n) => `${n}\n`).join(''));
  }

  #stats(words: readonly string[]): Reply {
    const o = parseOptions(words, ['--format']);
    if (!o.flags.has('--no-stream')) throw new UsageError('the emulator\'s docker shows stats with --no-stream only');
    const format = o.flags.get('--format') ?? '{{.Name}} {{.CPUPerc}} {{.MemUsage}}';
    const names = o.rest.length > 0 ? o.rest : this.names.filter((n) => this.#containers.get(n)?.state.Running === true);
    return ok(this.#named(names).map((c) => `${render(format, c.stats())}\n`).join(''));
  }
}
