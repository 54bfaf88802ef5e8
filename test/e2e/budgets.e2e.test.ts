// Dollar budgets enforced before launch, through the real apiserver: the BurstBudget CRD refuses bad
// specs itself, a namespace at its limit gets its next pod Pending with the reason and the figures
// while another namespace keeps bursting, raising the limit lets it go within a poll, pods that may
// never run under a budget are rejected, a 200-pod burst against a budget that fits exactly N pods
// launches exactly N, and a restarted ORCA keeps the spent figure. Instances run in moto (no agent):
// they bill while running, which is all a budget sees.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EC2Client } from '@aws-sdk/client-ec2';
import { BatchV1Api, CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEc2Launcher } from '../../src/aws/ec2-launcher.js';
import { FaultProxy } from '../fault-proxy/fault-proxy.js';
import { defaultSubnets, startEc2Node, type Subnet } from './ec2-node.js';
import { awsClientConfig, createNamespace, kubeConfig, kubectl, waitFor } from './fixture.js';
import type { OrcaProcess } from './orca-process.js';
import { burstPod, core, eventsFor, podNow } from './pods.js';
import { testbed } from './fixture.js';
import { repoRoot } from './testbed/paths.js';
import { runCommand } from './testbed/testbed.js';

const node = 'orca-budgets';
const namespaces = ['team-a', 'team-b', 'team-c', 'team-d'];
const clusterId = 'e2e-budgets';
/** g6.xlarge on demand in us-east-1, and a pod's quote for one hour of it (µUSD). */
const PRICE = 0.8048;
const QUOTE = 804_800;
const group = { group: 'orca.research', version: 'v1alpha1', plural: 'burstbudgets' };
let orca: OrcaProcess;
/** EC2 gives a batched RunInstances all it asks for (MaxCount), as moto alone does not. */
let proxy: FaultProxy & { readonly url: string };
let subnets: readonly Subnet[];
let endpoint: string;

const custom = () => kubeConfig().makeApiClient(CustomObjectsApi);
const launcher = () => createEc2Launcher(new EC2Client(awsClientConfig()));

function budgetYaml(namespace: string, name: string, spec: Record<string, unknown>): string {
  const file = join(testbed().dir, `budget-${namespace}-${name}-${Date.now()}.yaml`);
  writeFileSync(file, stringify({ apiVersion: 'orca.research/v1alpha1', kind: 'BurstBudget', metadata: { name, namespace }, spec }));
  return file;
}

async function applyBudget(namespace: string, name: string, spec: Record<string, unknown>): Promise<void> {
  const r = await kubectl(['apply', '-f', budgetYaml(namespace, name, spec)]);
  expect(r.code, r.stderr).toBe(0);
}

async function budgetStatus(namespace: string, name: string): Promise<Record<string, unknown>> {
  const o = await custom().getNamespacedCustomObject({ ...group, namespace, name }) as { status?: Record<string, unknown> };
  return o.status ?? {};
}

/** A pod for this node that needs a g6.xlarge for at most an hour. */
function gpuPod(name: string, annotations: Record<string, string> = {}): V1Pod {
  return burstPod(name, {
    gpus: 1, nodeSelector: { 'kubernetes.io/hostname': node },
    annotations: { 'orca.research/instance-type': 'g6.xlarge', 'orca.research/max-lifetime': '1h', ...annotations },
  });
}

async function createPod(namespace: string, pod: V1Pod): Promise<void> {
  await core().createNamespacedPod({ namespace, body: pod });
}

async function instancesOf(namespace: string): Promise<number> {
  const all = await launcher().listTagged('orca.research/cluster', clusterId);
  return all.filter((i) => i.tags['orca.research/pod-namespace'] === namespace && i.tags['orca.research/pod-uid'] !== undefined && i.state !== 'terminated' && i.state !== 'shutting-down').length;
}

const budgetCondition = (p: V1Pod | undefined) => p?.status?.conditions?.find((c) => c.type === 'orca.research/Budget');

function start(): Promise<OrcaProcess> {
  return startEc2Node({
    endpoint, node, clusterId, subnets: subnets.slice(0, 2), capacity: { 'nvidia.com/gpu': 1000, pods: 1000 },
    // A cluster cap far above every test's spend: its book is kept in the ConfigMap orca-ledger-<node> of `default`.
    budgets: { withoutBudget: 'Refuse', statusIntervalSeconds: 2, clusterLimit: { limitUSD: 10_000, period: { kind: 'Total' } }, ledgerNamespace: 'default' },
  });
}

