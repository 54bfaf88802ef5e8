// `npm run demo` (up) and `npm run demo:down` (down): ORCA running against its own local cluster and
// emulated AWS, for a first look. State lives in $ORCA_DEMO_DIR (default .demo/ in the repository).
// Exit codes: 0 done; 1 failed, or a demo already runs; 130/143 interrupted by SIGINT/SIGTERM.
import { Command } from 'commander';
import { ensureBuild, ensureTestbed } from './prepare.js';
import { progressTo } from './progress.js';
import { demoPaths, readState } from './state.js';
import { stopDemo } from './teardown.js';
import { DemoRunningError, up } from './up.js';

const exitFor: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };

async function upCommand(): Promise<void> {
  const paths = demoPaths(process.env);
  const progress = progressTo((t) => process.stdout.write(t));
  const abort = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (abort.signal.aborted) return;
      progress.step(`${sig}: stopping`);
      abort.abort(new Error(`interrupted by ${sig}`));
    });
  }
  try {
    await up({ paths, progress, signal: abort.signal }, async () => {
      await ensureTestbed(progress, abort.signal);
      await ensureBuild(progress, abort.signal);
    });
  } catch (e) {
    if (e instanceof DemoRunningError) throw e;
    const why: unknown = abort.signal.aborted ? abort.signal.reason : e;
    process.stderr.write(`npm run demo: stopped, nothing of it is left running: ${why instanceof Error ? why.message : String(why)}\n`);
    const sig = /\b(SIGINT|SIGTERM)\b/.exec(String(why))?.[1];
    process.exitCode = sig === undefined ? 1 : exitFor[sig] ?? 1;
  }
}

async function downCommand(): Promise<void> {
  const paths = demoPaths(process.env);
  const state = readState(paths);
  if (state === undefined) {
    process.stdout.write('no demo is running\n');
    return;
  }
  const killed = await stopDemo(paths);
  const forced = killed.length === 0 ? '' : ` (${killed.length} process(es) did not stop when asked and were killed)`;
  process.stdout.write(`demo stopped: ORCA, the emulator, the control plane and moto are down${forced}; logs kept in ${paths.logs}\n`);
}

const program = new Command('demo').description('ORCA on a local control plane with emulated AWS');
program.command('up').description('start the demo, run the quickstart Job, leave it running').action(upCommand);
program.command('down').description('stop every process of the demo').action(downCommand);
program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
