// ConfigSource over client-node: direct GETs of ConfigMaps and Secrets (no cluster-wide watch, so
// ORCA needs only `get` on them). Secret values are decoded here and never logged.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { ConfigSource } from '../ports/kube.js';
import { KubeApiError, statusOf } from './client.js';

async function orUndefined<T>(operation: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    if (statusOf(e) === 404) return undefined;
    throw new KubeApiError(operation, statusOf(e), e);
  }
}

export function createConfigSource(kc: KubeConfig): ConfigSource {
  const core = kc.makeApiClient(CoreV1Api);
  return {
    async configMap(namespace, name) {
      const cm = await orUndefined('read configmap', () => core.readNamespacedConfigMap({ namespace, name }));
      return cm === undefined ? undefined : { ...cm.data };
    },
    async secret(namespace, name) {
      const s = await orUndefined('read secret', () => core.readNamespacedSecret({ namespace, name }));
      if (s === undefined) return undefined;
      const decoded = Object.entries(s.data ?? {}).map(([k, v]): [string, string] => [k, Buffer.from(v, 'base64').toString('utf8')]);
      return Object.fromEntries(decoded);
    },
  };
}
