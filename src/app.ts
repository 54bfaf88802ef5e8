// The composition root: builds every adapter, controller and server from the Config and wires them.
// No logic lives here; only main.ts imports it.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
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
import { createAccessReviewer, createTokenReviewer } from './k8s/review-api.js';
import { KubeletAuth } from './kubelet-api/auth.js';
import { buildKubeletServer } from './kubelet-api/server.js';
import type { StreamSettings } from './kubelet-api/stream-server.js';
import { KubeletTls } from './kubelet-api/tls.js';
import type { AccessReviewer, ConfigSource, PodSource, TokenReviewer } from './ports/kube.js';
import type { Logger } from './observability/logger.js';
import { createMetrics } from './observability/metrics.js';
import { createOpsServer } from './observability/ops-server.js';
import { withLauncherMetrics, withProviderMetrics } from './observability/provider-metrics.js';
import type { Metrics } from './observability/metrics.js';
import { isExecCapable, isRunnable, isStatsCapable, type LogsCapable, type Provider } from './provider/provider.js';
import { ContainerLogs } from './logs/container-logs.js';
import { LogFollowers } from './logs/followers.js';
import { ReadBudget } from './logs/read-budget.js';
import { parsePodKey } from './domain/pod.js';
import { createAwsAdapters, type AwsAdapters } from './aws/adapters.js';
import { ec2SettingsOf } from './ec2-settings.js';
import { loadCatalog } from './catalog-files.js';
import { Ec2Provider } from './ec2/ec2-provider.js';
import { buildLedger } from './app-budgets.js';
import type { BudgetLedger } from './budgets/ledger.js';
import { noProvider } from './provider/no-provider.js';
import { agentSettings, agentUserData } from './agent-protocol/user-data.js';
import { logStreamName } from './agent-protocol/tags.js';
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
  /** The exec helper (agent/orca-exec.py), sent into every exec and attach session. */
  readonly execHelper: string;
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

/** The cluster id on every instance, and the AWS adapters when subnets are configured (without them ORCA calls no AWS API). */
function awsAdapters(config: Config, nodeName: string, log: Logger): { readonly clusterId: string; readonly adapters: AwsAdapters | undefined } {
  const aws = config.aws;
  const clusterId = aws.clusterId ?? nodeName;
  if (aws.subnets.length === 0) return { clusterId, adapters: undefined };
  return { clusterId, adapters: createAwsAdapters({ region: aws.region, endpoint: aws.endpoint, now: () => systemClock.now(), assignmentPrefix: agentSettings(clusterId).paramPrefix, log }) };
}

/** ORCA's own registry (never prom-client's global one) with every metric on it. */
function appMetrics(version: string): { readonly registry: Registry; readonly metrics: Metrics } {
  const registry = new Registry();
  const metrics = createMetrics(registry);
  metrics.buildInfo.set({ version, nodejs: process.version }, 1);
  return { registry, metrics };
}

interface ProviderParts {
  readonly events: EventRecorder;
  readonly params: NodeParams;
  readonly configs: ConfigSource;
  readonly pods: PodSource;
  readonly metrics: Metrics;
  readonly adapters: AwsAdapters | undefined;
  readonly clusterId: string;
  readonly budgets: BudgetLedger;
}

/** The EC2 provider when subnets are configured; otherwise one that launches nothing. */
function configuredProvider(d: AppDeps & ProviderParts): Provider {
  const { config, adapters, clusterId } = d;
  const aws = config.aws;
  if (adapters === undefined) return noProvider;
  return new Ec2Provider({
    ...adapters, launcher: withLauncherMetrics(adapters.launcher, d.metrics),
    catalog: loadCatalog(d.catalogDir, aws.region),
    events: d.events, clock: systemClock, log: d.log, config: d.configs, podLookup: (key) => d.pods.get(key),
    sessions: { manager: adapters.sessions, helperSource: d.execHelper }, budgets: d.budgets, spotHistory: adapters.spot,
    settings: ec2SettingsOf(config, { clusterId, nodeName: d.params.name, userData: agentUserData(agentSettings(clusterId), d.agentScript) }),
  });
}