/** The cluster cap's status as ORCA saved it in its ledger ConfigMap. */
async function clusterBook(): Promise<Record<string, unknown> | undefined> {
  const cm = await core().readNamespacedConfigMap({ namespace: 'default', name: `orca-ledger-${node}` }).catch(() => undefined);
  const text = cm?.data?.['cluster.json'];
  return text === undefined ? undefined : JSON.parse(text) as Record<string, unknown>;
}

/** One line per pod: phase, ORCA's conditions, the first container's state. */
function podLine(p: V1Pod): string {
  const conditions = (p.status?.conditions ?? []).filter((c) => c.type.startsWith('orca'));
  return `pod ${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}: ${p.status?.phase ?? ''} ${JSON.stringify(conditions)} ${JSON.stringify(p.status?.containerStatuses?.[0]?.state)}`;
}

/** What a failing test needs to see: some pods of each namespace, the burst's counts by budget reason, ORCA's last lines. */
async function dumpState(): Promise<void> {
  const out: string[] = [];
  for (const ns of namespaces) {
    const list = await core().listNamespacedPod({ namespace: ns }).catch(() => ({ items: [] as V1Pod[] }));
    const reasons = new Map<string, number>();
    for (const p of list.items) {
      const key = `${p.status?.phase ?? ''}/${budgetCondition(p)?.reason ?? 'none'}`;
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
    }
    out.push(`${ns}: ${JSON.stringify([...reasons])}, ${await instancesOf(ns)} instances`, ...list.items.slice(0, 3).map(podLine));
  }
  const lines = orca.logLines().filter((l) => Number(l['level']) >= 40).slice(-20).map((l) => JSON.stringify(l).slice(0, 800));
  process.stderr.write(`\n${out.join('\n')}\nORCA's last warnings and errors:\n${lines.join('\n')}\n`);
}

beforeEach(({ onTestFailed }) => {
  onTestFailed(dumpState);
});

beforeAll(async () => {
  const aws = awsClientConfig();
  proxy = await FaultProxy.start(aws.endpoint);
  endpoint = proxy.url;
  subnets = await defaultSubnets(new EC2Client(aws));
  for (const ns of namespaces) await createNamespace(ns);
  orca = await start();
}, 120_000);

