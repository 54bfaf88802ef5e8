// Pure: the kubelet's resource metrics (`GET /metrics/resource`, Prometheus text format 0.0.4) from
// a provider's usage samples, with the kubelet's series names, help texts and labels
// (k/k pkg/kubelet/metrics/collectors/resource_metrics.go) — what metrics-server reads for
// `kubectl top`. Families are sorted by name and labels within a series, as the kubelet's registry
// writes them (a family without series is left out); every usage series carries the samples' time
// in milliseconds. Counters and sums are the Summary API's (stats-summary.ts).
import { parsePodKey } from '../domain/pod.js';
import type { PodUsageSample, UsageSamples } from '../provider/provider.js';
import { counterSeconds, nodeUsage } from './stats-summary.js';

/** The content type of the text format. */
export const resourceMetricsContentType = 'text/plain; version=0.0.4; charset=utf-8';

type Family = 'counter' | 'gauge';

interface Series {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** Milliseconds since the epoch; none for a series without a sample time. */
  readonly at?: number;
}

const families: readonly (readonly [name: string, type: Family, help: string])[] = [
  ['container_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed by the container in core-seconds'],
  ['container_memory_working_set_bytes', 'gauge', 'Current working set of the container in bytes'],
  ['container_start_time_seconds', 'gauge', 'Start time of the container since unix epoch in seconds'],
  ['node_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed by the node in core-seconds'],
  ['node_memory_working_set_bytes', 'gauge', 'Current working set of the node in bytes'],
  ['pod_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed by the pod in core-seconds'],
  ['pod_memory_working_set_bytes', 'gauge', 'Current working set of the pod in bytes'],
  ['resource_scrape_error', 'gauge', '1 if there was an error while getting container metrics, 0 otherwise'],
];

/** A label value in the text format: backslash, double quote and newline escaped. */
export const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function line(name: string, s: Series): string {
  const labels = Object.keys(s.labels).sort().map((k) => `${k}="${escapeLabel(s.labels[k] ?? '')}"`);
  const value = Number.isFinite(s.value) ? String(s.value) : 'NaN';
  return `${name}${labels.length === 0 ? '' : `{${labels.join(',')}}`} ${value}${s.at === undefined ? '' : ` ${String(s.at)}`}`;
}

function podSeries(p: PodUsageSample, at: number, into: Map<string, Series[]>): void {
  const { namespace, name: pod } = parsePodKey(p.ref.key);
  const add = (name: string, s: Series): void => { into.get(name)?.push(s); };
  for (const c of p.containers) {
    const labels = { container: c.name, namespace, pod };
    add('container_cpu_usage_seconds_total', { labels, value: counterSeconds(c.cpuCoreSeconds), at });
    add('container_memory_working_set_bytes', { labels, value: c.memoryWorkingSetBytes, at });
    add('container_start_time_seconds', { labels, value: c.startTime.getTime() / 1000 });
  }
  add('pod_cpu_usage_seconds_total', { labels: { namespace, pod }, value: counterSeconds(p.cpuCoreSeconds), at });
  add('pod_memory_working_set_bytes', { labels: { namespace, pod }, value: p.memoryWorkingSetBytes, at });
}

/** The text `/metrics/resource` answers; `samples` undefined when they could not be read (resource_scrape_error 1, nothing else). */
export function resourceMetrics(samples: UsageSamples | undefined): string {
  const series = new Map<string, Series[]>(families.map(([name]) => [name, []]));
  if (samples !== undefined) {
    const at = samples.at.getTime();
    const node = nodeUsage(samples);
    series.get('node_cpu_usage_seconds_total')?.push({ labels: {}, value: node.cpuCoreSeconds, at });
    series.get('node_memory_working_set_bytes')?.push({ labels: {}, value: node.memoryWorkingSetBytes, at });
    for (const p of samples.pods) podSeries(p, at, series);
  }
  series.get('resource_scrape_error')?.push({ labels: {}, value: samples === undefined ? 1 : 0 });
  const out: string[] = [];
  for (const [name, type, help] of families) {
    const lines = (series.get(name) ?? []).map((s) => line(name, s));
    if (lines.length > 0) out.push(`# HELP ${name} [STABLE] ${help}`, `# TYPE ${name} ${type}`, ...lines);
  }
  return `${out.join('\n')}\n`;
}
