// ORCA's configuration file, as a schema: every key, its type, its default and a doc line. Unknown
// keys are errors. Key names follow the Go ORCA's config where the meaning is the same. Each key's
// doc line is its zod description, so it reaches both docs/configuration.md (npm run docs:generate)
// and the Helm chart's values.schema.json; a `title` names a value kind in the docs' type column.
import { z } from 'zod';
import { parseQuantity } from '../domain/quantity.js';

const quantity = z.string().refine((q) => (parseQuantity(q) ?? -1) >= 0, 'a Kubernetes quantity such as "96", "500m" or "768Gi"').meta({ title: 'quantity' });
const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'a lowercase DNS name').max(253).meta({ title: 'lowercase DNS name' });

const Aws = z.strictObject({
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region such as us-east-1').meta({ title: 'AWS region' })
    .describe('The region every AWS call goes to, e.g. `us-east-1`.'),
  endpoint: z.url().optional()
    .describe('One endpoint for every AWS service: for emulators in tests, never in production.'),
  clusterId: z.string().regex(/^[a-zA-Z0-9][-_.a-zA-Z0-9]{0,62}$/, 'letters, digits, - _ . (at most 63)').meta({ title: 'name (≤ 63)' }).optional()
    .describe('Value of the `orca.research/cluster` tag on every instance; unset, the node name.'),
  subnets: z.array(z.strictObject({
    zone: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, 'an Availability Zone such as us-east-1a'),
    subnetID: z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'a subnet id such as subnet-0123456789abcdef0'),
  })).default([])
    .describe('Subnets to launch into, in preference order. Without any, ORCA launches nothing and rejects pods with reason `NoProvider`.'),
  securityGroupIDs: z.array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'a security group id such as sg-0123456789abcdef0').meta({ title: '`sg-…`' })).default([])
    .describe('Security groups of the burst instances.'),
  instanceProfileArn: z.string().regex(/^arn:aws[-a-z]*:iam::\d{12}:instance-profile\/.+$/, 'an instance profile ARN').meta({ title: 'instance profile ARN' }).optional()
    .describe('The instance profile (role) the burst instances run with.'),
  tags: z.record(z.string(), z.string()).default({})
    .describe('Extra tags on every instance and volume (cost allocation).'),
  dryRun: z.boolean().default(false)
    .describe('Every launch is an EC2 DryRun: permissions and parameters are checked, nothing is launched; pods fail with reason `DryRun`.'),
});

const ssmOrAmi = z.string().regex(/^(\/aws\/service\/.+|ami-[0-9a-f]{8,17})$/, 'an SSM public parameter (/aws/service/…) or an AMI id').meta({ title: 'SSM parameter or `ami-…`' });

const Images = z.strictObject({
  nvidia: ssmOrAmi.default('/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id')
    .describe('Image of NVIDIA GPU instances: the Deep Learning Base OSS NVIDIA Driver GPU AMI (Ubuntu 22.04).'),
  neuron: ssmOrAmi.default('/aws/service/neuron/dlami/base/ubuntu-24.04/latest/image_id')
    .describe('Image of Neuron (Trainium, Inferentia) instances: the Deep Learning Base Neuron AMI (Ubuntu 24.04). Neuron DLAMI parameters end in `image_id`, not `ami-id`; avoid the Ubuntu 22.04 ones, which Neuron no longer updates (since Neuron 2.30, May 2026).'),
  cpu: ssmOrAmi.default('/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64')
    .describe('Image of instances without accelerators: Amazon Linux 2023.'),
});

const Instances = z.strictObject({
  selectionMode: z.enum(['explicit', 'template', 'auto']).default('explicit')
    .describe('explicit: pods name `orca.research/instance-type`; template: also `orca.research/workload-template`; auto: the cheapest catalogued type that fits.'),
  defaultLaunchType: z.array(z.enum(['reserved', 'spot', 'on-demand'])).min(1).default(['on-demand'])
    .describe('Capacity to try, in order, when a pod gives no `orca.research/launch-type`.'),
  defaultOnInterruption: z.enum(['fail', 'relaunch']).default('fail')
    .describe('What a spot interruption does when the pod gives no `orca.research/on-interruption`.'),
  allowedInstanceTypes: z.array(z.string()).default([])
    .describe('The instance types pods may use; empty allows every catalogued type.'),
  templates: z.record(z.string(), z.strictObject({ instanceType: z.string() })).default({})
    .describe('Named workload templates (`orca.research/workload-template`): name → instance type.'),
  rootVolumeGiB: z.int().min(20).max(16_384).default(200)
    .describe('Root volume size in GiB (encrypted gp3); a pod asking for more ephemeral storage gets its request + 50 GiB.'),
  images: Images.prefault({}),
  pollSeconds: z.int().min(1).max(600).default(10)
    .describe('How often all of the node\'s instances are read (one DescribeInstances per 1000).'),
  batchWindowSeconds: z.number().min(0).max(30).default(1)
    .describe('Pods whose launches are identical (same offerings, image, namespace, options) and arrive within this window go out as one RunInstances call; each instance is given its pod afterwards by tags.'),
  batchMaxInstances: z.int().min(1).max(1000).default(100)
    .describe('Most instances asked for in one RunInstances call; a fuller batch is sent at once.'),
  unassignedGraceSeconds: z.int().min(30).max(86_400).default(600)
    .describe('An instance launched but never given a pod (ORCA stopped between RunInstances and CreateTags) is given to a pod with the same launch parameters, or terminated this long after its launch.'),
});

