// The metrics list of docs/operations.md, read back from a fresh prom-client Registry on which
// ORCA's own metrics are built (the process metrics of collectDefaultMetrics are left out: they
// are prom-client's, named orca_process_* and orca_nodejs_*).
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createMetrics } from '../../src/observability/metrics.js';
import { cell, type GeneratedPart } from './markers.js';

interface Described {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly labelNames?: readonly string[];
}

function processMetricNames(): Set<string> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'orca_' });
  return new Set(registry.getMetricsAsArray().map((m) => (m as unknown as Described).name));
}

/** ORCA's own metrics, sorted by name. */
export function orcaMetrics(): Described[] {
  const registry = new Registry();
  createMetrics(registry);
  const process = processMetricNames();
  return registry.getMetricsAsArray()
    .map((m) => m as unknown as Described)
    .filter((m) => !process.has(m.name))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function metricsList(): GeneratedPart {
  const rows = orcaMetrics().map((m) => {
    const labels = (m.labelNames ?? []).map((l) => `\`${l}\``).join(', ');
    return `| \`${m.name}\` | ${m.type} | ${labels === '' ? '—' : labels} | ${cell(m.help)} |`;
  });
  return { file: 'docs/operations.md', name: 'metrics', body: ['| metric | type | labels | meaning |', '|---|---|---|---|', ...rows].join('\n') };
}
