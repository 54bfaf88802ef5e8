// Starts the test bed once per e2e run and hands its coordinates to every suite (inject('testbed')).
import type { TestProject } from 'vitest/node';
import { join } from 'node:path';
import { crdEstablished } from './crd-established.js';
import { repoRoot } from './testbed/paths.js';
import { startTestbed } from './testbed/testbed.js';
import type { TestbedInfo } from './fixture.js';

declare module 'vitest' {
  export interface ProvidedContext {
    testbed: TestbedInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const bed = await startTestbed();
  // Every ORCA of the run watches BurstBudgets: their CRD is installed once, as an admin would.
  const crd = await bed.kubectl(['apply', '-f', join(repoRoot, 'deploy', 'crds', 'burstbudgets.orca.research.yaml')]);
  if (crd.code !== 0) throw new Error(`kubectl apply of the BurstBudget CRD failed: ${crd.stderr}`);
  if (!await crdEstablished((args) => bed.kubectl(args), 'burstbudgets.orca.research')) throw new Error('the BurstBudget CRD was not Established within 60 s');
  process.stdout.write(`test bed up in ${((Date.now() - started) / 1000).toFixed(1)}s: ${bed.dir}\n`);
  const info: TestbedInfo = {
    dir: bed.dir,
    kubeconfig: bed.kubeconfig,
    apiserverUrl: bed.apiserverUrl,
    aws: bed.aws ?? null,
    versions: bed.versions,
    binaries: bed.binaries,
    pki: bed.pki,
    components: bed.components,
    nodeMonitorGracePeriodSeconds: bed.nodeMonitorGracePeriodSeconds,
  };
  project.provide('testbed', info);
  return () => bed.stop();
}
