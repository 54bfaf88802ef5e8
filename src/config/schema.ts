// ORCA's configuration file, as a schema: every key, its type, its default and a doc line. Unknown
// keys are errors. Key names follow the Go ORCA's config where the meaning is the same.
import { z } from 'zod';
import { parseQuantity } from '../domain/quantity.js';

const quantity = z.string().refine((q) => (parseQuantity(q) ?? -1) >= 0, 'a Kubernetes quantity such as "96", "500m" or "768Gi"');
const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'a lowercase DNS name').max(253);

const Aws = z.strictObject({
  /** AWS region every API call goes to. */
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region such as us-east-1'),
  /** Override of every AWS service endpoint (an emulator in tests). Unset in production. */
  endpoint: z.url().optional(),
  /** Value of the orca.research/cluster tag on every instance; defaults to the node name. */
  clusterId: z.string().regex(/^[a-zA-Z0-9][-_.a-zA-Z0-9]{0,62}$/, 'letters, digits, - _ . (at most 63)').optional(),
  /** Subnets to launch into, in preference order. Without any, ORCA launches nothing. */
  subnets: z.array(z.strictObject({
    zone: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, 'an Availability Zone such as us-east-1a'),
    subnetID: z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'a subnet id such as subnet-0123456789abcdef0'),
  })).default([]),
  securityGroupIDs: z.array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'a security group id such as sg-0123456789abcdef0')).default([]),
  /** Instance profile the burst instances run with. */
  instanceProfileArn: z.string().regex(/^arn:aws[-a-z]*:iam::\d{12}:instance-profile\/.+$/, 'an instance profile ARN').optional(),
  /** Extra tags on every instance and volume (cost allocation). */
  tags: z.record(z.string(), z.string()).default({}),
  /** Every launch becomes an EC2 DryRun: checks permissions and parameters, launches nothing. */
  dryRun: z.boolean().default(false),
});

const ssmOrAmi = z.string().regex(/^(\/aws\/service\/.+|ami-[0-9a-f]{8,17})$/, 'an SSM public parameter (/aws/service/…) or an AMI id');

