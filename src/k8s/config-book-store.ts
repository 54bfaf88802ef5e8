// ConfigBookStore over one ConfigMap: the ledger of the books of ORCA's config (the cluster-wide cap,
// each namespace's default budget) as one JSON document per book, under keys a ConfigMap allows
// ("cluster.json", "default.<namespace>.json"). ORCA is its only writer: a save replaces the whole
// map (created when missing). A missing ConfigMap loads as no saved books.
import { CoreV1Api, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import type { BurstBudgetStatus, ConfigBookStore } from '../ports/budgets.js';
import { KubeApiError, statusOf } from './client.js';

export interface ConfigBookStoreDeps {
  readonly kc: KubeConfig;
  readonly namespace: string;
  readonly name: string;
}

const CLUSTER = '(cluster)';
const DEFAULT_SUFFIX = '/(default)';

/** The ConfigMap key of a book's id, or undefined for an id that is no config book. */
export function keyOf(id: string): string | undefined {
  if (id === CLUSTER) return 'cluster.json';
  return id.endsWith(DEFAULT_SUFFIX) ? `default.${id.slice(0, -DEFAULT_SUFFIX.length)}.json` : undefined;
}

/** The book id of a ConfigMap key, or undefined for a key that is none of ORCA's. */
export function idOf(key: string): string | undefined {
  if (key === 'cluster.json') return CLUSTER;
  const m = /^default\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.json$/.exec(key);
  return m === null ? undefined : `${m[1] ?? ''}${DEFAULT_SUFFIX}`;
}

function statuses(cm: V1ConfigMap): Map<string, BurstBudgetStatus> {
  const out = new Map<string, BurstBudgetStatus>();
  for (const [key, text] of Object.entries(cm.data ?? {})) {
    const id = idOf(key);
    if (id === undefined) continue;
    try {
      out.set(id, JSON.parse(text) as BurstBudgetStatus);
    } catch {
      // a hand-edited value that is not JSON: the book starts afresh, as for a status it cannot trust
    }
  }
  return out;
}

export function createConfigBookStore(d: ConfigBookStoreDeps): ConfigBookStore {
  const core = d.kc.makeApiClient(CoreV1Api);
  const where = `configmap ${d.namespace}/${d.name}`;
  return {
    async load() {
      try {
        return statuses(await core.readNamespacedConfigMap({ namespace: d.namespace, name: d.name }));
      } catch (err) {
        if (statusOf(err) === 404) return new Map();
        throw new KubeApiError(`read ${where}`, statusOf(err), err);
      }
    },
    async save(books) {
      const data = Object.fromEntries([...books].flatMap(([id, s]) => {
        const key = keyOf(id);
        return key === undefined ? [] : [[key, JSON.stringify(s)]];
      }));
      const body: V1ConfigMap = { metadata: { name: d.name, namespace: d.namespace, labels: { 'app.kubernetes.io/managed-by': 'orca' } }, data };
      try {
        await core.replaceNamespacedConfigMap({ namespace: d.namespace, name: d.name, body });
      } catch (err) {
        if (statusOf(err) !== 404) throw new KubeApiError(`write ${where}`, statusOf(err), err);
        await core.createNamespacedConfigMap({ namespace: d.namespace, body }).catch((e: unknown) => {
          throw new KubeApiError(`create ${where}`, statusOf(e), e);
        });
      }
    },
  };
}
