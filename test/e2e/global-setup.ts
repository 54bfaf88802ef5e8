// Starts the test bed once per e2e run and hands its coordinates to every suite (inject('testbed')).
import type { TestProject } from 'vitest/node';
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
