// /stats/summary and /metrics/resource through inject(), over a provider's usage samples: the
// kubelet's shapes, and a failed read answered as a kubelet does.
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import type { StatsCapable } from '../provider/provider.js';
import { samples } from '../../test/fakes/usage-samples.js';
import type { AuthOutcome } from './auth.js';
import { buildKubeletServer } from './server.js';

const allowed = { check: (): Promise<AuthOutcome> => Promise.resolve({ kind: 'ok', identity: { user: 'system:serviceaccount:kube-system:metrics-server', groups: [], via: 'token' } }) };
const apps: ReturnType<typeof buildKubeletServer>[] = [];
afterEach(async () => { for (const a of apps.splice(0)) await a.close(); });

function server(stats: StatsCapable) {
  const app = buildKubeletServer({
    nodeName: 'orca-aws', log: createLogger('silent'), now: () => new Date(), nodeStartTime: new Date('2026-11-23T09:00:00Z'), stats, auth: allowed,
    pods: { list: () => [], get: () => undefined }, provider: { listPods: () => Promise.resolve([]) },
  });
  apps.push(app);
  return app;
}

describe('the kubelet API\'s stats routes', () => {
  it('serves /stats/summary with the node and every pod with its containers', async () => {
    const res = await server({ podStats: () => Promise.resolve(samples) }).inject({ method: 'GET', url: '/stats/summary' });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ node: { nodeName: string }; pods: { podRef: { name: string; namespace: string }; containers: { name: string }[] }[] }>();
    expect(body.node.nodeName).toBe('orca-aws');
    expect(body.pods.map((p) => [p.podRef.namespace, p.podRef.name, p.containers.map((c) => c.name)])).toEqual([['lab', 'train-0', ['main', 'side']], ['lab', 'idle-0', ['sleep']]]);
  });

  it('serves /metrics/resource as Prometheus text with the kubelet\'s series', async () => {
    const res = await server({ podStats: () => Promise.resolve(samples) }).inject({ method: 'GET', url: '/metrics/resource' });
    expect([res.statusCode, res.headers['content-type']]).toEqual([200, 'text/plain; version=0.0.4; charset=utf-8']);
    expect(res.body).toMatch(/^container_cpu_usage_seconds_total\{container="main",namespace="lab",pod="train-0"\} 5400 \d+$/m);
    expect(res.body).toMatch(/^resource_scrape_error 0$/m);
  });

  it('answers a failed read with resource_scrape_error 1 on /metrics/resource, and 500 on /stats/summary', async () => {
    const app = server({ podStats: () => Promise.reject(new Error('the pod table is gone')) });
    const metrics = await app.inject({ method: 'GET', url: '/metrics/resource' });
    expect([metrics.statusCode, /^resource_scrape_error 1$/m.test(metrics.body)]).toEqual([200, true]);
    expect((await app.inject({ method: 'GET', url: '/stats/summary' })).statusCode).toBe(500);
  });
});
