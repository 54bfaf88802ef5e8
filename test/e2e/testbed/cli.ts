// `npm run testbed:up` / `testbed:down`: the same bed the e2e suites use, left running for a person.
// up writes .testbed/env (source it: KUBECONFIG, AWS_ENDPOINT_URL, …) and .testbed/state.json.
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { stopProcess } from './component.js';
import { repoRoot } from './paths.js';
import { removeData, startTestbed, type ComponentInfo } from './testbed.js';

const stateDir = join(repoRoot, '.testbed');
const stateFile = join(stateDir, 'state.json');

interface State { readonly dir: string; readonly components: readonly ComponentInfo[] }

async function up(): Promise<void> {
  if (existsSync(stateFile)) throw new Error(`a test bed is already up (${stateFile}); run npm run testbed:down`);
  const dir = join(stateDir, 'run');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const bed = await startTestbed({ dir, detached: true });
  const state: State = { dir, components: bed.components };
  writeFileSync(stateFile, JSON.stringify(state, null, 2));
  const env = [
    `export KUBECONFIG=${bed.kubeconfig}`,
    ...(bed.aws === undefined ? [] : [
      `export AWS_ENDPOINT_URL=${bed.aws.endpoint}`, `export AWS_REGION=${bed.aws.region}`,
      `export AWS_ACCESS_KEY_ID=${bed.aws.accessKeyId}`, `export AWS_SECRET_ACCESS_KEY=${bed.aws.secretAccessKey}`,
    ]),
    `export PATH=${join(bed.binaries.kubectl, '..')}:${join(bed.binaries.helm, '..')}:$PATH`,
  ];
  writeFileSync(join(stateDir, 'env'), `${env.join('\n')}\n`);
  process.stdout.write(`test bed up in ${dir}\n${bed.components.map((c) => `  ${c.name} pid ${c.pid} log ${c.logFile}`).join('\n')}\n`);
  process.stdout.write(`use it: source ${join(stateDir, 'env')}\n`);
}

async function down(): Promise<void> {
  if (!existsSync(stateFile)) {
    process.stdout.write('no test bed is up\n');
    return;
  }
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as State;
  for (const c of [...state.components].reverse()) await stopProcess(c.pid);
  rmSync(stateFile);
  removeData(state.dir);
  process.stdout.write(`test bed down; logs kept in ${join(state.dir, 'logs')}\n`);
}

const program = new Command('testbed').description('ORCA end-to-end test bed');
program.command('up').description('start etcd, kube-apiserver, controller-manager, scheduler and moto').action(up);
program.command('down').description('stop what `up` started').action(down);
program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
