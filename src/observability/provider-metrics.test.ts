import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LaunchError, PodRejectedError, TerminateRefusedError } from '../domain/errors.js';
import type { LaunchSpec } from '../domain/instance.js';
import { podKey, type PodKey } from '../domain/pod.js';
import { isRunnable, type Provider } from '../provider/provider.js';
import { pod } from '../../test/fakes/builders.js';
import { FakeLauncher } from '../../test/fakes/launcher.js';
import { FakeProvider } from '../../test/fakes/provider.js';
import { createMetrics } from './metrics.js';
import { withLauncherMetrics, withProviderMetrics } from './provider-metrics.js';

function metrics() {
  const registry = new Registry();
  return { registry, m: createMetrics(registry) };
}

/** The sample of `name` whose labels are exactly `labels`, read from a scrape; undefined when there is none. */
async function sample(registry: Registry, name: string, labels: Readonly<Record<string, string>> = {}): Promise<number | undefined> {
  for (const line of (await registry.metrics()).split('\n')) {
    const m = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m?.[1] !== name || m[3] === undefined) continue;
    const got = new Map([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1] ?? '', x[2] ?? '']));
    if (got.size === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => got.get(k) === v)) return Number(m[3]);
  }
  return undefined;
}

const spec = (over: Partial<LaunchSpec> = {}): LaunchSpec => ({
  clientToken: 'orca-uid-a-0', instanceType: 'p5.48xlarge', capacity: 'spot', subnetId: 'subnet-a', zone: 'us-east-1a', imageId: 'ami-1',
  rootDeviceName: '/dev/sda1', count: 1, rootVolumeGiB: 200, securityGroupIds: ['sg-1'], userData: '', tags: { 'orca.research/node': 'orca-aws' },
  terminationProtection: false, dryRun: false, ...over,
});
const throttled = (): Error => Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded' });

/** A launcher whose launch and listTagged fail with a plain Error while `failing` is set. */
class PlainFailures extends FakeLauncher {
  failing: Error | undefined;

  override launch(s: LaunchSpec): ReturnType<FakeLauncher['launch']> {
    return this.failing === undefined ? super.launch(s) : Promise.reject(this.failing);
  }
}

