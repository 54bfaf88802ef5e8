// The BurstBudget adapter against a stand-in apiserver on loopback: the list+watch of every
// namespace's budgets, a missing CRD (404) reported once with its fix and retried with back-off, the
// status subresource replaced whole, and Events on a budget that never throw.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BurstBudgetStatus } from '../ports/budgets.js';
import type { Clock } from '../ports/clock.js';
import { createLogger } from '../observability/logger.js';
import { BURST_BUDGET_CRD_FILE, createBudgetApi } from './budget-api.js';
import { KubeApiError } from './client.js';
import { createEventRecorder } from './pod-api.js';
import { closeServers, listenOnLoopback, tokenKubeConfig } from '../../test/fakes/loopback-apiserver.js';

const BUDGETS = '/apis/orca.research/v1alpha1/burstbudgets';

const budget = (namespace: string, name: string, rv: string, extra: object = {}): object => ({
  apiVersion: 'orca.research/v1alpha1', kind: 'BurstBudget',
  metadata: { namespace, name, uid: `uid-${name}`, resourceVersion: rv, generation: 1 },
  spec: { limitUSD: 1000 }, ...extra,
});

/** A list answer: the budgets, or a status code the list is refused with (404: the CRD is not installed). */
type ListReply = readonly object[] | number;
/** A watch answer: events left open, a status code that ends it, or `slow`: left open after 200 ms. */
type WatchReply = readonly object[] | number | 'slow';

interface Seen { readonly method: string; readonly path: string; readonly contentType: string; readonly body: unknown }

const notFound = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', details: {}, code: 404 };
const status = (code: number, message: string): object => ({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code });

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? undefined : JSON.parse(text) as unknown;
}

function send(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

interface Script {
  readonly lists?: readonly ListReply[];
  readonly watches?: readonly WatchReply[];
  /** The answer to every other request (status patches, Events). */
  readonly reply?: { readonly code: number; readonly body: unknown };
}

const servers: Server[] = [];
const running: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of running.splice(0)) await stop();
  closeServers(servers);
});

function answerWatch(res: ServerResponse, reply: WatchReply): void {
  if (reply === 'slow') {
    setTimeout(() => { answerWatch(res, []); }, 200);
    return;
  }
  if (typeof reply === 'number') {
    send(res, reply, status(reply, 'watch refused'));
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).flushHeaders();
  for (const event of reply) res.write(`${JSON.stringify(event)}\n`);
}

/** Answers lists and watches of BurstBudgets in the order the script gives (the last repeats) and records every request. */
async function apiserver(script: Script): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const [lists, watches] = [[...script.lists ?? [[]]], [...script.watches ?? [[]]]];
  const next = <T>(queue: T[]): T => (queue.length > 1 ? queue.shift() : queue[0]) as T;
  const srv = createServer((req, res) => {
    void readBody(req).then((body) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const watching = url.searchParams.get('watch') === 'true';
      seen.push({ method: req.method ?? '', path: `${url.pathname}${watching ? '?watch' : ''}`, contentType: req.headers['content-type'] ?? '', body });
      if (url.pathname === BUDGETS && watching) {
        answerWatch(res, next(watches));
        return;
      }
      if (url.pathname === BUDGETS) {
        const reply = next(lists);
        if (typeof reply === 'number') send(res, reply, notFound);
        else send(res, 200, { apiVersion: 'orca.research/v1alpha1', kind: 'BurstBudgetList', metadata: { resourceVersion: '10' }, items: reply });
        return;
      }
      send(res, script.reply?.code ?? 200, script.reply?.body ?? {});
    });
  });
  return { url: await listenOnLoopback(srv, servers), seen };
}

const kubeConfig = (server: string): KubeConfig => tokenKubeConfig(server);

const NOW = new Date('2025-01-15T10:00:00.000Z');

/** A clock whose sleeps are recorded and return at once, except that the `holdAt`-th waits until released; now is NOW. */
function recordingClock(delays: number[], holdAt = Infinity): Clock & { release: () => void } {
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => { release = resolve; });
  return {
    now: () => NOW,
    sleep: (ms) => { delays.push(ms); return delays.length === holdAt ? held : Promise.resolve(); },
    release: () => { release(); },
  };
}

type LogLine = Record<string, unknown> & { level: number; msg: string };

function capturingLogger(): { log: ReturnType<typeof createLogger>; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return { log: createLogger('debug', { write: (s: string) => { lines.push(JSON.parse(s) as LogLine); } }), lines };
}

