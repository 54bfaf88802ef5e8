// Runs ORCA the way a user does: the built CLI (dist/main.js) with a config file, as its own process.
// Its stdout (JSON log lines) and stderr are kept for assertions and for failure output.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { repoRoot } from './testbed/paths.js';

export interface OrcaProcess {
  readonly child: ChildProcess;
  readonly configFile: string;
  stdout(): string;
  stderr(): string;
  /** Parsed JSON log lines so far. */
  logLines(): readonly Record<string, unknown>[];
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

export function writeConfig(config: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'orca-config-')), 'config.yaml');
  writeFileSync(file, typeof config === 'string' ? config : stringify(config));
  return file;
}

export interface OrcaOptions {
  readonly args?: readonly string[];
  /** Run with the test provider (test/provider/) keeping its state in this file, instead of dist/main.js. */
  readonly testProviderState?: string;
  /** Extra environment (AWS credentials for an emulator). */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Suites that are not about budgets run ORCA with `budgets.withoutBudget: Allow` (every namespace
 * bursts without a BurstBudget) and a 5 s status interval, unless their config says otherwise.
 */
function withBedBudgets(config: unknown): unknown {
  if (typeof config !== 'object' || config === null || 'budgets' in config) return config;
  return { ...config, budgets: { withoutBudget: 'Allow', statusIntervalSeconds: 5 } };
}

export function startOrca(config: unknown, opts: OrcaOptions = {}): OrcaProcess {
  const configFile = writeConfig(withBedBudgets(config));
  const entry = opts.testProviderState === undefined
    ? [join(repoRoot, 'dist', 'main.js')]
    : ['--import', 'tsx', join(repoRoot, 'test', 'e2e', 'orca-test-main.ts')];
  const env = { ...process.env, ...opts.env, ...(opts.testProviderState === undefined ? {} : { ORCA_TEST_PROVIDER_STATE: opts.testProviderState }) };
  const child = spawn(process.execPath, [...entry, '--config', configFile, ...(opts.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'], cwd: repoRoot, env,
  });
  let out = '';
  let errText = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (errText += d.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    configFile,
    exited,
    stdout: () => out,
    stderr: () => errText,
    logLines: () => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>),
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
