#!/usr/bin/env node
// The entry point and the only reader of process.env and argv: parse flags, load the config file,
// build the app, run it until SIGTERM/SIGINT. Exit codes: 0 stopped cleanly, 1 failed, 2 bad config.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Command } from 'commander';
import { buildApp } from './app.js';
import { parseConfig } from './config/load.js';
import { createLogger } from './observability/logger.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

interface Flags {
  readonly config: string;
  readonly nodeName?: string;
  readonly logLevel?: string;
}

function readConfigText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    process.stderr.write(`orca: cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}\n`);
    return undefined;
  }
}

async function main(flags: Flags): Promise<number> {
  const text = readConfigText(flags.config);
  if (text === undefined) return 2;
  const parsed = parseConfig(text, { nodeName: flags.nodeName, logLevel: flags.logLevel });
  if (!parsed.ok) {
    process.stderr.write(`orca: ${flags.config}: ${parsed.error.message}\n`);
    return 2;
  }
  const config = parsed.value;
  const log = createLogger(config.logging.level);
  const stop = new AbortController();
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => { stop.abort(sig); });
  await buildApp({ config, log, version }).run(stop.signal);
  return 0;
}

const program = new Command('orca')
  .description('ORCA: a virtual kubelet that runs Kubernetes pods on AWS EC2 accelerated instances')
  .version(version)
  .option('-c, --config <file>', 'configuration file (YAML)', 'config.yaml')
  .option('--node-name <name>', 'virtual node name (overrides node.name)')
  .option('--log-level <level>', 'log level (overrides logging.level)')
  .action(async (flags: Flags) => {
    process.exitCode = await main(flags);
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`orca: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 1;
});
