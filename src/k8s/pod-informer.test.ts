// The pod informer against a stand-in apiserver on loopback: client-node stops a watch on errors
// other than 410, and ORCA's wrapper must restart it and keep the cache going.
import { once } from 'node:events';
import { createServer, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { podKey } from '../domain/pod.js';
import type { Clock } from '../ports/clock.js';
import { createLogger } from '../observability/logger.js';
import { createPodInformer } from './pod-informer.js';

const pod = (name: string, rv: string): object => ({
  metadata: { namespace: 'ns', name, uid: `uid-${name}`, resourceVersion: rv },
  spec: { nodeName: 'orca', containers: [{ name: 'c', image: 'i' }] },
});

const servers: Server[] = [];
afterEach(() => { for (const s of servers.splice(0)) s.closeAllConnections(); });

/**
 * How the stand-in answers one watch: `fail` with 500; `open`, an ADDED event left open; `ends`, an
 * ADDED event, then the stream ends normally (client-node then watches again on its own).
 */
type WatchReply = 'fail' | 'open' | 'ends';

function answerWatch(res: ServerResponse, reply: WatchReply, n: number): void {
  if (reply === 'fail') {
    res.writeHead(500).end('{"kind":"Status","code":500}');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write(`${JSON.stringify({ type: 'ADDED', object: pod('watched', String(10 + n)) })}\n`);
  if (reply === 'ends') setTimeout(() => res.end(), 20);
}

/** Lists one pod; answers the watches in the order of `replies`, every later one `open`. */
async function fakeApiserver(requests: string[], replies: readonly WatchReply[] = ['fail']): Promise<string> {
  let watches = 0;
  const srv = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${url.searchParams.get('watch') === 'true' ? 'watch' : 'list'} ${url.searchParams.get('fieldSelector') ?? ''}`);
    if (url.searchParams.get('watch') !== 'true') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '10' }, items: [pod('listed', '10')] }));
      return;
    }
    watches++;
    answerWatch(res, replies[watches - 1] ?? 'open', watches);
  });
  servers.push(srv);
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

function kubeConfig(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: true }], users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x',
  });
  return kc;
}

/** A clock whose sleeps return at once and are recorded. */
function recordingClock(delays: number[]): Clock {
  return { now: () => new Date(), sleep: (ms) => { delays.push(ms); return Promise.resolve(); } };
}

describe('createPodInformer', () => {
  it('lists and watches only its node\'s pods, and restarts the watch after an error', async () => {
    const requests: string[] = [];
    const kc = kubeConfig(await fakeApiserver(requests));
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

  it('waits between restarts on its clock, and a failure after a session that synced waits the first delay again', async () => {
    const requests: string[] = [];
    // Two failures in a row, a watch that runs and ends, then its next watch fails.
    const kc = kubeConfig(await fakeApiserver(requests, ['fail', 'fail', 'ends', 'fail']));
    const delays: number[] = [];
    let restarts = 0;
    const informer = createPodInformer({ kc, nodeName: 'orca', log: createLogger('silent'), clock: recordingClock(delays), onRestart: () => { restarts++; } });
    const stop = new AbortController();
    const running = informer.run(stop.signal);
    await vi.waitFor(() => { expect(restarts).toBe(3); }, { timeout: 5000, interval: 20 });
    await vi.waitFor(() => { expect(requests.filter((r) => r.startsWith('watch'))).toHaveLength(5); }, { timeout: 5000, interval: 20 });
    expect(delays).toEqual([500, 1000, 500]);
    stop.abort();
    await running;
  });
});
