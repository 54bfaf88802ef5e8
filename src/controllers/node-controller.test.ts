import { afterEach, describe, expect, it, vi } from 'vitest';
import type { NodeParams } from '../domain/node.js';
import { createLogger } from '../observability/logger.js';
import { FakeClock } from '../../test/fakes/clock.js';
import { FakeLeaseApi, FakeNodeApi } from '../../test/fakes/kube.js';
import { NodeController } from './node-controller.js';

const params: NodeParams = {
  name: 'orca', version: '0.1.0', internalIP: '10.0.0.5', kubeletPort: 10250,
  extraLabels: { site: 'lab' }, extraTaints: [], capacity: { cpu: '100', pods: 50, 'nvidia.com/gpu': 8 },
};
const stops: AbortController[] = [];
afterEach(() => { for (const s of stops.splice(0)) s.abort(); });

function env(setup: (n: FakeNodeApi, l: FakeLeaseApi) => void = () => undefined) {
  const nodes = new FakeNodeApi();
  const leases = new FakeLeaseApi();
  const clock = new FakeClock();
  const apiErrors: string[] = [];
  setup(nodes, leases);
  const c = new NodeController({
    nodes, leases, clock, log: createLogger('silent'), params, renewIntervalMs: 10_000, statusIntervalMs: 60_000,
    onApiError: (op) => apiErrors.push(op),
  });
  const stop = new AbortController();
  stops.push(stop);
  const running = c.run(stop.signal);
  return { nodes, leases, clock, c, stop, running, apiErrors };
}

const until = (fn: () => void): Promise<void> => vi.waitFor(fn, { timeout: 2000, interval: 5 });

describe('NodeController', () => {
  it('creates a missing node with its status, then renews the Lease owned by it every 10 s', async () => {
    const e = env();
    await e.c.registered;
    expect(e.nodes.calls.slice(0, 2)).toEqual(['get', 'create']);
    expect(e.nodes.node?.metadata.labels).toMatchObject({ type: 'virtual-kubelet', site: 'lab', 'kubernetes.io/hostname': 'orca' });
    expect(e.nodes.node?.status.capacity).toEqual({ cpu: '100', pods: '50', 'nvidia.com/gpu': '8' });
    await until(() => { expect(e.leases.renewals).toHaveLength(1); });
    await e.clock.tick(10_000);
    await until(() => { expect(e.leases.renewals).toHaveLength(2); });
    expect(e.leases.renewals.map((r) => [r.name, r.uid, r.at])).toEqual([
      ['orca', 'node-uid-1', '2026-11-23T12:00:00.000Z'], ['orca', 'node-uid-1', '2026-11-23T12:00:10.000Z'],
    ]);
  });

  it('posts node status every minute, not on every Lease renewal', async () => {
    const e = env();
    await e.c.registered;
    for (let i = 0; i < 5; i++) await e.clock.tick(10_000);
    expect(e.nodes.calls.filter((c) => c === 'patchStatus')).toHaveLength(0);
    await e.clock.tick(10_000);
    await until(() => { expect(e.nodes.calls.filter((c) => c === 'patchStatus')).toHaveLength(1); });
    expect(e.nodes.node?.status.conditions.find((c) => c.type === 'Ready')?.lastHeartbeatTime).toBe('2026-11-23T12:01:00.000Z');
  });

  it('re-registers an existing node keeping taints others set and the Ready transition time', async () => {
    const e = env((n) => {
      n.node = {
        uid: 'old-uid',
        metadata: { name: 'orca', labels: {} },
        spec: { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }, { key: 'virtual-kubelet.io/provider', value: 'aws', effect: 'NoSchedule' }] },
        status: {
          capacity: {}, allocatable: {}, addresses: [], daemonEndpoints: { kubeletEndpoint: { Port: 1 } }, nodeInfo: {},
          conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: '', lastHeartbeatTime: 'x', lastTransitionTime: '2026-01-01T00:00:00Z' }],
        },
      };
    });
    await e.c.registered;
    expect(e.nodes.calls.slice(0, 3)).toEqual(['get', 'patchMeta', 'patchStatus']);
    expect(e.nodes.node?.spec.taints.map((t) => t.key)).toEqual(['virtual-kubelet.io/provider', 'node.kubernetes.io/unreachable']);
    expect(e.nodes.node?.status.conditions.find((c) => c.type === 'Ready')?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
    await until(() => { expect(e.leases.renewals[0]?.uid).toBe('old-uid'); });
  });

  it('retries registration with back-off when the apiserver fails', async () => {
    const e = env((n) => { n.failNext.push(new Error('connection refused'), new Error('connection refused')); });
    await until(() => { expect(e.apiErrors).toEqual(['node-register']); });
    expect(e.c.isRegistered).toBe(false);
    await e.clock.tick(2000);
    await until(() => { expect(e.apiErrors).toEqual(['node-register', 'node-register']); });
    await e.clock.tick(4000);
    await e.c.registered;
    expect(e.c.isRegistered).toBe(true);
  });

  it('keeps heartbeating after a failed Lease renewal, and counts the error', async () => {
    const e = env((_n, l) => { l.failNext = 1; });
    await e.c.registered;
    await until(() => { expect(e.apiErrors).toEqual(['lease-renew']); });
    await e.clock.tick(10_000);
    await until(() => { expect(e.leases.renewals).toHaveLength(1); });
  });

  it('stops renewing and posts Ready=False when stopped', async () => {
    const e = env();
    await e.c.registered;
    await until(() => { expect(e.leases.renewals).toHaveLength(1); });
    e.stop.abort();
    await e.running;
    expect(e.nodes.node?.status.conditions.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False', reason: 'KubeletNotReady', message: 'orca is shutting down',
    });
    await e.clock.advance(60_000);
    expect(e.leases.renewals).toHaveLength(1);
  });
});
