// One keep-alive connection pool per apiserver identity: many API calls and a watch reuse
// connections instead of opening one per request (a stand-in apiserver on loopback counts them).
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { maxConnectionPools, shareConnections } from './client.js';

const servers: Server[] = [];
afterEach(() => { for (const s of servers.splice(0)) { s.closeAllConnections(); s.close(); } });

async function apiserver(): Promise<{ url: string; connections: () => number; requests: () => number }> {
  let connections = 0;
  let requests = 0;
  const srv = createServer((_req, res) => {
    requests++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'lab' } }));
  });
  srv.on('connection', () => { connections++; });
  servers.push(srv);
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return { url: `http://127.0.0.1:${String((srv.address() as AddressInfo).port)}`, connections: () => connections, requests: () => requests };
}

function kubeConfig(server: string, token = 't'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: true }], users: [{ name: 'u', token }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x',
  });
  return kc;
}

async function readNamespaces(kc: KubeConfig, n: number): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  for (let i = 0; i < n; i++) await core.readNamespace({ name: 'lab' });
}

describe('shareConnections', () => {
  it('sends 20 API calls over one connection', async () => {
    const api = await apiserver();
    const kc = kubeConfig(api.url);
    shareConnections(kc);
    await readNamespaces(kc, 20);
    expect(api.requests()).toBe(20);
    expect(api.connections()).toBe(1);
  });

  it('without it, client-node opens a connection per call (what this fixes)', async () => {
    const api = await apiserver();
    await readNamespaces(kubeConfig(api.url), 5);
    expect(api.connections()).toBe(5);
  });

  it('keeps one agent per identity, and the same for watches as for API calls of that identity', async () => {
    const kc = kubeConfig('http://127.0.0.1:1');
    shareConnections(kc);
    const a = await kc.applyToFetchOptions({});
    const b = await kc.applyToFetchOptions({});
    expect(a.agent).toBe(b.agent);
    expect((a.agent as { keepAlive?: boolean } | undefined)?.keepAlive).toBe(true);
  });

  it('closes the oldest pool once more identities than it keeps were used', () => {
    const kc = kubeConfig('http://127.0.0.1:1');
    shareConnections(kc);
    const create = (kc as unknown as { createAgent: (c: unknown, o: Record<string, unknown>) => { destroyed?: boolean; destroy: () => void } }).createAgent;
    const first = create({ server: 'http://127.0.0.1:1', skipTLSVerify: true }, { cert: 'c0' });
    let destroyed = false;
    const original = first.destroy.bind(first);
    first.destroy = () => { destroyed = true; original(); };
    for (let i = 1; i <= maxConnectionPools; i++) create({ server: 'http://127.0.0.1:1', skipTLSVerify: true }, { cert: `c${String(i)}` });
    expect(destroyed).toBe(true);
    expect(create({ server: 'http://127.0.0.1:1', skipTLSVerify: true }, { cert: 'c4' })).not.toBe(first);
  });
});
