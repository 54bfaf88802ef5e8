// Metrics by decoration: the EC2 launcher port and the provider are wrapped, so the code on the
// money path has no metric calls. Launch outcomes and capacity errors by offering, terminations by
// outcome, the poll's duration and the instances by state come from the launcher; call durations by
// method and error code, and the provider's collections, from the provider.
import { LaunchError, OrcaError, TerminateRefusedError } from '../domain/errors.js';
import type { InstanceState } from '../domain/instance.js';
import type { InstanceLauncher } from '../ports/launcher.js';
import type { Provider } from '../provider/provider.js';
import type { Metrics } from './metrics.js';

const states: readonly InstanceState[] = ['pending', 'running', 'shutting-down', 'terminated', 'stopping', 'stopped', 'unknown'];

export function withLauncherMetrics(launcher: InstanceLauncher, m: Metrics): InstanceLauncher {
  return {
    async launch(spec, signal) {
      const labels = { instance_type: spec.instanceType, market: spec.capacity };
      try {
        const got = await launcher.launch(spec, signal);
        m.launches.inc({ ...labels, outcome: spec.dryRun ? 'dry-run' : 'launched' });
        return got;
      } catch (err) {
        const kind = err instanceof LaunchError ? err.kind : 'unknown';
        m.launches.inc({ ...labels, outcome: kind });
        if (kind === 'capacity' || kind === 'reservation-full') m.capacityErrors.inc({ ...labels, zone: spec.zone ?? '' });
        throw err;
      }
    },
    tag: (ids, tags, signal) => launcher.tag(ids, tags, signal),
    async terminate(ids, signal) {
      try {
        await launcher.terminate(ids, signal);
        m.terminations.inc({ outcome: 'ok' }, ids.length);
      } catch (err) {
        m.terminations.inc({ outcome: err instanceof TerminateRefusedError ? 'refused' : 'error' }, ids.length);
        throw err;
      }
    },
    unprotect: (id, signal) => launcher.unprotect(id, signal),
    async listTagged(key, value, signal) {
      const end = m.pollSeconds.startTimer();
      try {
        const all = await launcher.listTagged(key, value, signal);
        end({ outcome: 'ok' });
        for (const s of states) m.instances.set({ state: s }, all.filter((i) => i.state === s).length);
        return all;
      } catch (err) {
        end({ outcome: 'error' });
        throw err;
      }
    },
  };
}

type Method = 'createPod' | 'updatePod' | 'deletePod' | 'getPodStatus' | 'listPods';

/** A provider with its own collections to report. */
export type Tracked = Provider & { memory?(): Readonly<Record<string, number>> };

/**
 * The provider with its calls timed by method and error code; its collections feed
 * orca_provider_tracked. Everything else (run, readiness, the optional capabilities the kubelet API
 * looks for) is the provider's own, reached through the wrapper unchanged.
 */
export function withProviderMetrics(provider: Tracked, m: Metrics): Provider {
  const timed = <A extends unknown[], R>(method: Method, f: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
    const end = m.providerSeconds.startTimer({ method });
    try {
      const r = await f(...a);
      end({ error_code: 'none' });
      return r;
    } catch (err) {
      end({ error_code: err instanceof OrcaError ? err.code : 'other' });
      throw err;
    }
  };
  if (provider.memory !== undefined) m.trackProvider(() => provider.memory?.() ?? {});
  const calls: Readonly<Record<Method, unknown>> = {
    createPod: timed('createPod', provider.createPod.bind(provider)),
    updatePod: timed('updatePod', provider.updatePod.bind(provider)),
    deletePod: timed('deletePod', provider.deletePod.bind(provider)),
    getPodStatus: timed('getPodStatus', provider.getPodStatus.bind(provider)),
    listPods: timed('listPods', provider.listPods.bind(provider)),
  };
  const isTimed = (p: string | symbol): p is Method => typeof p === 'string' && Object.hasOwn(calls, p);
  return new Proxy(provider, {
    get(target, prop) {
      if (isTimed(prop)) return calls[prop];
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
