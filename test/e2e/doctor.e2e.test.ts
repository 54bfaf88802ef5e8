// `orca doctor` through the built CLI against the bed (the apiserver, moto): ✔ for every check with
// everything in place and exit 0; a clear ✘ with its fix for an instance profile that does not
// exist, and exit 1; the same as JSON.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateInstanceProfileCommand, IAMClient } from '@aws-sdk/client-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { al2023, defaultSubnets, type Subnet } from './ec2-node.js';
import { awsClientConfig, kubectl, testbed, waitFor } from './fixture.js';
import { writeConfig } from './orca-process.js';
import { repoRoot } from './testbed/paths.js';

interface Run { readonly code: number | null; readonly stdout: string; readonly stderr: string }

async function doctor(config: unknown, args: readonly string[] = []): Promise<Run> {
  const aws = awsClientConfig();
  const child = spawn(process.execPath, ['dist/main.js', '--config', writeConfig(config), '--kubeconfig', testbed().kubeconfig, 'doctor', ...args], {
    cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/nonexistent', AWS_ACCESS_KEY_ID: aws.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: aws.credentials.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = await once(child, 'exit') as [number | null];
  return { code, stdout, stderr };
}

let subnets: Subnet[] = [];
let group = '';
const profile = 'orca-doctor-worker';

beforeAll(async () => {
  const aws = awsClientConfig();
  const ec2 = new EC2Client(aws);
  subnets = (await defaultSubnets(ec2)).slice(0, 2);
  const groups = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['default'] }] }));
  group = groups.SecurityGroups?.[0]?.GroupId ?? '';
  await new IAMClient(aws).send(new CreateInstanceProfileCommand({ InstanceProfileName: profile }));
  // The apiserver answers 429 (storage initializing) for a CRD installed moments ago.
  await waitFor('BurstBudgets to be listable', async () => ((await kubectl(['get', 'burstbudgets.orca.research', '-A'])).code === 0 ? true : undefined), 60_000, 500);
});

function config(instanceProfile: string): unknown {
  const aws = awsClientConfig();
  return {
    aws: {
      region: aws.region, endpoint: aws.endpoint, clusterId: 'e2e-doctor', subnets: subnets.map((s) => ({ zone: s.zone, subnetID: s.id })),
      securityGroupIDs: [group], instanceProfileArn: `arn:aws:iam::123456789012:instance-profile/${instanceProfile}`,
    },
    node: { name: 'orca-doctor' },
    instances: { images: { cpu: al2023, nvidia: al2023, neuron: al2023 } },
  };
}

describe('orca doctor', () => {
  it('prints ✔ for every check against the bed and exits 0', async () => {
    const run = await doctor(config(profile));
    expect(run.stderr, run.stdout).toBe('');
    const lines = run.stdout.trimEnd().split('\n');
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(100);
    const checks = ['kubeconfig', 'rbac nodes', 'rbac leases (kube-node-lease)', 'BurstBudget CRD', 'aws identity', 'region', 'subnets', 'security groups',
      'image cpu', 'image nvidia', 'image neuron', ...subnets.map((s) => `launch ${s.id}`), 'ssm parameters', 'cloudwatch logs', 'instance profile'];
    for (const check of checks) expect(lines.find((l) => l.startsWith(`  ✔  ${check} `)), `${check} in\n${run.stdout}`).toBeDefined();
    expect(run.stdout).not.toContain('✘');
    expect(run.stdout).not.toContain('\u001b[');
    expect(lines.at(-1)).toMatch(/^\d+ passed, 0 failed, 0 skipped$/);
    expect(run.code).toBe(0);
  });

  it('prints a ✘ with the fix for an instance profile that does not exist, and exits 1', async () => {
    const run = await doctor(config('no-such-profile'));
    expect(run.stdout).toMatch(/^ {2}✘ {2}instance profile +instance profile no-such-profile does not exist\n {5}fix: create it \(aws iam create-instance-profile/m);
    // EC2 refuses the DryRun launches for the same reason: the instance profile does not exist.
    const failed = run.stdout.split('\n').filter((l) => l.startsWith('  ✘  '));
    expect(failed.map((l) => l.slice(5, 37).trim()), run.stdout).toEqual([...subnets.map((s) => `launch ${s.id}`), 'instance profile']);
    for (const l of failed.slice(0, -1)) expect(l).toMatch(/NoSuchEntity: Instance profile/);
    expect(run.code).toBe(1);
    const json = await doctor(config('no-such-profile'), ['--output', 'json']);
    const out = JSON.parse(json.stdout) as { ok: boolean; checks: { check: string; status: string }[] };
    expect(out.ok).toBe(false);
    expect(out.checks.filter((c) => c.status === 'fail').map((c) => c.check)).toEqual([...subnets.map((s) => `launch ${s.id}`), 'instance profile']);
    expect(json.code).toBe(1);
  });
});
