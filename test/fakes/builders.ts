// Builders of the objects tests are made of — pods, EC2 instances as ORCA reads them, the agent's
// state tags — with defaults, so a test names only what it is about.
import type { Instance } from '../../src/domain/instance.js';
import type { Pod, PodKey, PodRef, RestartPolicy } from '../../src/domain/pod.js';
import { decodeInstance, type ObservedInstance } from '../../src/agent-protocol/tags.js';

export const t0 = Date.parse('2026-11-23T12:00:00Z');

/** A controller test's pod: container main, restartPolicy Never, bound to node orca, in namespace ns. */
export function pod(name: string, over: { uid?: string; annotations?: Record<string, string>; status?: Pod['status']; deletionTimestamp?: string } = {}): Pod {
  return {
    metadata: {
      namespace: 'ns', name, uid: over.uid ?? `uid-${name}`, annotations: over.annotations ?? {},
      ...(over.deletionTimestamp === undefined ? {} : { deletionTimestamp: over.deletionTimestamp, deletionGracePeriodSeconds: 30 }),
    },
    spec: { nodeName: 'orca', containers: [{ name: 'main', image: 'img' }], restartPolicy: 'Never' },
    ...(over.status === undefined ? {} : { status: over.status }),
  };
}

export interface PodOptions {
  readonly uid?: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly annotations?: Record<string, string>;
  readonly restartPolicy?: RestartPolicy;
  readonly gpus?: number;
}

/** A pod of one container `main` (image pytorch) asking for 8 GPUs, in namespace lab. */
export function aPod(o: PodOptions = {}): Pod {
  return {
    metadata: { namespace: o.namespace ?? 'lab', name: o.name ?? 'train-0', uid: o.uid ?? 'uid-1', annotations: o.annotations ?? {} },
    spec: {
      containers: [{ name: 'main', image: 'pytorch', resources: { limits: { 'nvidia.com/gpu': String(o.gpus ?? 8) } } }],
      ...(o.restartPolicy === undefined ? {} : { restartPolicy: o.restartPolicy }),
    },
  };
}

export const refOf = (name = 'train-0', uid = 'uid-1', namespace = 'lab'): PodRef => ({ key: `${namespace}/${name}` as PodKey, uid });

/** An EC2 instance of cluster lab on node orca-aws, running, launched an hour before t0. */
export function anInstance(id: string, over: Partial<Instance> = {}, tags: Record<string, string> = {}): Instance {
  return {
    id, type: 'p5.48xlarge', zone: 'us-east-1a', state: 'running', lifecycle: 'on-demand', launchTime: '2026-11-23T11:00:00Z', privateIp: '10.0.0.9',
    ...over, tags: { 'orca.research/cluster': 'lab', 'orca.research/node': 'orca-aws', 'orca.research/pod-namespace': 'lab', ...tags },
  };
}

/** The same, decoded as a poll yields it. */
export const observed = (id: string, over: Partial<Instance> = {}, tags: Record<string, string> = {}): ObservedInstance => decodeInstance(anInstance(id, over, tags));

/** An instance given to pod lab/<name> (uid). */
export const observedFor = (id: string, uid = 'uid-1', over: Partial<Instance> = {}, name = 'train-0'): ObservedInstance =>
  observed(id, over, { 'orca.research/pod-name': name, 'orca.research/pod-uid': uid });

/** The agent's tags: its pod state and one container `main`. */
export const agentTags = {
  running: { 'orca.research/state': 'v1 Running - -', 'orca.research/c/main': 'running - - 0 1795000000 - - - - -' },
  exited: (code: number, pod = 'Finished'): Record<string, string> => ({
    'orca.research/state': `v1 ${pod} - -`, 'orca.research/c/main': `terminated ${code === 0 ? 'Completed' : 'Error'} ${String(code)} 0 1795000000 1795000025 - - - -`,
  }),
  spotNotice: { 'orca.research/state': 'v1 Running spot-interruption:terminate -', 'orca.research/c/main': 'running - - 0 1795000000 - - - - -' },
} as const;