const Taint = z.strictObject({
  key: z.string().min(1),
  value: z.string().default(''),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
});

const Capacity = z.strictObject({
  cpu: quantity.default('10000').describe('CPU the node advertises to the scheduler.'),
  memory: quantity.default('100Ti').describe('Memory the node advertises.'),
  pods: z.int().positive().default(1000).describe('Pods the node accepts.'),
  'ephemeral-storage': quantity.default('1Pi').describe('Ephemeral storage the node advertises.'),
  'nvidia.com/gpu': z.int().nonnegative().default(0).describe('NVIDIA GPUs the node advertises.'),
  'aws.amazon.com/neuron': z.int().nonnegative().default(0).describe('Neuron devices (Trainium, Inferentia) the node advertises.'),
  'aws.amazon.com/neuroncore': z.int().nonnegative().default(0).describe('NeuronCores the node advertises.'),
  'vpc.amazonaws.com/efa': z.int().nonnegative().default(0).describe('EFA interfaces the node advertises.'),
});

const Node = z.strictObject({
  name: dnsLabel.describe('The virtual node\'s name (and its Lease\'s); `--node-name` overrides it.'),
  labels: z.record(z.string(), z.string()).default({})
    .describe('Extra labels on the Node, merged over ORCA\'s own.'),
  taints: z.array(Taint).default([])
    .describe('Extra taints, beside `virtual-kubelet.io/provider=aws:NoSchedule`.'),
  internalIP: z.union([z.ipv4(), z.ipv6()]).meta({ title: 'IP address' }).optional()
    .describe('The Node\'s InternalIP, where the apiserver reaches ORCA\'s kubelet API; unset, `$POD_IP`, else the host\'s first non-loopback IPv4.'),
  kubeletPort: z.int().min(1).max(65535).default(10250)
    .describe('Port of ORCA\'s kubelet API, published as `daemonEndpoints.kubeletEndpoint.Port`.'),
  capacity: Capacity.prefault({}),
});

const Logs = z.strictObject({
  readsPerSecond: z.number().min(0.1).max(25).default(2)
    .describe('CloudWatch Logs read calls a second that every `kubectl logs` of the node spends together, on average. The account\'s limits (FilterLogEvents 5/s, GetLogEvents 25/s per region) cannot be raised and are shared with every other tool.'),
  readBurst: z.int().min(1).max(25).default(5)
    .describe('Read calls ORCA may make at once after a quiet spell.'),
  followPollSeconds: z.number().min(0.2).max(60).default(1)
    .describe('How often the followers of `kubectl logs -f` are polled: one FilterLogEvents call per 100 followed containers, whatever the number of followers.'),
});

const Streams = z.strictObject({
  maxPerPod: z.int().min(1).max(1000).default(10)
    .describe('`kubectl exec`, `attach`, `cp` and `port-forward` sessions one pod may have open at once; more are refused with 429. Each holds a Session Manager session and a process on the pod\'s instance.'),
  maxPerNode: z.int().min(1).max(10000).default(200)
    .describe('Such sessions the whole node may have open at once.'),
  idleTimeoutSeconds: z.int().min(10).max(7 * 86400).default(4 * 3600)
    .describe('A session with no traffic either way for this long is closed (a kubelet\'s `streamingConnectionIdleTimeout`, 4 h).'),
  maxDurationSeconds: z.int().min(60).max(7 * 86400).default(86400)
    .describe('A session ends after this long, whatever it does.'),
});

const KubeletApi = z.strictObject({
  host: z.string().meta({ title: 'address' }).default('0.0.0.0')
    .describe('Address ORCA\'s kubelet API (HTTPS, port `node.kubeletPort`) listens on.'),
  tlsCertFile: z.string().min(1).meta({ title: 'file' }).optional()
    .describe('Serving certificate (PEM, with its chain), with `tlsKeyFile`; reloaded when the files change. Without both, a self-signed certificate (a Warning log line), which an apiserver started with `--kubelet-certificate-authority` and metrics-server without `--kubelet-insecure-tls` refuse.'),
  tlsKeyFile: z.string().min(1).meta({ title: 'file' }).optional()
    .describe('The serving certificate\'s key.'),
  clientCAFile: z.string().min(1).meta({ title: 'file' }).optional()
    .describe('CA bundle of the client certificates ORCA accepts (the one that signed the apiserver\'s `--kubelet-client-certificate`); without it only bearer tokens (TokenReview) authenticate.'),
  anonymous: z.boolean().default(false)
    .describe('Let requests without credentials in as `system:anonymous` (still authorised by SubjectAccessReview); off, they get 401.'),
  logs: Logs.prefault({}),
  streams: Streams.prefault({}),
}).refine((k) => (k.tlsCertFile === undefined) === (k.tlsKeyFile === undefined), { message: 'tlsCertFile and tlsKeyFile go together', path: ['tlsKeyFile'] });

