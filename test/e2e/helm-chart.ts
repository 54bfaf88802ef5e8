// Helpers for the chart suite: the bed's helm with its own config and cache directories, rendered
// manifests parsed into objects, and a kubeconfig holding a ServiceAccount's token.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { kubectl, testbed } from './fixture.js';
import { repoRoot } from './testbed/paths.js';
import { runCommand, type CommandResult } from './testbed/testbed.js';

export const chartDir = join(repoRoot, 'deploy', 'helm', 'orca');
export const fullValues = join(repoRoot, 'test', 'fixtures', 'helm', 'full-values.yaml');

const helmHome = mkdtempSync(join(tmpdir(), 'orca-helm-home-'));

/** The bed's helm against the bed's apiserver; helm's config, cache and data stay in a temporary directory. */
export function helm(args: readonly string[]): Promise<CommandResult> {
  const bed = testbed();
  return runCommand(bed.binaries.helm, [...args, '--kubeconfig', bed.kubeconfig], {
    HELM_CONFIG_HOME: join(helmHome, 'config'), HELM_CACHE_HOME: join(helmHome, 'cache'), HELM_DATA_HOME: join(helmHome, 'data'),
  });
}

/** A values file in a temporary directory. */
export function valuesFile(values: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'orca-values-')), 'values.yaml');
  writeFileSync(file, stringify(values));
  return file;
}

export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly annotations?: Record<string, string>; readonly labels?: Record<string, string> };
  readonly [key: string]: unknown;
}

export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text).map((d) => d.toJS() as Manifest | null).filter((m): m is Manifest => m !== null);
}

/** The one manifest of `kind` (and `name`, when given); throws naming what is missing. */
export function only(manifests: readonly Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name === undefined ? '' : ` ${name}`}, found ${found.length}`);
  return found[0] as Manifest;
}

export interface PodTemplate {
  readonly metadata: { readonly annotations: Record<string, string> };
  readonly spec: {
    readonly serviceAccountName: string;
    readonly securityContext: Record<string, unknown>;
    readonly containers: readonly {
      readonly args: readonly string[];
      readonly env: readonly { name: string; valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } } }[];
      readonly ports: readonly { name: string; containerPort: number }[];
      readonly securityContext: Record<string, unknown>;
      readonly livenessProbe: { httpGet: { path: string; port: string } };
      readonly readinessProbe: { httpGet: { path: string; port: string } };
      readonly volumeMounts: readonly { name: string; mountPath: string }[];
    }[];
    readonly volumes: readonly { name: string; emptyDir?: unknown; secret?: { secretName: string }; configMap?: { name: string } }[];
  };
}

export function podTemplate(deployment: Manifest): PodTemplate {
  return (deployment.spec as { template: PodTemplate }).template;
}

/** A kubeconfig for the bed's apiserver holding a fresh token of `namespace/serviceAccount`. */
export async function serviceAccountKubeconfig(namespace: string, serviceAccount: string): Promise<string> {
  const token = await kubectl(['create', 'token', serviceAccount, '-n', namespace, '--duration=1h']);
  if (token.code !== 0) throw new Error(`kubectl create token: ${token.stderr}`);
  const bed = testbed();
  const file = join(mkdtempSync(join(tmpdir(), 'orca-helm-sa-')), 'kubeconfig');
  writeFileSync(file, stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'orca',
    clusters: [{ name: 'bed', cluster: { server: bed.apiserverUrl, 'certificate-authority': bed.pki.caCert } }],
    users: [{ name: 'orca', user: { token: token.stdout.trim() } }],
    contexts: [{ name: 'orca', context: { cluster: 'bed', user: 'orca' } }],
  }), { mode: 0o600 });
  return file;
}
