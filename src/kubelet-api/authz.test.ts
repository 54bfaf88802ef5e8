// Every route of the kubelet's route table asks the subresources a kubelet asks for it, in order:
// fine-grained ones first (nodes/pods, nodes/healthz, nodes/configz), then proxy.
import { describe, expect, it } from 'vitest';
import {
  authorizationErrorText, forbiddenText, requestAttributes, subresourcesFor, unauthorizedText, verbFor,
  type KubeletSubresource, type KubeletVerb,
} from './authz.js';

/** The kubelet route table (kubelet-protocol.md §3.2): method, a path of that route, the verb and subresource asked. */
const routes: readonly (readonly [string, string, KubeletVerb, KubeletSubresource | readonly KubeletSubresource[]])[] = [
  ['GET', '/containerLogs/ns/pod/c', 'get', 'proxy'],
  ['GET', '/containerLogs/ns/pod/c?follow=true&tailLines=10&sinceTime=2026-01-01T00%3A00%3A00Z', 'get', 'proxy'],
  ['GET', '/exec/ns/pod/c?command=sh&stdin=1', 'get', 'proxy'],
  ['POST', '/exec/ns/pod/c?command=sh', 'create', 'proxy'],
  ['GET', '/exec/ns/pod/uid-1/c', 'get', 'proxy'],
  ['POST', '/exec/ns/pod/uid-1/c', 'create', 'proxy'],
  ['GET', '/attach/ns/pod/c', 'get', 'proxy'],
  ['POST', '/attach/ns/pod/c', 'create', 'proxy'],
  ['GET', '/attach/ns/pod/uid-1/c', 'get', 'proxy'],
  ['POST', '/attach/ns/pod/uid-1/c', 'create', 'proxy'],
  ['GET', '/portForward/ns/pod', 'get', 'proxy'],
  ['POST', '/portForward/ns/pod', 'create', 'proxy'],
  ['GET', '/portForward/ns/pod/uid-1', 'get', 'proxy'],
  ['POST', '/portForward/ns/pod/uid-1', 'create', 'proxy'],
  ['POST', '/run/ns/pod/c?cmd=ls', 'create', 'proxy'],
  ['POST', '/run/ns/pod/uid-1/c', 'create', 'proxy'],
  ['GET', '/pods', 'get', ['pods', 'proxy']],
  ['GET', '/pods/', 'get', ['pods', 'proxy']],
  ['GET', '/runningpods/', 'get', ['pods', 'proxy']],
  ['GET', '/healthz', 'get', ['healthz', 'proxy']],
  ['GET', '/healthz/ping', 'get', ['healthz', 'proxy']],
  ['GET', '/healthz/log', 'get', ['healthz', 'proxy']],
  ['GET', '/healthz/syncloop', 'get', ['healthz', 'proxy']],
  ['GET', '/stats/summary', 'get', 'stats'],
  ['GET', '/stats/summary?only_cpu_and_memory=true', 'get', 'stats'],
  ['GET', '/metrics/resource', 'get', 'metrics'],
  ['GET', '/metrics', 'get', 'metrics'],
  ['GET', '/metrics/cadvisor', 'get', 'metrics'],
  ['GET', '/metrics/probes', 'get', 'metrics'],
  ['GET', '/configz', 'get', ['configz', 'proxy']],
  ['GET', '/logs/', 'get', 'log'],
  ['GET', '/logs/messages', 'get', 'log'],
  ['GET', '/debug/pprof/profile', 'get', 'proxy'],
  ['POST', '/checkpoint/ns/pod/c', 'create', 'proxy'],
  ['GET', '/spec/', 'get', 'spec'],
];

describe('the kubelet\'s authorization attributes', () => {
  it.each(routes)('%s %s asks verb %s on nodes/%s', (method, path, verb, subresource) => {
    expect(requestAttributes(method, path)).toEqual({ verb, subresources: typeof subresource === 'string' ? [subresource] : subresource });
  });

  it('maps each method to the kubelet\'s verb, HEAD as get, and has no verb for other methods', () => {
    expect(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'].map(verbFor)).toEqual(['get', 'get', 'create', 'update', 'patch', 'delete']);
    expect(verbFor('OPTIONS')).toBeUndefined();
    expect(verbFor('TRACE')).toBeUndefined();
    expect(verbFor('CONNECT')).toBeUndefined();
  });

  it('gives a subtree\'s subresource to its root with or without the slash, and to nothing that only starts like it', () => {
    expect(['/stats', '/stats/', '/metrics/', '/logs', '/spec'].map((p) => subresourcesFor(p)[0])).toEqual(['stats', 'stats', 'metrics', 'log', 'spec']);
    expect(['/statsx', '/metricsfoo/resource', '/logsx', '/specs/', '/', '', '/Stats/summary'].map((p) => subresourcesFor(p)[0]))
      .toEqual(['proxy', 'proxy', 'proxy', 'proxy', 'proxy', 'proxy', 'proxy']);
  });

  it('asks proxy for any path a router could read as another one', () => {
    const tricky = [
      '/stats/../containerLogs/ns/p/c', '/metrics/./../exec/ns/p/c', '/stats/..', '/metrics/.', '//stats/summary',
      '/stats//summary', '/stats/%2e%2e/exec/ns/p/c', '/stats/summary%2F..%2Fx', '/stats\\..\\exec', 'stats/summary',
    ];
    expect(tricky.map((p) => subresourcesFor(p))).toEqual(tricky.map(() => ['proxy']));
    expect(['/pods/../exec/ns/p/c', '/healthz/%2e%2e/exec', '/podsx', '/healthzz'].map((p) => subresourcesFor(p))).toEqual([['proxy'], ['proxy'], ['proxy'], ['proxy']]);
  });
});

describe('the kubelet\'s refusal texts', () => {
  it('names the user, verb, resource and subresource in a 403, and says Unauthorized in a 401', () => {
    expect(forbiddenText('system:serviceaccount:lab:reader', requestAttributes('GET', '/containerLogs/ns/p/c')))
      .toBe('Forbidden (user=system:serviceaccount:lab:reader, verb=get, resource=nodes, subresource(s)=[proxy])');
    expect(forbiddenText('system:anonymous', requestAttributes('GET', '/metrics/resource')))
      .toBe('Forbidden (user=system:anonymous, verb=get, resource=nodes, subresource(s)=[metrics])');
    expect(forbiddenText('u', requestAttributes('OPTIONS', '/containerLogs/ns/p/c'))).toBe('Forbidden (user=u, verb=, resource=nodes, subresource(s)=[proxy])');
    expect(forbiddenText('u', requestAttributes('GET', '/pods'))).toBe('Forbidden (user=u, verb=get, resource=nodes, subresource(s)=[pods proxy])');
    expect(unauthorizedText).toBe('Unauthorized');
  });

  it('names the request in a 500 when the authorizer could not be asked', () => {
    expect(authorizationErrorText('kube-apiserver-kubelet-client', 'create', 'proxy'))
      .toBe('Authorization error (user=kube-apiserver-kubelet-client, verb=create, resource=nodes, subresource=proxy)');
  });
});