const Instances = z.strictObject({
  /** explicit: pods name their type; template: also named templates; auto: cheapest type that fits. */
  selectionMode: z.enum(['explicit', 'template', 'auto']).default('explicit'),
  /** Capacity to try, in order, when a pod does not say (orca.research/launch-type). */
  defaultLaunchType: z.array(z.enum(['reserved', 'spot', 'on-demand'])).min(1).default(['on-demand']),
  defaultOnInterruption: z.enum(['fail', 'relaunch']).default('fail'),
  /** Instance types pods may use; empty allows every type in the catalog. */
  allowedInstanceTypes: z.array(z.string()).default([]),
  templates: z.record(z.string(), z.strictObject({ instanceType: z.string() })).default({}),
  /** Root volume size when a pod asks for less ephemeral storage (it gets its request + 50 GiB). */
  rootVolumeGiB: z.int().min(20).max(16_384).default(200),
  /** Image per accelerator kind: an SSM public parameter or an AMI id. */
  images: z.strictObject({
    nvidia: ssmOrAmi.default('/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id'),
    neuron: ssmOrAmi.default('/aws/service/neuron/dlami/base/ubuntu-24.04/latest/image_id'),
    cpu: ssmOrAmi.default('/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64'),
  }).prefault({}),
  /** How often all instances are read (one DescribeInstances). */
  pollSeconds: z.int().min(1).max(600).default(10),
  /** Identical launches arriving within this many seconds share one RunInstances call. */
  batchWindowSeconds: z.number().min(0).max(30).default(1),
  /** At most this many instances in one RunInstances call. */
  batchMaxInstances: z.int().min(1).max(1000).default(100),
  /** An instance launched but never given a pod (ORCA stopped between launch and tagging) is terminated this long after its launch. */
  unassignedGraceSeconds: z.int().min(30).max(86_400).default(600),
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

const KubeletApi = z.strictObject({
  /** Address the kubelet API listens on; its port is node.kubeletPort. */
  host: z.string().default('0.0.0.0'),
  /** Serving certificate (PEM, may hold the chain) and its key; reloaded when they change. Without them, a self-signed certificate. */
  tlsCertFile: z.string().min(1).optional(),
  tlsKeyFile: z.string().min(1).optional(),
  /** CA bundle that signed the apiserver's kubelet client certificate (--kubelet-client-certificate): x509 client authentication. */
  clientCAFile: z.string().min(1).optional(),
  /** Let requests without credentials in as system:anonymous (still authorised by SubjectAccessReview). */
  anonymous: z.boolean().default(false),
  /** `kubectl logs` reads CloudWatch Logs, whose read calls are limited per account and region (FilterLogEvents 5/s, GetLogEvents 25/s, not raisable). */
  logs: z.strictObject({
    /** Read calls a second ORCA spends at most, on average, for every `kubectl logs` of the node together. */
    readsPerSecond: z.number().min(0.1).max(25).default(2),
    /** Read calls ORCA may make at once after a quiet spell. */
    readBurst: z.int().min(1).max(25).default(5),
    /** How often the followers of `kubectl logs -f` are polled (one call per 100 followed containers). */
    followPollSeconds: z.number().min(0.2).max(60).default(1),
  }).prefault({}),
  /** `kubectl exec`, `attach`, `cp` and `port-forward`: each request holds a Session Manager session on the pod's instance. */
  streams: z.strictObject({
    /** Sessions one pod may have open at once; more are refused (429). */
    maxPerPod: z.int().min(1).max(1000).default(10),
    /** Sessions the node may have open at once. */
    maxPerNode: z.int().min(1).max(10000).default(200),
    /** A connection with no traffic either way for this long is closed (a kubelet's streamingConnectionIdleTimeout). */
    idleTimeoutSeconds: z.int().min(10).max(7 * 86400).default(4 * 3600),
    /** A session ends after this long, whatever it does. */
    maxDurationSeconds: z.int().min(60).max(7 * 86400).default(86400),
  }).prefault({}),
}).refine((k) => (k.tlsCertFile === undefined) === (k.tlsKeyFile === undefined), { message: 'tlsCertFile and tlsKeyFile go together', path: ['tlsKeyFile'] });

const duration = z.string().regex(/^(\d+d)?(\d+h)?(\d+m)?(\d+s)?$/, 'a duration such as "24h", "90m" or "1h30m"').refine((t) => t !== '', 'a duration such as "24h"');

/** A budget in ORCA's own config (the cluster-wide default and the cluster-wide cap): a BurstBudget's spec in short. */
const ConfigBudget = z.strictObject({
  limitUSD: z.number().min(0).max(1e9),
  period: z.strictObject({
    kind: z.enum(['Monthly', 'Weekly', 'Daily', 'Total']).default('Monthly'),
    resetDay: z.int().min(1).max(31).default(1),
    timeZone: z.string().min(1).default('UTC'),
  }).prefault({}),
  warnAtPercent: z.array(z.int().min(1).max(1000)).max(10).default([50, 80, 100]),
  maxConcurrentInstances: z.int().min(0).optional(),
  defaultMaxRuntime: duration.default('24h'),
});

const Budgets = z.strictObject({
  /**
   * What a namespace without a BurstBudget may do: Refuse (its pods wait, Pending, until it has one),
   * Default (it is charged to the cluster-wide default budget, `default`), Allow (it bursts without a
   * dollar limit; only the cluster-wide cap applies).
   */
  withoutBudget: z.enum(['Refuse', 'Default', 'Allow']).default('Refuse'),
  /** The budget of each namespace that has none, with withoutBudget: Default (each namespace gets its own book). */
  default: ConfigBudget.optional(),
  /** A cap on the spend of all namespaces together; every launch must fit it as well as its namespace's budget. */
  clusterLimit: ConfigBudget.optional(),
  /** Hourly rate charged for capacity reservations and Capacity Blocks (their money was committed when they were bought). */
  reservedUSDPerHour: z.number().min(0).default(0),
  /** Half-life of past spend in the fair-share order of waiting pods (hours). */
  fairShareHalfLifeHours: z.number().min(1).max(24 * 365).default(168),
  /** The idle guard: a pod whose accelerators are all below this utilisation (percent) counts as idle. */
  idleBelowPercent: z.number().min(0).max(100).default(5),
  /** A pod idle this long gets a Warning Event (AcceleratorsIdle); orca.research/idle-timeout, else the budget's idleTimeout, stops it. */
  idleWarnAfterMinutes: z.number().min(1).max(7 * 24 * 60).default(30),
  /** How often the budgets' status (the ledger) is written; a crash loses at most this much of an ended instance's charge. */
  statusIntervalSeconds: z.int().min(1).max(3600).default(30),
  /** Namespace of the ConfigMap orca-ledger-<node name> that keeps the ledger of `default` and `clusterLimit` across restarts. */
  ledgerNamespace: dnsLabel.default('orca-system'),
}).refine((b) => b.withoutBudget !== 'Default' || b.default !== undefined, { message: 'withoutBudget: Default needs budgets.default', path: ['default'] });

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
  instances: Instances.prefault({}),
  kubeletApi: KubeletApi.prefault({}),
  budgets: Budgets.prefault({}),
  logging: Logging.prefault({}),
  ops: Ops.prefault({}),
});

type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

export type Config = DeepReadonly<z.infer<typeof ConfigSchema>>;