/** `kubectl logs` from the streams the agent writes, under one read budget; undefined without AWS. */
function containerLogs(d: { readonly config: Config; readonly log: Logger; readonly metrics: Metrics; readonly adapters: AwsAdapters | undefined; readonly clusterId: string }): LogsCapable | undefined {
  if (d.adapters === undefined) return undefined;
  const l = d.config.kubeletApi.logs;
  const group = agentSettings(d.clusterId).logGroup;
  const store = d.adapters.logs;
  const budget = new ReadBudget({ clock: systemClock, perSecond: l.readsPerSecond, burst: l.readBurst, onSpend: () => { d.metrics.logReads.inc(); } });
  const followers = new LogFollowers({
    store, budget, clock: systemClock, log: d.log.child({ component: 'logs' }), group,
    timings: { pollMs: l.followPollSeconds * 1000, lateMs: 15_000, drainMs: 5000 },
  });
  d.metrics.trackLogFollowers(() => followers.active);
  return new ContainerLogs({
    store, budget, followers, clock: systemClock, group,
    streamOf: (t) => logStreamName({ ...parsePodKey(t.ref.key), uid: t.ref.uid }, t.container, t.run),
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

interface KubeletApiParts {
  readonly config: Config;
  readonly log: Logger;
  readonly reviews: { readonly tokens: TokenReviewer; readonly access: AccessReviewer };
  readonly tls: KubeletTls;
  readonly pods: PodSource;
  readonly provider: Provider;
  readonly logs: LogsCapable | undefined;
  readonly nodeName: string;
  readonly metrics: Metrics;
}

function streamSettings(config: Config): StreamSettings {
  const s = config.kubeletApi.streams;
  return { maxPerPod: s.maxPerPod, maxPerNode: s.maxPerNode, idleTimeoutMs: s.idleTimeoutSeconds * 1000, maxDurationMs: s.maxDurationSeconds * 1000 };
}

/** The kubelet API: its certificates, a kubelet's authentication and authorization, its routes. */
function kubeletApi(d: KubeletApiParts): ReturnType<typeof buildKubeletServer> {
  const auth = new KubeletAuth({ ...d.reviews, clock: systemClock, nodeName: d.nodeName, allowAnonymous: d.config.kubeletApi.anonymous });
  return buildKubeletServer({
    nodeName: d.nodeName, auth, pods: d.pods, provider: d.provider, log: d.log, tls: d.tls, now: () => systemClock.now(),
    nodeStartTime: systemClock.now(),
    ...(d.logs === undefined ? {} : { logs: d.logs }),
    ...(isStatsCapable(d.provider) ? { stats: d.provider } : {}),
    ...(isExecCapable(d.provider) ? { streams: d.provider } : {}),
    streamSettings: streamSettings(d.config),
    observeSessions: {
      opened: (kind) => { d.metrics.streamSessions.inc({ kind }); },
      ended: (kind, outcome) => { d.metrics.streamSessions.dec({ kind }); d.metrics.streamSessionsEnded.inc({ kind, outcome }); },
    },
    x509Of: (req) => d.tls.identity(req.socket as TLSSocket),
  });
}

/** The serving certificate and client CA the config names (else a self-signed certificate). */
function loadTls(config: Config, base: NodeParams, log: Logger): Promise<KubeletTls> {
  const k = config.kubeletApi;
  return KubeletTls.load(
    { ...(k.tlsCertFile === undefined ? {} : { certFile: k.tlsCertFile }), ...(k.tlsKeyFile === undefined ? {} : { keyFile: k.tlsKeyFile }), ...(k.clientCAFile === undefined ? {} : { clientCaFile: k.clientCAFile }) },
    { clock: systemClock, log, nodeName: base.name, nodeIP: base.internalIP },
  );
}

/** Why ORCA is not ready yet (/readyz); empty when it is. */
function readiness(d: { readonly node: NodeController; readonly pods: PodSource; readonly budgets: BudgetLedger; readonly provider: Provider }): () => string[] {
  let synced = false;
  void d.pods.synced.then(() => { synced = true; });
  return () => [
    ...(d.node.isRegistered ? [] : ['virtual node not registered']),
    ...(synced ? [] : ['pod informer not synced']),
    ...(d.budgets.entries.loaded ? [] : ['BurstBudgets not loaded (is deploy/crds/burstbudgets.orca.research.yaml applied?)']),
    ...(d.provider.notReadyReasons?.() ?? []),
  ];
}

export async function buildApp(deps: AppDeps): Promise<App> {
  const { config, log } = deps;
  const { registry, metrics } = appMetrics(deps.version);
  const kc = loadKubeConfig(deps.kubeconfig);
  const base = nodeParams(deps);
  const tls = await loadTls(config, base, log);
  const params: NodeParams = tls.selfSigned ? { ...base, readyNote: `the kubelet API serves a ${tls.describe()}` } : base;
  const pods = createPodInformer({ kc, nodeName: params.name, log, clock: systemClock, onRestart: () => { metrics.informerRestarts.inc({ resource: 'pods' }); } });
  const node = new NodeController({
    nodes: createNodeApi(kc), leases: createLeaseApi(kc), clock: systemClock, log, params, onApiError: (operation) => { metrics.apiErrors.inc({ operation }); },
  });
  const events = createEventRecorder({ kc, nodeName: params.name, log, now: () => systemClock.now() });
  const providerDeps = { config, log, configs: createConfigSource(kc) };
  const { clusterId, adapters } = awsAdapters(config, params.name, log);
  const budgets = buildLedger({ config, kc, log, metrics });
  const provider = withProviderMetrics(deps.provider?.(providerDeps) ?? configuredProvider({ ...deps, events, params, configs: providerDeps.configs, pods, metrics, adapters, clusterId, budgets }), metrics);
  if (isStatsCapable(provider)) metrics.trackAccelerators(() => provider.podStats(AbortSignal.timeout(5000)));
  const podController = new PodController({
    pods, writer: createPodWriter(kc), provider, clock: systemClock, log, metrics, hostIP: params.internalIP,
    events,
  });
  const ops = createOpsServer({ registry, readiness: { notReadyReasons: readiness({ node, pods, budgets, provider }) } });
  const kubelet = kubeletApi({ config, log, reviews: { tokens: createTokenReviewer(kc), access: createAccessReviewer(kc) }, tls, pods, provider, nodeName: params.name, metrics, logs: containerLogs({ config, log, metrics, adapters, clusterId }) });
  return {
    async run(signal: AbortSignal): Promise<void> {
      ops.listen(config.ops.port, config.ops.host);
      await once(ops, 'listening');
      const { host } = config.kubeletApi;
      await kubelet.listen({ port: config.node.kubeletPort, host });
      log.info({ port: config.node.kubeletPort, host, certificate: tls.describe(), clientCertificates: tls.verifiesClientCertificates }, 'kubelet API listening');
      log.info({ node: params.name, region: config.aws.region, opsPort: (ops.address() as AddressInfo).port, version: deps.version }, 'orca started');
      void Promise.all([node.registered, pods.synced, provider.ready, budgets.ready]).then(() => {
        metrics.ready.set(1);
        log.info({}, 'orca ready');
      });
      const running = Promise.all([
        node.run(signal), pods.run(signal), podController.run(signal), tls.run(signal), budgets.run(signal),
        isRunnable(provider) ? provider.run(signal) : Promise.resolve(),
      ]);
      if (await stopsInTime(running, signal)) log.info({ reason: String(signal.reason) }, 'orca stopping');
      else log.warn({ reason: String(signal.reason), waitedMs: shutdownDeadlineMs }, 'orca stopping although a component has not stopped yet');
      ops.close();
      ops.closeAllConnections();
      await Promise.all([once(ops, 'close'), kubelet.close()]);
      log.info({}, 'orca stopped');
    },
  };
}
