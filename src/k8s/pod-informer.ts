// PodSource over a client-node ListWatch of the pods bound to one node (field selector
// spec.nodeName). client-node stops a ListWatch on any error other than 410 Gone; this wrapper
// restarts it with back-off, forever, and counts the restarts.
import { CoreV1Api, ListWatch, Watch, type KubeConfig, type KubernetesListObject, type V1Pod } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { podKey, type Pod, type PodKey } from '../domain/pod.js';
import type { PodSource } from '../ports/kube.js';
import type { Logger } from '../observability/logger.js';
import { describeError } from './client.js';

export interface PodInformerDeps {
  readonly kc: KubeConfig;
  readonly nodeName: string;
  readonly log: Logger;
  readonly onRestart: () => void;
}

/** Objects from the list are typed (Date fields); from the watch they are JSON. Make both JSON. */
const asJson = <T>(o: T): T => JSON.parse(JSON.stringify(o)) as T;

export function createPodInformer(deps: PodInformerDeps): PodSource {
  const core = deps.kc.makeApiClient(CoreV1Api);
  const selector = `spec.nodeName=${deps.nodeName}`;
  const log = deps.log.child({ component: 'pod-informer' });
  const list = async (): Promise<KubernetesListObject<V1Pod>> => asJson(await core.listPodForAllNamespaces({ fieldSelector: selector }));
  const lw = new ListWatch<V1Pod>('/api/v1/pods', new Watch(deps.kc), list, false, undefined, selector);
  const handlers: ((key: PodKey) => void)[] = [];
  const emit = (p: V1Pod): void => {
    const key = podKey(p.metadata?.namespace ?? '', p.metadata?.name ?? '');
    for (const h of handlers) h(key);
  };
  for (const verb of ['add', 'update', 'delete'] as const) lw.on(verb, emit);
  let markSynced: () => void = () => undefined;
  const synced = new Promise<void>((resolveSynced) => { markSynced = resolveSynced; });

  /** One list+watch session; resolves on abort, throws the error that stopped the watch. */
  const runOnce = async (signal: AbortSignal): Promise<void> => {
    let onError: (e: unknown) => void = () => undefined;
    const failed = new Promise<unknown>((resolveFailed) => { onError = resolveFailed; });
    lw.on('error', onError);
    try {
      await lw.start();
      const started = Symbol('started');
      const first = await Promise.race([failed, Promise.resolve(started)]);
      if (first !== started) throw first;
      markSynced();
      const aborted = new Promise((resolveAbort) => { signal.addEventListener('abort', resolveAbort, { once: true }); });
      const outcome = await Promise.race([failed, aborted]);
      if (!signal.aborted) throw outcome;
    } finally {
      lw.off('error', onError);
    }
  };

  return {
    get: (key) => {
      const [namespace = '', name = ''] = key.split('/');
      return lw.get(name, namespace) as Pod | undefined;
    },
    list: () => lw.list() as unknown as readonly Pod[],
    onChange: (h) => { handlers.push(h); },
    synced,
    async run(signal) {
      const stopping = (): boolean => signal.aborted;
      for (let attempt = 0; !stopping(); attempt++) {
        try {
          await runOnce(signal);
        } catch (err) {
          if (stopping()) break;
          deps.onRestart();
          log.warn({ error: describeError(err), attempt }, 'pod watch failed; restarting');
          await sleep(Math.min(500 * 2 ** Math.min(attempt, 6), 30_000), undefined, { signal }).catch(() => undefined);
        }
      }
      await lw.stop();
    },
  };
}
