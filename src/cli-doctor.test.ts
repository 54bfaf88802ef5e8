// `orca doctor` through the CLI with fake probes: the table and JSON, the exit codes (0 all passed, 1
// a check failed, 2 a bad config file) and the kubeconfig passed on.
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { addDoctorCommand } from './cli-doctor.js';
import { FakeAwsProbe, FakeKubeProbe } from '../test/fakes/preflight.js';

const configText = [
  'aws: {region: us-east-1, clusterId: test, instanceProfileArn: "arn:aws:iam::123456789012:instance-profile/orca-worker", securityGroupIDs: [sg-0aaaaaaaaaaaaaaaa], subnets: [{zone: us-east-1a, subnetID: subnet-0aaaaaaaaaaaaaaaa}]}',
  'node: {name: orca-test}',
  'instances: {images: {cpu: /aws/service/cpu, nvidia: /aws/service/nvidia, neuron: ami-0eeeeeeeeeeeeeeee}}',
].join('\n');

function configOf(file: string): Config | undefined {
  if (file !== 'good.yaml') return undefined;
  const parsed = parseConfig(configText, {});
  if (!parsed.ok) throw parsed.error;
  return parsed.value;
}

async function run(args: string[], o: { aws?: FakeAwsProbe; tty?: boolean } = {}): Promise<{ code: number | undefined; out: string; kubeconfigs: (string | undefined)[] }> {
  const seen = { code: undefined as number | undefined, out: '', kubeconfigs: [] as (string | undefined)[] };
  const program = new Command('orca').option('-c, --config <file>', 'config', 'config.yaml').option('--kubeconfig <file>').exitOverride();
  addDoctorCommand(program, {
    env: { KUBECONFIG: '/env/kubeconfig' }, stderr: () => undefined, stdout: (t) => { seen.out += t; }, exit: (c) => { seen.code = c; },
    signal: new AbortController().signal, isTTY: o.tty ?? false, readConfig: configOf,
    probes: (_config, kubeconfig) => {
      seen.kubeconfigs.push(kubeconfig);
      return { kube: { probe: new FakeKubeProbe(), server: 'https://127.0.0.1:6443' }, aws: o.aws ?? new FakeAwsProbe() };
    },
  });
  await program.parseAsync(['node', 'orca', ...args]);
  return seen;
}

describe('orca doctor', () => {
  it('prints the table and exits 0 when every check passes', async () => {
    const r = await run(['--config', 'good.yaml', 'doctor']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ {2}✔ {2}kubeconfig/);
    expect(r.out).not.toContain('✘');
    expect(r.out).not.toContain('\u001b[');
    expect(r.kubeconfigs).toEqual(['/env/kubeconfig']);
  });

  it('exits 1 when a check fails, with the fix under it; JSON with --output json', async () => {
    const aws = new FakeAwsProbe();
    aws.profiles.clear();
    const r = await run(['doctor', '--config', 'good.yaml', '--kubeconfig', '/k', '-o', 'json'], { aws });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.out) as { ok: boolean; checks: { check: string; status: string; fix?: string }[] };
    expect(out.ok).toBe(false);
    expect(out.checks.filter((c) => c.status === 'fail').map((c) => c.check)).toEqual(['instance profile']);
    expect(r.kubeconfigs).toEqual(['/k']);
    const table = await run(['--config', 'good.yaml', 'doctor'], { aws, tty: true });
    expect(table.out).toContain('\u001b[31m✘\u001b[0m  instance profile');
    expect(table.out).toMatch(/✘.*instance profile.*\n {5}fix: create it/);
  });

  it('exits 2 and checks nothing when the config file cannot be used', async () => {
    const r = await run(['doctor', '--config', 'bad.yaml']);
    expect(r).toEqual({ code: 2, out: '', kubeconfigs: [] });
  });
});