describe('withLauncherMetrics', () => {
  it('counts launches by instance type, market and outcome, and returns what the launcher returned', async () => {
    const { registry, m } = metrics();
    const inner = new FakeLauncher();
    const launcher = withLauncherMetrics(inner, m);
    const got = await launcher.launch(spec({ count: 2 }));
    expect(got.map((i) => i.id)).toEqual(['i-0001', 'i-0002']);
    await launcher.launch(spec({ clientToken: 'orca-uid-b-0', capacity: 'on-demand', dryRun: true }));
    await launcher.launch(spec({ clientToken: 'orca-uid-c-0', capacity: 'on-demand' }));
    expect(await sample(registry, 'orca_instance_launches_total', { instance_type: 'p5.48xlarge', market: 'spot', outcome: 'launched' })).toBe(1);
    expect(await sample(registry, 'orca_instance_launches_total', { instance_type: 'p5.48xlarge', market: 'on-demand', outcome: 'dry-run' })).toBe(1);
    expect(await sample(registry, 'orca_instance_launches_total', { instance_type: 'p5.48xlarge', market: 'on-demand', outcome: 'launched' })).toBe(1);
  });

  it('counts a failed launch by its error kind, unknown for a plain error, and rethrows the error', async () => {
    const { registry, m } = metrics();
    const inner = new PlainFailures();
    inner.failures['on-demand:p5.48xlarge:subnet-a'] = ['quota', 'VcpuLimitExceeded'];
    const launcher = withLauncherMetrics(inner, m);
    const quota = launcher.launch(spec({ capacity: 'on-demand' }));
    await expect(quota).rejects.toBeInstanceOf(LaunchError);
    await expect(quota).rejects.toMatchObject({ kind: 'quota', awsCode: 'VcpuLimitExceeded' });
    inner.failing = throttled();
    await expect(launcher.launch(spec())).rejects.toBe(inner.failing);
    expect(await sample(registry, 'orca_instance_launches_total', { instance_type: 'p5.48xlarge', market: 'on-demand', outcome: 'quota' })).toBe(1);
    expect(await sample(registry, 'orca_instance_launches_total', { instance_type: 'p5.48xlarge', market: 'spot', outcome: 'unknown' })).toBe(1);
    expect(await sample(registry, 'orca_capacity_errors_total', { instance_type: 'p5.48xlarge', market: 'on-demand', zone: 'us-east-1a' })).toBeUndefined();
  });

  it('counts capacity errors by offering, with the zone of the spec', async () => {
    const { registry, m } = metrics();
    const inner = new FakeLauncher();
    inner.failures['spot:p5.48xlarge:subnet-b'] = ['capacity', 'InsufficientInstanceCapacity'];
    inner.failures['reserved:p5.48xlarge:subnet-a'] = ['reservation-full', 'ReservationCapacityExceeded'];
    const launcher = withLauncherMetrics(inner, m);
    for (let i = 0; i < 2; i++) await expect(launcher.launch(spec({ subnetId: 'subnet-b', zone: 'us-east-1b' }))).rejects.toMatchObject({ kind: 'capacity' });
    await expect(launcher.launch(spec({ capacity: 'reserved' }))).rejects.toMatchObject({ kind: 'reservation-full' });
    expect(await sample(registry, 'orca_capacity_errors_total', { instance_type: 'p5.48xlarge', market: 'spot', zone: 'us-east-1b' })).toBe(2);
    expect(await sample(registry, 'orca_capacity_errors_total', { instance_type: 'p5.48xlarge', market: 'spot', zone: 'us-east-1a' })).toBeUndefined();
    expect(await sample(registry, 'orca_capacity_errors_total', { instance_type: 'p5.48xlarge', market: 'reserved', zone: 'us-east-1a' })).toBe(1);
    expect(await sample(registry, 'orca_instance_launches_total', { instance_type: 'p5.48xlarge', market: 'spot', outcome: 'capacity' })).toBe(2);
  });

  it('counts terminations per instance by outcome: ok, refused or error, and rethrows', async () => {
    const { registry, m } = metrics();
    const inner = new FakeLauncher();
    const launcher = withLauncherMetrics(inner, m);
    await launcher.terminate(['i-1', 'i-2', 'i-3']);
    inner.terminateRefused.add('i-5');
    await expect(launcher.terminate(['i-4', 'i-5'])).rejects.toBeInstanceOf(TerminateRefusedError);
    const err = throttled();
    inner.terminateFailures.push(err);
    await expect(launcher.terminate(['i-6'])).rejects.toBe(err);
    expect(await sample(registry, 'orca_instance_terminations_total', { outcome: 'ok' })).toBe(3);
    expect(await sample(registry, 'orca_instance_terminations_total', { outcome: 'refused' })).toBe(2);
    expect(await sample(registry, 'orca_instance_terminations_total', { outcome: 'error' })).toBe(1);
    expect(inner.terminated).toEqual(['i-1', 'i-2', 'i-3']);
  });

  it('times each poll by outcome and sets the instances by state from the last successful listing', async () => {
    const { registry, m } = metrics();
    const inner = new FakeLauncher();
    const launcher = withLauncherMetrics(inner, m);
    await launcher.launch(spec({ count: 4 }));
    inner.setState('i-0001', 'running');
    inner.setState('i-0002', 'running');
    inner.setState('i-0003', 'terminated');
    expect(await launcher.listTagged('orca.research/node', 'orca-aws')).toHaveLength(4);
    const state = (s: string): Promise<number | undefined> => sample(registry, 'orca_instances', { state: s });
    expect([await state('running'), await state('pending'), await state('terminated'), await state('stopped')]).toEqual([2, 1, 1, 0]);
    for (const id of ['i-0001', 'i-0002', 'i-0004']) inner.setState(id, 'shutting-down');
    await launcher.listTagged('orca.research/node', 'orca-aws');
    expect([await state('running'), await state('pending'), await state('shutting-down')]).toEqual([0, 0, 3]);
    inner.listError = throttled();
    await expect(launcher.listTagged('orca.research/node', 'orca-aws')).rejects.toBe(inner.listError);
    expect(await state('shutting-down')).toBe(3);
    expect(await sample(registry, 'orca_instance_poll_duration_seconds_count', { outcome: 'ok' })).toBe(2);
    expect(await sample(registry, 'orca_instance_poll_duration_seconds_count', { outcome: 'error' })).toBe(1);
  });

  it('passes tag and unprotect through to the launcher', async () => {
    const { m } = metrics();
    const inner = new FakeLauncher();
    const launcher = withLauncherMetrics(inner, m);
    await launcher.tag(['i-1'], { team: 'vision' });
    await launcher.unprotect('i-1');
    expect(inner.tagged).toEqual([{ ids: ['i-1'], tags: { team: 'vision' } }]);
    expect(inner.unprotected).toEqual(['i-1']);
  });
});

/** A provider with every optional part: run, stopSlackMs, notReadyReasons and memory. */
class FullProvider extends FakeProvider {
  readonly stopSlackMs = 15_000;
  readonly runs: AbortSignal[] = [];
  reasons: readonly string[] = ['EC2 instances not listed yet'];
  tracked: Record<string, number> = { pods: 2, instances: 3 };

  run(signal: AbortSignal): Promise<void> {
    this.runs.push(signal);
    return Promise.resolve();
  }

  notReadyReasons(): readonly string[] {
    return this.reasons;
  }

