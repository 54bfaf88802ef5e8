// Builds the client-node KubeConfig: an explicit kubeconfig file, else in-cluster, else ~/.kube/config.
import { KubeConfig } from '@kubernetes/client-node';

export function loadKubeConfig(file: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (file === undefined) kc.loadFromDefault();
  else kc.loadFromFile(file);
  return kc;
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
