// Pure: the kubelet's Summary API (`GET /stats/summary`, k8s.io/kubelet/pkg/apis/stats/v1alpha1)
// from a provider's usage samples, the model `/metrics/resource` is rendered from too
// (resource-metrics.ts, with the same counters and sums, at millisecond precision). The node is the sum of its pods, plus the CPU time of pods
// that ended so its counter never decreases. Only CPU and working-set memory are known: every
// other field is left out, as the API allows. Accelerators are not in it: they are measured per
// instance, not per container, and kubelets stopped filling them (DisableAcceleratorUsageMetrics).
import { parsePodKey } from '../domain/pod.js';
import { kubeTime } from '../domain/pod-status.js';
import type { ContainerUsageSample, PodUsageSample, UsageSamples } from '../provider/provider.js';

export interface CpuStats {
  readonly time: string;
  readonly usageNanoCores: number;
  readonly usageCoreNanoSeconds: number;
}

export interface MemoryStats {
  readonly time: string;
  readonly workingSetBytes: number;
}

export interface ContainerStats {
  readonly name: string;
  readonly startTime: string;
  readonly cpu: CpuStats;
  readonly memory: MemoryStats;
}

export interface PodStats {
  readonly podRef: { readonly name: string; readonly namespace: string; readonly uid: string };
  readonly startTime: string;
  readonly containers: readonly ContainerStats[];
  readonly cpu: CpuStats;
  readonly memory: MemoryStats;
}

export interface NodeStats {
  readonly nodeName: string;
  readonly startTime: string;
  readonly cpu: CpuStats;
  readonly memory: MemoryStats;
}

export interface Summary {
  readonly node: NodeStats;
  readonly pods: readonly PodStats[];
}

export interface SummaryInput {
  readonly nodeName: string;
  /** When the node started (ORCA's start): the node's counters count from it. */
  readonly nodeStartTime: Date;
  readonly samples: UsageSamples;
}

/**
 * metrics-server drops a container (and with it the whole pod) whose CPU counter is 0, and a node
 * whose CPU or memory is 0: a container idle since it started, or a node with nothing measured,
 * counts at least this much (1 µs; 1 byte for the node's memory), and kubectl top shows 0.
 */
export const minimumCpuCoreSeconds = 1e-6;

/** A CPU counter as rendered: never below the minimum (which keeps it non-decreasing). */
export const counterSeconds = (seconds: number): number => Math.max(minimumCpuCoreSeconds, seconds);

/** The node's usage: its pods', plus the CPU time of pods that ended. */
export function nodeUsage(s: UsageSamples): { readonly cpuCores: number; readonly cpuCoreSeconds: number; readonly memoryWorkingSetBytes: number } {
  const sum = (f: (p: PodUsageSample) => number): number => s.pods.reduce((a, p) => a + f(p), 0);
  return {
    cpuCores: sum((p) => p.cpuCores), cpuCoreSeconds: counterSeconds(s.endedCpuCoreSeconds + sum((p) => p.cpuCoreSeconds)),
    memoryWorkingSetBytes: Math.max(1, sum((p) => p.memoryWorkingSetBytes)),
  };
}

function cpu(time: string, cores: number, seconds: number): CpuStats {
  return { time, usageNanoCores: Math.round(cores * 1e9), usageCoreNanoSeconds: Math.round(counterSeconds(seconds) * 1e9) };
}

const memory = (time: string, bytes: number): MemoryStats => ({ time, workingSetBytes: Math.round(bytes) });

function container(c: ContainerUsageSample, time: string): ContainerStats {
  return { name: c.name, startTime: kubeTime(c.startTime), cpu: cpu(time, c.cpuCores, c.cpuCoreSeconds), memory: memory(time, c.memoryWorkingSetBytes) };
}

function pod(p: PodUsageSample, time: string): PodStats {
  const { namespace, name } = parsePodKey(p.ref.key);
  return {
    podRef: { name, namespace, uid: p.ref.uid }, startTime: kubeTime(p.startTime), containers: p.containers.map((c) => container(c, time)),
    cpu: cpu(time, p.cpuCores, p.cpuCoreSeconds), memory: memory(time, p.memoryWorkingSetBytes),
  };
}

export function statsSummary(input: SummaryInput): Summary {
  const { samples } = input;
  const time = kubeTime(samples.at);
  const node = nodeUsage(samples);
  return {
    node: { nodeName: input.nodeName, startTime: kubeTime(input.nodeStartTime), cpu: cpu(time, node.cpuCores, node.cpuCoreSeconds), memory: memory(time, node.memoryWorkingSetBytes) },
    pods: samples.pods.map((p) => pod(p, time)),
  };
}
