// The composition root: builds every adapter, controller and server from the Config and wires them.
// No logic lives here; only main.ts imports it.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import type { Config } from './config/schema.js';
import { NodeController } from './controllers/node-controller.js';
import { PodController } from './controllers/pod-controller.js';
import type { NodeParams } from './domain/node.js';
import { loadKubeConfig } from './k8s/client.js';
import { createLeaseApi, createNodeApi } from './k8s/node-api.js';
import { createEventRecorder, createPodWriter } from './k8s/pod-api.js';
import { createPodInformer } from './k8s/pod-informer.js';
import { createConfigSource } from './k8s/config-source.js';
import type { ConfigSource } from './ports/kube.js';
import type { Logger } from './observability/logger.js';
import { createMetrics } from './observability/metrics.js';
import { createOpsServer } from './observability/ops-server.js';
import { isRunnable, type Provider } from './provider/provider.js';
import { systemClock } from './system-clock.js';

export interface AppDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly version: string;
  /** Kubeconfig file; undefined → in-cluster, then ~/.kube/config. */
  readonly kubeconfig: string | undefined;
  /** The node's InternalIP when the config does not give one. */
  readonly defaultInternalIP: string;
  readonly provider: (deps: ProviderDeps) => Provider;
}

/** What a provider is built from: the config, a logger and the adapters it may call. */
export interface ProviderDeps {
  readonly config: Config;
  readonly log: Logger;
  /** ConfigMaps and Secrets, for resolveEnv() (provider/env.ts). */
  readonly configs: ConfigSource;
}

export interface App {
  /** Serves until `signal` aborts, then shuts down in order. */
  run(signal: AbortSignal): Promise<void>;
}

function nodeParams(deps: AppDeps): NodeParams {
  const n = deps.config.node;
  return {
    name: n.name, version: deps.version, internalIP: n.internalIP ?? deps.defaultInternalIP, kubeletPort: n.kubeletPort,
    extraLabels: n.labels, extraTaints: n.taints, capacity: n.capacity,
  };
}

export function buildApp(deps: AppDeps): App {
  const { config, log } = deps;
  const registry = new Registry();
  const metrics = createMetrics(registry);
  metrics.buildInfo.set({ version: deps.version, nodejs: process.version }, 1);
  const kc = loadKubeConfig(deps.kubeconfig);
  const params = nodeParams(deps);
  const pods = createPodInformer({ kc, nodeName: params.name, log, onRestart: () => { metrics.informerRestarts.inc({ resource: 'pods' }); } });
  const onApiError = (operation: string): void => { metrics.apiErrors.inc({ operation }); };
  const node = new NodeController({ nodes: createNodeApi(kc), leases: createLeaseApi(kc), clock: systemClock, log, params, onApiError });
  const provider = deps.provider({ config, log, configs: createConfigSource(kc) });
  const podController = new PodController({
    pods, writer: createPodWriter(kc), provider, clock: systemClock, log, metrics, hostIP: params.internalIP,
    events: createEventRecorder({ kc, nodeName: params.name, log, now: () => systemClock.now() }),
  });
  let synced = false;
  void pods.synced.then(() => { synced = true; });
  const notReadyReasons = (): string[] => [
    ...(node.isRegistered ? [] : ['virtual node not registered']),
    ...(synced ? [] : ['pod informer not synced']),
  ];
  const ops = createOpsServer({ registry, readiness: { notReadyReasons } });
  return {
    async run(signal: AbortSignal): Promise<void> {
      ops.listen(config.ops.port, config.ops.host);
      await once(ops, 'listening');
      log.info({ node: params.name, region: config.aws.region, opsPort: (ops.address() as AddressInfo).port, version: deps.version }, 'orca started');
      void Promise.all([node.registered, pods.synced]).then(() => {
        metrics.ready.set(1);
        log.info({}, 'orca ready');
      });
      await Promise.all([
        node.run(signal), pods.run(signal), podController.run(signal),
        isRunnable(provider) ? provider.run(signal) : Promise.resolve(),
      ]);
      log.info({ reason: String(signal.reason) }, 'orca stopping');
      ops.close();
      ops.closeAllConnections();
      await once(ops, 'close');
      log.info({}, 'orca stopped');
    },
  };
}
