// GET /containerLogs through inject(), over the real logs service and an in-memory CloudWatch:
// every kubectl flag, alone and together, the kubelet's error answers, and a follow that ends by
// itself when the container stops, when the pod goes, or when the client goes away.
import { afterEach, describe, expect, it } from 'vitest';
import type { ContainerStatus, Pod } from '../domain/pod.js';
import { createLogger } from '../observability/logger.js';
import type { LogsCapable } from '../provider/provider.js';
import { FakeClock } from '../../test/fakes/clock.js';
import { FakeLogStore } from '../../test/fakes/log-store.js';
import { pod } from '../../test/fakes/builders.js';
import { ContainerLogs } from '../logs/container-logs.js';
import { LogFollowers } from '../logs/followers.js';
import { ReadBudget } from '../logs/read-budget.js';
import type { AuthOutcome } from './auth.js';
import { buildKubeletServer } from './server.js';

const t0 = Date.parse('2026-11-23T12:00:00Z');
const allowed = { check: (): Promise<AuthOutcome> => Promise.resolve({ kind: 'ok', identity: { user: 'kube-apiserver-kubelet-client', groups: [], via: 'x509' } }) };
const running = (restartCount = 0, extra: Partial<ContainerStatus> = {}): ContainerStatus => ({ name: 'main', image: 'img', imageID: '', ready: true, restartCount, state: { running: {} }, ...extra });

function setup(o: { logs?: LogsCapable } = {}) {
  const clock = new FakeClock(t0);
  const store = new FakeLogStore();
  const budget = new ReadBudget({ clock, perSecond: 1000, burst: 1000 });
  const followers = new LogFollowers({ store, budget, clock, log: createLogger('silent'), group: store.group, timings: { pollMs: 1000, lateMs: 15_000, drainMs: 5000 } });
  const logs = o.logs ?? new ContainerLogs({ store, budget, followers, clock, group: store.group, streamOf: (t) => `${t.ref.key}/${t.ref.uid}/${t.container}/${String(t.run)}` });
  const pods = new Map<string, Pod>();
  const put = (p: Pod): void => { pods.set(`${p.metadata.namespace}/${p.metadata.name}`, p); };
  put(pod('train', { status: { phase: 'Running', containerStatuses: [running(1, { lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: '2026-11-23T11:59:00Z' } } })] } }));
  put(pod('creating', { status: { phase: 'Pending', containerStatuses: [{ name: 'main', image: 'img', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] } }));
  store.put('ns/train/uid-train/main/0', [t0 - 70_000, 'first run: crashed']);
  store.put('ns/train/uid-train/main/1', ...Array.from({ length: 5 }, (_, i) => [t0 - 5000 + i * 1000, `line ${String(i)}`] as const));
  const app = buildKubeletServer({
    nodeName: 'orca-aws', log: createLogger('silent'), now: () => clock.now(), logs,
    auth: allowed,
    pods: { list: () => [...pods.values()], get: (k) => pods.get(k) }, provider: { listPods: () => Promise.resolve([]) },
  });
  apps.push(app);
  const get = (query: string) => app.inject({ method: 'GET', url: `/containerLogs/ns/train/main${query}` });
  return { app, clock, store, followers, pods, put, get };
}

const apps: ReturnType<typeof buildKubeletServer>[] = [];
afterEach(async () => { for (const a of apps.splice(0)) await a.close(); });

const lines = (n: readonly number[]): string => n.map((i) => `line ${String(i)}\n`).join('');

