import { describe, expect, it } from 'vitest';
import { at, container, mib, podSample, samples } from '../../test/fakes/usage-samples.js';
import type { UsageSamples } from '../provider/provider.js';
import { escapeLabel, resourceMetrics } from './resource-metrics.js';

const ms = at.getTime();

// The text exposition format, line by line (prometheus/docs exposition_formats.md).
const metricName = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const labelValue = '(?:[^"\\\\\\n]|\\\\[\\\\"n])*';
const float = '[-+]?(?:\\d+\\.?\\d*(?:[eE][-+]?\\d+)?|\\.\\d+(?:[eE][-+]?\\d+)?|NaN|Inf)';
const sampleLine = new RegExp(`^(${metricName})(?:\\{((?:[a-zA-Z_][a-zA-Z0-9_]*="${labelValue}")(?:,[a-zA-Z_][a-zA-Z0-9_]*="${labelValue}")*)\\})? (${float})(?: (-?\\d+))?$`);
const commentLine = new RegExp(`^# (HELP|TYPE) (${metricName})( .*)?$`);

interface Parsed { readonly name: string; readonly labels: Record<string, string>; readonly value: number; readonly at?: number }

const unescape = (v: string): string => v.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));

/** Parses the text, failing on any line outside the format or a series before its family's TYPE. */
function parse(text: string): Parsed[] {
  expect(text.endsWith('\n')).toBe(true);
  const typed = new Set<string>();
  const out: Parsed[] = [];
  for (const l of text.slice(0, -1).split('\n')) {
    const c = commentLine.exec(l);
    if (c !== null) {
      if (c[1] === 'TYPE') typed.add(c[2] ?? '');
      continue;
    }
    const m = sampleLine.exec(l);
    expect(m, l).not.toBeNull();
    if (m === null) continue;
    const [, name = '', labelText = '', value = '', time] = m;
    expect(typed.has(name), `${name} after its TYPE`).toBe(true);
    const labels = Object.fromEntries([...labelText.matchAll(new RegExp(`([a-zA-Z_][a-zA-Z0-9_]*)="(${labelValue})"`, 'g'))].map((x) => [x[1] ?? '', unescape(x[2] ?? '')]));
    out.push({ name, labels, value: Number(value), ...(time === undefined ? {} : { at: Number(time) }) });
  }
  return out;
}

/** What metrics-server keeps of a scrape (pkg/scraper/client/resource/decode.go): labels found by substring, zero CPU or memory dropped. */
function metricsServerView(text: string): { node: boolean; pods: Map<string, string[]> } {
  const node: { cpu?: number; mem?: number } = {};
  const pods = new Map<string, Map<string, { cpu?: number; mem?: number }>>();
  const label = (series: string, key: string): string => { const i = series.indexOf(`${key}="`) + key.length + 2; return series.slice(i, series.indexOf('"', i)); };
  for (const l of text.split('\n')) {
    if (l.startsWith('#') || l === '') continue;
    const [series = '', value = ''] = l.split(' ');
    const name = series.split('{')[0];
    if (name === 'node_cpu_usage_seconds_total') node.cpu = Math.trunc(Number(value) * 1e9);
    if (name === 'node_memory_working_set_bytes') node.mem = Math.trunc(Number(value));
    if (name !== 'container_cpu_usage_seconds_total' && name !== 'container_memory_working_set_bytes') continue;
    const key = `${label(series, 'namespace')}/${label(series, 'pod')}`;
    const cs = pods.get(key) ?? new Map<string, { cpu?: number; mem?: number }>();
    const point = cs.get(label(series, 'container')) ?? {};
    if (name === 'container_cpu_usage_seconds_total') point.cpu = Math.trunc(Number(value) * 1e9);
    else point.mem = Math.trunc(Number(value));
    cs.set(label(series, 'container'), point);
    pods.set(key, cs);
  }
  const kept = [...pods].filter(([, cs]) => [...cs.values()].every((p) => (p.cpu ?? 0) > 0 && (p.mem ?? 0) > 0));
  return { node: (node.cpu ?? 0) > 0 && (node.mem ?? 0) > 0, pods: new Map(kept.map(([k, cs]) => [k, [...cs.keys()]])) };
}

