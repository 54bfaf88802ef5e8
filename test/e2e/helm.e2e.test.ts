// The Helm chart (deploy/helm/orca) with the bed's helm: it lints and renders for the default and the
// full values, its schema refuses bad values naming the key, and an install into the bed's apiserver
// gives ORCA what it needs: run out of cluster with the chart's ServiceAccount token and the chart's
// config.yaml, it registers its node and runs a pod to completion. Upgrade and rollback apply cleanly.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { crdEstablished } from './crd-established.js';
import { createNamespace, kubectl, testbed, waitFor } from './fixture.js';
import { chartDir, fullValues, helm, only, parseManifests, podTemplate, serviceAccountKubeconfig, valuesFile, type Manifest } from './helm-chart.js';
import { startOrca, type OrcaProcess } from './orca-process.js';
import { burstPod, core, T, waitForPhase } from './pods.js';
import { repoRoot } from './testbed/paths.js';
import { freePorts } from './testbed/ports.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const configText = (cm: Manifest): string => (cm.data as Record<string, string>)['config.yaml'] ?? '';

async function render(args: readonly string[]): Promise<Manifest[]> {
  const out = await helm(['template', 'orca', chartDir, '-n', 'orca-system', '--kube-version', testbed().versions.kubernetes, ...args]);
  expect(out.stderr).toBe('');
  expect(out.code).toBe(0);
  return parseManifests(out.stdout);
}

function rbacRules(kind: string, name = 'orca'): unknown {
  const docs = parseAllDocuments(readFileSync(join(repoRoot, 'deploy', 'rbac', 'orca.yaml'), 'utf8')).map((d) => d.toJS() as Manifest);
  return docs.find((d) => d.kind === kind && d.metadata.name === name)?.rules;
}

/** What every rendering has: the config checksum, the security context, probes, POD_IP, /tmp, RBAC as deploy/rbac. */
function expectCommon(m: readonly Manifest[], fullname: string): void {
  const cm = only(m, 'ConfigMap', `${fullname}-config`);
  const pod = podTemplate(only(m, 'Deployment', fullname));
  expect(pod.metadata.annotations['checksum/config']).toBe(sha256(configText(cm).replace(/\n$/, '')));
  const c = pod.spec.containers[0];
  expect(c?.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } });
  expect(c?.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'ops' });
  expect(c?.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'ops' });
  expect(c?.ports).toEqual([{ name: 'ops', containerPort: 8080, protocol: 'TCP' }, { name: 'kubelet', containerPort: 10250, protocol: 'TCP' }]);
  expect(c?.args).toEqual(['--config', '/etc/orca/config.yaml']);
  expect(c?.env.find((e) => e.name === 'POD_IP')?.valueFrom?.fieldRef?.fieldPath).toBe('status.podIP');
  expect(pod.spec.volumes.find((v) => v.name === 'tmp')).toEqual({ name: 'tmp', emptyDir: {} });
  expect(c?.volumeMounts.find((v) => v.name === 'tmp')?.mountPath).toBe('/tmp');
  expect(only(m, 'ClusterRole').rules).toEqual(rbacRules('ClusterRole'));
  const lease = only(m, 'Role', `${fullname}-node-lease`);
  expect(lease.rules).toEqual(rbacRules('Role', 'orca-node-lease'));
  expect(lease.metadata.namespace).toBe('kube-node-lease');
  const ledger = only(m, 'Role', `${fullname}-ledger`);
  expect(ledger.rules).toEqual(rbacRules('Role', 'orca-ledger'));
  expect(ledger.metadata.namespace).toBe((parse(configText(cm)) as { budgets: { ledgerNamespace: string } }).budgets.ledgerNamespace);
  const parsed = parseConfig(configText(cm));
  expect(parsed.ok ? 'ok' : parsed.error.message).toBe('ok');
}

