// PodWriter and EventRecorder over client-node. Status writes are strategic-merge patches of
// pods/<name>/status carrying metadata.uid, so a write can never land on a pod of the same name
// created later; a pod that is gone (404) or was replaced (409) is not an error for the caller.
import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { parsePodKey, type Pod } from '../domain/pod.js';
import type { EventRecorder, PodWriter } from '../ports/kube.js';
import type { Logger } from '../observability/logger.js';
import { KubeApiError, statusOf } from './client.js';
import { createEventPoster } from './events.js';

const smp = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

const gone = (e: unknown): boolean => statusOf(e) === 404 || statusOf(e) === 409;

/**
 * podIPs and hostIPs merge by ip in a strategic-merge patch: a pod relaunched on a new instance would
 * get both addresses (refused: one per IP family). The replace directive makes the list the new one.
 */
function replaceIpLists(status: object): object {
  const out: Record<string, unknown> = { ...status };
  for (const k of ['podIPs', 'hostIPs']) {
    const list = out[k];
    if (Array.isArray(list)) out[k] = [{ $patch: 'replace' }, ...(list as unknown[])];
  }
  return out;
}

export function createPodWriter(kc: KubeConfig): PodWriter {
  const core = kc.makeApiClient(CoreV1Api);
  return {
    async patchStatus(ref, status, clear) {
      const body = { metadata: { uid: ref.uid }, status: { ...replaceIpLists(status), ...Object.fromEntries(clear.map((k) => [k, null])) } };
      try {
        await core.patchNamespacedPodStatus({ ...parsePodKey(ref.key), body }, smp);
      } catch (e) {
        if (!gone(e)) throw new KubeApiError('patch pod status', statusOf(e), e);
      }
    },
    async deleteNow(ref) {
      try {
        await core.deleteNamespacedPod({ ...parsePodKey(ref.key), gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid: ref.uid } } });
      } catch (e) {
        if (!gone(e)) throw new KubeApiError('delete pod', statusOf(e), e);
      }
    },
  };
}

export interface EventRecorderDeps {
  readonly kc: KubeConfig;
  readonly nodeName: string;
  readonly log: Logger;
  readonly now: () => Date;
}

/** core/v1 Events, as a kubelet records them (source component `orca`, host = the node). */
export function createEventRecorder(deps: EventRecorderDeps): EventRecorder {
  const post = createEventPoster({ kc: deps.kc, log: deps.log.child({ component: 'events' }), now: deps.now, host: deps.nodeName });
  return {
    podEvent(pod: Pod, type, reason, message) {
      const { namespace, name, uid } = pod.metadata;
      post({ apiVersion: 'v1', kind: 'Pod', namespace, name, uid }, type, reason, message);
    },
  };
}
