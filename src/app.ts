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
import type { ConfigSource, PodSource } from './ports/kube.js';
import type { Logger } from './observability/logger.js';
import { createMetrics } from './observability/metrics.js';
import { createOpsServer } from './observability/ops-server.js';
import { withLauncherMetrics, withProviderMetrics } from './observability/provider-metrics.js';
import type { Metrics } from './observability/metrics.js';
import { isRunnable, type Provider } from './provider/provider.js';
import { createAwsAdapters } from './aws/adapters.js';
import { loadCatalog } from './catalog-files.js';
import { Ec2Provider } from './ec2/ec2-provider.js';
import { noProvider } from './provider/no-provider.js';
import { agentSettings, agentUserData } from './agent-protocol/user-data.js';
import type { EventRecorder } from './ports/kube.js';
import { systemClock } from './system-clock.js';

export interface AppDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly version: string;
  /** Kubeconfig file; undefined → in-cluster, then ~/.kube/config. */
  readonly kubeconfig: string | undefined;
  /** The node's InternalIP when the config does not give one. */
  readonly defaultInternalIP: string;
  /** Overrides the provider the config implies (tests run ORCA with a test provider). */
  readonly provider?: ((deps: ProviderDeps) => Provider) | undefined;
  /** The instance-catalog/ directory. */
  readonly catalogDir: string;
  /** The on-instance agent (agent/orca-agent.sh), rendered into every instance's user data. */
  readonly agentScript: string;
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

/** The EC2 provider when subnets are configured; otherwise one that launches nothing. */
function configuredProvider(d: AppDeps & { readonly events: EventRecorder; readonly params: NodeParams; readonly configs: ConfigSource; readonly pods: PodSource; readonly metrics: Metrics }): Provider {
  const { config } = d;
  const aws = config.aws;
  if (aws.subnets.length === 0) return noProvider;
  const clusterId = aws.clusterId ?? d.params.name;
  const i = config.instances;
  const adapters = createAwsAdapters({ region: aws.region, endpoint: aws.endpoint, now: () => systemClock.now(), assignmentPrefix: agentSettings(clusterId).paramPrefix });
  return new Ec2Provider({
    ...adapters, launcher: withLauncherMetrics(adapters.launcher, d.metrics),
    catalog: loadCatalog(d.catalogDir, aws.region),
    events: d.events, clock: systemClock, log: d.log, config: d.configs, podLookup: (key) => d.pods.get(key),
    settings: {
      clusterId, nodeName: d.params.name, subnets: aws.subnets.map((s) => ({ zone: s.zone, subnetId: s.subnetID })),
      securityGroupIds: aws.securityGroupIDs, ...(aws.instanceProfileArn === undefined ? {} : { instanceProfileArn: aws.instanceProfileArn }),
      images: { nvidia: i.images.nvidia, neuron: i.images.neuron, cpu: i.images.cpu },
      selectionMode: i.selectionMode, defaultCapacityOrder: i.defaultLaunchType, defaultOnInterruption: i.defaultOnInterruption,
      allowedTypes: i.allowedInstanceTypes, templates: i.templates, rootVolumeGiB: i.rootVolumeGiB,
      userData: agentUserData(agentSettings(clusterId), d.agentScript), dryRun: aws.dryRun, pollMs: i.pollSeconds * 1000, tags: aws.tags,
      batchWindowMs: i.batchWindowSeconds * 1000, batchMax: i.batchMaxInstances, unassignedGraceMs: i.unassignedGraceSeconds * 1000,
    },
  });
}

/** After SIGTERM, components get this long to stop before ORCA exits anyway. */
export const shutdownDeadlineMs = 10_000;

/** Resolves true when `running` settles, false when it is still running shutdownDeadlineMs after `signal` aborted. */
async function stopsInTime(running: Promise<unknown>, signal: AbortSignal): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    const start = (): void => { timer = setTimeout(() => { resolve(false); }, shutdownDeadlineMs); };
    if (signal.aborted) start();
    else signal.addEventListener('abort', start, { once: true });
  });
  try {
    return await Promise.race([running.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

export function buildApp(deps: AppDeps): App {
  const { config, log } = deps;
  const registry = new Registry();
  const metrics = createMetrics(registry);
  metrics.buildInfo.set({ version: deps.version, nodejs: process.version }, 1);
  const kc = loadKubeConfig(deps.kubeconfig);
  const params = nodeParams(deps);
  const pods = createPodInformer({ kc, nodeName: params.name, log, clock: systemClock, onRestart: () => { metrics.informerRestarts.inc({ resource: 'pods' }); } });
  const onApiError = (operation: string): void => { metrics.apiErrors.inc({ operation }); };
  const node = new NodeController({ nodes: createNodeApi(kc), leases: createLeaseApi(kc), clock: systemClock, log, params, onApiError });
  const events = createEventRecorder({ kc, nodeName: params.name, log, now: () => systemClock.now() });
  const providerDeps = { config, log, configs: createConfigSource(kc) };
  const provider = withProviderMetrics(deps.provider?.(providerDeps) ?? configuredProvider({ ...deps, events, params, configs: providerDeps.configs, pods, metrics }), metrics);
  const podController = new PodController({
    pods, writer: createPodWriter(kc), provider, clock: systemClock, log, metrics, hostIP: params.internalIP,
    events,
  });
  let synced = false;
  void pods.synced.then(() => { synced = true; });
  const notReadyReasons = (): string[] => [
    ...(node.isRegistered ? [] : ['virtual node not registered']),
    ...(synced ? [] : ['pod informer not synced']),
    ...(provider.notReadyReasons?.() ?? []),
  ];
  const ops = createOpsServer({ registry, readiness: { notReadyReasons } });
  return {
    async run(signal: AbortSignal): Promise<void> {
      ops.listen(config.ops.port, config.ops.host);
      await once(ops, 'listening');
      log.info({ node: params.name, region: config.aws.region, opsPort: (ops.address() as AddressInfo).port, version: deps.version }, 'orca started');
      void Promise.all([node.registered, pods.synced, provider.ready]).then(() => {
        metrics.ready.set(1);
        log.info({}, 'orca ready');
      });
      const running = Promise.all([
        node.run(signal), pods.run(signal), podController.run(signal),
        isRunnable(provider) ? provider.run(signal) : Promise.resolve(),
      ]);
      if (await stopsInTime(running, signal)) log.info({ reason: String(signal.reason) }, 'orca stopping');
      else log.warn({ reason: String(signal.reason), waitedMs: shutdownDeadlineMs }, 'orca stopping although a component has not stopped yet');
      ops.close();
      ops.closeAllConnections();
      await once(ops, 'close');
      log.info({}, 'orca stopped');
    },
  };
}
