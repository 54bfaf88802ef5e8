import { describe, expect, it } from 'vitest';
import { desiredNode, mergeTaints, nodeConditions, type NodeParams } from './node.js';

const p: NodeParams = {
  name: 'orca-gpu', version: '1.2.3', internalIP: '10.0.0.5', kubeletPort: 10250,
  extraLabels: { 'kubernetes.io/arch': 'arm64', team: 'vision' }, extraTaints: [{ key: 'gpu', effect: 'NoSchedule' }],
  capacity: { cpu: '96', memory: '768Gi', pods: 110, 'nvidia.com/gpu': 8 },
};

describe('desiredNode', () => {
  const n = desiredNode(p, '2026-11-23T12:00:00Z');

  it('carries the virtual-kubelet and ORCA labels, with configured ones winning', () => {
    expect(n.metadata.labels).toMatchObject({
      type: 'virtual-kubelet', 'kubernetes.io/role': 'agent', 'kubernetes.io/hostname': 'orca-gpu', 'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'arm64', team: 'vision', 'orca.research/provider': 'aws', 'orca.research/version': '1.2.3',
    });
  });

  it('has the provider taint first, then the configured ones', () => {
    expect(n.spec.taints).toEqual([{ key: 'virtual-kubelet.io/provider', value: 'aws', effect: 'NoSchedule' }, { key: 'gpu', effect: 'NoSchedule' }]);
  });

  it('advertises capacity as strings, allocatable equal to it, and where the kubelet API is', () => {
    expect(n.status.capacity).toEqual({ cpu: '96', memory: '768Gi', pods: '110', 'nvidia.com/gpu': '8' });
    expect(n.status.allocatable).toEqual(n.status.capacity);
    expect(n.status.addresses).toEqual([{ type: 'InternalIP', address: '10.0.0.5' }]);
    expect(n.status.daemonEndpoints).toEqual({ kubeletEndpoint: { Port: 10250 } });
    expect(n.status.nodeInfo).toMatchObject({ kubeletVersion: 'v1.2.3-orca', operatingSystem: 'linux' });
  });

  it('is Ready with a real kubelet\'s condition reasons', () => {
    expect(n.status.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Ready', 'True', 'KubeletReady'], ['MemoryPressure', 'False', 'KubeletHasSufficientMemory'],
      ['DiskPressure', 'False', 'KubeletHasNoDiskPressure'], ['PIDPressure', 'False', 'KubeletHasSufficientPID'],
    ]);
  });
});

describe('nodeConditions', () => {
  it('heartbeats every condition and moves the transition time only on a change', () => {
    const first = nodeConditions('2026-11-23T12:00:00Z');
    const next = nodeConditions('2026-11-23T12:01:00Z', undefined, first);
    expect(next.map((c) => [c.lastHeartbeatTime, c.lastTransitionTime])).toEqual(Array(4).fill(['2026-11-23T12:01:00Z', '2026-11-23T12:00:00Z']));
    const down = nodeConditions('2026-11-23T12:02:00Z', 'stopping', next);
    expect(down[0]).toMatchObject({ status: 'False', reason: 'KubeletNotReady', message: 'stopping', lastTransitionTime: '2026-11-23T12:02:00Z' });
    expect(down[1]?.lastTransitionTime).toBe('2026-11-23T12:00:00Z');
  });
});

describe('mergeTaints', () => {
  it('keeps taints others set, and ours once each', () => {
    const ours = [{ key: 'virtual-kubelet.io/provider', value: 'aws', effect: 'NoSchedule' as const }];
    const existing = [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' as const }, { key: 'virtual-kubelet.io/provider', value: 'old', effect: 'NoSchedule' as const }];
    expect(mergeTaints(existing, ours)).toEqual([ours[0], existing[0]]);
  });
});

describe('the Ready condition', () => {
  it('carries a note after the kubelet\'s message, so kubectl describe node shows it', () => {
    const [ready] = nodeConditions('2026-11-23T12:00:00Z', undefined, [], 'the kubelet API serves a self-signed certificate');
    expect(ready).toMatchObject({ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status; the kubelet API serves a self-signed certificate' });
    expect(nodeConditions('2026-11-23T12:00:00Z')[0]?.message).toBe('kubelet is posting ready status');
  });
});
