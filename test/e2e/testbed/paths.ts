// Where the test bed's binaries live: one versions file, one cache directory outside the repo.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestbedError } from './errors.js';

export const testbedDir = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(testbedDir, '../../..');

export interface Versions {
  readonly kubernetes: string;
  readonly etcd: string;
  readonly helm: string;
  readonly moto: string;
  readonly metricsServer: string;
}

export function readVersions(file = join(testbedDir, 'versions.env')): Versions {
  const vars = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(\S+)$/.exec(line.trim());
    if (m?.[1] !== undefined && m[2] !== undefined) vars.set(m[1], m[2]);
  }
  const need = (key: string): string => {
    const v = vars.get(key);
    if (v === undefined) throw new TestbedError('versions', `${key} missing from ${file}`);
    return v;
  };
  return {
    kubernetes: need('ORCA_K8S_VERSION'),
    etcd: need('ORCA_ETCD_VERSION'),
    helm: need('ORCA_HELM_VERSION'),
    moto: need('ORCA_MOTO_VERSION'),
    metricsServer: need('ORCA_METRICS_SERVER_VERSION'),
  };
}

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.ORCA_TESTBED_CACHE ?? join(homedir(), '.cache', 'orca-testbed');
}

export interface Binaries {
  readonly etcd: string;
  readonly kubeApiserver: string;
  readonly kubeControllerManager: string;
  readonly kubeScheduler: string;
  readonly kubectl: string;
  readonly helm: string;
  readonly metricsServer: string;
  readonly motoServer: string;
  /** The AWS CLI v1 installed beside moto; the instance emulator gives it to the agent. */
  readonly awsCli: string;
}

export function binaries(v: Versions = readVersions(), cache = cacheDir()): Binaries {
  const k8s = join(cache, `k8s-${v.kubernetes}`, 'bin');
  return {
    etcd: join(cache, `etcd-${v.etcd}`, 'bin', 'etcd'),
    kubeApiserver: join(k8s, 'kube-apiserver'),
    kubeControllerManager: join(k8s, 'kube-controller-manager'),
    kubeScheduler: join(k8s, 'kube-scheduler'),
    kubectl: join(k8s, 'kubectl'),
    helm: join(cache, `helm-${v.helm}`, 'bin', 'helm'),
    metricsServer: join(cache, `metrics-server-${v.metricsServer}`, 'bin', 'metrics-server'),
    motoServer: join(cache, `moto-${v.moto}`, 'bin', 'moto_server'),
    awsCli: join(cache, `moto-${v.moto}`, 'bin', 'aws'),
  };
}

/** Throws a message naming the missing component and the command that builds it. */
export function requireBinary(component: string, path: string): string {
  if (!existsSync(path)) {
    throw new TestbedError(component, `binary not found at ${path}; run \`npm run testbed:build\` first`);
  }
  return path;
}