describe('resourceMetrics', () => {
  it('writes the kubelet\'s series, families sorted by name, labels sorted, usage stamped in milliseconds', () => {
    const one: UsageSamples = { at, pods: [podSample('lab/train-0', [container('main', 12.5, 1, 10)])], endedCpuCoreSeconds: 0 };
    expect(resourceMetrics(one)).toBe([
      '# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds',
      '# TYPE container_cpu_usage_seconds_total counter',
      `container_cpu_usage_seconds_total{container="main",namespace="lab",pod="train-0"} 12.5 ${String(ms)}`,
      '# HELP container_memory_working_set_bytes [STABLE] Current working set of the container in bytes',
      '# TYPE container_memory_working_set_bytes gauge',
      `container_memory_working_set_bytes{container="main",namespace="lab",pod="train-0"} ${String(10 * mib)} ${String(ms)}`,
      '# HELP container_start_time_seconds [STABLE] Start time of the container since unix epoch in seconds',
      '# TYPE container_start_time_seconds gauge',
      'container_start_time_seconds{container="main",namespace="lab",pod="train-0"} 1795431600.5',
      '# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds',
      '# TYPE node_cpu_usage_seconds_total counter',
      `node_cpu_usage_seconds_total 12.5 ${String(ms)}`,
      '# HELP node_memory_working_set_bytes [STABLE] Current working set of the node in bytes',
      '# TYPE node_memory_working_set_bytes gauge',
      `node_memory_working_set_bytes ${String(10 * mib)} ${String(ms)}`,
      '# HELP pod_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the pod in core-seconds',
      '# TYPE pod_cpu_usage_seconds_total counter',
      `pod_cpu_usage_seconds_total{namespace="lab",pod="train-0"} 12.5 ${String(ms)}`,
      '# HELP pod_memory_working_set_bytes [STABLE] Current working set of the pod in bytes',
      '# TYPE pod_memory_working_set_bytes gauge',
      `pod_memory_working_set_bytes{namespace="lab",pod="train-0"} ${String(10 * mib)} ${String(ms)}`,
      '# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise',
      '# TYPE resource_scrape_error gauge',
      'resource_scrape_error 0',
      '',
    ].join('\n'));
  });

  it('parses back line by line in the exposition format, with the values and labels it was given', () => {
    const parsed = parse(resourceMetrics(samples));
    const cpu = parsed.filter((p) => p.name === 'container_cpu_usage_seconds_total');
    expect(cpu.map((p) => [p.labels, p.value, p.at])).toEqual([
      [{ container: 'main', namespace: 'lab', pod: 'train-0' }, 5400, ms],
      [{ container: 'side', namespace: 'lab', pod: 'train-0' }, 12.5, ms],
      [{ container: 'sleep', namespace: 'lab', pod: 'idle-0' }, 1e-6, ms],
    ]);
    expect(parsed.find((p) => p.name === 'node_cpu_usage_seconds_total')?.value).toBeCloseTo(100 + 5412.5 + 1e-6);
    expect(parsed.find((p) => p.name === 'node_memory_working_set_bytes')?.value).toBe(1265 * mib);
  });

  it('escapes backslashes, double quotes and newlines in label values', () => {
    const odd = 'we"ird\\name\nx';
    const parsed = parse(resourceMetrics({ at, pods: [podSample(`lab/${odd}`, [container(odd, 1, 1, 1)])], endedCpuCoreSeconds: 0 }));
    expect(escapeLabel(odd)).toBe('we\\"ird\\\\name\\nx');
    expect(parsed.filter((p) => p.name === 'container_cpu_usage_seconds_total').map((p) => p.labels)).toEqual([{ container: odd, namespace: 'lab', pod: odd }]);
  });

  it('is what metrics-server keeps: the node, and every pod, also one whose container used no CPU since it started', () => {
    const view = metricsServerView(resourceMetrics(samples));
    expect(view.node).toBe(true);
    expect(view.pods).toEqual(new Map([['lab/train-0', ['main', 'side']], ['lab/idle-0', ['sleep']]]));
  });

  it('keeps an empty node for metrics-server (kubectl top shows 0) and writes no empty families', () => {
    const text = resourceMetrics({ at, pods: [], endedCpuCoreSeconds: 0 });
    expect(metricsServerView(text).node).toBe(true);
    expect(text).not.toContain('container_');
    expect(parse(text).map((p) => p.name)).toEqual(['node_cpu_usage_seconds_total', 'node_memory_working_set_bytes', 'resource_scrape_error']);
  });

  it('reports a scrape error, and nothing else, without samples', () => {
    expect(parse(resourceMetrics(undefined))).toEqual([{ name: 'resource_scrape_error', labels: {}, value: 1 }]);
  });

  it('fails the parse-back check on a line outside the format', () => {
    expect(() => parse('# TYPE x gauge\nx{a="b} 1\n')).toThrow();
    expect(() => parse('x 1\n')).toThrow();
  });
});