afterAll(async () => {
  // The Job first, so that its controller makes no pods again; then every pod, until none is left (pods
  // left on this node once ORCA stops would stay Terminating and keep the controllers busy for later suites).
  await kubeConfig().makeApiClient(BatchV1Api).deleteNamespacedJob({ name: 'sweep', namespace: 'team-c', propagationPolicy: 'Background' }).catch(() => undefined);
  await waitFor('every budget pod to be gone', async () => {
    const left = await Promise.all(namespaces.map(async (namespace) => {
      await core().deleteCollectionNamespacedPod({ namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
      return (await core().listNamespacedPod({ namespace })).items.length;
    }));
    return left.every((n) => n === 0) ? true : undefined;
  }, 60_000, 1000).catch(() => undefined);
  await waitFor('every budget instance to be terminated', async () => {
    const left = await Promise.all(namespaces.map(instancesOf));
    return left.every((n) => n === 0) ? true : undefined;
  }, 240_000, 2000).catch(() => undefined);
  await orca.stop('SIGTERM');
  await core().deleteNamespacedConfigMap({ namespace: 'default', name: `orca-ledger-${node}` }).catch(() => undefined);
  await proxy.stop();
}, 360_000);

describe('the BurstBudget custom resource', () => {
  it.each([
    ['a negative limit', { limitUSD: -5 }, /limitUSD/],
    ['a limit that is not a number', { limitUSD: 'lots' }, /limitUSD/],
    ['an unknown field', { limitUSD: 10, limitUsd: 10 }, /unknown field/],
    ['a period kind that does not exist', { limitUSD: 10, period: { kind: 'Fortnightly' } }, /period.kind/],
    ['a weekly reset day past Sunday', { limitUSD: 10, period: { kind: 'Weekly', resetDay: 9 } }, /resetDay/],
  ])('is refused by the apiserver itself with %s', async (_what, spec, message) => {
    const r = await kubectl(['apply', '-f', budgetYaml('team-d', 'bad', spec)]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });
});

describe('dollar budgets enforced before launch', () => {
  it('launches what fits, keeps the next pod Pending with the reason and the figures, and lets another namespace burst', async () => {
    await applyBudget('team-a', 'gpu', { limitUSD: 2, period: { kind: 'Monthly', timeZone: 'Europe/Berlin' } });
    await applyBudget('team-b', 'gpu', { limitUSD: 10 });
    for (const name of ['a1', 'a2', 'a3']) await createPod('team-a', gpuPod(name));
    await waitFor('two team-a instances', async () => ((await instancesOf('team-a')) === 2 ? true : undefined), 60_000, 500);
    const held = await waitFor('a3 to wait for its budget', async () => {
      const p = await podNow('team-a', 'a3');
      return budgetCondition(p)?.status === 'False' ? p : undefined;
    }, 30_000, 500);
    expect(held.status?.phase).toBe('Pending');
    const c = budgetCondition(held);
    expect(c?.reason).toBe('NamespaceBudgetExceeded');
    expect(c?.message).toMatch(/budget team-a\/gpu: spent \$\d+\.\d\d \+ reserved \$1\.6\d \+ this launch's quote \$0\.80 \(\$0\.80\/h for 1 h\) exceeds the limit \$2\.00/);
    const events = await eventsFor('team-a', 'a3');
    expect(events.some((e) => e.reason === 'NamespaceBudgetExceeded' && (e.message ?? '').includes('team-a/gpu'))).toBe(true);
    // team-b has its own money and goes on.
    await createPod('team-b', gpuPod('b1'));
    await waitFor('team-b to burst', async () => ((await instancesOf('team-b')) === 1 ? true : undefined), 60_000, 500);
    expect(await instancesOf('team-a')).toBe(2);
  }, 150_000);

  it('shows the figures in kubectl get burstbudgets', async () => {
    const status = await waitFor('team-a/gpu status with two instances', async () => {
      const s = await budgetStatus('team-a', 'gpu');
      return s['runningInstances'] === 2 && s['pendingPods'] === 1 ? s : undefined;
    }, 30_000, 500);
    expect(status['limitUSD']).toBe(2);
    expect(status['reservedUSD']).toBeGreaterThan(1.5);
    const r = await kubectl(['get', 'burstbudgets', '-n', 'team-a', '-o', 'wide']);
    expect(r.code, r.stderr).toBe(0);
    const [header = '', row = ''] = r.stdout.trim().split('\n');
    expect(header.split(/\s+/)).toEqual(['NAME', 'LIMIT', 'SPENT', 'RESERVED', 'REMAINING', 'INSTANCES', 'PENDING', 'PERIOD-END', 'AGE']);
    expect(row).toMatch(/^gpu\s+2\s+\S+\s+\S+\s+\S+\s+2\s+1\s+\d{4}-\d\d-\d\dT/);
  }, 60_000);

  it('lets the waiting pod go within a poll of the limit being raised', async () => {
    const raised = Date.now();
    const r = await kubectl(['patch', 'burstbudget', 'gpu', '-n', 'team-a', '--type', 'merge', '-p', JSON.stringify({ spec: { limitUSD: 3 } })]);
    expect(r.code, r.stderr).toBe(0);
    await waitFor('a3 to get its instance', async () => ((await instancesOf('team-a')) === 3 ? true : undefined), 30_000, 250);
    const p = await waitFor('a3 Budget=True', async () => {
      const pod = await podNow('team-a', 'a3');
      return budgetCondition(pod)?.status === 'True' ? pod : undefined;
    }, 30_000, 250);
    expect(budgetCondition(p)?.reason).toBe('Reserved');
    process.stdout.write(`budget figures: ${JSON.stringify({ secondsFromRaiseToInstance: (Date.now() - raised) / 1000 })}\n`);
  }, 60_000);

  it('refuses a pod that charges another namespace\'s budget, and one whose quote alone exceeds its budget', async () => {
    await createPod('team-b', gpuPod('stranger', { 'orca.research/budget-namespace': 'team-a' }));
    await createPod('team-a', gpuPod('huge', { 'orca.research/max-lifetime': '100h' }));
    const stranger = await waitFor('stranger to fail', async () => {
      const p = await podNow('team-b', 'stranger');
      return p?.status?.phase === 'Failed' ? p : undefined;
    }, 30_000, 500);
    expect(stranger.status?.reason).toBe('BudgetChargeNotAllowed');
    expect(stranger.status?.message).toMatch(/budget team-a\/gpu: pods of namespace team-b may not charge it/);
    const huge = await waitFor('huge to fail', async () => {
      const p = await podNow('team-a', 'huge');
      return p?.status?.phase === 'Failed' ? p : undefined;
    }, 30_000, 500);
    expect(huge.status?.reason).toBe('QuoteExceedsBudget');
    expect(huge.status?.message).toMatch(/quote \$80\.48 .*alone exceeds the whole limit \$3\.00/);
    expect(await instancesOf('team-a')).toBe(3);
  }, 60_000);

  it('keeps a namespace without a budget from bursting until it has one', async () => {
    await createPod('team-d', gpuPod('d1'));
    const p = await waitFor('d1 to wait for a budget', async () => {
      const pod = await podNow('team-d', 'd1');
      return budgetCondition(pod)?.reason === 'NamespaceHasNoBudget' ? pod : undefined;
    }, 30_000, 500);
    expect(p.status?.phase).toBe('Pending');
    expect(await instancesOf('team-d')).toBe(0);
    await applyBudget('team-d', 'gpu', { limitUSD: 1 });
    await waitFor('d1 to get its instance', async () => ((await instancesOf('team-d')) === 1 ? true : undefined), 30_000, 500);
  }, 60_000);

  it('keeps the spent figure across a restart of ORCA, within the documented bound', async () => {
    const before = await waitFor('team-a/gpu to have spent something', async () => {
      const s = await budgetStatus('team-a', 'gpu');
      return typeof s['spentUSD'] === 'number' && s['spentUSD'] > 0 ? s : undefined;
    }, 60_000, 1000);
    const spentBefore = before['spentUSD'] as number;
    const stoppedAt = Date.now();
    await orca.stop('SIGTERM');
    const capBefore = await clusterBook();
    expect(capBefore?.['spentUSD']).toBeGreaterThanOrEqual(spentBefore - 0.01);
    orca = await start();
    const after = await waitFor('team-a/gpu status written by the new ORCA', async () => {
      const s = await budgetStatus('team-a', 'gpu');
      return Date.parse(String(s['lastUpdated'])) > stoppedAt + 1000 ? s : undefined;
    }, 60_000, 500);
    const elapsedHours = (Date.now() - stoppedAt) / 3600_000 + 10 / 3600;
    const spentAfter = after['spentUSD'] as number;
    // Three g6.xlarge instances ran all along: spend went on, by at most their rate over the time since.
    expect(spentAfter).toBeGreaterThanOrEqual(spentBefore - 0.01);
    expect(spentAfter).toBeLessThanOrEqual(spentBefore + 3 * PRICE * elapsedHours + 0.01);
    expect(after['runningInstances']).toBe(3);
    // The exact ledger went on from what was written: each pod's charge grew, by no more than its rate allows.
    const charged = (st: Record<string, unknown>): Map<string, number> =>
      new Map(((st['ledger'] as { pods: { uid: string; chargedMicroUSD: number }[] }).pods).map((p) => [p.uid, p.chargedMicroUSD]));
    const was = charged(before);
    const now = charged(after);
    expect([...now.keys()].sort()).toEqual([...was.keys()].sort());
    for (const [uid, c] of now) {
      expect(c).toBeGreaterThanOrEqual(was.get(uid) ?? 0);
      expect(c).toBeLessThanOrEqual((was.get(uid) ?? 0) + Math.ceil(QUOTE * elapsedHours) + 1000);
    }
    // The cluster cap's book (kept in a ConfigMap, not a BurstBudget) went on from what it saved, too.
    const capAfter = await waitFor('the cluster book saved by the new ORCA', async () => {
      const c = await clusterBook();
      return c !== undefined && Date.parse(String(c['lastUpdated'])) > stoppedAt + 1000 ? c : undefined;
    }, 60_000, 500);
    const capSpentBefore = capBefore?.['spentUSD'] as number;
    expect(capAfter['spentUSD']).toBeGreaterThanOrEqual(capSpentBefore - 0.01);
    expect(capAfter['spentUSD']).toBeLessThanOrEqual(capSpentBefore + 3 * PRICE * elapsedHours + 0.02);
    process.stdout.write(`budget figures: ${JSON.stringify({ spentBefore, spentAfter, capSpentBefore, capSpentAfter: capAfter['spentUSD'], secondsBetween: (Date.now() - stoppedAt) / 1000 })}\n`);
  }, 150_000);

  it('launches exactly N pods of a 200-pod burst against a budget that fits exactly N quotes', async () => {
    const n = 37;
    await applyBudget('team-c', 'sweep', { limitUSD: (n * QUOTE) / 1e6 });
    const template = gpuPod('unused');
    await kubeConfig().makeApiClient(BatchV1Api).createNamespacedJob({
      namespace: 'team-c',
      body: { metadata: { name: 'sweep' }, spec: { parallelism: 200, completions: 200, backoffLimit: 0, template: { metadata: { annotations: template.metadata?.annotations ?? {} }, spec: template.spec ?? { containers: [] } } } },
    });
    await waitFor('200 pods, 163 of them waiting for the budget', async () => {
      const list = await core().listNamespacedPod({ namespace: 'team-c', labelSelector: 'job-name=sweep' });
      const waiting = list.items.filter((p) => budgetCondition(p)?.reason === 'NamespaceBudgetExceeded').length;
      return list.items.length === 200 && waiting === 200 - n ? true : undefined;
    }, 150_000, 1000);
    await waitFor(`${n} team-c instances`, async () => ((await instancesOf('team-c')) === n ? true : undefined), 60_000, 1000);
    // Several polls later, still exactly N.
    await new Promise((r) => setTimeout(r, 5000));
    expect(await instancesOf('team-c')).toBe(n);
    const s = await budgetStatus('team-c', 'sweep');
    expect(s['runningInstances']).toBe(n);
    expect((s['reservedUSD'] as number) + (s['spentUSD'] as number)).toBeLessThanOrEqual((n * QUOTE) / 1e6 + 0.005);
  }, 240_000);

  it('prints a chargeback CSV whose amounts sum to each budget\'s ledger to the micro-dollar', async () => {
    const exactSpent = (st: Record<string, unknown>): number => {
      const l = st['ledger'] as { settledMicroUSD: number; pods: { chargedMicroUSD: number; chargedEarlierMicroUSD: number }[] };
      return l.settledMicroUSD + l.pods.reduce((a, p) => a + p.chargedMicroUSD - p.chargedEarlierMicroUSD, 0);
    };
    const micro = (text: string): number => {
      const [whole = '0', frac = ''] = text.split('.');
      return Number(whole) * 1e6 + Number(frac.padEnd(6, '0'));
    };
    // The CLI reads each budget's status once: compare with the status it read (the same lastUpdated).
    const checked = await waitFor('a CSV and a status of the same moment', async () => {
      const out = await runCommand(process.execPath, [join(repoRoot, 'dist', 'main.js'), 'cost', '-o', 'csv', '-n', 'team-a', '--kubeconfig', testbed().kubeconfig]);
      expect(out.code, out.stderr).toBe(0);
      const status = await budgetStatus('team-a', 'gpu');
      const [head = '', ...rows] = out.stdout.trim().split(/\r?\n/);
      const cols = head.split(',');
      const at = (row: string[], name: string): string => row[cols.indexOf(name)] ?? '';
      const mine = rows.map((r) => r.split(',')).filter((r) => at(r, 'x_Budget') === 'gpu');
      if (mine.some((r) => at(r, 'ChargePeriodEnd') !== status['lastUpdated'])) return undefined;
      return { sum: mine.reduce((a, r) => a + micro(at(r, 'BilledCost')), 0), spent: exactSpent(status), spentUSD: status['spentUSD'], lines: mine.length };
    }, 60_000, 300);
    expect(checked.lines).toBeGreaterThan(0);
    expect(checked.sum).toBe(checked.spent);
    expect(Math.round(checked.sum / 1e4) / 100).toBe(checked.spentUSD);
  }, 90_000);
});
