// The kubelet API through inject(): every request authenticated and authorised as a kubelet does
// (with the real KubeletAuth over fakes of TokenReview and SubjectAccessReview), /healthz, /pods,
// /runningpods/, the streaming routes reached without an upgrade, and /run (not served: 501).
import { afterEach, describe, expect, it } from 'vitest';
import type { Pod } from '../domain/pod.js';
import { createLogger } from '../observability/logger.js';
import type { AccessAttributes, TokenReviewResult } from '../ports/kube.js';
import type { ProviderPod } from '../provider/provider.js';
import { FakeClock } from '../../test/fakes/clock.js';
import { pod } from '../../test/fakes/builders.js';
import { KubeletAuth } from './auth.js';
import { kubeletRoutes } from './routes.js';
import { buildKubeletServer } from './server.js';

const users: Record<string, TokenReviewResult> = {
  'metrics-token': { authenticated: true, user: { username: 'system:serviceaccount:kube-system:metrics-server', groups: ['system:serviceaccounts'] } },
  'reader-token': { authenticated: true, user: { username: 'jane', groups: [] } },
};

function server(o: { allowed?: (a: AccessAttributes) => boolean; tokenError?: boolean; sarError?: boolean; anonymous?: boolean } = {}) {
  const asked: AccessAttributes[] = [];
  const auth = new KubeletAuth({
    nodeName: 'orca-aws', clock: new FakeClock(), allowAnonymous: o.anonymous ?? false,
    tokens: { review: (t) => (o.tokenError === true ? Promise.reject(new Error('apiserver down')) : Promise.resolve(users[t] ?? { authenticated: false, error: 'invalid token' })) },
    access: {
      review: (a) => {
        asked.push(a);
        return o.sarError === true ? Promise.reject(new Error('apiserver down')) : Promise.resolve({ allowed: (o.allowed ?? (() => true))(a) });
      },
    },
  });
  const pods: Pod[] = [pod('running-0'), pod('pending-0')];
  const provided: ProviderPod[] = [
    { ref: { key: 'ns/running-0' as ProviderPod['ref']['key'], uid: 'uid-running-0' }, status: { phase: 'Running' } },
    { ref: { key: 'ns/pending-0' as ProviderPod['ref']['key'], uid: 'uid-pending-0' }, status: { phase: 'Pending' } },
  ];
  const app = buildKubeletServer({
    nodeName: 'orca-aws', auth, pods: { list: () => pods, get: (k) => pods.find((p) => `${p.metadata.namespace}/${p.metadata.name}` === k) }, now: () => new Date(), provider: { listPods: () => Promise.resolve(provided) }, log: createLogger('silent'),
    x509Of: (req) => (req.headers['x-test-client-cert'] === 'apiserver' ? { user: 'kube-apiserver-kubelet-client', groups: ['kubeadm:cluster-admins'] } : undefined),
  });
  apps.push(app);
  return { app, asked };
}

const apps: ReturnType<typeof buildKubeletServer>[] = [];
afterEach(async () => { for (const a of apps.splice(0)) await a.close(); });

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

