// The only place metric names exist. Everything registers on an injected Registry (never the global
// one), so each app and each test has its own.
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface Metrics {
  readonly buildInfo: Gauge<'version' | 'nodejs'>;
  readonly ready: Gauge;
  readonly reconcileSeconds: Histogram<'outcome'>;
  readonly queueDepth: Gauge;
  readonly podsByPhase: Gauge<'phase'>;
  readonly podStatusWrites: Counter;
  readonly apiErrors: Counter<'operation'>;
  readonly informerRestarts: Counter<'resource'>;
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
  };
}
