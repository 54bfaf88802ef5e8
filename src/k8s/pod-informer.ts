// PodSource over a client-node ListWatch of the pods bound to one node (field selector
// spec.nodeName). client-node stops a ListWatch on any error other than 410 Gone; this wrapper
// restarts it with back-off, forever, and counts the restarts.
import { CoreV1Api, ListWatch, Watch, type KubeConfig, type KubernetesListObject, type V1Pod } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { Backoff, type BackoffPolicy } from '../domain/backoff.js';
import { parsePodKey, podKey, type Pod, type PodKey } from '../domain/pod.js';
import type { Clock } from '../ports/clock.js';
import type { PodSource } from '../ports/kube.js';
import type { Logger } from '../observability/logger.js';
import { describeError } from './client.js';

export interface PodInformerDeps {
  readonly kc: KubeConfig;
  readonly nodeName: string;
  readonly log: Logger;
  readonly onRestart: () => void;
  /** Waits between restarts; real timers when not given. */
  readonly clock?: Clock;
}

/** Restart delays after consecutive failed sessions: 0.5 s, doubling, at most 30 s. */
const restartBackoff: BackoffPolicy = { baseMs: 500, maxMs: 30_000 };

const realTimers: Clock = {
  now: () => new Date(),
  sleep: async (ms, signal) => { await sleep(ms, undefined, signal === undefined ? {} : { signal }); },
};

/** Objects from the list are typed (Date fields); from the watch they are JSON. Make both JSON. */
const asJson = <T>(o: T): T => JSON.parse(JSON.stringify(o)) as T;

export function createPodInformer(deps: PodInformerDeps): PodSource {
  const core = deps.kc.makeApiClient(CoreV1Api);
  const selector = `spec.nodeName=${deps.nodeName}`;
  const log = deps.log.child({ component: 'pod-informer' });
  const clock = deps.clock ?? realTimers;
  const backoff = new Backoff(restartBackoff);
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

  /**
   * One list+watch session; resolves on abort, throws the error that stopped the watch. A session
   * that synced ends the run of failures: the next restart waits the first delay again.
   */
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
      backoff.reset();
      const aborted = new Promise((resolveAbort) => { signal.addEventListener('abort', resolveAbort, { once: true }); });
      const outcome = await Promise.race([failed, aborted]);
      if (!signal.aborted) throw outcome;
    } finally {
      lw.off('error', onError);
    }
  };

  return {
    get: (key) => {
      const { namespace, name } = parsePodKey(key);
      return lw.get(name, namespace) as Pod | undefined;
    },
    list: () => lw.list() as unknown as readonly Pod[],
    onChange: (h) => { handlers.push(h); },
    synced,
    async run(signal) {
      const stopping = (): boolean => signal.aborted;
      while (!stopping()) {
        try {
          await runOnce(signal);
        } catch (err) {
          if (stopping()) break;
          deps.onRestart();
          const delayMs = backoff.next();
          log.warn({ error: describeError(err), attempt: backoff.failures }, 'pod watch failed; restarting');
          await clock.sleep(delayMs, signal).catch(() => undefined);
        }
      }
      await lw.stop();
    },
  };
}