describe('the kubelet API server', () => {
  it('answers 401 Unauthorized to a request without credentials, and to a token TokenReview rejects', async () => {
    const { app, asked } = server();
    for (const headers of [{}, bearer('stolen')]) {
      const res = await app.inject({ method: 'GET', url: '/pods', headers });
      expect([res.statusCode, res.body]).toEqual([401, 'Unauthorized\n']);
    }
    expect(asked).toEqual([]);
  });

  it('answers 401 when TokenReview cannot be asked, and 500 when SubjectAccessReview cannot', async () => {
    expect((await server({ tokenError: true }).app.inject({ method: 'GET', url: '/pods', headers: bearer('reader-token') })).statusCode).toBe(401);
    const res = await server({ sarError: true }).app.inject({ method: 'GET', url: '/pods', headers: bearer('reader-token') });
    expect(res.statusCode).toBe(500);
    expect(res.body).toContain('user=jane');
  });

  it('answers 403 with the kubelet\'s text naming the missing permission when SubjectAccessReview denies', async () => {
    const { app, asked } = server({ allowed: (a) => a.subresource === 'metrics' });
    const res = await app.inject({ method: 'GET', url: '/containerLogs/ns/running-0/main', headers: bearer('metrics-token') });
    expect(res.statusCode).toBe(403);
    expect(res.body).toBe('Forbidden (user=system:serviceaccount:kube-system:metrics-server, verb=get, resource=nodes, subresource(s)=[proxy])\n');
    expect(asked[0]).toMatchObject({ verb: 'get', resource: 'nodes', subresource: 'proxy', name: 'orca-aws' });
  });

  it('lets the apiserver in by its client certificate, asking SubjectAccessReview with the certificate\'s user and groups', async () => {
    const { app, asked } = server();
    const res = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-test-client-cert': 'apiserver' } });
    expect([res.statusCode, res.body]).toEqual([200, 'ok']);
    expect(asked[0]).toMatchObject({ user: 'kube-apiserver-kubelet-client', groups: expect.arrayContaining(['kubeadm:cluster-admins']) as unknown });
  });

  it('lets anonymous requests in as system:anonymous only when configured, still authorised', async () => {
    const { app, asked } = server({ anonymous: true, allowed: () => false });
    const res = await app.inject({ method: 'GET', url: '/stats/summary' });
    expect(res.statusCode).toBe(403);
    expect(asked[0]).toMatchObject({ user: 'system:anonymous', subresource: 'stats' });
  });

  it('serves /pods as the node\'s PodList', async () => {
    const res = await server().app.inject({ method: 'GET', url: '/pods', headers: bearer('reader-token') });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ kind: 'PodList', apiVersion: 'v1', items: [{ metadata: { name: 'running-0' } }, { metadata: { name: 'pending-0' } }] });
  });

  it('serves /runningpods/ with only the pods the provider runs', async () => {
    const res = await server().app.inject({ method: 'GET', url: '/runningpods/', headers: bearer('reader-token') });
    expect(res.json<{ items: Pod[] }>().items.map((p) => p.metadata.name)).toEqual(['running-0']);
  });

  it.each([
    ['POST', '/attach/ns/running-0/main'],
    ['POST', '/exec/ns/running-0/main?command=sh'],
    ['GET', '/portForward/ns/running-0'],
  ])('answers %s %s without an upgrade as a kubelet does', async (method, url) => {
    const res = await server().app.inject({ method: method as 'GET' | 'POST', url, headers: bearer('reader-token') });
    expect([res.statusCode, res.body]).toEqual([400, 'unable to upgrade: missing upgrade headers in request\n']);
  });

  it('answers /run with 501 and what is missing', async () => {
    const res = await server().app.inject({ method: 'POST', url: '/run/ns/running-0/main', headers: bearer('reader-token') });
    expect([res.statusCode, res.body]).toEqual([501, 'ORCA does not serve run on this node yet']);
  });

  it('answers /stats/summary and /metrics/resource with 501 when the provider reports no usage', async () => {
    for (const url of ['/stats/summary', '/metrics/resource']) {
      const res = await server().app.inject({ method: 'GET', url, headers: bearer('reader-token') });
      expect([res.statusCode, res.body]).toEqual([501, 'this node\'s provider reports no usage\n']);
    }
  });

  it('answers 404 for a path no kubelet serves, after authentication', async () => {
    const { app } = server();
    expect((await app.inject({ method: 'GET', url: '/nope' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/nope', headers: bearer('reader-token') })).statusCode).toBe(404);
  });

  it('serves every route of the table (none left without a handler)', () => {
    expect(() => server()).not.toThrow();
    expect(kubeletRoutes.length).toBeGreaterThan(10);
  });
});
