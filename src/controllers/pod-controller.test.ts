import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PodRejectedError } from '../domain/errors.js';
import type { PodKey } from '../domain/pod.js';
import { createLogger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { FakeClock } from '../../test/fakes/clock.js';
import { FakePods } from '../../test/fakes/kube.js';
import { FakeProvider } from '../../test/fakes/provider.js';
import { pod } from '../../test/fakes/builders.js';
import { PodController } from './pod-controller.js';

const stops: AbortController[] = [];
afterEach(() => { for (const s of stops.splice(0)) s.abort(); });

function env(setup: (e: { pods: FakePods; provider: FakeProvider; clock: FakeClock }) => void = () => undefined, log = createLogger('silent')) {
  const pods = new FakePods();
  const provider = new FakeProvider();
  const clock = new FakeClock();
  const registry = new Registry();
  setup({ pods, provider, clock });
  const controller = new PodController({
    pods, writer: pods, events: pods, provider, clock, log, metrics: createMetrics(registry),
    hostIP: '10.0.0.5', retry: { baseMs: 5, maxMs: 20 }, resyncMs: 3_600_000,
  });
  const stop = new AbortController();
  stops.push(stop);
  void pods.run();
  const running = controller.run(stop.signal);
  return { pods, provider, clock, registry, stop, running };
}

const key = (name: string): PodKey => `ns/${name}` as PodKey;
const until = (fn: () => void): Promise<void> => vi.waitFor(fn, { timeout: 2000, interval: 5 });
/** As until(), with the clock moving on meanwhile: retries and requeues wait on it. */
const untilAdvanced = (clock: FakeClock, fn: () => void): Promise<void> => vi.waitFor(async () => { await clock.advance(100); fn(); }, { timeout: 2000, interval: 5 });

describe('PodController', () => {
  it('creates a new pod in the provider once and posts a kubelet-style Pending status', async () => {
    const e = env();
    e.pods.put(pod('a'));
    await until(() => { expect(e.pods.writes).toHaveLength(1); });
    expect(e.provider.creates).toEqual(['uid-a']);
    const w = e.pods.writes[0];
    expect(w?.uid).toBe('uid-a');
    expect(w?.status).toMatchObject({ phase: 'Pending', hostIP: '10.0.0.5', hostIPs: [{ ip: '10.0.0.5' }] });
    expect(w?.status.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual([
      'PodScheduled=True', 'PodReadyToStartContainers=False', 'Initialized=True', 'ContainersReady=False', 'Ready=False',
      'orca.research/Provisioned=True',
    ]);
  });

  it('posts provider status changes, and nothing when the reported status did not change', async () => {
    const e = env();
    e.pods.put(pod('a'));
    await until(() => { expect(e.pods.writes).toHaveLength(1); });
    const container = { name: 'main', ready: true, restartCount: 0, image: 'img', imageID: '' };
    const running = { phase: 'Running' as const, podIP: '10.1.2.3', containerStatuses: [{ ...container, state: { running: { startedAt: '2026-11-23T12:00:01.123Z' } } }] };
    e.provider.report({ key: key('a'), uid: 'uid-a' }, running);
    await until(() => { expect(e.pods.writes).toHaveLength(2); });
    expect(e.pods.writes[1]?.status).toMatchObject({ phase: 'Running', podIP: '10.1.2.3', podIPs: [{ ip: '10.1.2.3' }] });
    expect(e.pods.writes[1]?.status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    // Same report again, and one differing only below a second: no write.
    e.provider.report({ key: key('a'), uid: 'uid-a' }, running);
    e.provider.report({ key: key('a'), uid: 'uid-a' }, { ...running, containerStatuses: [{ ...container, state: { running: { startedAt: '2026-11-23T12:00:01Z' } } }] });
    await new Promise((r) => setTimeout(r, 50));
    expect(e.pods.writes).toHaveLength(2);
    expect((await e.registry.getSingleMetricAsString('orca_pod_status_writes_total'))).toMatch(/orca_pod_status_writes_total 2$/m);
  });

  it('never touches a pod that is already terminal', async () => {
    const e = env((x) => { x.pods.pods.set(key('done'), pod('done', { status: { phase: 'Succeeded' } })); });
    e.pods.put(pod('done', { status: { phase: 'Succeeded' } }));
    await new Promise((r) => setTimeout(r, 50));
    expect([e.provider.creates, e.pods.writes, e.pods.deletes]).toEqual([[], [], []]);
  });

  it('fails a rejected pod with the provider\'s reason and a Warning Event, launching nothing', async () => {
    const e = env((x) => { x.provider.createErrors.push(new PodRejectedError('InvalidAnnotation', 'orca.research/launch-type: "cheap" is not one of on-demand, spot')); });
    e.pods.put(pod('bad'));
    await until(() => { expect(e.pods.writes).toHaveLength(1); });
    expect(e.pods.writes[0]?.status).toMatchObject({ phase: 'Failed', reason: 'InvalidAnnotation', message: 'orca.research/launch-type: "cheap" is not one of on-demand, spot' });
    expect(e.pods.events).toEqual([{ key: 'ns/bad', type: 'Warning', reason: 'InvalidAnnotation', message: 'orca.research/launch-type: "cheap" is not one of on-demand, spot' }]);
    expect(e.provider.creates).toEqual([]);
    expect(e.pods.writes[0]?.status.conditions?.find((c) => c.type === 'orca.research/Provisioned')).toMatchObject({ status: 'False', reason: 'InvalidAnnotation' });
  });

  it('retries transient provider errors with an Event each, then runs the pod', async () => {
    const e = env((x) => { x.provider.createErrors.push(new Error('throttled'), new Error('throttled')); });
    e.pods.put(pod('flaky'));
    await untilAdvanced(e.clock, () => { expect(e.provider.creates).toEqual(['uid-flaky']); });
    expect(e.pods.events.map((x) => x.message)).toEqual(['attempt 1 of 5: throttled', 'attempt 2 of 5: throttled']);
    await until(() => { expect(e.pods.pods.get(key('flaky'))?.status).toMatchObject({ phase: 'Pending' }); });
    expect(e.pods.pods.get(key('flaky'))?.status?.reason).toBeUndefined();
    expect(e.pods.writes.at(-1)?.clear).toEqual(['reason', 'message']);
  });

  it('gives up after the last attempt and fails the pod with ProviderFailed', async () => {
    const e = env((x) => { for (let i = 0; i < 10; i++) x.provider.createErrors.push(new Error('AWS is down')); });
    e.pods.put(pod('broken'));
    await untilAdvanced(e.clock, () => { expect(e.pods.pods.get(key('broken'))?.status?.phase).toBe('Failed'); });
    expect(e.pods.pods.get(key('broken'))?.status).toMatchObject({ reason: 'ProviderFailed', message: 'gave up after 5 attempts: AWS is down' });
    expect(e.pods.events.map((x) => x.reason)).toEqual(Array(5).fill('ProviderFailed'));
    expect(e.provider.createErrors).toHaveLength(5);
  });

  it('logs the give-up with ORCA_ERR_PROVIDER_FAILED, the provider\'s error as its cause', async () => {
    const lines: string[] = [];
    const log = createLogger('warn', { write: (line: string) => { lines.push(line); } });
    const e = env((x) => { for (let i = 0; i < 5; i++) x.provider.createErrors.push(new Error('AWS is down')); }, log);
    e.pods.put(pod('broken'));
    await untilAdvanced(e.clock, () => { expect(e.pods.pods.get(key('broken'))?.status?.phase).toBe('Failed'); });
    const errs = lines.map((l) => JSON.parse(l) as { msg: string; err?: { code?: string; message: string } }).filter((l) => l.msg === 'provider failed to create the pod').map((l) => l.err);
    expect(errs).toHaveLength(5);
    expect(errs.slice(0, 4).map((x) => x?.code)).toEqual(Array(4).fill(undefined));
    expect(errs[4]).toMatchObject({ code: 'ORCA_ERR_PROVIDER_FAILED', message: 'gave up after 5 attempts: AWS is down' });
  });

  it('deletes gracefully: provider delete once, terminal status, then the final delete with the UID', async () => {
    const e = env();
    e.pods.put(pod('a'));
    await until(() => { expect(e.provider.creates).toHaveLength(1); });
    e.pods.put({ ...pod('a', { deletionTimestamp: '2026-11-23T12:00:30Z' }), status: e.pods.get(key('a'))?.status ?? {} });
    await untilAdvanced(e.clock, () => { expect(e.pods.deletes).toEqual([{ key: 'ns/a', uid: 'uid-a' }]); });
    expect(e.provider.deletes).toEqual(['uid-a']);
    expect(e.pods.writes.at(-1)?.status.phase).toBe('Failed');
    expect(e.pods.events.map((x) => x.reason)).toEqual(['Killing']);
  });

  it('fails and deletes a pod the provider cannot stop once its grace period is over', async () => {
    const e = env((x) => { x.provider.onDelete = undefined; });
    e.pods.put(pod('stuck'));
    await until(() => { expect(e.provider.creates).toHaveLength(1); });
    e.pods.put({ ...pod('stuck', { deletionTimestamp: '2026-11-23T12:00:02Z' }), status: e.pods.get(key('stuck'))?.status ?? {} });
    await until(() => { expect(e.provider.deletes).toEqual(['uid-stuck']); });
    expect(e.pods.deletes).toEqual([]);
    await e.clock.advance(3000);
    await until(() => { expect(e.pods.deletes).toEqual([{ key: 'ns/stuck', uid: 'uid-stuck' }]); });
    expect(e.pods.writes.at(-1)?.status).toMatchObject({ phase: 'Failed', reason: 'DeletionGracePeriodExpired' });
  });

  it('waits the provider\'s stop slack past the grace period before giving up on a graceful stop', async () => {
    const e = env((x) => { x.provider.onDelete = undefined; Object.assign(x.provider, { stopSlackMs: 20_000 }); });
    e.pods.put(pod('remote'));
    await until(() => { expect(e.provider.creates).toHaveLength(1); });
    e.pods.put({ ...pod('remote', { deletionTimestamp: '2026-11-23T12:00:02Z' }), status: e.pods.get(key('remote'))?.status ?? {} });
    await until(() => { expect(e.provider.deletes).toEqual(['uid-remote']); });
    for (let i = 0; i < 20; i++) await e.clock.advance(1000);
    expect(e.pods.deletes).toEqual([]);
    for (let i = 0; i < 3; i++) await e.clock.advance(1000);
    await until(() => { expect(e.pods.deletes).toEqual([{ key: 'ns/remote', uid: 'uid-remote' }]); });
  });

  it('deletes at once a terminating pod the provider does not have', async () => {
    const e = env();
    e.pods.put(pod('never-ran', { deletionTimestamp: '2026-11-23T12:00:30Z' }));
    await until(() => { expect(e.pods.deletes).toEqual([{ key: 'ns/never-ran', uid: 'uid-never-ran' }]); });
    expect(e.provider.deletes).toEqual([]);
  });

  it('lets go of the provider pod when the pod is force-deleted from the API', async () => {
    const e = env();
    e.pods.put(pod('a'));
    await until(() => { expect(e.provider.creates).toHaveLength(1); });
    e.pods.remove(key('a'));
    await until(() => { expect(e.provider.deletes).toEqual(['uid-a']); });
  });

  it('at start-up deletes provider pods the API lacks, creates pending ones, and fails lost running ones', async () => {
    const e = env((x) => {
      x.provider.statuses.set('uid-orphan', { ref: { key: key('orphan'), uid: 'uid-orphan' }, status: { phase: 'Running' } });
      x.pods.pods.set(key('pending'), pod('pending'));
      x.pods.pods.set(key('lost'), pod('lost', { status: { phase: 'Running' } }));
    });
    await until(() => { expect(e.provider.deletes).toEqual(['uid-orphan']); });
    await until(() => { expect(e.provider.creates).toEqual(['uid-pending']); });
    await until(() => { expect(e.pods.pods.get(key('lost'))?.status).toMatchObject({ phase: 'Failed', reason: 'ProviderLost' }); });
    expect(e.provider.creates).not.toContain('uid-lost');
  });

  it('keeps working when the API write fails, retrying the pod with back-off', async () => {
    const e = env();
    let failures = 2;
    const write = e.pods.patchStatus.bind(e.pods);
    e.pods.patchStatus = (ref, status, clear) => (failures-- > 0 ? Promise.reject(new Error('etcdserver: timeout')) : write(ref, status, clear));
    e.pods.put(pod('a'));
    await untilAdvanced(e.clock, () => { expect(e.pods.writes).toHaveLength(1); });
    expect(e.provider.creates).toEqual(['uid-a']);
    expect(await e.registry.getSingleMetricAsString('orca_kube_api_errors_total')).toMatch(/operation="pod-reconcile"} 2/);
  });
});

describe('PodController updates', () => {
  const withImage = (image: string) => ({ ...pod('a'), spec: { ...pod('a').spec, containers: [{ name: 'main', image }] } });
  /** The pod with `image`, as the watch would deliver it: with the status ORCA last wrote. */
  const putImage = (e: ReturnType<typeof env>, image: string): void => { e.pods.put({ ...withImage(image), status: e.pods.get(key('a'))?.status ?? {} }); };

  it('dispatches a changed image to the provider once, with a Normal Event', async () => {
    const e = env();
    e.pods.put(withImage('train:v1'));
    await until(() => { expect(e.provider.creates).toHaveLength(1); });
    putImage(e, 'train:v1');
    await new Promise((r) => setTimeout(r, 30));
    expect(e.provider.updates).toEqual([]);
    putImage(e, 'train:v2');
    await until(() => { expect(e.provider.updates).toEqual(['uid-a:train:v2']); });
    putImage(e, 'train:v2');
    await new Promise((r) => setTimeout(r, 30));
    expect(e.provider.updates).toEqual(['uid-a:train:v2']);
    expect(e.pods.events.map((x) => x.reason)).toEqual(['Updated']);
  });

  it('reports an update the provider refuses as a Warning Event and keeps the pod running', async () => {
    const e = env();
    e.pods.put(withImage('train:v1'));
    await until(() => { expect(e.provider.creates).toHaveLength(1); });
    putImage(e, 'train:v1');
    await new Promise((r) => setTimeout(r, 30));
    e.provider.updateError = new PodRejectedError('UpdateNotSupported', 'the image of a running burst instance cannot change');
    putImage(e, 'train:v2');
    await until(() => { expect(e.pods.events.map((x) => x.reason)).toEqual(['UpdateNotSupported']); });
    expect(e.pods.get(key('a'))?.status?.phase).toBe('Pending');
  });
});

describe('PodController garbage collection', () => {
  it('lets go of a provider pod whose pod object is missing on two resyncs a grace period apart', async () => {
    const pods = new FakePods();
    const provider = new FakeProvider();
    const clock = new FakeClock();
    const c = new PodController({
      pods, writer: pods, events: pods, provider, clock, log: createLogger('silent'), metrics: createMetrics(new Registry()),
      hostIP: '10.0.0.5', resyncMs: 1000, gcGraceMs: 1500,
    });
    const stop = new AbortController();
    stops.push(stop);
    void pods.run();
    void c.run(stop.signal);
    await clock.tick(0);
    provider.statuses.set('uid-orphan', { ref: { key: key('orphan'), uid: 'uid-orphan' }, status: { phase: 'Running' } });
    await clock.tick(1000);
    await clock.tick(1000);
    expect(provider.deletes).toEqual([]);
    await clock.tick(1000);
    await until(() => { expect(provider.deletes).toEqual(['uid-orphan']); });
  });
});
