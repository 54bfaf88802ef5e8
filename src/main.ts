#!/usr/bin/env node
// The entry point and the only reader of process.env and argv: parse flags, load the config file,
// check that ORCA can work (startup-checks.ts), build the app, run it until SIGTERM/SIGINT. Exit codes:
// src/preflight/exit-codes.ts.
import { readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { networkInterfaces } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { buildApp, type ProviderDeps } from './app.js';
import { addDoctorCommand } from './cli-doctor.js';
import { addReportCommands } from './cli-reports.js';
import { addToolCommands } from './cli-tools.js';
import { parseConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { createLogger } from './observability/logger.js';
import { exitCodes } from './preflight/exit-codes.js';
import { checkStartup } from './startup-checks.js';
import type { Provider } from './provider/provider.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

interface Flags {
  readonly config: string;
  readonly kubeconfig?: string;
  readonly nodeName?: string;
  readonly logLevel?: string;
}

export interface CliIo {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stderr: (text: string) => void;
  /** Aborts on SIGTERM/SIGINT. */
  readonly signal: AbortSignal;
  /** Overrides the provider the config implies (the e2e suites run ORCA with a test provider); unset, `aws.subnets` chooses the EC2 provider. */
  readonly provider?: (deps: ProviderDeps) => Provider;
}

function readConfigText(file: string, io: Pick<CliIo, 'stderr'>): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    io.stderr(`orca: cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}\n`);
    return undefined;
  }
}

/** POD_IP when ORCA runs in a pod; else the first non-internal IPv4 address; else loopback. */
function defaultInternalIP(env: CliIo['env']): string {
  if (env.POD_IP !== undefined && env.POD_IP !== '') return env.POD_IP;
  const addrs = Object.values(networkInterfaces()).flat();
  return addrs.find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address ?? '127.0.0.1';
}

/** The config file, checked; undefined (the problem printed) when it cannot be read or is invalid. */
function readConfig(flags: { readonly config: string; readonly nodeName?: string; readonly logLevel?: string }, io: Pick<CliIo, 'stderr'>): Config | undefined {
  const text = readConfigText(flags.config, io);
  if (text === undefined) return undefined;
  const parsed = parseConfig(text, { nodeName: flags.nodeName, logLevel: flags.logLevel });
  if (parsed.ok) return parsed.value;
  io.stderr(`orca: ${flags.config}: ${parsed.error.message}\n`);
  return undefined;
}

async function start(flags: Flags, io: CliIo): Promise<number> {
  const config = readConfig(flags, io);
  if (config === undefined) return exitCodes.config;
  const kubeconfig = flags.kubeconfig ?? (io.env.KUBECONFIG === '' ? undefined : io.env.KUBECONFIG);
  const blocked = await checkStartup({ config, kubeconfig, stderr: io.stderr, signal: io.signal, skipAws: io.provider !== undefined });
  if (blocked !== undefined) return blocked;
  if (io.signal.aborted) return exitCodes.ok;
  const log = createLogger(config.logging.level);
  const catalogDir = fileURLToPath(new URL('../instance-catalog/', import.meta.url));
  const agentScript = readFileSync(new URL('../agent/orca-agent.sh', import.meta.url), 'utf8');
  const execHelper = readFileSync(new URL('../agent/orca-exec.py', import.meta.url), 'utf8');
  let app;
  try {
    app = await buildApp({ config, log, version, kubeconfig, defaultInternalIP: defaultInternalIP(io.env), provider: io.provider, catalogDir, agentScript, execHelper });
  } catch (e) {
    io.stderr(`orca: cannot start: ${e instanceof Error ? e.message : String(e)}\n`);
    return exitCodes.config;
  }
  await app.run(io.signal);
  return exitCodes.ok;
}

/** Parses `io.argv` and runs ORCA until `io.signal` aborts; resolves with the exit code. */
export async function runCli(io: CliIo): Promise<number> {
  let code = 0;
  const program = new Command('orca')
    .description('ORCA: a virtual kubelet that runs Kubernetes pods on AWS EC2 accelerated instances')
    .version(version)
    .option('-c, --config <file>', 'configuration file (YAML)', 'config.yaml')
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)')
    .option('--node-name <name>', 'virtual node name (overrides node.name)')
    .option('--log-level <level>', 'log level (overrides logging.level)')
    .action(async (flags: Flags) => {
      code = await start(flags, io);
    });
  addReportCommands(program, { env: io.env, stderr: io.stderr, exit: (c) => { code = c; } });
  addToolCommands(program, { env: io.env, stderr: io.stderr, exit: (c) => { code = c; } });
  addDoctorCommand(program, { env: io.env, stderr: io.stderr, signal: io.signal, exit: (c) => { code = c; }, readConfig: (file, nodeName) => readConfig({ config: file, ...(nodeName === undefined ? {} : { nodeName }) }, io) });
  await program.parseAsync([...io.argv]);
  return code;
}

/** Runs the CLI in this process with its signals, argv and environment. */
export function main(provider?: CliIo['provider']): void {
  const stop = new AbortController();
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => { stop.abort(sig); });
  runCli({ argv: process.argv, env: process.env, stderr: (t) => process.stderr.write(t), signal: stop.signal, ...(provider === undefined ? {} : { provider }) })
    .then((code) => {
      process.exitCode = code;
      // Exit even when a socket of a call that never answered is still open (nothing waits on it).
      setTimeout(() => { process.exit(code); }, 1000).unref();
    })
    .catch((e: unknown) => {
      process.stderr.write(`orca: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
      process.exitCode = 1;
    });
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(realpathSync(entry)).href) main();