describe('kubectl logs through the kubelet API', () => {
  it('serves the current run as plain text, one line each', async () => {
    const res = await setup().get('');
    expect([res.statusCode, res.headers['content-type'], res.body]).toEqual([200, 'text/plain; charset=utf-8', lines([0, 1, 2, 3, 4])]);
  });

  it('serves --tail, --since, --since-time and --limit-bytes, alone and together', async () => {
    const { get } = setup();
    expect((await get('?tailLines=2')).body).toBe(lines([3, 4]));
    expect((await get('?tail=all')).body).toBe(lines([0, 1, 2, 3, 4]));
    expect((await get('?tailLines=0')).body).toBe('');
    expect((await get('?sinceSeconds=3')).body).toBe(lines([2, 3, 4]));
    expect((await get(`?sinceTime=${encodeURIComponent('2026-11-23T11:59:58Z')}`)).body).toBe(lines([3, 4]));
    expect((await get('?sinceSeconds=3&tailLines=1')).body).toBe(lines([4]));
    expect((await get('?limitBytes=10')).body).toBe('line 0\nlin');
    expect((await get('?tailLines=2&limitBytes=7')).body).toBe('line 3\n');
  });

  it('prefixes each line with its time in the kubelet\'s format with --timestamps', async () => {
    expect((await setup().get('?timestamps=true&tailLines=1')).body).toBe('2026-11-23T11:59:59.000000000Z line 4\n');
  });

  it('serves --previous from the run before, and the kubelet\'s 400 when there is none', async () => {
    const { get, app } = setup();
    expect((await get('?previous=true')).body).toBe('first run: crashed\n');
    const res = await app.inject({ method: 'GET', url: '/containerLogs/ns/creating/main?previous=true' });
    expect([res.statusCode, res.body]).toEqual([400, 'previous terminated container "main" in pod "creating" not found\n']);
  });

  it('answers a pod still creating, an unknown pod or container, and a bad query as a kubelet does', async () => {
    const { app, get } = setup();
    const ask = async (url: string) => { const r = await app.inject({ method: 'GET', url }); return [r.statusCode, r.body]; };
    expect(await ask('/containerLogs/ns/creating/main')).toEqual([400, 'container "main" in pod "creating" is waiting to start: ContainerCreating\n']);
    expect(await ask('/containerLogs/ns/ghost/main')).toEqual([404, 'pod "ghost" does not exist\n']);
    expect(await ask('/containerLogs/ns/train/sidecar')).toEqual([404, 'container "sidecar" not found in pod "train"\n']);
    expect(await ask('/containerLogs/other/train/main')).toEqual([404, 'pod "train" does not exist\n']);
    const bad = await get('?tailLines=-1&limitBytes=0');
    expect([bad.statusCode, bad.body]).toEqual([400, 'tailLines: must be greater than or equal to 0; limitBytes: must be greater than or equal to 1\n']);
    expect((await get('?sinceSeconds=5&sinceTime=2026-11-23T11:59:58Z')).body).toBe('at most one of sinceTime or sinceSeconds may be specified\n');
  });

  it('answers 500 naming the problem when CloudWatch cannot be read, before sending any line', async () => {
    const { get, store } = setup();
    store.failures.push(Object.assign(new Error('User is not authorized to perform: logs:GetLogEvents'), { name: 'AccessDeniedException' }));
    const res = await get('');
    expect([res.statusCode, res.body]).toEqual([500, 'could not read the logs of container "main" in pod "train": User is not authorized to perform: logs:GetLogEvents\n']);
  });

  it('answers 501 when the node\'s provider keeps no logs', async () => {
    const { app } = setup();
    const none = buildKubeletServer({
      nodeName: 'orca-aws', log: createLogger('silent'), now: () => new Date(), auth: allowed,
      pods: { list: () => [], get: () => pod('train', { status: { phase: 'Running', containerStatuses: [running()] } }) }, provider: { listPods: () => Promise.resolve([]) },
    });
    apps.push(none);
    expect(app).toBeDefined();
    const res = await none.inject({ method: 'GET', url: '/containerLogs/ns/train/main' });
    expect([res.statusCode, res.body]).toEqual([501, 'this node\'s provider keeps no container logs\n']);
  });

  it('follows: new lines as they come, and ends by itself once the container has stopped and its last lines are out', async () => {
    const { get, clock, store, put, followers } = setup();
    const res = get('?follow=true&tailLines=1');
    await clock.tick(0);
    store.put('ns/train/uid-train/main/1', [t0 + 100, 'line 5']);
    await clock.tick(1000);
    put(pod('train', { status: { phase: 'Succeeded', containerStatuses: [running(1, { state: { terminated: { exitCode: 0, reason: 'Completed', finishedAt: '2026-11-23T12:00:01Z' } } })] } }));
    store.put('ns/train/uid-train/main/1', [t0 + 900, 'line 6']);
    for (let i = 0; i < 10 && followers.active > 0; i++) await clock.tick(1000);
    expect((await res).body).toBe(lines([4, 5, 6]));
    expect([followers.active, followers.polling]).toEqual([0, false]);
  });

  it('ends a follow when the pod is gone', async () => {
    const { get, clock, pods, followers } = setup();
    const res = get('?follow=true');
    await clock.tick(1000);
    pods.delete('ns/train');
    for (let i = 0; i < 10 && followers.active > 0; i++) await clock.tick(1000);
    expect((await res).body).toBe(lines([0, 1, 2, 3, 4]));
    expect(followers.active).toBe(0);
  });

  it('ends a follow, with its poller, at --limit-bytes', async () => {
    const { get, clock, store, followers } = setup();
    const res = get('?follow=true&tailLines=1&limitBytes=10');
    await clock.tick(0);
    store.put('ns/train/uid-train/main/1', [t0 + 100, 'line 5']);
    await clock.tick(1000);
    expect((await res).body).toBe('line 4\nlin');
    expect([followers.active, followers.polling]).toEqual([0, false]);
  });

  it('serves a finished container\'s follow as its whole log and returns at once', async () => {
    const { get, put, followers } = setup();
    put(pod('train', { status: { phase: 'Succeeded', containerStatuses: [running(1, { state: { terminated: { exitCode: 0, reason: 'Completed', finishedAt: '2026-11-23T11:50:00Z' } } })] } }));
    expect((await get('?follow=true')).body).toBe(lines([0, 1, 2, 3, 4]));
    expect(followers.active).toBe(0);
  });
});
