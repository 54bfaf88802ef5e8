// What an e2e suite gets from the shared test bed: its coordinates, a kubectl, a client-node
// KubeConfig, AWS SDK client settings pointed at moto, and small polling helpers.
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { inject } from 'vitest';
import type { Binaries, Versions } from './testbed/paths.js';
import type { Pki } from './testbed/pki.js';
import { runCommand, type AwsEndpoint, type CommandResult, type ComponentInfo } from './testbed/testbed.js';

export interface TestbedInfo {
  readonly dir: string;
  readonly kubeconfig: string;
  readonly apiserverUrl: string;
  readonly aws: AwsEndpoint | null;
  readonly versions: Versions;
  readonly binaries: Binaries;
  readonly pki: Pki;
  readonly components: readonly ComponentInfo[];
  readonly nodeMonitorGracePeriodSeconds: number;
}

export function testbed(): TestbedInfo {
  return inject('testbed');
}

export function kubectl(args: readonly string[]): Promise<CommandResult> {
  const bed = testbed();
  return runCommand(bed.binaries.kubectl, ['--kubeconfig', bed.kubeconfig, ...args]);
}

export function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(testbed().kubeconfig);
  return kc;
}

export interface AwsClientConfig {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly maxAttempts: number;
}

/** AWS SDK v3 client settings for moto; few attempts, so an emulator 500 fails fast. */
export function awsClientConfig(): AwsClientConfig {
  const aws = testbed().aws;
  if (aws === null) throw new Error('this test bed runs without moto');
  return {
    endpoint: aws.endpoint,
    region: aws.region,
    credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey },
    maxAttempts: 2,
  };
}

/** Polls `probe` until it returns a value other than undefined; fails naming `what` on timeout. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await sleep(everyMs);
  }
  const why = last === undefined ? '' : ` (last error: ${last instanceof Error ? last.message : JSON.stringify(last)})`;
  throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${why}`);
}

/**
 * Creates a namespace and waits until the controller-manager has made its `default` ServiceAccount,
 * which ServiceAccount admission needs before any pod can be created there.
 */
export async function createNamespace(name: string): Promise<void> {
  const core = kubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name } } });
  await waitFor(`ServiceAccount ${name}/default`, async () =>
    (await core.readNamespacedServiceAccount({ name: 'default', namespace: name })).metadata?.name);
}
