// The pod informer against a stand-in apiserver on loopback: client-node stops a watch on errors
// other than 410, and ORCA's wrapper must restart it and keep the cache going.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { podKey } from '../domain/pod.js';
import { createLogger } from '../observability/logger.js';
import { createPodInformer } from './pod-informer.js';

const pod = (name: string, rv: string): object => ({
  metadata: { namespace: 'ns', name, uid: `uid-${name}`, resourceVersion: rv },
  spec: { nodeName: 'orca', containers: [{ name: 'c', image: 'i' }] },
});

const servers: Server[] = [];
afterEach(() => { for (const s of servers.splice(0)) s.closeAllConnections(); });

/** Lists one pod; answers the first watch with 500, the next ones with an ADDED event left open. */
async function fakeApiserver(requests: string[]): Promise<string> {
  let watches = 0;
  const srv = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${url.searchParams.get('watch') === 'true' ? 'watch' : 'list'} ${url.searchParams.get('fieldSelector') ?? ''}`);
    if (url.searchParams.get('watch') !== 'true') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '10' }, items: [pod('listed', '10')] }));
      return;
    }
    watches++;
    if (watches === 1) {
      res.writeHead(500).end('{"kind":"Status","code":500}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(`${JSON.stringify({ type: 'ADDED', object: pod('watched', '11') })}\n`);
  });
  servers.push(srv);
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

describe('createPodInformer', () => {
  it('lists and watches only its node\'s pods, and restarts the watch after an error', async () => {
    const requests: string[] = [];
    const server = await fakeApiserver(requests);
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server, skipTLSVerify: true }], users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x',
    });
    let restarts = 0;
    const changed: string[] = [];
    const informer = createPodInformer({ kc, nodeName: 'orca', log: createLogger('silent'), onRestart: () => { restarts++; } });
    informer.onChange((k) => changed.push(k));
    const stop = new AbortController();
    const running = informer.run(stop.signal);
    await informer.synced;
    expect(informer.get(podKey('ns', 'listed'))?.metadata.uid).toBe('uid-listed');
    await vi.waitFor(() => { expect(informer.get(podKey('ns', 'watched'))?.metadata.uid).toBe('uid-watched'); }, { timeout: 5000, interval: 20 });
    expect(restarts).toBe(1);
    expect(changed).toEqual(['ns/listed', 'ns/watched']);
    expect(new Set(requests)).toEqual(new Set(['list spec.nodeName=orca', 'watch spec.nodeName=orca']));
    stop.abort();
    await running;
  });
});
