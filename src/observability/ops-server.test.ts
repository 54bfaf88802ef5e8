import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.js';
import { createOpsServer, type Readiness } from './ops-server.js';

const servers: ReturnType<typeof createOpsServer>[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function serve(readiness: Readiness): Promise<string> {
  const registry = new Registry();
  createMetrics(registry).ready.set(1);
  const server = createOpsServer({ registry, readiness });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('ops server', () => {
  it('answers /healthz even when not ready', async () => {
    const base = await serve({ notReadyReasons: () => ['informer not synced'] });
    const res = await fetch(`${base}/healthz`);
    expect([res.status, await res.json()]).toEqual([200, { status: 'ok', service: 'orca' }]);
  });

  it('answers /readyz 503 with the reasons until ready, then 200', async () => {
    let reasons = ['virtual node not registered', 'informer not synced'];
    const base = await serve({ notReadyReasons: () => reasons });
    const before = await fetch(`${base}/readyz`);
    expect([before.status, await before.json()]).toEqual([503, { status: 'not_ready', service: 'orca', reasons }]);
    reasons = [];
    const after = await fetch(`${base}/readyz`);
    expect([after.status, await after.json()]).toEqual([200, { status: 'ready', service: 'orca', reasons: [] }]);
  });

  it('serves its own registry in the Prometheus text format', async () => {
    const base = await serve({ notReadyReasons: () => [] });
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(/^orca_ready 1$/m);
    expect(text).toMatch(/^orca_process_cpu_user_seconds_total /m);
  });

  it('answers unknown paths 404 and other methods 405', async () => {
    const base = await serve({ notReadyReasons: () => [] });
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`, { method: 'POST' })).status).toBe(405);
  });

  it('answers 500 instead of hanging when collecting metrics fails', async () => {
    const registry = new Registry();
    registry.registerMetric({
      name: 'broken', help: 'fails', get: () => Promise.reject(new Error('collector failed')),
      reset: () => undefined, type: 'gauge', aggregator: 'sum',
    } as unknown as Parameters<Registry['registerMetric']>[0]);
    const server = createOpsServer({ registry, readiness: { notReadyReasons: () => [] } });
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
    expect(res.status).toBe(500);
  });
});
