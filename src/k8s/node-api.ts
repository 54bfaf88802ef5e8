// NodeApi and LeaseApi over client-node.
import {
  CoordinationV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, V1MicroTime,
  type KubeConfig, type V1Lease, type V1Node,
} from '@kubernetes/client-node';
import type { NodeManifest, NodeStatus, Taint } from '../domain/node.js';
import type { LeaseApi, NodeApi } from '../ports/kube.js';
import { KubeApiError, statusOf } from './client.js';

const smp = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
const LEASE_NS = 'kube-node-lease';

async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw new KubeApiError(operation, statusOf(e), e);
  }
}

interface NodeJson {
  readonly metadata?: { readonly uid?: string; readonly name?: string; readonly labels?: Record<string, string> };
  readonly spec?: { readonly taints?: Taint[] };
  readonly status?: Partial<NodeStatus>;
}

const emptyStatus: NodeStatus = {
  capacity: {}, allocatable: {}, conditions: [], addresses: [], daemonEndpoints: { kubeletEndpoint: { Port: 0 } }, nodeInfo: {},
};

function toManifest(n: V1Node): NodeManifest & { uid: string } {
  const json = JSON.parse(JSON.stringify(n)) as NodeJson;
  const meta = { uid: '', name: '', labels: {}, ...json.metadata };
  return {
    uid: meta.uid,
    metadata: { name: meta.name, labels: meta.labels },
    spec: { taints: json.spec?.taints ?? [] },
    status: { ...emptyStatus, ...json.status },
  };
}

export function createNodeApi(kc: KubeConfig): NodeApi {
  const core = kc.makeApiClient(CoreV1Api);
  return {
    async get(name) {
      try {
        return toManifest(await core.readNode({ name }));
      } catch (e) {
        if (statusOf(e) === 404) return undefined;
        throw new KubeApiError('read node', statusOf(e), e);
      }
    },
    async create(node) {
      const created = await call('create node', () => core.createNode({ body: node as unknown as V1Node }));
      return created.metadata?.uid ?? '';
    },
    async patchMeta(node) {
      const body = { metadata: { labels: node.metadata.labels }, spec: { taints: node.spec.taints } };
      await call('patch node', () => core.patchNode({ name: node.metadata.name, body }, smp));
    },
    async patchStatus(name, status) {
      await call('patch node status', () => core.patchNodeStatus({ name, body: { status } }, smp));
    },
  };
}

export function createLeaseApi(kc: KubeConfig): LeaseApi {
  const coord = kc.makeApiClient(CoordinationV1Api);
  const fresh = (name: string, nodeUid: string, duration: number, now: Date): V1Lease => ({
    metadata: { name, namespace: LEASE_NS, ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: nodeUid }] },
    spec: { holderIdentity: name, leaseDurationSeconds: duration, renewTime: new V1MicroTime(now.getTime()) },
  });
  let cached: V1Lease | undefined;
  const load = async (name: string, nodeUid: string, duration: number, now: Date): Promise<V1Lease | undefined> => {
    try {
      return await coord.readNamespacedLease({ name, namespace: LEASE_NS });
    } catch (e) {
      if (statusOf(e) !== 404) throw new KubeApiError('read lease', statusOf(e), e);
      return call('create lease', () => coord.createNamespacedLease({ namespace: LEASE_NS, body: fresh(name, nodeUid, duration, now) }));
    }
  };
  const replace = (lease: V1Lease, next: V1Lease): Promise<V1Lease> => {
    const name = next.metadata?.name ?? '';
    const metadata = { name, namespace: LEASE_NS, resourceVersion: lease.metadata?.resourceVersion ?? '', ownerReferences: next.metadata?.ownerReferences ?? [] };
    return coord.replaceNamespacedLease({ name, namespace: LEASE_NS, body: { metadata, spec: next.spec ?? {} } });
  };
  return {
    /** One PUT per renewal; the Lease is read again only after a conflict or when it vanished. */
    async renew(name, nodeUid, duration, now) {
      const next = fresh(name, nodeUid, duration, now);
      cached ??= await load(name, nodeUid, duration, now);
      if (cached === undefined) return;
      try {
        cached = await replace(cached, next);
      } catch (e) {
        cached = undefined;
        if (statusOf(e) !== 409 && statusOf(e) !== 404) throw new KubeApiError('renew lease', statusOf(e), e);
        const reloaded = await load(name, nodeUid, duration, now);
        if (reloaded !== undefined) cached = await call('renew lease', () => replace(reloaded, next));
      }
    },
  };
}
