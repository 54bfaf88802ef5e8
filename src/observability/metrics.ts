// The only place metric names exist. Everything registers on an injected Registry (never the global
// one), so each app and each test has its own.
import { collectDefaultMetrics, Gauge, type Registry } from 'prom-client';

export interface Metrics {
  readonly buildInfo: Gauge<'version' | 'nodejs'>;
  readonly ready: Gauge;
}

export function createMetrics(registry: Registry): Metrics {
  collectDefaultMetrics({ register: registry, prefix: 'orca_' });
  return {
    buildInfo: new Gauge({
      name: 'orca_build_info',
      help: 'Always 1; labels name the running ORCA version and Node.js version',
      labelNames: ['version', 'nodejs'] as const,
      registers: [registry],
    }),
    ready: new Gauge({
      name: 'orca_ready',
      help: '1 when ORCA is ready (node registered, informers synced), else 0',
      registers: [registry],
    }),
  };
}
