// The only place metric names exist. Everything registers on an injected Registry (never the global
// one), so each app and each test has its own.
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { parsePodKey } from '../domain/pod.js';
import type { AcceleratorUsage, UsageSamples } from '../provider/provider.js';
import { createBudgetMetrics, type BudgetMetrics } from './budget-metrics.js';

export interface Metrics extends BudgetMetrics {
  readonly buildInfo: Gauge<'version' | 'nodejs'>;
  readonly ready: Gauge;
  readonly reconcileSeconds: Histogram<'outcome'>;
  readonly queueDepth: Gauge;
  readonly podsByPhase: Gauge<'phase'>;
  readonly podStatusWrites: Counter;
  readonly apiErrors: Counter<'operation'>;
  readonly informerRestarts: Counter<'resource'>;
  readonly launches: Counter<'instance_type' | 'market' | 'outcome'>;
  readonly capacityErrors: Counter<'instance_type' | 'market' | 'zone'>;
  readonly terminations: Counter<'outcome'>;
  readonly pollSeconds: Histogram<'outcome'>;
  readonly instances: Gauge<'state'>;
  readonly providerSeconds: Histogram<'method' | 'error_code'>;
  readonly providerTracked: Gauge<'collection'>;
  /** Where orca_provider_tracked is read from at each scrape (the provider's collections). */
  trackProvider(source: () => Readonly<Record<string, number>>): void;
  /** exec, attach and port-forward sessions open now, by kind. */
  readonly streamSessions: Gauge<'kind'>;
  /** Those sessions when they end, by kind and outcome (exited, nonzero, failed, closed). */
  readonly streamSessionsEnded: Counter<'kind' | 'outcome'>;
  readonly logReads: Counter;
  readonly logFollowers: Gauge;
  /** Where orca_log_followers is read from at each scrape. */
  trackLogFollowers(source: () => number): void;
  readonly podAcceleratorUtilization: Gauge<'namespace' | 'pod' | 'kind'>;
  readonly podAcceleratorMemory: Gauge<'namespace' | 'pod' | 'kind'>;
  readonly podAcceleratorsIdle: Gauge<'namespace' | 'pod'>;
  /** Where orca_pod_accelerator_* are read from at each scrape (the provider's usage samples). */
  trackAccelerators(source: () => Promise<UsageSamples>): void;
}

export function createMetrics(registry: Registry): Metrics {
  collectDefaultMetrics({ register: registry, prefix: 'orca_' });
  const registers = [registry];
  return {
    buildInfo: new Gauge({
      name: 'orca_build_info', help: 'Always 1; labels name the running ORCA version and Node.js version',
      labelNames: ['version', 'nodejs'] as const, registers,
    }),
    ready: new Gauge({ name: 'orca_ready', help: '1 when ORCA is ready (node registered, informers synced), else 0', registers }),
    reconcileSeconds: new Histogram({
      name: 'orca_pod_reconcile_duration_seconds', help: 'Time to reconcile one pod, by outcome (ok, error)',
      labelNames: ['outcome'] as const, buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers,
    }),
    queueDepth: new Gauge({ name: 'orca_pod_queue_depth', help: 'Pod keys waiting to be reconciled', registers }),
    podsByPhase: new Gauge({
      name: 'orca_pods', help: 'Pods bound to the virtual node, by phase', labelNames: ['phase'] as const, registers,
    }),
    podStatusWrites: new Counter({ name: 'orca_pod_status_writes_total', help: 'Pod status patches sent to the apiserver', registers }),
    apiErrors: new Counter({
      name: 'orca_kube_api_errors_total', help: 'Failed Kubernetes API calls, by operation',
      labelNames: ['operation'] as const, registers,
    }),
    informerRestarts: new Counter({
      name: 'orca_informer_restarts_total', help: 'Watch restarts after an error, by resource',
      labelNames: ['resource'] as const, registers,
    }),
    ...ec2Metrics(registers),
    ...logMetrics(registers),
    ...acceleratorMetrics(registers),
    ...createBudgetMetrics(registry),
  };
}

type PodGauge = Gauge<'namespace' | 'pod' | 'kind'>;

