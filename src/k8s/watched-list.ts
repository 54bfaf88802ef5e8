// A client-node ListWatch kept running, for the informers of k8s/ (pods, BurstBudgets). client-node
// stops a ListWatch on any error other than 410 Gone; this restarts it with back-off, forever,
// resolves `synced` once a list has loaded, and tells its owner of every failure (to log it) and
// restart (to count it).
import type { KubernetesObject, ListWatch } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { Backoff, type BackoffPolicy } from '../domain/backoff.js';
import type { Clock } from '../ports/clock.js';

export interface WatchedListDeps<T extends KubernetesObject> {
  /** Built with autoStart false; started, stopped and restarted here. */
  readonly lw: ListWatch<T>;
  /**
   * Told of the error that ended a session and how many sessions have failed in a row (1 = the first
   * failure since a list loaded, or since the start), before the wait: the owner logs it.
   */
  readonly onFailure: (err: unknown, failures: number) => void;
  readonly onRestart?: (() => void) | undefined;
  /** Waits between restarts; real timers when not given. */
  readonly clock?: Clock | undefined;
}

export interface WatchedList {
  /** Calls `handler` with the namespace and name of every object added, changed or removed. */
  onChange(handler: (namespace: string, name: string) => void): void;
  /** Lists and watches until `signal` aborts, restarting after any error. */
  run(signal: AbortSignal): Promise<void>;
  /** Resolves once a list has loaded; never before. */
  readonly synced: Promise<void>;
}

/** Restart delays after consecutive failed sessions: 0.5 s, doubling, at most 30 s. */
export const restartBackoff: BackoffPolicy = { baseMs: 500, maxMs: 30_000 };

const realTimers: Clock = {
  now: () => new Date(),
  sleep: async (ms, signal) => { await sleep(ms, undefined, signal === undefined ? {} : { signal }); },
};

/** Objects from a typed list carry Date fields; from the watch they are JSON. Make both JSON. */
export const asJson = <T>(o: T): T => JSON.parse(JSON.stringify(o)) as T;

export function watchedList<T extends KubernetesObject>(deps: WatchedListDeps<T>): WatchedList {
  const { lw } = deps;
  const clock = deps.clock ?? realTimers;
  const backoff = new Backoff(restartBackoff);
  const handlers: ((namespace: string, name: string) => void)[] = [];
  const emit = (o: T): void => {
    for (const h of handlers) h(o.metadata?.namespace ?? '', o.metadata?.name ?? '');
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
      // The signal may have aborted while the list and watch started: an abort listener added now would never fire.
      const aborted = signal.aborted ? Promise.resolve() : new Promise((resolveAbort) => { signal.addEventListener('abort', resolveAbort, { once: true }); });
      const outcome = await Promise.race([failed, aborted]);
      if (!signal.aborted) throw outcome;
    } finally {
      lw.off('error', onError);
    }
  };

  return {
    onChange: (h) => { handlers.push(h); },
    synced,
    async run(signal) {
      const stopping = (): boolean => signal.aborted;
      while (!stopping()) {
        try {
          await runOnce(signal);
        } catch (err) {
          if (stopping()) break;
          deps.onRestart?.();
          const delayMs = backoff.next();
          deps.onFailure(err, backoff.failures);
          await clock.sleep(delayMs, signal).catch(() => undefined);
        }
      }
      await lw.stop();
    },
  };
}
