// Starts the real test bed on loopback: etcd → kube-apiserver → kube-controller-manager +
// kube-scheduler, and moto (the AWS emulator) beside them. Every process it starts, it stops; a
// failure of any component stops the rest and names the component and its log file.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  apiserverArgs, controllerManagerArgs, etcdArgs, motoArgs, schedulerArgs,
  type ComponentName, type Ports,
} from './components.js';
import { startComponent, type RunningComponent } from './component.js';
import { writeKubeconfig } from './kubeconfig.js';
import { binaries, readVersions, requireBinary, type Binaries, type Versions } from './paths.js';
import { makePki, type Pki } from './pki.js';
import { freePorts } from './ports.js';
import { httpOk } from './probe.js';
import { tailOf } from './errors.js';

export interface TestbedOptions {
  /** Run directory (certs, kubeconfig, data, logs). Default: a new temporary directory. */
  readonly dir?: string;
  /** Start kube-controller-manager and kube-scheduler (default true). */
  readonly controllers?: boolean;
  /** Start moto (default true). */
  readonly moto?: boolean;
  /** Extra arguments per component, appended last (used to prove failure reporting). */
  readonly extraArgs?: Partial<Record<ComponentName, readonly string[]>>;
  /** kube-controller-manager --node-monitor-grace-period in seconds (default 20). */
  readonly nodeMonitorGracePeriodSeconds?: number;
  /** Leave the processes running after this process exits (`npm run testbed:up`). */
  readonly detached?: boolean;
}

