// What a user looks at once the Job is done, each under the command that shows it: nodes and pods,
// the pod's Events, its logs, the instance it ran on as EC2 (moto) reports it, and what it cost so
// far — the BurstBudget's figures and `orca cost`.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DescribeInstancesCommand, EC2Client, type Instance } from '@aws-sdk/client-ec2';
import { repoRoot } from '../../test/e2e/testbed/paths.js';
import { runCommand } from '../../test/e2e/testbed/testbed.js';
import type { Kubectl } from './bed.js';
import { demoBudget } from './bed.js';
import { demoNamespace } from './orca-config.js';
import type { Progress } from './progress.js';
import type { BedInfo } from './state.js';

const ns = demoNamespace;

async function section(p: Progress, title: string, output: Promise<{ code: number; stdout: string; stderr: string }>): Promise<void> {
  const r = await output;
  p.raw(`\n$ ${title}\n${(r.code === 0 ? r.stdout : `${r.stdout}${r.stderr}`).trimEnd()}`);
}

function tag(i: Instance, key: string): string {
  return i.Tags?.find((t) => t.Key === key)?.Value ?? '';
}

/** The pod's instance as EC2 shows it: id, type, state, lifecycle, zone, launch time and ORCA's tags. */
export function describeInstance(i: Instance): string {
  const orcaTags = (i.Tags ?? []).filter((t) => t.Key?.startsWith('orca.research/') === true && !t.Key.startsWith('orca.research/agent'))
    .map((t) => `${t.Key ?? ''}=${t.Value ?? ''}`).sort();
  const rows: [string, string | undefined][] = [
    ['InstanceId', i.InstanceId], ['InstanceType', i.InstanceType], ['State', i.State?.Name],
    ['Lifecycle', i.InstanceLifecycle ?? 'on-demand'], ['Zone', i.Placement?.AvailabilityZone],
    ['LaunchTime', i.LaunchTime?.toISOString()], ['Name', tag(i, 'Name')],
  ];
  return [...rows.map(([k, v]) => `${k.padEnd(14)}${v ?? ''}`), 'Tags', ...orcaTags.map((t) => `  ${t}`)].join('\n');
}

async function instanceView(bed: BedInfo, podUid: string): Promise<string> {
  // This look-up is the demo's own; the SDK's notice about Node.js versions would only be noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const ec2 = new EC2Client({ endpoint: bed.aws.endpoint, region: bed.aws.region, credentials: { accessKeyId: bed.aws.accessKeyId, secretAccessKey: bed.aws.secretAccessKey } });
  try {
    const out = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:orca.research/pod-uid', Values: [podUid] }] }));
    const list = (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
    return list.length === 0 ? `no instance is tagged with pod uid ${podUid}` : list.map(describeInstance).join('\n\n');
  } finally {
    ec2.destroy();
  }
}

interface Ledger { readonly status?: { readonly ledger?: { readonly settledMicroUSD?: number; readonly pods?: readonly { readonly chargedMicroUSD?: number; readonly chargedEarlierMicroUSD?: number }[] } } }

/** The budget's spent figure, exact, in micro-dollars: settled + Σ(charged − chargedEarlier), as `orca cost` adds it. */
async function chargedMicroUSD(kubectl: Kubectl): Promise<number> {
  const r = await kubectl(['get', 'burstbudget', demoBudget.name, '-n', ns, '-o', 'json']);
  if (r.code !== 0) return 0;
  const ledger = (JSON.parse(r.stdout) as Ledger).status?.ledger;
  return (ledger?.settledMicroUSD ?? 0) + (ledger?.pods ?? []).reduce((sum, p) => sum + (p.chargedMicroUSD ?? 0) - (p.chargedEarlierMicroUSD ?? 0), 0);
}

/** Waits (up to 20 s) until the budget's ledger counts the pod's charge: ORCA writes it every 2 s. */
async function waitForCharge(kubectl: Kubectl): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const micro = await chargedMicroUSD(kubectl);
    if (micro > 0) return micro;
    await sleep(1000);
  }
  return 0;
}

export interface ViewInputs {
  readonly bed: BedInfo;
  readonly kubectl: Kubectl;
  readonly pod: string;
  readonly progress: Progress;
}

export async function printUserView(v: ViewInputs): Promise<void> {
  const { kubectl, pod, progress: p } = v;
  await section(p, `kubectl get nodes,pods -n ${ns} -o wide`, kubectl(['get', 'nodes,pods', '-n', ns, '-o', 'wide']));
  await section(p, `kubectl get events -n ${ns} --field-selector involvedObject.name=${pod}`,
    kubectl(['get', 'events', '-n', ns, '--field-selector', `involvedObject.name=${pod}`]));
  await section(p, `kubectl logs -n ${ns} ${pod}`, kubectl(['logs', '-n', ns, pod]));
  const uid = (await kubectl(['get', 'pod', pod, '-n', ns, '-o', 'jsonpath={.metadata.uid}'])).stdout.trim();
  p.raw(`\n# the instance the pod ran on, as EC2 (moto) describes it\n${await instanceView(v.bed, uid)}`);
  const micro = await waitForCharge(kubectl);
  await section(p, `kubectl get burstbudgets -n ${ns}`, kubectl(['get', 'burstbudgets', '-n', ns]));
  p.raw(`# spent so far: $${(micro / 1e6).toFixed(6)} (${micro} µUSD in the BurstBudget's status.ledger; the columns round to cents)`);
  await section(p, `node dist/main.js cost -n ${ns}`,
    runCommand(process.execPath, [join(repoRoot, 'dist', 'main.js'), 'cost', '-n', ns, '--kubeconfig', v.bed.kubeconfig]));
}