/** `kubectl top` cannot show accelerators: each pod's, by kind, as its instance's agent last measured them. */
function acceleratorMetrics(registers: Registry[]): Pick<Metrics, 'podAcceleratorUtilization' | 'podAcceleratorMemory' | 'podAcceleratorsIdle' | 'trackAccelerators'> {
  const usage: { source?: () => Promise<UsageSamples> } = {};
  // Pods come and go: each scrape sets the pods of the samples only (a failed read leaves none).
  const fill = async (g: PodGauge, value: (a: AcceleratorUsage) => number): Promise<void> => {
    g.reset();
    const samples = await usage.source?.().catch(() => undefined);
    for (const p of samples?.pods ?? []) {
      const { namespace, name } = parsePodKey(p.ref.key);
      for (const a of p.accelerators) g.set({ namespace, pod: name, kind: a.kind }, value(a));
    }
  };
  const labelNames = ['namespace', 'pod', 'kind'] as const;
  return {
    podAcceleratorUtilization: new Gauge({
      name: 'orca_pod_accelerator_utilization_ratio', help: 'Mean utilisation (0..1) of the accelerators of the instance that runs the pod, by kind', labelNames, registers,
      async collect() { await fill(this, (a) => a.utilization); },
    }),
    podAcceleratorMemory: new Gauge({
      name: 'orca_pod_accelerator_memory_bytes', help: 'Accelerator memory in use on the instance that runs the pod, by kind', labelNames, registers,
      async collect() { await fill(this, (a) => a.memoryUsedBytes); },
    }),
    podAcceleratorsIdle: new Gauge({
      name: 'orca_pod_accelerators_idle_seconds', help: 'How long all the accelerators of the pod\'s instance have been idle (the idle guard), for pods whose accelerators are idle now',
      labelNames: ['namespace', 'pod'] as const, registers,
      async collect() {
        this.reset();
        const samples = await usage.source?.().catch(() => undefined);
        for (const p of samples?.pods ?? []) {
          if (p.acceleratorsIdleSince === undefined) continue;
          const { namespace, name } = parsePodKey(p.ref.key);
          this.set({ namespace, pod: name }, Math.max(0, (samples?.at.getTime() ?? 0) - p.acceleratorsIdleSince.getTime()) / 1000);
        }
      },
    }),
    trackAccelerators: (source) => { usage.source = source; },
  };
}

/** The kubelet API: CloudWatch Logs reads and followers (`kubectl logs`), exec/attach/port-forward sessions. */
function logMetrics(registers: Registry[]): Pick<Metrics, 'logReads' | 'logFollowers' | 'trackLogFollowers' | 'streamSessions' | 'streamSessionsEnded'> {
  const followers: { source?: () => number } = {};
  return {
    streamSessions: new Gauge({ name: 'orca_stream_sessions', help: '`kubectl exec`, `attach` and `port-forward` sessions open, by kind', labelNames: ['kind'] as const, registers }),
    streamSessionsEnded: new Counter({
      name: 'orca_stream_sessions_ended_total', help: 'exec, attach and port-forward sessions ended, by kind and outcome (exited, nonzero, failed, closed)',
      labelNames: ['kind', 'outcome'] as const, registers,
    }),
    logReads: new Counter({ name: 'orca_log_reads_total', help: 'CloudWatch Logs read calls (GetLogEvents, FilterLogEvents) spent from the read budget', registers }),
    logFollowers: new Gauge({
      name: 'orca_log_followers', help: '`kubectl logs -f` requests being served', registers,
      collect() { this.set(followers.source?.() ?? 0); },
    }),
    trackLogFollowers: (source) => { followers.source = source; },
  };
}

/** The money path: launches, capacity errors, terminations, the instance poll, the provider's calls. */
function ec2Metrics(registers: Registry[]): Pick<Metrics, 'launches' | 'capacityErrors' | 'terminations' | 'pollSeconds' | 'instances' | 'providerSeconds' | 'providerTracked' | 'trackProvider'> {
  const tracked: { source?: () => Readonly<Record<string, number>> } = {};
  return {
    trackProvider: (source) => { tracked.source = source; },
    launches: new Counter({
      name: 'orca_instance_launches_total', help: 'RunInstances calls by instance type, market and outcome (launched, dry-run, or the error kind)',
      labelNames: ['instance_type', 'market', 'outcome'] as const, registers,
    }),
    capacityErrors: new Counter({
      name: 'orca_capacity_errors_total', help: 'Launches refused for lack of capacity, by offering (instance type, market, zone)',
      labelNames: ['instance_type', 'market', 'zone'] as const, registers,
    }),
    terminations: new Counter({
      name: 'orca_instance_terminations_total', help: 'Instances in TerminateInstances calls, by outcome (ok, refused, error)',
      labelNames: ['outcome'] as const, registers,
    }),
    pollSeconds: new Histogram({
      name: 'orca_instance_poll_duration_seconds', help: 'Time to list the node\'s instances (one DescribeInstances, paginated), by outcome',
      labelNames: ['outcome'] as const, buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers,
    }),
    instances: new Gauge({ name: 'orca_instances', help: 'The node\'s instances at the last poll, by EC2 state', labelNames: ['state'] as const, registers }),
    providerSeconds: new Histogram({
      name: 'orca_provider_call_duration_seconds', help: 'Provider calls by method and error code (none when it succeeded)',
      labelNames: ['method', 'error_code'] as const, buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30], registers,
    }),
    providerTracked: new Gauge({
      name: 'orca_provider_tracked', help: 'Entries the provider keeps, by collection (pods, instances, …)', labelNames: ['collection'] as const, registers,
      collect() { for (const [k, v] of Object.entries(tracked.source?.() ?? {})) this.set({ collection: k }, v); },
    }),
  };
}
