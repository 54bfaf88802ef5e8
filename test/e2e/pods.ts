// Pods and the virtual node for lifecycle suites: builders, an ORCA-with-test-provider starter, and
// a watch that records every version of a pod the apiserver sends.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, Watch, type CoreV1Event, type V1Pod } from '@kubernetes/client-node';
import { freePorts } from './testbed/ports.js';
import { kubeConfig, testbed, waitFor } from './fixture.js';
import { startOrca, type OrcaProcess } from './orca-process.js';

export const T = 'test.orca.research/';

export interface PodOptions {
  readonly annotations?: Record<string, string>;
  readonly gpus?: number;
  readonly restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  readonly grace?: number;
  readonly nodeName?: string;
  readonly nodeSelector?: Record<string, string>;
}

export function burstPod(name: string, o: PodOptions = {}): V1Pod {
  return {
    metadata: { name, annotations: o.annotations ?? {} },
    spec: {
      restartPolicy: o.restartPolicy ?? 'Never',
      ...(o.grace === undefined ? {} : { terminationGracePeriodSeconds: o.grace }),
      ...(o.nodeName === undefined ? {} : { nodeName: o.nodeName }),
      tolerations: [{ key: 'virtual-kubelet.io/provider', operator: 'Exists', effect: 'NoSchedule' }],
      ...(o.nodeSelector === undefined ? {} : { nodeSelector: o.nodeSelector }),
      containers: [{
        name: 'main', image: 'nvcr.io/nvidia/pytorch:25.01-py3', command: ['python', 'train.py'],
        resources: o.gpus === undefined ? {} : { limits: { 'nvidia.com/gpu': String(o.gpus) } },
      }],
    },
  };
}

export interface ShPodOptions {
  readonly restartPolicy?: 'Never' | 'OnFailure';
  readonly annotations?: Record<string, string>;
  readonly grace?: number;
}

/** A pod for the EC2 virtual node `node` running `script` in busybox's sh on a g6e.xlarge (an emulated instance). */
export function shPod(name: string, node: string, script: string, o: ShPodOptions = {}): V1Pod {
  const p = burstPod(name, {
    restartPolicy: o.restartPolicy ?? 'Never', nodeSelector: { 'kubernetes.io/hostname': node }, grace: o.grace ?? 5,
    annotations: { 'orca.research/instance-type': 'g6e.xlarge', ...o.annotations },
  });
  const c = p.spec?.containers[0];
  if (c !== undefined) Object.assign(c, { name: 'main', image: 'public.ecr.aws/docker/library/busybox:1.37', command: ['sh', '-c', script] });
  return p;
}

export interface VirtualNode {
  readonly name: string;
  readonly stateFile: string;
  orca: OrcaProcess;
  /** ORCA's ops port (healthz, readyz, metrics) of the latest start. */
  opsPort: number;
  /** Starts (or restarts) ORCA for this node with the same test-provider state. */
  start(): Promise<OrcaProcess>;
}

export function virtualNode(name: string, gpus = 8): VirtualNode {
  const stateFile = join(mkdtempSync(join(tmpdir(), 'orca-provider-')), 'state.jsonl');
  const node: VirtualNode = {
    name, stateFile, orca: undefined as unknown as OrcaProcess, opsPort: 0,
    async start() {
      const [port = 0, kubeletPort] = await freePorts(2);
      node.opsPort = port;
      node.orca = startOrca({
        aws: { region: 'us-east-1' },
        node: { name, internalIP: '127.0.0.1', kubeletPort, capacity: { 'nvidia.com/gpu': gpus, pods: 2000 } },
        ops: { port, host: '127.0.0.1' }, kubeletApi: { host: '127.0.0.1' },
      }, { args: ['--kubeconfig', testbed().kubeconfig], testProviderState: stateFile });
      const orca = node.orca;
      await waitFor(`orca for ${name} to be ready`, () => Promise.resolve(orca.logLines().find((l) => l.msg === 'orca ready')), 60_000, 100);
      await waitFor(`node ${name} schedulable`, async () => {
        const n = await kubeConfig().makeApiClient(CoreV1Api).readNode({ name });
        return n.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/')) === true ? undefined : true;
      }, 60_000, 250);
      return orca;
    },
  };
  return node;
}

export const core = (): CoreV1Api => kubeConfig().makeApiClient(CoreV1Api);

export async function podNow(namespace: string, name: string): Promise<V1Pod | undefined> {
  try {
    return await core().readNamespacedPod({ name, namespace });
  } catch (e) {
    if ((e as { code?: number }).code === 404) return undefined;
    throw e;
  }
}

export async function eventsFor(namespace: string, name: string): Promise<CoreV1Event[]> {
  const list = await core().listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
  return list.items;
}

export async function waitForPhase(namespace: string, name: string, phase: string, timeoutMs = 60_000): Promise<V1Pod> {
  return waitFor(`${namespace}/${name} to be ${phase}`, async () => {
    const p = await podNow(namespace, name);
    return p?.status?.phase === phase ? p : undefined;
  }, timeoutMs, 250);
}

/** Records every version of one pod the apiserver sends, until stopped. */
export async function recordPod(namespace: string, name: string): Promise<{ seen: { type: string; pod: V1Pod; at: number }[]; stop: () => void }> {
  const seen: { type: string; pod: V1Pod; at: number }[] = [];
  const req = await new Watch(kubeConfig()).watch(
    `/api/v1/namespaces/${namespace}/pods`, { fieldSelector: `metadata.name=${name}` },
    (type: string, pod: V1Pod) => { seen.push({ type, pod, at: Date.now() }); }, () => undefined,
  );
  return { seen, stop: () => { req.abort(); } };
}

/**
 * Watches a namespace's pods until stopped, resuming from the last resourceVersion whenever the
 * apiserver closes the watch (it drops watchers that fall behind under load).
 */
export function watchPods(namespace: string, onEvent: (type: string, pod: V1Pod) => void): { stop: () => void; reconnects: () => number } {
  let rv = '';
  let stopped = false;
  let reconnects = 0;
  let current: AbortController | undefined;
  const connect = async (): Promise<void> => {
    current = await new Watch(kubeConfig()).watch(`/api/v1/namespaces/${namespace}/pods`, rv === '' ? {} : { resourceVersion: rv },
      (type: string, pod: V1Pod) => {
        if (type === 'ERROR') {
          rv = ''; // 410 Gone: start over from the current state
          return;
        }
        rv = pod.metadata?.resourceVersion ?? rv;
        onEvent(type, pod);
      },
      (err: unknown) => {
        if (stopped) return;
        if ((err as { statusCode?: number } | null)?.statusCode === 410) rv = '';
        reconnects++;
        setTimeout(() => { void connect(); }, 100);
      });
  };
  void connect();
  return { stop: () => { stopped = true; current?.abort(); }, reconnects: () => reconnects };
}