const duration = z.string().regex(/^(\d+d)?(\d+h)?(\d+m)?(\d+s)?$/, 'a duration such as "24h", "90m" or "1h30m"').refine((t) => t !== '', 'a duration such as "24h"').meta({ title: 'duration' });

/** A budget in ORCA's own config (the cluster-wide default and the cluster-wide cap): a BurstBudget's spec in short. */
const ConfigBudget = z.strictObject({
  limitUSD: z.number().min(0).max(1e9)
    .describe('The limit per period, USD (required when the budget is set).'),
  period: z.strictObject({
    kind: z.enum(['Monthly', 'Weekly', 'Daily', 'Total']).default('Monthly')
      .describe('The budget period, as a BurstBudget\'s `spec.period`.'),
    resetDay: z.int().min(1).max(31).default(1)
      .describe('Monthly: day of the month; Weekly: ISO weekday (1 = Monday).'),
    timeZone: z.string().min(1).default('UTC').meta({ title: 'IANA zone' })
      .describe('Periods start at local midnight of the reset day.'),
  }).prefault({}),
  warnAtPercent: z.array(z.int().min(1).max(1000)).max(10).default([50, 80, 100])
    .describe('Warning thresholds, percent of the limit (logged: a budget of the configuration has no object to carry Events).'),
  maxConcurrentInstances: z.int().min(0).optional()
    .describe('Instances at once.'),
  defaultMaxRuntime: duration.default('24h')
    .describe('Runtime quoted for a pod that gives no `orca.research/max-lifetime`.'),
});

const Budgets = z.strictObject({
  withoutBudget: z.enum(['Refuse', 'Default', 'Allow']).default('Refuse')
    .describe('What a namespace without a BurstBudget may do: Refuse — its pods wait, Pending with `orca.research/Budget=False` (`NamespaceHasNoBudget`), until an admin creates one; Default — it is charged to its own copy of `budgets.default`; Allow — it bursts without a dollar limit (only `budgets.clusterLimit` applies).'),
  default: ConfigBudget.optional()
    .describe('The budget of each namespace that has none, with `withoutBudget: Default` (required then). Each namespace gets its own book, kept across restarts in the ConfigMap of `budgets.ledgerNamespace`.'),
  clusterLimit: ConfigBudget.optional()
    .describe('A cap on every namespace\'s spend together: every launch must fit it as well as its namespace\'s budgets. Kept across restarts in the ConfigMap of `budgets.ledgerNamespace`.'),
  reservedUSDPerHour: z.number().min(0).default(0)
    .describe('Hourly rate charged for instances in capacity reservations and Capacity Blocks (their money was committed when they were bought).'),
  fairShareHalfLifeHours: z.number().min(1).max(24 * 365).default(168)
    .describe('Half-life of past spend in the order waiting pods go (fair share across namespaces); it never changes what is charged.'),
  idleBelowPercent: z.number().min(0).max(100).default(5)
    .describe('The idle guard: a pod whose accelerators are all below this utilisation (percent) counts as idle.'),
  idleWarnAfterMinutes: z.number().min(1).max(7 * 24 * 60).default(30)
    .describe('A pod idle this long gets a Warning Event `AcceleratorsIdle`; `orca.research/idle-timeout`, else its budget\'s `idleTimeout`, stops it (`IdleTimeout`).'),
  statusIntervalSeconds: z.int().min(1).max(3600).default(30)
    .describe('How often each BurstBudget\'s status (with its exact ledger) is written; a crash loses at most this long of charge of instances that ended in that time.'),
  ledgerNamespace: dnsLabel.default('orca-system')
    .describe('Namespace of the ConfigMap `orca-ledger-<node name>` that keeps the ledger of `budgets.default` and `budgets.clusterLimit` across restarts (written only when one of them is set; needs get, create and update on ConfigMaps there).'),
}).refine((b) => b.withoutBudget !== 'Default' || b.default !== undefined, { message: 'withoutBudget: Default needs budgets.default', path: ['default'] });

const Logging = z.strictObject({
  level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info')
    .describe('Log level; logs are JSON lines on stdout. `--log-level` overrides it.'),
});

const Ops = z.strictObject({
  port: z.int().min(0).max(65535).default(8080)
    .describe('Port of `/healthz`, `/readyz` and `/metrics` (not the kubelet API).'),
  host: z.string().meta({ title: 'address' }).default('0.0.0.0')
    .describe('Address the ops server binds.'),
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