const ERROR = 50;
const WARN = 40;
const DEBUG = 20;

interface Harness {
  readonly api: ReturnType<typeof createBudgetApi>;
  readonly seen: Seen[];
  readonly lines: LogLine[];
  readonly delays: number[];
  readonly restarts: () => number;
  /** Lets the held sleep (see recordingClock) return. */
  readonly release: () => void;
  readonly stop: () => Promise<void>;
}

/** Starts the adapter's watch against a stand-in that follows `script`; stopped after the test at the latest. */
async function started(script: Script, holdAt?: number): Promise<Harness> {
  const { url, seen } = await apiserver(script);
  const { log, lines } = capturingLogger();
  const delays: number[] = [];
  const clock = recordingClock(delays, holdAt);
  let restarts = 0;
  const api = createBudgetApi({ kc: kubeConfig(url), log, clock, onRestart: () => { restarts++; } });
  const abort = new AbortController();
  const run = api.run(abort.signal);
  const stop = async (): Promise<void> => { abort.abort(); clock.release(); await run; };
  running.push(stop);
  return { api, seen, lines, delays, restarts: () => restarts, release: clock.release, stop };
}

describe('createBudgetApi: the budgets of every namespace', () => {
  it('lists and watches all namespaces and maps each object to a BurstBudgetObject', async () => {
    const h = await started({
      lists: [[budget('team-a', 'gpu', '9', { status: { spentUSD: 1 } }), budget('team-b', 'neuron', '10')]],
      watches: [[
        { type: 'ADDED', object: budget('team-c', 'new', '11') },
        { type: 'MODIFIED', object: budget('team-b', 'neuron', '12', { spec: { limitUSD: 5 }, metadata: { namespace: 'team-b', name: 'neuron', uid: 'uid-neuron', resourceVersion: '12', generation: 2 } }) },
        { type: 'DELETED', object: budget('team-a', 'gpu', '13') },
      ]],
    });
    const changed: string[] = [];
    h.api.onChange((id) => changed.push(id));
    await h.api.synced;
    await vi.waitFor(() => { expect(changed).toHaveLength(5); }, { timeout: 5000, interval: 20 });
    expect(changed).toEqual(['team-a/gpu', 'team-b/neuron', 'team-c/new', 'team-b/neuron', 'team-a/gpu']);
    expect([...h.api.list()].sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { namespace: 'team-b', name: 'neuron', uid: 'uid-neuron', generation: 2, spec: { limitUSD: 5 } },
      { namespace: 'team-c', name: 'new', uid: 'uid-new', generation: 1, spec: { limitUSD: 1000 } },
    ]);
    expect(h.seen.slice(0, 2).map((s) => `${s.method} ${s.path}`)).toEqual([`GET ${BUDGETS}`, `GET ${BUDGETS}?watch`]);
    expect(h.restarts()).toBe(0);
    await h.stop();
  });

  it('keeps the status ORCA wrote, and has none on a new budget', async () => {
    const h = await started({ lists: [[budget('team-a', 'gpu', '9', { status: { spentUSD: 1.5 } }), budget('team-a', 'fresh', '10')]] });
    await h.api.synced;
    const byName = new Map(h.api.list().map((b) => [b.name, b]));
    expect(byName.get('gpu')?.status).toEqual({ spentUSD: 1.5 });
    expect(byName.get('fresh')).not.toHaveProperty('status');
    await h.stop();
  });

  it('restarts a failed watch with back-off and logs it at warn', async () => {
    const h = await started({ lists: [[budget('team-a', 'gpu', '9')]], watches: [500, 500, [{ type: 'ADDED', object: budget('team-b', 'later', '11') }]] });
    await vi.waitFor(() => { expect(h.api.list()).toHaveLength(2); }, { timeout: 5000, interval: 20 });
    expect(h.restarts()).toBe(2);
    expect(h.delays).toEqual([500, 1000]);
    const warned = h.lines.filter((l) => l.level === WARN);
    expect(warned.map((l) => [l.msg, l.error, l.attempt])).toEqual([
      ['burst budget watch failed; restarting', 'HTTP 500: Internal Server Error', 1],
      ['burst budget watch failed; restarting', 'HTTP 500: Internal Server Error', 2],
    ]);
    await h.stop();
  });

  it('stops when aborted while its watch is still starting', async () => {
    const h = await started({ watches: ['slow'] });
    await vi.waitFor(() => { expect(h.seen.filter((x) => x.path === `${BUDGETS}?watch`)).toHaveLength(1); }, { timeout: 5000, interval: 5 });
    await h.stop();
    expect(h.restarts()).toBe(0);
  });
});

