// PodSource over a client-node ListWatch of the pods bound to one node (field selector
// spec.nodeName), kept running by watchedList: restarted with back-off after any error, forever,
// and every restart counted.
import { CoreV1Api, ListWatch, Watch, type KubeConfig, type KubernetesListObject, type V1Pod } from '@kubernetes/client-node';
import { parsePodKey, podKey, type Pod, type PodKey } from '../domain/pod.js';
import type { Clock } from '../ports/clock.js';
import type { PodSource } from '../ports/kube.js';
import type { Logger } from '../observability/logger.js';
import { describeError } from './client.js';
import { asJson, watchedList } from './watched-list.js';

export interface PodInformerDeps {
  readonly kc: KubeConfig;
  readonly nodeName: string;
  readonly log: Logger;
  readonly onRestart: () => void;
  /** Waits between restarts; real timers when not given. */
  readonly clock?: Clock;
}

export function createPodInformer(deps: PodInformerDeps): PodSource {
  const core = deps.kc.makeApiClient(CoreV1Api);
  const selector = `spec.nodeName=${deps.nodeName}`;
  const log = deps.log.child({ component: 'pod-informer' });
  const list = async (): Promise<KubernetesListObject<V1Pod>> => asJson(await core.listPodForAllNamespaces({ fieldSelector: selector }));
  const lw = new ListWatch<V1Pod>('/api/v1/pods', new Watch(deps.kc), list, false, undefined, selector);
  const watched = watchedList({
    lw, clock: deps.clock, onRestart: deps.onRestart,
    onFailure: (err, failures) => { log.warn({ error: describeError(err), attempt: failures }, 'pod watch failed; restarting'); },
  });
  return {
    get: (key) => {
      const { namespace, name } = parsePodKey(key);
      return lw.get(name, namespace) as Pod | undefined;
    },
    list: () => lw.list() as unknown as readonly Pod[],
    onChange: (h: (key: PodKey) => void) => { watched.onChange((namespace, name) => { h(podKey(namespace, name)); }); },
    synced: watched.synced,
    run: (signal) => watched.run(signal),
  };
}
