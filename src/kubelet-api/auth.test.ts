// The kubelet API's auth matrix over fakes of TokenReviewer and AccessReviewer and a fake clock:
// which credential wins, what is cached for how long, and that an unanswered review is an error,
// never a denial, and never cached.
import { beforeEach, describe, expect, it } from 'vitest';
import type { AccessAttributes, AccessReviewer, TokenReviewer, TokenReviewResult } from '../ports/kube.js';
import { FakeClock } from '../../test/fakes/clock.js';
import { bearerToken, KubeletAuth, type KubeletAuthDeps, type KubeletIdentity } from './auth.js';

class FakeTokens implements TokenReviewer {
  readonly asked: string[] = [];
  readonly signals: (AbortSignal | undefined)[] = [];
  /** The verdict per token; a token not listed is rejected. */
  readonly verdicts = new Map<string, TokenReviewResult | Error>();

  review(token: string, signal?: AbortSignal): Promise<TokenReviewResult> {
    this.asked.push(token);
    this.signals.push(signal);
    const v = this.verdicts.get(token) ?? { authenticated: false };
    return v instanceof Error ? Promise.reject(v) : Promise.resolve(v);
  }
}

type Decision = { allowed: boolean; reason?: string } | Error;

class FakeAccess implements AccessReviewer {
  readonly asked: AccessAttributes[] = [];
  readonly signals: (AbortSignal | undefined)[] = [];
  decide: (a: AccessAttributes) => Decision = () => ({ allowed: false });

  review(attrs: AccessAttributes, signal?: AbortSignal): Promise<{ allowed: boolean; reason?: string }> {
    this.asked.push(attrs);
    this.signals.push(signal);
    const d = this.decide(attrs);
    return d instanceof Error ? Promise.reject(d) : Promise.resolve(d);
  }
}

const scraper: TokenReviewResult = {
  authenticated: true,
  user: { username: 'system:serviceaccount:kube-system:metrics-server', uid: 'sa-1', groups: ['system:serviceaccounts'], extra: { 'authentication.kubernetes.io/pod-name': ['ms-0'] } },
};
const scraperIdentity: KubeletIdentity = {
  user: 'system:serviceaccount:kube-system:metrics-server', uid: 'sa-1', groups: ['system:serviceaccounts', 'system:authenticated'],
  extra: { 'authentication.kubernetes.io/pod-name': ['ms-0'] }, via: 'token',
};
const apiserverCert = { user: 'kube-apiserver-kubelet-client', groups: ['kubeadm:cluster-admins'] };
const apiserverIdentity: KubeletIdentity = { user: 'kube-apiserver-kubelet-client', groups: ['kubeadm:cluster-admins', 'system:authenticated'], via: 'x509' };

let clock: FakeClock;
let tokens: FakeTokens;
let access: FakeAccess;

function auth(overrides: Partial<KubeletAuthDeps> = {}): KubeletAuth {
  return new KubeletAuth({ tokens, access, clock, nodeName: 'orca-node', ...overrides });
}

beforeEach(() => {
  clock = new FakeClock();
  tokens = new FakeTokens();
  access = new FakeAccess();
  tokens.verdicts.set('good', scraper);
  tokens.verdicts.set('expired', { authenticated: false, error: '[invalid bearer token, token has expired]' });
});