describe('createBudgetApi: the CRD is not installed', () => {
  it('logs one error naming the fix, retries with back-off, and is synced only once a list loads', async () => {
    const h = await started({ lists: [404, 404, 404, 404, [budget('team-a', 'gpu', '9')]] }, 3);
    let synced = false;
    void h.api.synced.then(() => { synced = true; });
    await vi.waitFor(() => { expect(h.delays).toHaveLength(3); }, { timeout: 5000, interval: 5 });
    expect(h.restarts()).toBe(3);
    expect(synced).toBe(false);
    expect(h.lines.filter((l) => l.level === ERROR)).toHaveLength(1);
    h.release();
    await h.api.synced;
    expect(h.restarts()).toBe(4);
    expect(h.delays).toEqual([500, 1000, 2000, 4000]);
    const errors = h.lines.filter((l) => l.level === ERROR);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      component: 'budgets', error: 'HTTP 404: the server could not find the requested resource', attempt: 1,
      fix: 'kubectl apply -f deploy/crds/burstbudgets.orca.research.yaml',
    });
    expect(errors[0]?.msg).toContain(`kubectl apply -f ${BURST_BUDGET_CRD_FILE}`);
    expect(h.lines.filter((l) => l.level === DEBUG).map((l) => l.attempt)).toEqual([2, 3, 4]);
    expect(h.lines.filter((l) => l.level === WARN)).toEqual([]);
    expect(h.api.list().map((b) => b.name)).toEqual(['gpu']);
    await h.stop();
  });

  it('reports the CRD missing again after it was there and went (a relist after 410 Gone)', async () => {
    const h = await started({ lists: [404, [budget('team-a', 'gpu', '9')], 404, 404, [budget('team-a', 'gpu', '20')]], watches: [410, []] });
    await h.api.synced;
    await vi.waitFor(() => { expect(h.seen.filter((s) => s.path === BUDGETS)).toHaveLength(5); }, { timeout: 5000, interval: 20 });
    await vi.waitFor(() => { expect(h.seen.filter((s) => s.path === `${BUDGETS}?watch`)).toHaveLength(2); }, { timeout: 5000, interval: 20 });
    expect(h.lines.filter((l) => l.level === ERROR).map((l) => l.attempt)).toEqual([1, 1]);
    expect(h.lines.filter((l) => l.level === DEBUG).map((l) => l.attempt)).toEqual([2]);
    expect(h.delays).toEqual([500, 500, 1000]);
    await h.stop();
  });
});

const fullStatus: BurstBudgetStatus = {
  observedGeneration: 2, limitUSD: 1000, spentUSD: 12.34, reservedUSD: 98.32, remainingUSD: 889.34,
  runningInstances: 1, pendingPods: 0, lastUpdated: '2025-01-15T10:00:00.000Z',
  conditions: [{ type: 'Ready', status: 'True', reason: 'Enforced', message: 'enforced', lastTransitionTime: '2025-01-01T00:00:00.000Z' }],
  ledger: { settledMicroUSD: 12_340_000, settledByType: [], pods: [], warnedAtPercent: [] },
};

describe('createBudgetApi: status', () => {
  it('replaces status whole through the status subresource (a JSON patch that adds /status)', async () => {
    const { url, seen } = await apiserver({ reply: { code: 200, body: budget('team-a', 'gpu', '30') } });
    const api = createBudgetApi({ kc: kubeConfig(url), log: createLogger('silent') });
    await api.writeStatus('team-a', 'gpu', fullStatus);
    expect(seen).toEqual([{
      method: 'PATCH', path: '/apis/orca.research/v1alpha1/namespaces/team-a/burstbudgets/gpu/status',
      contentType: 'application/json-patch+json', body: [{ op: 'add', path: '/status', value: fullStatus }],
    }]);
  });

  it.each([
    { code: 422, message: 'BurstBudget.orca.research "gpu" is invalid: status.ledger.settledMicroUSD: Invalid value: "number": must be of type integer' },
    { code: 404, message: 'burstbudgets.orca.research "gpu" not found' },
    { code: 403, message: 'burstbudgets.orca.research "gpu" is forbidden: User "system:serviceaccount:orca-system:orca" cannot patch resource "burstbudgets/status"' },
  ])('rejects with a KubeApiError carrying status $code and the apiserver\'s message', async ({ code, message }) => {
    const { url } = await apiserver({ reply: { code, body: status(code, message) } });
    const api = createBudgetApi({ kc: kubeConfig(url), log: createLogger('silent') });
    const e = await api.writeStatus('team-a', 'gpu', fullStatus).then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(KubeApiError);
    expect(e).toMatchObject({ status: code, message: `patch burst budget status: HTTP ${code}: ${message}` });
  });

  it('rejects with a KubeApiError without a status when the apiserver is unreachable', async () => {
    const { url } = await apiserver({});
    closeServers(servers);
    await new Promise((r) => setTimeout(r, 20));
    const e = await createBudgetApi({ kc: kubeConfig(url), log: createLogger('silent') }).writeStatus('team-a', 'gpu', fullStatus).then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(KubeApiError);
    expect((e as KubeApiError).status).toBeUndefined();
  });
});

