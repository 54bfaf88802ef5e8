// Builds the client-node KubeConfig: an explicit kubeconfig file, else in-cluster, else ~/.kube/config,
// with one keep-alive connection pool per apiserver identity for every call, watches included.
import { createHash } from 'node:crypto';
import type { Agent } from 'node:http';
import { KubeConfig, type Cluster } from '@kubernetes/client-node';
import { StartupError } from '../domain/errors.js';

/**
 * When client-node finds no kubeconfig ($KUBECONFIG, ~/.kube/config) and no in-cluster ServiceAccount,
 * it falls back to an unauthenticated http://localhost:8080 in a context it calls loaded-context.
 */
export function isFallbackConfig(kc: KubeConfig): boolean {
  const cluster = kc.getCurrentCluster();
  return kc.getCurrentContext() === 'loaded-context' && cluster?.name === 'cluster' && cluster.server === 'http://localhost:8080';
}

function loadFile(kc: KubeConfig, file: string): void {
  try {
    kc.loadFromFile(file);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message.split('\n')[0] : String(e));
    throw new StartupError('no-kubeconfig', `cannot read the kubeconfig ${file} (${why})`, 'pass --kubeconfig (or set KUBECONFIG to) a readable kubeconfig file', { cause: e });
  }
}

/** Throws StartupError (no-kubeconfig) when there is no kubeconfig and ORCA does not run in a pod. */
export function loadKubeConfig(file: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (file === undefined) kc.loadFromDefault();
  else loadFile(kc, file);
  if (file === undefined && isFallbackConfig(kc)) {
    throw new StartupError('no-kubeconfig', 'no kubeconfig found ($KUBECONFIG unset, no ~/.kube/config) and not running in a cluster',
      'pass --kubeconfig <file>, set KUBECONFIG, or run ORCA in a pod with its ServiceAccount');
  }
  shareConnections(kc);
  return kc;
}

type AgentFactory = (cluster: Cluster | null, options: Record<string, unknown>) => Agent;

/** The identity of a connection: the server, its proxy, and every TLS option (certificates by content). */
function identity(cluster: Cluster | null, options: Readonly<Record<string, unknown>>): string {
  const h = createHash('sha256').update(`${cluster?.server ?? ''}\n${cluster?.proxyUrl ?? ''}`);
  for (const [k, v] of Object.entries(options).sort(([a], [b]) => a.localeCompare(b))) {
    if (v !== undefined) h.update(`\n${k}=`).update(Buffer.isBuffer(v) ? v : JSON.stringify(v));
  }
  return h.digest('hex');
}

/** Agents kept at most: a rotated client certificate makes a new identity; the oldest pool is closed. */
export const maxConnectionPools = 4;

/**
 * client-node 1.4 builds a new agent — so a new TCP and TLS connection, with the client certificate —
 * for every request (KubeConfig's createAgent, called per request for API calls and watches). This
 * keeps one keep-alive agent per identity instead: each status patch and Lease renewal reuses a
 * connection, as a kubelet does. createAgent is private to client-node's typings, so it is replaced
 * on this one instance.
 */
export function shareConnections(kc: KubeConfig): void {
  const target = kc as unknown as { createAgent: AgentFactory };
  const build = target.createAgent.bind(kc);
  const pools = new Map<string, Agent>();
  target.createAgent = (cluster, options) => {
    const key = identity(cluster, options);
    const known = pools.get(key);
    if (known !== undefined) return known;
    const agent = build(cluster, { ...options, keepAlive: true });
    pools.set(key, agent);
    for (const [old, a] of pools) {
      if (pools.size <= maxConnectionPools) break;
      pools.delete(old);
      a.destroy();
    }
    return agent;
  };
}

/** The HTTP status of a client-node error (ApiException.code or a watch error's statusCode). */
export function statusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.code === 'number') return e.code;
  return typeof e.statusCode === 'number' ? e.statusCode : undefined;
}

/** A short, safe description of a client-node error: its status and the apiserver's message only. */
export function describeError(err: unknown): string {
  const status = statusOf(err);
  const body = (err as { body?: unknown }).body;
  let message = err instanceof Error ? err.message.split('\n')[0] ?? '' : String(err);
  if (typeof body === 'string') {
    try {
      message = (JSON.parse(body) as { message?: string }).message ?? message;
    } catch {
      // not JSON: keep the first line of the error
    }
  }
  return status === undefined ? message : `HTTP ${status}: ${message}`;
}

/** Errors leaving k8s/ carry only the status and the apiserver's message (no headers, no bodies). */
export class KubeApiError extends Error {
  constructor(readonly operation: string, readonly status: number | undefined, cause: unknown) {
    super(`${operation}: ${describeError(cause)}`);
    this.name = 'KubeApiError';
  }
}
