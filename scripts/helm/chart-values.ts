// The values of the Helm chart (deploy/helm/orca), as a zod schema: every key the chart reads, strict
// so an unknown or misspelt key is refused. `config` is ORCA's own ConfigSchema (src/config/schema.ts),
// so the chart accepts exactly the configuration the binary accepts. scripts/helm-values-schema.ts
// writes the chart's values.schema.json from it; helm checks values against that file.
import { z } from 'zod';
import { ConfigSchema } from '../../src/config/schema.js';

/** A Kubernetes object passed to the pod spec as it is (the apiserver checks it). */
const passThrough = z.record(z.string(), z.unknown());
const stringMap = z.record(z.string(), z.string());
const dnsName = z.string().regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$/, 'a lowercase DNS name, or empty').max(253);
const quantity = z.union([z.string().regex(/^[0-9.]+[a-zA-Z]*$/, 'a Kubernetes quantity'), z.number().nonnegative()]);
const duration = z.string().regex(/^([0-9]+(\.[0-9]+)?(h|m|s|ms))+$/, 'a Go duration such as 2160h');

/** A string that must not be empty, at a path of properties (JSON Schema). */
function nonEmptyAt(path: readonly string[]): Record<string, unknown> {
  return path.reduceRight<Record<string, unknown>>((inner, key) => ({ properties: { [key]: inner } }), { minLength: 1 });
}

/**
 * JSON Schema rules "when source is X, this key must be set". The zod schema only produces the chart's
 * JSON Schema, and helm lint reports the schema's errors but only warns on a template's `required`.
 */
function needsWhen(rules: readonly (readonly [source: string, path: readonly string[]])[]): Record<string, unknown> {
  return { allOf: rules.map(([source, path]) => ({ if: { properties: { source: { const: source } } }, then: nonEmptyAt(path) })) };
}

const Image = z.strictObject({
  repository: z.string().min(1).meta({ description: 'Image repository.' }),
  tag: z.string().meta({ description: 'Image tag; empty means the chart\'s appVersion.' }),
  pullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']),
});

const ServiceAccount = z.strictObject({
  create: z.boolean(),
  name: dnsName.meta({ description: 'Name of the ServiceAccount; empty means the release\'s full name.' }),
  annotations: stringMap,
});

const AwsCredentials = z.strictObject({
  source: z.enum(['default', 'irsa', 'podIdentity', 'secret']).meta({
    description: 'default: the SDK\'s default chain; irsa: IAM Roles for Service Accounts; podIdentity: EKS Pod Identity; secret: keys from a Secret.',
  }),
  irsaRoleArn: z.string().regex(/^(arn:aws[-a-z]*:iam::\d{12}:role\/.+)?$/, 'an IAM role ARN, or empty').meta({
    description: 'With source irsa: the role, set as the ServiceAccount annotation eks.amazonaws.com/role-arn.',
  }),
  secretName: dnsName.meta({
    description: 'With source secret: a Secret with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and optionally AWS_SESSION_TOKEN.',
  }),
}).meta(needsWhen([['irsa', ['irsaRoleArn']], ['secret', ['secretName']]]));

const CertManager = z.strictObject({
  issuerRef: z.strictObject({ name: z.string(), kind: z.string().min(1), group: z.string().min(1) }),
  duration,
  renewBefore: duration,
});

const KubeletServingCert = z.strictObject({
  source: z.enum(['selfSigned', 'secret', 'certManager']).meta({
    description: 'selfSigned: ORCA makes its own certificate; secret: a kubernetes.io/tls Secret; certManager: the chart\'s Certificate.',
  }),
  secretName: dnsName.meta({ description: 'The TLS Secret (source secret), or the one the Certificate writes (default <fullname>-kubelet-serving).' }),
  certManager: CertManager,
  clientCA: z.strictObject({
    configMapName: dnsName.meta({ description: 'ConfigMap holding the CA of the apiserver\'s kubelet client certificate; empty: no client certificates.' }),
    key: z.string().min(1),
  }),
}).meta(needsWhen([['secret', ['secretName']], ['certManager', ['certManager', 'issuerRef', 'name']]]));

const Metrics = z.strictObject({
  service: z.strictObject({ enabled: z.boolean(), port: z.int().min(1).max(65535), annotations: stringMap }),
  serviceMonitor: z.strictObject({ enabled: z.boolean(), interval: duration, labels: stringMap }),
});

const Resources = z.strictObject({
  requests: z.record(z.string(), quantity).optional(),
  limits: z.record(z.string(), quantity).optional(),
});

export const ChartValuesSchema = z.strictObject({
  image: Image,
  imagePullSecrets: z.array(z.strictObject({ name: z.string().min(1) })),
  nameOverride: z.string().max(63),
  fullnameOverride: z.string().max(63),
  replicas: z.int().min(0).max(1).meta({ description: 'One virtual node per release: 0 or 1.' }),
  serviceAccount: ServiceAccount,
  awsCredentials: AwsCredentials,
  kubeletServingCert: KubeletServingCert,
  config: ConfigSchema,
  metrics: Metrics,
  prometheusRule: z.strictObject({ enabled: z.boolean(), labels: stringMap }),
  grafanaDashboard: z.strictObject({ enabled: z.boolean(), labels: stringMap }),
  resources: Resources,
  podSecurityContext: passThrough,
  securityContext: passThrough,
  podAnnotations: stringMap,
  podLabels: stringMap,
  nodeSelector: stringMap,
  tolerations: z.array(passThrough),
  affinity: passThrough,
  priorityClassName: z.string(),
});

/**
 * The chart's values.schema.json, as text (two-space indent, final newline). Draft-07: helm 4 checks
 * it as it checks draft 2020-12, and helm 3 releases before 3.18 know no draft newer than 7.
 */
export function valuesJsonSchema(): string {
  const schema = z.toJSONSchema(ChartValuesSchema, { io: 'input', target: 'draft-7' });
  return `${JSON.stringify({ ...schema, title: 'Values of the ORCA Helm chart' }, null, 2)}\n`;
}