describe('createBudgetApi: Events', () => {
  const ref = { namespace: 'team-a', name: 'gpu', uid: 'uid-gpu' };

  it('records a core/v1 Event on the BurstBudget in its namespace, from orca', async () => {
    const { url, seen } = await apiserver({ reply: { code: 201, body: {} } });
    const api = createBudgetApi({ kc: kubeConfig(url), log: createLogger('silent'), clock: recordingClock([]) });
    api.budgetEvent(ref, 'Warning', 'BudgetThreshold', 'team-a/gpu has spent 80% of $1,000.00');
    await vi.waitFor(() => { expect(seen).toHaveLength(1); }, { timeout: 5000, interval: 10 });
    const [post] = seen;
    expect(post?.method).toBe('POST');
    expect(post?.path).toBe('/api/v1/namespaces/team-a/events');
    expect(post?.body).toMatchObject({
      metadata: { namespace: 'team-a', name: expect.stringMatching(/^gpu\.[0-9a-f]{16}$/) as unknown },
      involvedObject: { apiVersion: 'orca.research/v1alpha1', kind: 'BurstBudget', namespace: 'team-a', name: 'gpu', uid: 'uid-gpu' },
      type: 'Warning', reason: 'BudgetThreshold', message: 'team-a/gpu has spent 80% of $1,000.00',
      source: { component: 'orca' }, reportingComponent: 'orca',
      firstTimestamp: NOW.toISOString(), lastTimestamp: NOW.toISOString(), count: 1,
    });
    expect(post?.body).not.toHaveProperty('reportingInstance');
  });

  it('never throws when the Event is refused: it logs at warn, and cuts a long message to 1 KiB', async () => {
    const { url, seen } = await apiserver({ reply: { code: 403, body: status(403, 'events is forbidden') } });
    const { log, lines } = capturingLogger();
    const api = createBudgetApi({ kc: kubeConfig(url), log });
    expect(() => { api.budgetEvent(ref, 'Normal', 'Reset', 'x'.repeat(5000)); }).not.toThrow();
    await vi.waitFor(() => { expect(lines.filter((l) => l.msg === 'could not record event')).toHaveLength(1); }, { timeout: 5000, interval: 10 });
    expect(lines.find((l) => l.msg === 'could not record event')).toMatchObject({ level: WARN, component: 'budgets', kind: 'BurstBudget', object: 'team-a/gpu', reason: 'Reset', status: 403 });
    expect((seen[0]?.body as { message: string }).message).toHaveLength(1024);
  });

  it('shares its Event code with the pod EventRecorder, which adds the node as host', async () => {
    const { url, seen } = await apiserver({ reply: { code: 201, body: {} } });
    const pods = createEventRecorder({ kc: kubeConfig(url), nodeName: 'orca-node', log: createLogger('silent'), now: () => NOW });
    const pod = { metadata: { namespace: 'team-a', name: 'train-0', uid: 'uid-pod' } } as Parameters<typeof pods.podEvent>[0];
    pods.podEvent(pod, 'Normal', 'InstanceLaunched', 'launched');
    await vi.waitFor(() => { expect(seen).toHaveLength(1); }, { timeout: 5000, interval: 10 });
    expect(seen[0]?.body).toMatchObject({
      involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: 'team-a', name: 'train-0', uid: 'uid-pod' },
      source: { component: 'orca', host: 'orca-node' }, reportingComponent: 'orca', reportingInstance: 'orca-node',
      type: 'Normal', reason: 'InstanceLaunched', message: 'launched',
    });
  });
});
