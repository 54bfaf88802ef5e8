// The demo's control plane and AWS: the test bed (etcd, kube-apiserver, kube-scheduler,
// kube-controller-manager, moto) started detached in the demo's run directory, the BurstBudget CRD
// as an admin installs it, and the demo namespace with a monthly budget, so the cost shows.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { repoRoot } from '../../test/e2e/testbed/paths.js';
import { runCommand, startTestbed, type CommandResult } from '../../test/e2e/testbed/testbed.js';
import { demoNamespace } from './orca-config.js';
import type { Progress } from './progress.js';
import type { BedInfo, DemoPaths } from './state.js';

/** The demo namespace's BurstBudget: $25 a month. */
export const demoBudget = { name: 'demo', limitUSD: 25 };

export type Kubectl = (args: readonly string[]) => Promise<CommandResult>;

export const kubectlOf = (bed: BedInfo): Kubectl => (args) => runCommand(bed.kubectl, ['--kubeconfig', bed.kubeconfig, ...args]);

/** Runs kubectl and throws with its stderr when it fails. */
export async function mustKubectl(kubectl: Kubectl, args: readonly string[], what: string): Promise<string> {
  const r = await kubectl(args);
  if (r.code !== 0) throw new Error(`${what} failed (kubectl ${args.join(' ')}): ${r.stderr.trim()}`);
  return r.stdout;
}

export async function startBed(paths: DemoPaths): Promise<BedInfo> {
  rmSync(paths.run, { recursive: true, force: true });
  mkdirSync(paths.run, { recursive: true });
  const bed = await startTestbed({ dir: paths.run, detached: true });
  if (bed.aws === undefined) throw new Error('the test bed started without moto');
  return {
    kubeconfig: bed.kubeconfig, kubectl: bed.binaries.kubectl, apiserverUrl: bed.apiserverUrl, aws: bed.aws, awsCli: bed.binaries.awsCli,
    pki: { caCert: bed.pki.caCert, orcaServingCert: bed.pki.orcaServingCert, orcaServingKey: bed.pki.orcaServingKey },
    components: bed.components,
  };
}

/** Polls `probe` every 500 ms for up to 60 s (`kubectl wait` fails on a CRD whose status is not written yet). */
async function waitFor(signal: AbortSignal, what: string, probe: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 120; i++) {
    signal.throwIfAborted();
    if (await probe()) return;
    await sleep(500);
  }
  throw new Error(`timed out after 60 s waiting for ${what}`);
}

/** The BurstBudget CRD, the demo namespace and its budget. */
export async function prepareCluster(bed: BedInfo, paths: DemoPaths, progress: Progress, signal: AbortSignal): Promise<void> {
  const kubectl = kubectlOf(bed);
  await mustKubectl(kubectl, ['apply', '-f', join(repoRoot, 'deploy', 'crds', 'burstbudgets.orca.research.yaml')], 'installing the BurstBudget CRD');
  await waitFor(signal, 'the BurstBudget CRD to be Established', async () =>
    (await kubectl(['get', 'crd', 'burstbudgets.orca.research', '-o', 'jsonpath={.status.conditions[?(@.type=="Established")].status}'])).stdout === 'True');
  const file = join(paths.run, 'demo-namespace.yaml');
  writeFileSync(file, [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: demoNamespace } },
    {
      apiVersion: 'orca.research/v1alpha1', kind: 'BurstBudget', metadata: { name: demoBudget.name, namespace: demoNamespace },
      spec: { limitUSD: demoBudget.limitUSD, period: { kind: 'Monthly' } },
    },
  ].map((d) => stringify(d)).join('---\n'));
  await mustKubectl(kubectl, ['apply', '-f', file], `creating namespace ${demoNamespace} and its BurstBudget`);
  // ServiceAccount admission refuses pods until the controller-manager has made `default`.
  await waitFor(signal, `the ServiceAccount ${demoNamespace}/default`, async () =>
    (await kubectl(['get', 'serviceaccount', 'default', '-n', demoNamespace])).code === 0);
  progress.step(`BurstBudget CRD installed; namespace ${demoNamespace} with BurstBudget ${demoBudget.name} ($${demoBudget.limitUSD} a month)`);
}
