// ORCA's configuration file, as a schema: every key, its type, its default and a doc line. Unknown
// keys are errors. Key names follow the Go ORCA's config where the meaning is the same.
import { z } from 'zod';

const quantity = z.string().regex(/^[0-9]+(\.[0-9]+)?([KMGTPE]i?|m)?$/, 'a Kubernetes quantity such as "96", "500m" or "768Gi"');
const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'a lowercase DNS name').max(253);

const Aws = z.strictObject({
  /** AWS region every API call goes to. */
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region such as us-east-1'),
  /** Override of every AWS service endpoint (an emulator in tests). Unset in production. */
  endpoint: z.url().optional(),
});

const Taint = z.strictObject({
  key: z.string().min(1),
  value: z.string().default(''),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
});

const Node = z.strictObject({
  /** Name of the virtual node (also its Lease). `--node-name` overrides it. */
  name: dnsLabel,
  /** Extra labels on the Node, merged over ORCA's own. */
  labels: z.record(z.string(), z.string()).default({}),
  /** Extra taints, added to `virtual-kubelet.io/provider=aws:NoSchedule`. */
  taints: z.array(Taint).default([]),
  /** The node's InternalIP: the address the apiserver reaches ORCA's kubelet API on. */
  internalIP: z.union([z.ipv4(), z.ipv6()]).optional(),
  /** Port of ORCA's kubelet API (daemonEndpoints.kubeletEndpoint.Port). */
  kubeletPort: z.int().min(1).max(65535).default(10250),
  /** Capacity the node advertises to the scheduler. */
  capacity: z.strictObject({
    cpu: quantity.default('10000'),
    memory: quantity.default('100Ti'),
    pods: z.int().positive().default(1000),
    'ephemeral-storage': quantity.default('1Pi'),
    'nvidia.com/gpu': z.int().nonnegative().default(0),
    'aws.amazon.com/neuron': z.int().nonnegative().default(0),
    'aws.amazon.com/neuroncore': z.int().nonnegative().default(0),
    'vpc.amazonaws.com/efa': z.int().nonnegative().default(0),
  }).prefault({}),
});

const Logging = z.strictObject({
  level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
});

const Ops = z.strictObject({
  /** Port of /healthz, /readyz and /metrics (not the kubelet API). */
  port: z.int().min(0).max(65535).default(8080),
  /** Address the ops server binds. */
  host: z.string().default('0.0.0.0'),
});

export const ConfigSchema = z.strictObject({
  aws: Aws,
  node: Node,
  logging: Logging.prefault({}),
  ops: Ops.prefault({}),
});

type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

export type Config = DeepReadonly<z.infer<typeof ConfigSchema>>;