  memory(): Readonly<Record<string, number>> {
    return { ...this.tracked };
  }
}

const ref = { key: podKey('ns', 'train'), uid: 'uid-train' };
const calls = (registry: Registry, method: string, errorCode: string): Promise<number | undefined> =>
  sample(registry, 'orca_provider_call_duration_seconds_count', { method, error_code: errorCode });

describe('withProviderMetrics', () => {
  it('times every call by method with error code none when it succeeds, and returns its result', async () => {
    const { registry, m } = metrics();
    const inner = new FakeProvider();
    const provider = withProviderMetrics(inner, m);
    const signal = new AbortController().signal;
    await provider.createPod(pod('train'), signal);
    await provider.updatePod(pod('train'), signal);
    expect(await provider.getPodStatus(ref, signal)).toEqual(inner.onCreate);
    expect((await provider.listPods(signal)).map((p) => p.ref.uid)).toEqual(['uid-train']);
    await provider.deletePod(ref, signal);
    for (const method of ['createPod', 'updatePod', 'getPodStatus', 'listPods', 'deletePod']) expect(await calls(registry, method, 'none')).toBe(1);
    expect(inner.deletes).toEqual(['uid-train']);
  });

  it('labels a failed call with its ORCA error code, any other error with other, and rethrows the error', async () => {
    const { registry, m } = metrics();
    const inner = new FakeProvider();
    const provider = withProviderMetrics(inner, m);
    const signal = new AbortController().signal;
    const rejected = new PodRejectedError('InvalidAnnotation', 'orca.research/launch-type: expected on-demand | spot');
    inner.createErrors.push(rejected);
    await expect(provider.createPod(pod('train'), signal)).rejects.toBe(rejected);
    const slow = throttled();
    inner.updateError = slow;
    await expect(provider.updatePod(pod('train'), signal)).rejects.toBe(slow);
    expect(await calls(registry, 'createPod', 'ORCA_ERR_POD_REJECTED')).toBe(1);
    expect(await calls(registry, 'createPod', 'none')).toBeUndefined();
    expect(await calls(registry, 'updatePod', 'other')).toBe(1);
  });

  it('forwards run, onStatusChange, stopSlackMs and notReadyReasons', async () => {
    const { m } = metrics();
    const inner = new FullProvider();
    const provider = withProviderMetrics(inner, m);
    const notified: PodKey[] = [];
    provider.onStatusChange((key) => { notified.push(key); });
    inner.report(ref, { phase: 'Running' });
    expect(notified).toEqual([ref.key]);
    expect(provider.stopSlackMs).toBe(15_000);
    expect(provider.notReadyReasons?.()).toEqual(['EC2 instances not listed yet']);
    inner.reasons = [];
    expect(provider.notReadyReasons?.()).toEqual([]);
    expect(isRunnable(provider)).toBe(true);
    const stop = new AbortController();
    if (isRunnable(provider)) await provider.run(stop.signal);
    expect(inner.runs).toEqual([stop.signal]);
  });

  it('adds no run, notReadyReasons or stopSlackMs the provider lacks', () => {
    const { m } = metrics();
    const provider = withProviderMetrics(new FakeProvider(), m);
    expect(isRunnable(provider)).toBe(false);
    expect('notReadyReasons' in provider).toBe(false);
    expect(provider.stopSlackMs).toBeUndefined();
  });

  it('passes on a capability the provider has beyond the contract, with the provider as this', async () => {
    const { m } = metrics();
    class WithLogs extends FakeProvider {
      readonly #lines = ['one', 'two'];
      async *containerLogs(): AsyncIterable<string> { for (const l of this.#lines) yield await Promise.resolve(l); }
    }
    const wrapped = withProviderMetrics(new WithLogs(), m) as Provider & Partial<WithLogs>;
    const lines: string[] = [];
    for await (const l of wrapped.containerLogs?.() ?? []) lines.push(l);
    expect(lines).toEqual(['one', 'two']);
  });

  it('reports memory() as orca_provider_tracked at every scrape', async () => {
    const { registry, m } = metrics();
    const inner = new FullProvider();
    withProviderMetrics(inner, m);
    expect(await sample(registry, 'orca_provider_tracked', { collection: 'pods' })).toBe(2);
    expect(await sample(registry, 'orca_provider_tracked', { collection: 'instances' })).toBe(3);
    inner.tracked = { pods: 5, instances: 0 };
    const text = await registry.metrics();
    expect(text).toContain('orca_provider_tracked{collection="pods"} 5');
    expect(text).toContain('orca_provider_tracked{collection="instances"} 0');
  });

  it('reports no orca_provider_tracked samples for a provider without memory()', async () => {
    const { registry, m } = metrics();
    withProviderMetrics(new FakeProvider(), m);
    expect(await registry.metrics()).not.toMatch(/^orca_provider_tracked\{/m);
  });
});
