// The start-up probe against a stand-in apiserver on loopback: the SelfSubjectAccessReview it sends
// and reads, a refused connection and a 401 as StartupErrors, a 500 passed on; the kubeconfig lookup
// that finds none, or cannot read the named file.
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StartupError } from '../domain/errors.js';
import { KubeApiError, isFallbackConfig, loadKubeConfig } from './client.js';
import { classifyKubeFailure, createKubeProbe } from './preflight-api.js';
import { listenOnLoopback, tokenKubeConfig } from '../../test/fakes/loopback-apiserver.js';

interface Reply { readonly status: number; readonly body: unknown }

const servers: Server[] = [];
afterEach(() => { for (const s of servers.splice(0)) { s.closeAllConnections(); s.close(); } vi.unstubAllEnvs(); });

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return chunks.length === 0 ? undefined : JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

async function apiserver(reply: (body: unknown) => Reply): Promise<{ url: string; seen: { path: string; body: unknown }[] }> {
  const seen: { path: string; body: unknown }[] = [];
  const srv = createServer((req, res) => {
    void readBody(req).then((body) => {
      seen.push({ path: req.url ?? '', body });
      const r = reply(body);
      res.writeHead(r.status, { 'content-type': 'application/json' }).end(JSON.stringify(r.body));
    });
  });
  return { url: await listenOnLoopback(srv, servers), seen };
}

const kubeConfig = (server: string): KubeConfig => tokenKubeConfig(server);

const review = (allowed: boolean): Reply => ({ status: 201, body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: {}, status: { allowed } } });
const status = (code: number, message: string): Reply => ({ status: code, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code } });

describe('the Kubernetes start-up probe', () => {
  it('asks with a SelfSubjectAccessReview per permission and reads allowed', async () => {
    const api = await apiserver((body) => review((body as { spec: { resourceAttributes: { verb: string } } }).spec.resourceAttributes.verb === 'get'));
    const probe = createKubeProbe(kubeConfig(api.url));
    expect(await probe.can({ group: 'coordination.k8s.io', resource: 'leases', verb: 'get', namespace: 'kube-node-lease' })).toBe(true);
    expect(await probe.can({ group: '', resource: 'nodes', subresource: 'status', verb: 'patch' })).toBe(false);
    expect(api.seen).toEqual([
      { path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', body: expect.objectContaining({ spec: { resourceAttributes: { group: 'coordination.k8s.io', resource: 'leases', verb: 'get', namespace: 'kube-node-lease' } } }) as unknown },
      { path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', body: expect.objectContaining({ spec: { resourceAttributes: { group: '', resource: 'nodes', subresource: 'status', verb: 'patch' } } }) as unknown },
    ]);
  });

  it('turns a refused connection and a 401 into StartupErrors, and passes a 500 on as a KubeApiError', async () => {
    const refused = await createKubeProbe(kubeConfig('http://127.0.0.1:1')).can({ group: '', resource: 'pods', verb: 'get' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StartupError);
    expect(refused).toMatchObject({ problem: 'apiserver-unreachable', message: 'cannot reach the apiserver http://127.0.0.1:1 (ECONNREFUSED)' });
    const denied = await apiserver(() => status(401, 'Unauthorized'));
    expect(await createKubeProbe(kubeConfig(denied.url)).can({ group: '', resource: 'pods', verb: 'get' }).catch((e: unknown) => e)).toMatchObject({ problem: 'kube-unauthorized' });
    const broken = await apiserver(() => status(500, 'etcdserver: request timed out'));
    const e = await createKubeProbe(kubeConfig(broken.url)).can({ group: '', resource: 'pods', verb: 'get' }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(KubeApiError);
    expect(e).toMatchObject({ status: 500, message: 'create self subject access review: HTTP 500: etcdserver: request timed out' });
  });

  it('tells a BurstBudget CRD that is not installed (404) from one that is', async () => {
    const missing = await apiserver(() => status(404, 'the server could not find the requested resource'));
    expect(await createKubeProbe(kubeConfig(missing.url)).budgetCrdInstalled()).toBe(false);
    const there = await apiserver(() => ({ status: 200, body: { apiVersion: 'orca.research/v1alpha1', kind: 'BurstBudgetList', metadata: {}, items: [] } }));
    expect(await createKubeProbe(kubeConfig(there.url)).budgetCrdInstalled()).toBe(true);
  });

  it.each([
    [{ code: 'ENOTFOUND' }, 'apiserver-unreachable'],
    [{ name: 'FetchError', cause: { code: 'EHOSTUNREACH' } }, 'apiserver-unreachable'],
    [{ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }, 'apiserver-unreachable'],
    [{ code: 'ERR_TLS_CERT_ALTNAME_INVALID' }, 'apiserver-unreachable'],
    [new Error('HTTP protocol is not allowed when skipTLSVerify is not set or false'), 'apiserver-unreachable'],
    [{ code: 401 }, 'kube-unauthorized'],
  ])('classifies %j as %s', (err, problem) => {
    expect(classifyKubeFailure(err, 'https://k:6443')?.problem).toBe(problem);
  });

  it('passes on what may be transient (a 500, a 429, an abort)', () => {
    for (const err of [{ code: 500 }, { code: 429 }, Object.assign(new Error('aborted'), { name: 'AbortError' })]) expect(classifyKubeFailure(err, 'https://k:6443')).toBeUndefined();
  });
});

describe('loadKubeConfig', () => {
  it('refuses to fall back to http://localhost:8080 when there is no kubeconfig and no ServiceAccount', () => {
    vi.stubEnv('KUBECONFIG', '');
    vi.stubEnv('HOME', mkdtempSync(join(tmpdir(), 'orca-home-')));
    const e = (() => { try { loadKubeConfig(undefined); return undefined; } catch (err) { return err; } })();
    expect(e).toBeInstanceOf(StartupError);
    expect(e).toMatchObject({ problem: 'no-kubeconfig', message: 'no kubeconfig found ($KUBECONFIG unset, no ~/.kube/config) and not running in a cluster' });
  });

  it('names a kubeconfig file it cannot read', () => {
    expect(() => loadKubeConfig('/nonexistent/kubeconfig')).toThrow(expect.objectContaining({ problem: 'no-kubeconfig', message: 'cannot read the kubeconfig /nonexistent/kubeconfig (ENOENT)' }));
  });

  it('knows the fallback from a kubeconfig of its own', () => {
    const fallback = new KubeConfig();
    fallback.loadFromClusterAndUser({ name: 'cluster', server: 'http://localhost:8080', skipTLSVerify: false }, { name: 'user' });
    expect(isFallbackConfig(fallback)).toBe(true);
    expect(isFallbackConfig(kubeConfig('http://localhost:8080'))).toBe(false);
  });
});
