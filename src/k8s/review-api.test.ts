// TokenReview and SubjectAccessReview against a stand-in apiserver on loopback: what ORCA sends (the
// kubelet's attributes, its own credentials), what it makes of the answers, and that a failed call
// becomes a KubeApiError that never carries the reviewed token.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { AccessAttributes } from '../ports/kube.js';
import { KubeApiError } from './client.js';
import { createAccessReviewer, createTokenReviewer } from './review-api.js';
import { closeServers, listenOnLoopback, tokenKubeConfig } from '../../test/fakes/loopback-apiserver.js';

interface Seen { readonly method: string; readonly path: string; readonly authorization: string; readonly body: unknown }
interface Reply { readonly status: number; readonly body: unknown }

const servers: Server[] = [];
afterEach(() => { for (const s of servers.splice(0)) { s.closeAllConnections(); s.close(); } });

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

/** Answers every request with `reply` (or never, when it is undefined) and records what it was asked. */
async function apiserver(reply: Reply | undefined): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const srv = createServer((req, res) => {
    void readBody(req).then((body) => {
      seen.push({ method: req.method ?? '', path: req.url ?? '', authorization: req.headers.authorization ?? '', body });
      if (reply !== undefined) res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
    });
  });
  return { url: await listenOnLoopback(srv, servers), seen };
}

const kubeConfig = (server: string): KubeConfig => tokenKubeConfig(server, 'orca-own-token');

const tokenReview = (status: object): Reply => ({ status: 201, body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: {}, status } });
const accessReview = (status: object): Reply => ({ status: 201, body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: {}, status } });
const failure = (code: number, message: string): Reply => ({ status: code, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code } });

async function rejection(p: Promise<unknown>): Promise<KubeApiError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(KubeApiError);
  return e as KubeApiError;
}

const attrs: AccessAttributes = {
  user: 'system:serviceaccount:kube-system:metrics-server', uid: 'u-1', groups: ['system:serviceaccounts', 'system:authenticated'],
  extra: { 'authentication.kubernetes.io/pod-name': ['metrics-server-0'] },
  verb: 'get', resource: 'nodes', subresource: 'metrics', name: 'orca-node',
};

describe('createTokenReviewer', () => {
  it('posts the token in a TokenReview with ORCA\'s own credentials and maps the user it names', async () => {
    const api = await apiserver(tokenReview({
      authenticated: true,
      user: { username: 'system:serviceaccount:mon:scraper', uid: 'sa-uid', groups: ['system:serviceaccounts', 'system:authenticated'], extra: { scope: ['a', 'b'] } },
    }));
    const result = await createTokenReviewer(kubeConfig(api.url)).review('secret-bearer');
    expect(result).toEqual({
      authenticated: true,
      user: { username: 'system:serviceaccount:mon:scraper', uid: 'sa-uid', groups: ['system:serviceaccounts', 'system:authenticated'], extra: { scope: ['a', 'b'] } },
    });
    expect(api.seen).toEqual([{
      method: 'POST', path: '/apis/authentication.k8s.io/v1/tokenreviews', authorization: 'Bearer orca-own-token',
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'secret-bearer' } },
    }]);
  });

  it('gives the apiserver\'s reason for a rejected token, and treats an authenticated review without a username as rejected', async () => {
    const rejected = await apiserver(tokenReview({ authenticated: false, error: '[invalid bearer token, token has expired]' }));
    expect(await createTokenReviewer(kubeConfig(rejected.url)).review('old')).toEqual({ authenticated: false, error: '[invalid bearer token, token has expired]' });
    const nameless = await apiserver(tokenReview({ authenticated: true, user: { groups: ['g'] } }));
    expect(await createTokenReviewer(kubeConfig(nameless.url)).review('t')).toEqual({ authenticated: false });
  });

  it('maps a refused call to a KubeApiError with its status and message, without the token', async () => {
    const api = await apiserver(failure(403, 'tokenreviews.authentication.k8s.io is forbidden: User "system:serviceaccount:orca-system:orca" cannot create resource "tokenreviews"'));
    const e = await rejection(createTokenReviewer(kubeConfig(api.url)).review('secret-bearer'));
    expect(e.status).toBe(403);
    expect(e.message).toBe('create token review: HTTP 403: tokenreviews.authentication.k8s.io is forbidden: User "system:serviceaccount:orca-system:orca" cannot create resource "tokenreviews"');
    expect(`${e.message}\n${e.stack ?? ''}\n${JSON.stringify(e)}`).not.toContain('secret-bearer');
  });

  it('gives up when the signal aborts an unanswered call', async () => {
    const api = await apiserver(undefined);
    const stop = new AbortController();
    const pending = createTokenReviewer(kubeConfig(api.url)).review('secret-bearer', stop.signal);
    await expect.poll(() => api.seen.length).toBe(1);
    stop.abort();
    const e = await rejection(pending);
    expect(e.status).toBeUndefined();
    expect(e.message).not.toContain('secret-bearer');
  });
});

describe('createAccessReviewer', () => {
  it('asks a SubjectAccessReview with the kubelet\'s attributes: group "", version v1, resource nodes, subresource, node name', async () => {
    const api = await apiserver(accessReview({ allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "metrics"' }));
    expect(await createAccessReviewer(kubeConfig(api.url)).review(attrs)).toEqual({ allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "metrics"' });
    expect(api.seen).toEqual([{
      method: 'POST', path: '/apis/authorization.k8s.io/v1/subjectaccessreviews', authorization: 'Bearer orca-own-token',
      body: {
        apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview',
        spec: {
          user: attrs.user, uid: 'u-1', groups: ['system:serviceaccounts', 'system:authenticated'],
          extra: { 'authentication.kubernetes.io/pod-name': ['metrics-server-0'] },
          resourceAttributes: { group: '', version: 'v1', resource: 'nodes', subresource: 'metrics', name: 'orca-node', verb: 'get' },
        },
      },
    }]);
  });

  it('is not allowed on a denial, on no opinion, or when the answer is both allow and deny', async () => {
    const cases: [object, { allowed: boolean; reason?: string }][] = [
      [{ allowed: false, denied: true, reason: 'denied by policy' }, { allowed: false, reason: 'denied by policy' }],
      [{ allowed: false }, { allowed: false }],
      [{ allowed: true, denied: true }, { allowed: false }],
    ];
    for (const [status, expected] of cases) {
      const api = await apiserver(accessReview(status));
      expect(await createAccessReviewer(kubeConfig(api.url)).review({ user: 'u', groups: [], verb: 'create', resource: 'nodes', subresource: 'proxy', name: 'n' })).toEqual(expected);
      expect((api.seen[0]?.body as { spec: object }).spec).toEqual({ user: 'u', groups: [], resourceAttributes: { group: '', version: 'v1', resource: 'nodes', subresource: 'proxy', name: 'n', verb: 'create' } });
    }
  });

  it('maps a failed call to a KubeApiError with its status', async () => {
    const api = await apiserver(failure(500, 'etcdserver: request timed out'));
    const e = await rejection(createAccessReviewer(kubeConfig(api.url)).review(attrs));
    expect(e.status).toBe(500);
    expect(e.message).toBe('create subject access review: HTTP 500: etcdserver: request timed out');
  });

  it('maps an unreachable apiserver to a KubeApiError without a status', async () => {
    const api = await apiserver(undefined);
    const url = api.url;
    closeServers(servers);
    await new Promise((r) => setTimeout(r, 20));
    const e = await rejection(createAccessReviewer(kubeConfig(url)).review(attrs));
    expect(e.status).toBeUndefined();
  });
});