export interface AwsEndpoint {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface ComponentInfo {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
}

export interface Testbed {
  readonly dir: string;
  readonly versions: Versions;
  readonly binaries: Binaries;
  readonly pki: Pki;
  readonly apiserverUrl: string;
  readonly kubeconfig: string;
  readonly aws: AwsEndpoint | undefined;
  readonly components: readonly ComponentInfo[];
  readonly nodeMonitorGracePeriodSeconds: number;
  /** Runs the test bed's own kubectl against it. Never throws on a non-zero exit. */
  kubectl(args: readonly string[]): Promise<CommandResult>;
  /** The last lines of every component's log, for a failing test's output. */
  logTails(lines?: number): string;
  stop(): Promise<void>;
}

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const run = promisify(execFile);

export async function runCommand(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await run(cmd, [...args], { env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : 1, stdout: x.stdout ?? '', stderr: x.stderr ?? String(e) };
  }
}

interface Ctx {
  readonly dir: string;
  readonly bins: Binaries;
  readonly ports: Ports;
  readonly pki: Pki;
  readonly opts: TestbedOptions;
  readonly started: RunningComponent[];
}

interface Part {
  readonly name: ComponentName;
  readonly command: string;
  readonly args: readonly string[];
  readonly readyUrl: string;
  readonly timeoutS?: number;
}

async function start(ctx: Ctx, part: Part): Promise<void> {
  const { pki } = ctx;
  // Only the apiserver's serving cert is ours; controller-manager and scheduler make their own.
  const tls = part.name === 'kube-apiserver' ? { ca: pki.caCert, cert: pki.adminCert, key: pki.adminKey } : undefined;
  const c = await startComponent({
    name: part.name,
    command: requireBinary(part.name, part.command),
    args: [...part.args, ...(ctx.opts.extraArgs?.[part.name] ?? [])],
    logFile: join(ctx.dir, 'logs', `${part.name}.log`),
    ready: () => httpOk(part.readyUrl, tls),
    readyTimeoutMs: (part.timeoutS ?? 90) * 1000,
    detached: ctx.opts.detached === true,
  });
  ctx.started.push(c);
}

async function startControlPlane(ctx: Ctx, kubeconfig: string, grace: number): Promise<void> {
  const { bins, ports, pki, dir } = ctx;
  const local = (port: number, scheme = 'https'): string => `${scheme}://127.0.0.1:${port}`;
  await start(ctx, { name: 'etcd', command: bins.etcd, args: etcdArgs(dir, ports), readyUrl: `${local(ports.etcdClient, 'http')}/health` });
  await start(ctx, {
    name: 'kube-apiserver', command: bins.kubeApiserver, args: apiserverArgs(dir, ports, pki),
    readyUrl: `${local(ports.apiserver)}/readyz`, timeoutS: 120,
  });
  if (ctx.opts.controllers === false) return;
  await start(ctx, {
    name: 'kube-controller-manager', command: bins.kubeControllerManager,
    args: controllerManagerArgs({ dir, kubeconfig, ports, pki, nodeMonitorGracePeriodSeconds: grace }),
    readyUrl: `${local(ports.controllerManager)}/healthz`,
  });
  await start(ctx, {
    name: 'kube-scheduler', command: bins.kubeScheduler, args: schedulerArgs(kubeconfig, ports),
    readyUrl: `${local(ports.scheduler)}/healthz`,
  });
}

async function startMoto(ctx: Ctx): Promise<void> {
  if (ctx.opts.moto === false) return;
  await start(ctx, {
    name: 'moto', command: ctx.bins.motoServer, args: motoArgs(ctx.ports), readyUrl: `http://127.0.0.1:${ctx.ports.moto}/moto-api/`,
  });
}

/** etcd's data (its WAL alone preallocates 64 MB) goes; certificates and logs stay for a post-mortem. */
export function removeData(dir: string): void {
  rmSync(join(dir, 'etcd-data'), { recursive: true, force: true });
}

async function stopAll(started: readonly RunningComponent[]): Promise<void> {
  for (const c of [...started].reverse()) await c.stop();
}

function makeTestbed(ctx: Ctx, kubeconfig: string, grace: number): Testbed {
  const aws: AwsEndpoint | undefined = ctx.opts.moto === false
    ? undefined
    : { endpoint: `http://127.0.0.1:${ctx.ports.moto}`, region: 'us-east-1', accessKeyId: 'testing', secretAccessKey: 'testing' };
  return {
    dir: ctx.dir,
    versions: readVersions(),
    binaries: ctx.bins,
    pki: ctx.pki,
    apiserverUrl: `https://127.0.0.1:${ctx.ports.apiserver}`,
    kubeconfig,
    aws,
    components: ctx.started.map((c) => ({ name: c.name, pid: c.pid, logFile: c.logFile })),
    nodeMonitorGracePeriodSeconds: grace,
    kubectl: (args) => runCommand(ctx.bins.kubectl, ['--kubeconfig', kubeconfig, ...args]),
    logTails: (lines = 30) => ctx.started.map((c) => `--- ${c.name} (${c.logFile})${tailOf(c.logFile, lines)}`).join('\n'),
    stop: async () => {
      await stopAll(ctx.started);
      removeData(ctx.dir);
    },
  };
}

async function allocatePorts(): Promise<Ports> {
  const [etcdClient = 0, etcdPeer = 0, apiserver = 0, controllerManager = 0, scheduler = 0, moto = 0] = await freePorts(6);
  return { etcdClient, etcdPeer, apiserver, controllerManager, scheduler, moto };
}

export async function startTestbed(opts: TestbedOptions = {}): Promise<Testbed> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'orca-testbed-'));
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const ctx: Ctx = { dir, bins: binaries(), ports: await allocatePorts(), pki: makePki(join(dir, 'pki')), opts, started: [] };
  const kubeconfig = writeKubeconfig(join(dir, 'kubeconfig'), {
    server: `https://127.0.0.1:${ctx.ports.apiserver}`, caCert: ctx.pki.caCert, clientCert: ctx.pki.adminCert, clientKey: ctx.pki.adminKey,
  });
  const grace = opts.nodeMonitorGracePeriodSeconds ?? 20;
  // Wait for both halves even when one fails, so nothing is left running behind the error.
  const failed = (await Promise.allSettled([startControlPlane(ctx, kubeconfig, grace), startMoto(ctx)]))
    .find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) {
    await stopAll(ctx.started);
    removeData(dir);
    throw failed.reason;
  }
  return makeTestbed(ctx, kubeconfig, grace);
}
