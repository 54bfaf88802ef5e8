// The demo's supervisor, run detached by `npm run demo` (node --import tsx scripts/demo/supervisor.ts,
// ORCA_DEMO_DIR naming the state directory): the instance emulator that boots what ORCA launches in
// moto, the fault proxy in front of moto with the Session Manager stand-in behind it (kubectl exec),
// and ORCA itself as a child process — node dist/main.js with the generated config. It records pids
// and ports in supervisor.json; SIGTERM or SIGINT (or ORCA exiting) stops everything it started, in
// reverse order, and it exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeSubnetsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { stringify } from 'yaml';
import { FaultProxy } from '../../test/fault-proxy/fault-proxy.js';
import { InstanceEmulator } from '../../test/instance-emulator/emulator.js';
import { SessionManagerStandIn } from '../../test/ssm-stand-in/stand-in.js';
import { repoRoot } from '../../test/e2e/testbed/paths.js';
import { freePorts } from '../../test/e2e/testbed/ports.js';
import { demoClusterId, demoConfig, demoNode, type Subnet } from './orca-config.js';
import { demoPaths, readState, writeJson, type BedInfo, type DemoPaths, type SupervisorState } from './state.js';

type Stopper = () => Promise<void>;

const say = (msg: string): void => { process.stdout.write(`${new Date().toISOString()} ${msg}\n`); };

async function defaultSubnets(ec2: EC2Client): Promise<Subnet[]> {
  const s = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }] }));
  return (s.Subnets ?? []).map((x) => ({ id: x.SubnetId ?? '', zone: x.AvailabilityZone ?? '' }))
    .sort((a, b) => a.zone.localeCompare(b.zone)).slice(0, 2);
}

function awsOf(bed: BedInfo): { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string }; maxAttempts: number } {
  return { endpoint: bed.aws.endpoint, region: bed.aws.region, credentials: { accessKeyId: bed.aws.accessKeyId, secretAccessKey: bed.aws.secretAccessKey }, maxAttempts: 2 };
}

function spawnOrca(paths: DemoPaths, bed: BedInfo, log: string): { child: ChildProcess; exited: Promise<unknown> } {
  const fd = openSync(log, 'a');
  try {
    const child = spawn(process.execPath, [join(repoRoot, 'dist', 'main.js'), '--config', paths.config, '--kubeconfig', bed.kubeconfig], {
      stdio: ['ignore', fd, fd], cwd: repoRoot,
      env: { ...process.env, AWS_ACCESS_KEY_ID: bed.aws.accessKeyId, AWS_SECRET_ACCESS_KEY: bed.aws.secretAccessKey, AWS_REGION: bed.aws.region },
    });
    return { child, exited: once(child, 'exit') };
  } finally {
    closeSync(fd);
  }
}

async function stopOrca(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => { child.kill('SIGKILL'); }, 15_000);
  await exited;
  clearTimeout(timer);
}

/** Starts the emulator, the proxy and the stand-in; each one's stop goes on `stack`. */
async function startAwsSide(bed: BedInfo, paths: DemoPaths, stack: Stopper[]): Promise<{ emulator: InstanceEmulator; proxy: FaultProxy & { readonly url: string }; sessions: SessionManagerStandIn }> {
  const aws = awsOf(bed);
  const emulator = await InstanceEmulator.start({
    endpoint: aws.endpoint, region: aws.region, credentials: aws.credentials, clusterId: demoClusterId,
    workDir: join(paths.run, 'instances'), awsBin: bed.awsCli,
  });
  stack.push(() => emulator.stop());
  const proxy = await FaultProxy.start(aws.endpoint);
  stack.push(() => proxy.stop());
  const sessions = await SessionManagerStandIn.start({ ssm: new SSMClient(aws), instances: (id) => emulator.agentContext(id) });
  stack.push(() => sessions.stop());
  sessions.register(proxy);
  say(`instance emulator, fault proxy ${proxy.url} and Session Manager stand-in ${sessions.endpoint} up`);
  return { emulator, proxy, sessions };
}

function reportEmulatorErrors(emulator: InstanceEmulator): NodeJS.Timeout {
  let shown = 0;
  return setInterval(() => {
    for (const e of emulator.errors.slice(shown)) say(`emulator: ${e}`);
    shown = emulator.errors.length;
  }, 2000);
}

/** Starts everything; resolves once ORCA runs, with the promise of its exit (wrapped: a bare promise would be awaited). */
async function run(paths: DemoPaths, bed: BedInfo, stack: Stopper[]): Promise<{ readonly exited: Promise<unknown> }> {
  const { emulator, proxy, sessions } = await startAwsSide(bed, paths, stack);
  const timer = reportEmulatorErrors(emulator);
  stack.push(() => { clearInterval(timer); return Promise.resolve(); });
  const subnets = await defaultSubnets(new EC2Client(awsOf(bed)));
  const [kubeletPort = 0, opsPort = 0] = await freePorts(2);
  writeFileSync(paths.config, stringify(demoConfig({ bed, endpoint: proxy.url, subnets, kubeletPort, opsPort })));
  const orcaLog = join(paths.logs, 'orca.log');
  const { child, exited } = spawnOrca(paths, bed, orcaLog);
  stack.push(() => stopOrca(child, exited));
  const state: SupervisorState = {
    pid: process.pid, orcaPid: child.pid ?? 0, node: demoNode, clusterId: demoClusterId, orcaLog,
    ports: { orcaKubeletApi: kubeletPort, orcaOps: opsPort, faultProxy: Number(new URL(proxy.url).port), sessionManager: Number(new URL(sessions.endpoint).port) },
  };
  writeJson(paths.supervisor, state);
  say(`ORCA pid ${String(child.pid)} started: node ${demoNode}, kubelet API 127.0.0.1:${kubeletPort}, ops 127.0.0.1:${opsPort}, log ${orcaLog}`);
  return { exited };
}

async function unwind(stack: Stopper[]): Promise<void> {
  for (const stop of stack.reverse()) {
    await stop().catch((e: unknown) => { say(`while stopping: ${e instanceof Error ? e.message : String(e)}`); });
  }
}

async function main(): Promise<number> {
  const paths = demoPaths(process.env);
  const bed = readState(paths)?.bed;
  if (bed === undefined) throw new Error(`no test bed recorded in ${paths.state}`);
  const stack: Stopper[] = [];
  const stopped = new Promise<string>((resolveStop) => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => { resolveStop(sig); });
  });
  // Startup finishes (or fails) before anything is stopped, so every started part is on the stack.
  const ready = run(paths, bed, stack);
  const failed = ready.then(() => new Promise<never>(() => undefined), (e: unknown) => `failed to start: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  const orcaGone = ready.then((r) => r.exited.then(() => 'ORCA exited'), () => new Promise<never>(() => undefined));
  const why = await Promise.race([stopped, failed, orcaGone]);
  say(`stopping (${why})`);
  await ready.catch(() => undefined);
  await unwind(stack);
  say('stopped');
  return why.startsWith('SIG') ? 0 : 1;
}

main().then((code) => { process.exit(code); }, (e: unknown) => {
  say(`failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  process.exit(1);
});