describe('helm lint and helm template', () => {
  it.each([['default values', []], ['the full values', ['-f', fullValues]]])('lint %s with no failure', async (_, args) => {
    const out = await helm(['lint', chartDir, '--strict', ...args]);
    expect(out.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(out.code).toBe(0);
  });

  it('render the default values: RBAC, config, Deployment and metrics Service, nothing optional', async () => {
    const m = await render([]);
    expect(m.map((x) => x.kind).sort()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'Role', 'Role', 'RoleBinding', 'RoleBinding', 'Service', 'ServiceAccount']);
    expectCommon(m, 'orca');
    const cfg = parse(configText(only(m, 'ConfigMap'))) as Record<string, Record<string, unknown>>;
    expect(cfg.kubeletApi).toBeUndefined();
    expect(cfg.node).not.toHaveProperty('internalIP');
    expect(cfg.ops).toEqual({ port: 8080 });
    expect(only(m, 'ServiceAccount').metadata.annotations).toBeUndefined();
  });

  it('render the full values: every optional object, secret credentials and mounted certificates', async () => {
    const m = await render(['-f', fullValues]);
    for (const kind of ['Certificate', 'ServiceMonitor', 'PrometheusRule']) expect(only(m, kind).metadata.name).toMatch(/^orca-full/);
    expect(only(m, 'ConfigMap', 'orca-full-dashboard').metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    expectCommon(m, 'orca-full');
    const pod = podTemplate(only(m, 'Deployment'));
    const secretEnv = pod.spec.containers[0]?.env.filter((e) => e.valueFrom?.secretKeyRef?.name === 'orca-aws').map((e) => e.name);
    expect(secretEnv).toEqual(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']);
    expect(pod.spec.volumes.find((v) => v.name === 'kubelet-tls')?.secret?.secretName).toBe('orca-full-kubelet-serving');
    expect((only(m, 'Certificate').spec as { secretName: string }).secretName).toBe('orca-full-kubelet-serving');
    const cfg = parse(configText(only(m, 'ConfigMap', 'orca-full-config'))) as { kubeletApi: unknown; node: { taints: unknown[] }; instances: { templates: object } };
    expect(cfg.kubeletApi).toEqual({ tlsCertFile: '/etc/orca/tls/tls.crt', tlsKeyFile: '/etc/orca/tls/tls.key', clientCAFile: '/etc/orca/client-ca/ca.crt' });
    expect(cfg.node.taints).toHaveLength(1);
    expect(Object.keys(cfg.instances.templates)).toEqual(['big-gpu', 'small-gpu']);
    const svc = only(m, 'Service');
    expect((svc.spec as { ports: unknown[] }).ports).toEqual([{ name: 'metrics', port: 9090, targetPort: 'ops', protocol: 'TCP' }]);
  });

  it('refuse a Kubernetes older than 1.29', async () => {
    const out = await helm(['template', 'orca', chartDir, '--kube-version', '1.28.9']);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain('>=1.29.0-0');
  });
});

const badSubnets = valuesFile({ config: { aws: { subnets: [{ zone: 'us-east-1a', subnetID: 'subnet-nothex' }] } } });
const badGroups = valuesFile({ config: { aws: { securityGroupIDs: ['default'] } } });

describe('bad values', () => {
  it.each([
    ['a string for a port', ['--set', 'metrics.service.port=http'], "at '/metrics/service/port': got string, want integer"],
    ['an unknown key at the top level', ['--set', 'replicaCount=1'], "additional properties 'replicaCount' not allowed"],
    ['an unknown key inside config', ['--set', 'config.aws.zone=us-east-1a'], "at '/config/aws': additional properties 'zone' not allowed"],
    ['a bad subnet id', ['-f', badSubnets], "at '/config/aws/subnets/0/subnetID': 'subnet-nothex' does not match"],
    ['a bad security group id', ['-f', badGroups], "at '/config/aws/securityGroupIDs/0': 'default' does not match"],
    ['a bad region', ['--set', 'config.aws.region=mars'], "at '/config/aws/region': 'mars' does not match"],
    ['a bad log level', ['--set', 'config.logging.level=loud'], "at '/config/logging/level': value must be one of"],
    ['a negative GPU capacity', ['--set-json', 'config.node.capacity={"nvidia.com/gpu":-1}'], "at '/config/node/capacity/nvidia.com~1gpu': minimum: got -1, want 0"],
    ['an unknown credentials source', ['--set', 'awsCredentials.source=vault'], "at '/awsCredentials/source': value must be one of 'default', 'irsa', 'podIdentity', 'secret'"],
    ['two replicas', ['--set', 'replicas=2'], "at '/replicas': maximum: got 2, want 1"],
    ['a bad taint effect', ['--set', 'config.node.taints[0].key=a,config.node.taints[0].effect=Sometimes'], "at '/config/node/taints/0/effect': value must be one of"],
    ['an empty node name', ['--set', 'config.node.name='], "at '/config/node/name': '' does not match"],
    ['secret credentials without a Secret', ['--set', 'awsCredentials.source=secret'], "at '/awsCredentials/secretName': minLength: got 0, want 1"],
    ['IRSA without a role', ['--set', 'awsCredentials.source=irsa'], "at '/awsCredentials/irsaRoleArn': minLength: got 0, want 1"],
    ['a Secret certificate without a Secret', ['--set', 'kubeletServingCert.source=secret'], "at '/kubeletServingCert/secretName': minLength: got 0, want 1"],
    ['cert-manager without an issuer', ['--set', 'kubeletServingCert.source=certManager'], "at '/kubeletServingCert/certManager/issuerRef/name': minLength"],
  ])('%s is refused by helm lint and helm template, naming the key', async (_, args, message) => {
    const template = await helm(['template', 'orca', chartDir, ...args]);
    expect(template.code).not.toBe(0);
    expect(template.stderr).toContain(message);
    const lint = await helm(['lint', chartDir, ...args]);
    expect(lint.code).not.toBe(0);
    expect(lint.stdout + lint.stderr).toContain(message);
  });
});

const release = 'orca-e2e';
const ns = 'orca-system';
const node = 'orca-helm';
const podNs = 'helm-e2e';

interface Installed {
  readonly checksum: string;
  readonly config: string;
}

async function installed(): Promise<Installed> {
  const cm = await kubectl(['get', 'configmap', `${release}-config`, '-n', ns, '-o', 'json']);
  const dep = await kubectl(['get', 'deployment', release, '-n', ns, '-o', 'json']);
  expect(cm.code, cm.stderr).toBe(0);
  expect(dep.code, dep.stderr).toBe(0);
  const annotations = (JSON.parse(dep.stdout) as { spec: { template: { metadata: { annotations: Record<string, string> } } } }).spec.template.metadata.annotations;
  return { checksum: annotations['checksum/config'] ?? '', config: configText(JSON.parse(cm.stdout) as Manifest) };
}

describe('helm install into the bed', () => {
  let orca: OrcaProcess | undefined;
  let hadNamespace = false;
  const ports = { ops: 0, kubelet: 0 };

  beforeAll(async () => {
    hadNamespace = (await kubectl(['get', 'namespace', ns])).code === 0;
    // The global setup applied the CRD; remove it so the install shows the chart's crds/ create it.
    const crd = await kubectl(['delete', 'crd', 'burstbudgets.orca.research', '--ignore-not-found', '--wait=true', '--timeout=120s']);
    expect(crd.code, crd.stderr).toBe(0);
    [ports.ops = 0, ports.kubelet = 0] = await freePorts(2);
    const aws = testbed().aws;
    const values = valuesFile({
      config: {
        aws: { region: aws?.region ?? 'us-east-1', ...(aws === null ? {} : { endpoint: aws.endpoint }) },
        node: { name: node, kubeletPort: ports.kubelet },
        ops: { port: ports.ops, host: '127.0.0.1' },
        kubeletApi: { host: '127.0.0.1' },
        budgets: { withoutBudget: 'Allow', statusIntervalSeconds: 5 },
      },
    });
    const out = await helm(['install', release, chartDir, '-n', ns, '--create-namespace', '-f', values]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain(`ORCA 0.1.0 runs the virtual node ${node}`);
  });

  afterAll(async () => {
    await cleanUp(orca, hadNamespace);
  });

  it('creates the CRD, the ServiceAccount, the RBAC, the ConfigMap and the Deployment', async () => {
    expect(await crdEstablished(kubectl, 'burstbudgets.orca.research')).toBe(true);
    for (const [kind, name, where] of [
      ['serviceaccount', release, ns], ['configmap', `${release}-config`, ns], ['deployment', release, ns], ['service', `${release}-metrics`, ns],
      ['clusterrole', release, ''], ['clusterrolebinding', release, ''], ['role', `${release}-node-lease`, 'kube-node-lease'], ['rolebinding', `${release}-node-lease`, 'kube-node-lease'],
      ['role', `${release}-ledger`, ns], ['rolebinding', `${release}-ledger`, ns],
    ] as const) {
      const got = await kubectl(['get', `${kind}/${name}`, ...(where === '' ? [] : ['-n', where]), '-o', 'name']);
      expect(got.code, `${kind} ${name}: ${got.stderr}`).toBe(0);
      expect(got.stdout.trim()).toMatch(new RegExp(`^${kind}(\\.[a-z0-9.]+)?/${name}$`));
    }
    const { config } = await installed();
    expect(config).not.toContain('internalIP');
  });

  it('lets ORCA, with the chart\'s token and config.yaml, register its node and run a pod to completion', async () => {
    const kubeconfig = await serviceAccountKubeconfig(ns, release);
    const { config } = await installed();
    const aws = testbed().aws;
    orca = startOrca(config, {
      args: ['--kubeconfig', kubeconfig],
      testProviderState: join(mkdtempSync(join(tmpdir(), 'orca-helm-')), 'state.jsonl'),
      env: { POD_IP: '127.0.0.1', ...(aws === null ? {} : { AWS_ACCESS_KEY_ID: aws.accessKeyId, AWS_SECRET_ACCESS_KEY: aws.secretAccessKey }) },
    });
    const running = orca;
    await waitFor('orca ready', () => Promise.resolve(running.logLines().find((l) => l.msg === 'orca ready')), 90_000, 250);
    await createNamespace(podNs);
    await core().createNamespacedPod({ namespace: podNs, body: burstPod('done', { nodeSelector: { 'kubernetes.io/hostname': node }, annotations: { [`${T}run-ms`]: '500' } }) });
    await waitForPhase(podNs, 'done', 'Succeeded', 90_000);
    const metrics = await (await fetch(`http://127.0.0.1:${ports.ops}/metrics`)).text();
    expect(metrics).toMatch(/^orca_ready 1$/m);
    expect(metrics).not.toMatch(/^orca_kube_api_errors_total\{/m);
    expect(running.logLines().filter((l) => l.msg === 'could not record event')).toEqual([]);
    expect(running.stdout()).not.toContain('forbidden');
  });

  it('upgrades a changed value into the ConfigMap and the pod\'s checksum, and rolls back to the first revision', async () => {
    const first = await installed();
    const up = await helm(['upgrade', release, chartDir, '-n', ns, '--reuse-values', '--set', 'config.logging.level=debug']);
    expect(up.code, up.stderr).toBe(0);
    const second = await installed();
    expect(second.config).toContain('level: debug');
    expect(second.config.replace('level: debug', 'level: info')).toBe(first.config);
    expect(second.checksum).not.toBe(first.checksum);
    expect(second.checksum).toBe(sha256(second.config.replace(/\n$/, '')));
    const back = await helm(['rollback', release, '1', '-n', ns]);
    expect(back.code, back.stderr).toBe(0);
    expect(await installed()).toEqual(first);
    const history = await helm(['history', release, '-n', ns, '-o', 'json']);
    const revisions = (JSON.parse(history.stdout) as { revision: number; status: string }[]).map((r) => [r.revision, r.status]);
    expect(revisions).toEqual([[1, 'superseded'], [2, 'superseded'], [3, 'deployed']]);
  });
});

/** Leaves the bed as the other suites expect it: no pod, node or release of this suite, the CRD installed. */
async function cleanUp(orca: OrcaProcess | undefined, hadNamespace: boolean): Promise<void> {
  await kubectl(['delete', 'namespace', podNs, '--ignore-not-found', '--wait=true', '--timeout=90s']);
  if (orca !== undefined) expect(await orca.stop('SIGTERM')).toBe(0);
  await kubectl(['delete', 'node', node, '--ignore-not-found']);
  await kubectl(['delete', 'lease', node, '-n', 'kube-node-lease', '--ignore-not-found']);
  const un = await helm(['uninstall', release, '-n', ns, '--wait', '--timeout', '90s']);
  expect(un.code, un.stderr).toBe(0);
  await kubectl(['delete', 'pods', '-n', ns, '-l', `app.kubernetes.io/instance=${release}`, '--grace-period=0', '--force', '--ignore-not-found']);
  if (!hadNamespace) await kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=true', '--timeout=90s']);
  const crd = await kubectl(['apply', '-f', join(repoRoot, 'deploy', 'crds', 'burstbudgets.orca.research.yaml')]);
  expect(crd.code, crd.stderr).toBe(0);
  expect(await crdEstablished(kubectl, 'burstbudgets.orca.research')).toBe(true);
  expect((await kubectl(['get', 'pods', '-A', '-l', `app.kubernetes.io/instance=${release}`, '-o', 'name'])).stdout).toBe('');
  expect((await kubectl(['get', 'node', node, '--ignore-not-found', '-o', 'name'])).stdout).toBe('');
}