describe('KubeletAuth.authenticate', () => {
  it('is unauthenticated without credentials, and with an Authorization header that carries no bearer token', async () => {
    const a = auth();
    for (const authorization of [undefined, '', 'Basic dTpw', 'Bearer', 'Bearer ', 'Bearer  good', 'Token good']) {
      expect(await a.authenticate(authorization === undefined ? {} : { authorization })).toEqual({ kind: 'unauthenticated', message: 'Unauthorized' });
    }
    expect(tokens.asked).toEqual([]);
  });

  it('takes a request without credentials as system:anonymous in system:unauthenticated when anonymous is allowed', async () => {
    expect(await auth({ allowAnonymous: true }).authenticate({})).toEqual({
      kind: 'ok', identity: { user: 'system:anonymous', groups: ['system:unauthenticated'], via: 'anonymous' },
    });
  });

  it('never takes a rejected token as anonymous, even when anonymous is allowed', async () => {
    expect((await auth({ allowAnonymous: true }).authenticate({ authorization: 'Bearer expired' })).kind).toBe('unauthenticated');
  });

  it('is unauthenticated for a token TokenReview rejects, and asks again only once 30 s have passed', async () => {
    const a = auth();
    expect(await a.authenticate({ authorization: 'Bearer expired' }))
      .toEqual({ kind: 'unauthenticated', message: 'Unauthorized', reason: '[invalid bearer token, token has expired]' });
    await clock.advance(29_999);
    expect((await a.authenticate({ authorization: 'Bearer expired' })).kind).toBe('unauthenticated');
    expect(tokens.asked).toEqual(['expired']);
    await clock.advance(1);
    expect((await a.authenticate({ authorization: 'Bearer expired' })).kind).toBe('unauthenticated');
    expect(tokens.asked).toEqual(['expired', 'expired']);
  });

  it('gives a valid token\'s user (in system:authenticated), and asks again only once 2 min have passed', async () => {
    const a = auth();
    expect(await a.authenticate({ authorization: 'Bearer good' })).toEqual({ kind: 'ok', identity: scraperIdentity });
    await clock.advance(119_999);
    expect(await a.authenticate({ authorization: 'bearer good' })).toEqual({ kind: 'ok', identity: scraperIdentity });
    expect(tokens.asked).toEqual(['good']);
    await clock.advance(1);
    await a.authenticate({ authorization: '  Bearer good  ' });
    expect(tokens.asked).toEqual(['good', 'good']);
  });

  it('keeps the groups TokenReview gives when they already say authenticated', async () => {
    tokens.verdicts.set('node', { authenticated: true, user: { username: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] } });
    expect(await auth().authenticate({ authorization: 'Bearer node' }))
      .toEqual({ kind: 'ok', identity: { user: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'], via: 'token' } });
  });

  it('takes the verified client certificate over a bearer token, and the token when the certificate names no user', async () => {
    const a = auth();
    expect(await a.authenticate({ x509: apiserverCert, authorization: 'Bearer good' })).toEqual({ kind: 'ok', identity: apiserverIdentity });
    expect(tokens.asked).toEqual([]);
    expect(await a.authenticate({ x509: { user: '', groups: ['x'] }, authorization: 'Bearer good' })).toEqual({ kind: 'ok', identity: scraperIdentity });
  });

  it('is an authentication error, not cached, when TokenReview cannot be asked', async () => {
    const down = new Error('create token review: HTTP 503: unavailable');
    tokens.verdicts.set('t', down);
    const a = auth();
    expect(await a.authenticate({ authorization: 'Bearer t' })).toEqual({ kind: 'error', stage: 'authentication', message: 'Authentication error', cause: down });
    tokens.verdicts.set('t', scraper);
    expect((await a.authenticate({ authorization: 'Bearer t' })).kind).toBe('ok');
    expect(tokens.asked).toEqual(['t', 't']);
  });

  it('passes the caller\'s signal to TokenReview', async () => {
    const stop = new AbortController();
    await auth().authenticate({ authorization: 'Bearer good' }, stop.signal);
    expect(tokens.signals).toEqual([stop.signal]);
  });

  it('keeps at most maxEntries tokens, dropping the least recently used', async () => {
    for (const t of ['a', 'b', 'c']) tokens.verdicts.set(t, scraper);
    const a = auth({ cache: { maxEntries: 2 } });
    const use = async (t: string): Promise<void> => { await a.authenticate({ authorization: `Bearer ${t}` }); };
    await use('a');
    await use('b');
    await use('a');
    await use('c');
    expect(tokens.asked).toEqual(['a', 'b', 'c']);
    await use('a');
    await use('c');
    expect(tokens.asked).toEqual(['a', 'b', 'c']);
    await use('b');
    expect(tokens.asked).toEqual(['a', 'b', 'c', 'b']);
  });
});

describe('bearerToken', () => {
  it('reads the header as the apiserver does: case-insensitive scheme, the second space-separated part', () => {
    expect(['Bearer abc', 'BEARER abc', ' bearer abc ', 'Bearer abc def'].map(bearerToken)).toEqual(['abc', 'abc', 'abc', 'abc']);
    expect([undefined, '', 'Bearer', 'Bearer  abc', 'Basic abc'].map(bearerToken)).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });
});

describe('KubeletAuth.authorize', () => {
  it('is forbidden with the kubelet\'s text when SubjectAccessReview denies, having asked with the kubelet\'s attributes', async () => {
    access.decide = () => ({ allowed: false, reason: 'no RBAC policy matched' });
    const outcome = await auth().authorize(scraperIdentity, 'GET', '/containerLogs/ns/p/c?follow=true');
    expect(outcome).toEqual({
      kind: 'forbidden', reason: 'no RBAC policy matched',
      message: 'Forbidden (user=system:serviceaccount:kube-system:metrics-server, verb=get, resource=nodes, subresource(s)=[proxy])',
    });
    expect(access.asked).toEqual([{
      user: 'system:serviceaccount:kube-system:metrics-server', uid: 'sa-1', groups: ['system:serviceaccounts', 'system:authenticated'],
      extra: { 'authentication.kubernetes.io/pod-name': ['ms-0'] }, verb: 'get', resource: 'nodes', subresource: 'proxy', name: 'orca-node',
    }]);
  });

  it('is ok when SubjectAccessReview allows, and keeps the allow 5 min for the same user, groups, verb and subresource', async () => {
    access.decide = () => ({ allowed: true });
    const a = auth();
    expect(await a.authorize(apiserverIdentity, 'POST', '/exec/ns/p/c')).toEqual({ kind: 'ok', identity: apiserverIdentity });
    await clock.advance(299_999);
    expect((await a.authorize(apiserverIdentity, 'POST', '/attach/ns/q/d')).kind).toBe('ok');
    expect((await a.authorize({ ...apiserverIdentity, groups: [...apiserverIdentity.groups].reverse() }, 'POST', '/run/ns/p/c')).kind).toBe('ok');
    expect(access.asked).toHaveLength(1);
    await clock.advance(1);
    await a.authorize(apiserverIdentity, 'POST', '/exec/ns/p/c');
    expect(access.asked).toHaveLength(2);
  });

  it('asks again for another verb, subresource, user, group set or extra', async () => {
    access.decide = () => ({ allowed: true });
    const a = auth();
    await a.authorize(apiserverIdentity, 'POST', '/exec/ns/p/c');
    await a.authorize(apiserverIdentity, 'GET', '/exec/ns/p/c');
    await a.authorize(apiserverIdentity, 'GET', '/stats/summary');
    await a.authorize({ ...apiserverIdentity, user: 'other' }, 'GET', '/stats/summary');
    await a.authorize({ ...apiserverIdentity, groups: ['system:authenticated'] }, 'GET', '/stats/summary');
    await a.authorize({ ...apiserverIdentity, extra: { scopes: ['read'] } }, 'GET', '/stats/summary');
    expect(access.asked.map((x) => `${x.user} ${x.groups.join(',')} ${x.verb} ${x.subresource}`)).toEqual([
      'kube-apiserver-kubelet-client kubeadm:cluster-admins,system:authenticated create proxy',
      'kube-apiserver-kubelet-client kubeadm:cluster-admins,system:authenticated get proxy',
      'kube-apiserver-kubelet-client kubeadm:cluster-admins,system:authenticated get stats',
      'other kubeadm:cluster-admins,system:authenticated get stats',
      'kube-apiserver-kubelet-client system:authenticated get stats',
      'kube-apiserver-kubelet-client kubeadm:cluster-admins,system:authenticated get stats',
    ]);
  });

  it('keeps a denial 30 s', async () => {
    const a = auth();
    expect((await a.authorize(scraperIdentity, 'GET', '/metrics/resource')).kind).toBe('forbidden');
    access.decide = () => ({ allowed: true });
    await clock.advance(29_999);
    expect((await a.authorize(scraperIdentity, 'GET', '/metrics/resource')).kind).toBe('forbidden');
    expect(access.asked).toHaveLength(1);
    await clock.advance(1);
    expect((await a.authorize(scraperIdentity, 'GET', '/metrics/resource')).kind).toBe('ok');
    expect(access.asked).toHaveLength(2);
  });

  it('is an authorization error with the kubelet\'s text, not a denial and not cached, when SubjectAccessReview cannot be asked', async () => {
    const down = new Error('create subject access review: HTTP 500: etcdserver: request timed out');
    access.decide = () => down;
    const a = auth();
    expect(await a.authorize(scraperIdentity, 'GET', '/stats/summary')).toEqual({
      kind: 'error', stage: 'authorization', cause: down,
      message: 'Authorization error (user=system:serviceaccount:kube-system:metrics-server, verb=get, resource=nodes, subresource=stats)',
    });
    access.decide = () => ({ allowed: true });
    expect((await a.authorize(scraperIdentity, 'GET', '/stats/summary')).kind).toBe('ok');
    expect(access.asked).toHaveLength(2);
  });

  it('refuses a method the kubelet has no verb for without asking', async () => {
    access.decide = () => ({ allowed: true });
    expect(await auth().authorize(apiserverIdentity, 'OPTIONS', '/containerLogs/ns/p/c'))
      .toEqual({ kind: 'forbidden', message: 'Forbidden (user=kube-apiserver-kubelet-client, verb=, resource=nodes, subresource(s)=[proxy])' });
    expect(access.asked).toEqual([]);
  });

  it('asks for system:anonymous like any user', async () => {
    const a = auth({ allowAnonymous: true });
    const authn = await a.authenticate({});
    if (authn.kind !== 'ok') throw new Error('anonymous refused');
    expect((await a.authorize(authn.identity, 'GET', '/containerLogs/ns/p/c')).kind).toBe('forbidden');
    expect(access.asked).toEqual([{ user: 'system:anonymous', groups: ['system:unauthenticated'], verb: 'get', resource: 'nodes', subresource: 'proxy', name: 'orca-node' }]);
  });

  it('keeps at most maxEntries decisions, dropping the least recently used', async () => {
    access.decide = () => ({ allowed: true });
    const a = auth({ cache: { maxEntries: 2 } });
    const ask = async (path: string): Promise<void> => { await a.authorize(apiserverIdentity, 'GET', path); };
    await ask('/stats/summary');
    await ask('/metrics/resource');
    await ask('/stats/summary');
    await ask('/containerLogs/ns/p/c');
    expect(access.asked.map((x) => x.subresource)).toEqual(['stats', 'metrics', 'proxy']);
    await ask('/stats/summary');
    await ask('/metrics/resource');
    expect(access.asked.map((x) => x.subresource)).toEqual(['stats', 'metrics', 'proxy', 'metrics']);
  });

  it('serves /pods and /healthz to a caller allowed their own subresource or proxy (fine-grained, then proxy), each answer cached', async () => {
    access.decide = (x) => ({ allowed: x.user === 'kube-apiserver-kubelet-client' ? x.subresource === 'pods' : x.subresource === 'proxy' });
    const a = auth();
    expect((await a.authorize(apiserverIdentity, 'GET', '/pods')).kind).toBe('ok');
    expect((await a.authorize(scraperIdentity, 'GET', '/runningpods/')).kind).toBe('ok');
    expect((await a.authorize(scraperIdentity, 'GET', '/pods')).kind).toBe('ok');
    expect(access.asked.map((x) => `${x.user} ${x.subresource}`)).toEqual([
      'kube-apiserver-kubelet-client pods', 'system:serviceaccount:kube-system:metrics-server pods', 'system:serviceaccount:kube-system:metrics-server proxy',
    ]);
    access.decide = () => ({ allowed: false });
    expect(await a.authorize(apiserverIdentity, 'GET', '/healthz')).toEqual({
      kind: 'forbidden', message: 'Forbidden (user=kube-apiserver-kubelet-client, verb=get, resource=nodes, subresource(s)=[healthz proxy])',
    });
  });

  it('passes the caller\'s signal to SubjectAccessReview', async () => {
    const stop = new AbortController();
    await auth().authorize(scraperIdentity, 'GET', '/containerLogs/ns/p/c', stop.signal);
    expect(access.signals).toEqual([stop.signal]);
  });
});

describe('KubeletAuth.check', () => {
  it('authorizes only an authenticated caller', async () => {
    access.decide = (x) => ({ allowed: x.subresource === 'metrics' });
    const a = auth();
    expect(await a.check({}, 'GET', '/metrics/resource')).toEqual({ kind: 'unauthenticated', message: 'Unauthorized' });
    expect(await a.check({ authorization: 'Bearer expired' }, 'GET', '/metrics/resource')).toMatchObject({ kind: 'unauthenticated' });
    expect(access.asked).toEqual([]);
    expect(await a.check({ authorization: 'Bearer good' }, 'GET', '/metrics/resource')).toEqual({ kind: 'ok', identity: scraperIdentity });
    expect(await a.check({ authorization: 'Bearer good' }, 'GET', '/containerLogs/ns/p/c')).toEqual({
      kind: 'forbidden', message: 'Forbidden (user=system:serviceaccount:kube-system:metrics-server, verb=get, resource=nodes, subresource(s)=[proxy])',
    });
  });
});
