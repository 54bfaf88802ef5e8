// `orca validate` and `orca catalog` through the CLI, as main.ts wires them (the global --config with
// its default): exit 0 valid, 1 invalid with each problem on its own line, 2 for every usage error;
// every line within 100 columns; colours only on a terminal.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addToolCommands, type ToolDeps } from './cli-tools.js';

const fixtures = fileURLToPath(new URL('../test/fixtures/cli/', import.meta.url));
const JOB = join(fixtures, 'train-job.yaml');
const CONFIG = join(fixtures, 'config.yaml');

interface Run { code: number | undefined; out: string; err: string }

async function run(args: string[], extra: Partial<ToolDeps> = {}): Promise<Run> {
  const seen: Run = { code: undefined, out: '', err: '' };
  const program = new Command('orca').option('-c, --config <file>', 'configuration file', 'config.yaml').exitOverride();
  addToolCommands(program, { env: {}, tty: false, stderr: (t) => { seen.err += t; }, stdout: (t) => { seen.out += t; }, exit: (c) => { seen.code = c; }, ...extra });
  for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: () => undefined });
  await program.parseAsync(['node', 'orca', ...args]);
  return seen;
}

function file(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'orca-cli-tools-'));
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

const widest = (text: string): number => Math.max(...text.split('\n').map((l) => l.length));

describe('orca validate', () => {
  it('prints the offerings ORCA would try, in order, with the config\'s zones and subnets, and exits 0', async () => {
    const r = await run(['validate', JOB, '--config', CONFIG]);
    expect(r).toMatchObject({ code: 0, err: '' });
    const rows = r.out.split('\n').filter((l) => /^ {2}\d /.test(l));
    expect(rows.map((l) => l.trim().split(/\s+/).slice(0, 5))).toEqual([
      ['1', 'p5.48xlarge', 'spot', 'us-east-1a', 'subnet-0123456789abcdef0'],
      ['2', 'p5.48xlarge', 'spot', 'us-east-1b', 'subnet-0fedcba9876543210'],
      ['3', 'p5.48xlarge', 'on-demand', 'us-east-1a', 'subnet-0123456789abcdef0'],
      ['4', 'p5.48xlarge', 'on-demand', 'us-east-1b', 'subnet-0fedcba9876543210'],
    ]);
    expect(r.out).toMatch(/^Job ml\/train-llm \(pod template\): valid$/m);
    expect(r.out).toContain('<=55.0400  8 H100 80Gi');
    expect(r.out).toMatch(/price ceiling: 55\.0400 USD\/h/);
    expect(widest(r.out)).toBeLessThanOrEqual(100);
  });

  it('takes the config given before the subcommand too, and without one uses ORCA\'s defaults and says so', async () => {
    expect((await run(['--config', CONFIG, 'validate', JOB])).out).toContain('us-east-1b');
    const r = await run(['validate', JOB]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/1 {2}p5\.48xlarge {2}spot {7}any/);
    expect(r.out).toContain('without --config: ORCA\'s defaults');
  });

  it('exits 1 with each problem on its own line, as the pod\'s Event says it, and checks every document', async () => {
    const f = file('bad.yaml', [
      'apiVersion: v1', 'kind: Pod', 'metadata: {name: a, annotations: {orca.research/instance-type: p5.48xlarge, orca.research/launch-type: "spot,cheap", orca.research/user-data: x}}',
      'spec: {containers: [{name: c}]}', '---',
      'apiVersion: v1', 'kind: Pod', 'metadata: {name: b, annotations: {orca.research/instance-type: p5.48xlarge}}',
      'spec: {containers: [{name: c, resources: {requests: {nvidia.com/gpu: 16}}}]}', '---',
      'apiVersion: v1', 'kind: Service', 'metadata: {name: web}',
    ].join('\n'));
    const r = await run(['validate', f, '--config', CONFIG]);
    expect(r.code).toBe(1);
    const problems = r.out.split('\n').filter((l) => l.startsWith('  x '));
    expect(problems).toEqual([
      '  x InvalidAnnotation: orca.research/launch-type: "spot,cheap" expected a comma-separated order of',
      '  x InvalidAnnotation: orca.research/user-data: "x" is not supported: instances are generic workers;',
      '  x NoInstanceType: p5.48xlarge needs 16 nvidia.com/gpu, has 8',
    ]);
    expect(r.out).toMatch(/^Pod default\/a: invalid$/m);
    expect(r.out).toContain('not checked (no pod template): Service web');
    expect(widest(r.out)).toBeLessThanOrEqual(100);
  });

  it('exits 1 when one pod of several is invalid, 0 only when all are valid', async () => {
    const ok = 'apiVersion: v1\nkind: Pod\nmetadata: {name: ok, annotations: {orca.research/instance-type: g6e.xlarge}}\nspec: {containers: [{name: c}]}\n';
    expect((await run(['validate', file('ok.yaml', `${ok}---\n${ok}`)])).code).toBe(0);
    expect((await run(['validate', file('mixed.yaml', `${ok}---\n${ok.replace('g6e.xlarge', 'nope')}`)])).code).toBe(1);
  });

  it.each([
    ['a file that does not exist', ['validate', '/nonexistent/pod.yaml'], /^orca validate: cannot read file \/nonexistent\/pod\.yaml: ENOENT\n$/],
    ['no file', ['validate'], /give exactly one file: orca validate <pod\.yaml>/],
    ['two files', ['validate', JOB, JOB], /give exactly one file/],
    ['an unknown option', ['validate', JOB, '--zone', 'x'], /unknown option --zone/],
    ['a config file that does not exist', ['validate', JOB, '--config', '/nonexistent/config.yaml'], /cannot read config file \/nonexistent\/config\.yaml: ENOENT/],
  ])('exits 2 for %s', async (_what, args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(message);
  });

  it.each([
    ['text that is not YAML', 'kind: Pod\n  bad: [\n', /: not YAML: document 1: /],
    ['a document that is no Kubernetes object', '- just\n- a list\n', /document 1 is not a Kubernetes object/],
    ['no pod at all', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n', /no Pod, Job, Deployment, StatefulSet, DaemonSet, ReplicaSet or CronJob in the file \(only ConfigMap c\)/],
    ['an empty file', '', /no Pod, Job/],
  ])('exits 2 for %s', async (_what, text, message) => {
    const r = await run(['validate', file('x.yaml', text)]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  it('exits 2 naming every problem of a config that is not valid', async () => {
    const bad = file('config.yaml', 'aws: {region: mars}\nnode: {name: x}\n');
    const r = await run(['validate', JOB, '-c', bad]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^orca validate: .*config\.yaml: invalid configuration:\n {2}- aws\.region: an AWS region such as us-east-1\n$/);
  });

  it('exits 2 when the instance catalog cannot be read', async () => {
    const r = await run(['validate', JOB], { catalogDir: '/nonexistent/catalog' });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/cannot read the instance catalog in \/nonexistent\/catalog/);
  });
});

function catalogDir(spot?: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'orca-cli-catalog-'));
  mkdirSync(join(dir, 'prices'));
  mkdirSync(join(dir, 'spot'));
  const gpu = { kind: 'nvidia', model: 'H100', count: 8, memoryMiB: 81_920 };
  writeFileSync(join(dir, 'instance-types.json'), JSON.stringify({ source: 's', readAt: 'r', types: [
    { type: 'p5.48xlarge', vcpus: 192, memoryMiB: 2_097_152, architectures: ['x86_64'], accelerator: gpu, efaInterfaces: 32, networkPerformance: 'n' },
    { type: 'c7i.large', vcpus: 2, memoryMiB: 4096, architectures: ['x86_64'], efaInterfaces: 0, networkPerformance: 'n' },
  ] }));
  writeFileSync(join(dir, 'prices', 'us-east-1.json'), JSON.stringify({ region: 'us-east-1', source: 's', readAt: 'r', onDemandUsdPerHour: { 'p5.48xlarge': 55.04, 'c7i.large': 0.08925 } }));
  if (spot !== undefined) writeFileSync(join(dir, 'spot', 'us-east-1.json'), typeof spot === 'string' ? spot : JSON.stringify(spot));
  return dir;
}

describe('orca catalog', () => {
  it('prints every type of the shipped catalog within 100 columns, with where the prices come from', async () => {
    const r = await run(['catalog']);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toMatch(/^TYPE\s+ACCEL\s+N\s+MODEL\s+ACC-MEM\s+VCPU\s+MEMORY\s+ON-DEMAND\s+SPOT$/m);
    expect(r.out).toMatch(/^p5\.48xlarge\s+nvidia\s+8\s+H100\s+80Gi\s+192\s+2048Gi\s+55\.0400\s+-$/m);
    expect(r.out).toMatch(/^trn2\.48xlarge\s+neuron\s+16\s+Trainium2\s+96Gi\s+.*block\s+-$/m);
    expect(r.out).toContain('ON-DEMAND: USD per hour in us-east-1, Linux, from instance-catalog/prices/us-east-1.json.');
    expect(r.out).toMatch(/SPOT: the catalog has no spot figures for us-east-1; ORCA reads live spot prices/);
    expect(widest(r.out)).toBeLessThanOrEqual(100);
  });

  it('filters by accelerator and family', async () => {
    const types = async (args: string[]): Promise<string[]> => (JSON.parse((await run(['catalog', '-o', 'json', ...args])).out) as { types: { type: string }[] }).types.map((t) => t.type);
    expect(await types(['--family', 'p5'])).toEqual(['p5.4xlarge', 'p5.48xlarge']);
    expect((await types(['--accelerator', 'neuron'])).every((t) => /^(inf2|trn1|trn1n|trn2)\./.test(t))).toBe(true);
    const none = await types(['--accelerator', 'none']);
    expect(none.length).toBeGreaterThan(0);
    expect(none.every((t) => /^[cmr]7[ai]\./.test(t))).toBe(true);
    expect((await run(['catalog', '--family', 'g6e', '--accelerator', 'neuron'])).code).toBe(1);
  });

  it('exits 1 naming the families when nothing matches', async () => {
    const r = await run(['catalog', '--family', 'p9']);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^orca catalog: no instance type in the catalog matches --family p9 \(families: c7a, c7i, .*p5, .*trn2\)\n$/);
  });

  it('prints YAML and JSON of the same report', async () => {
    const dir = catalogDir();
    const json = JSON.parse((await run(['catalog', '-o', 'json'], { catalogDir: dir })).out) as unknown;
    const { parse } = await import('yaml');
    expect(parse((await run(['catalog', '-o', 'yaml'], { catalogDir: dir })).out)).toEqual(json);
    expect(json).toEqual({
      region: 'us-east-1', onDemandFile: 'instance-catalog/prices/us-east-1.json', spot: null, types: [
        { type: 'c7i.large', family: 'c7i', accelerator: null, vcpus: 2, memoryMiB: 4096, onDemandUsdPerHour: 0.08925, capacityBlockOnly: false, spot: null },
        { type: 'p5.48xlarge', family: 'p5', accelerator: { kind: 'nvidia', model: 'H100', count: 8, memoryMiB: 81_920 }, vcpus: 192, memoryMiB: 2_097_152, onDemandUsdPerHour: 55.04, capacityBlockOnly: false, spot: null },
      ],
    });
  });

  it('shows the catalog\'s spot figures, the lowest zone\'s, and says where they come from', async () => {
    const dir = catalogDir({ region: 'us-east-1', source: 'DescribeSpotPriceHistory, Linux/UNIX', readAt: '2026-11-30T00:00:00Z', usdPerHour: { 'p5.48xlarge': { 'us-east-1b': 21.5, 'us-east-1a': 23.1 } } });
    const r = await run(['catalog', '--family', 'p5'], { catalogDir: dir });
    expect(r.out).toMatch(/^p5\.48xlarge .* 55\.0400 {2}21\.5000$/m);
    expect(r.out).toMatch(/SPOT: the lowest over us-east-1's zones, USD per hour, from the catalog's spot figures\s+\(DescribeSpotPriceHistory, Linux\/UNIX, read 2026-11-30T00:00:00Z\)/);
    expect(JSON.parse((await run(['catalog', '-o', 'json', '--family', 'p5'], { catalogDir: dir })).out)).toMatchObject({ types: [{ spot: { usdPerHour: 21.5, zone: 'us-east-1b' } }] });
  });

  it('reads the current spot prices with --live-spot, for the listed types only, and fails clearly when it cannot', async () => {
    const asked: { region: string; endpoint: string | undefined; types: readonly string[] }[] = [];
    const spotSource = (region: string, endpoint: string | undefined) => ({
      spotPrices: (types: readonly string[]) => {
        asked.push({ region, endpoint, types });
        return Promise.resolve(new Map([['p5.48xlarge/us-east-1a', 24.25], ['p5.48xlarge/us-east-1c', 19.75]]));
      },
    });
    const r = await run(['catalog', '--family', 'p5', '--live-spot'], { spotSource });
    expect(r.code).toBe(0);
    expect(asked).toEqual([{ region: 'us-east-1', endpoint: undefined, types: ['p5.4xlarge', 'p5.48xlarge'] }]);
    expect(r.out).toMatch(/^p5\.48xlarge .* 55\.0400 {2}19\.7500$/m);
    expect(r.out).toMatch(/from the catalog's spot figures\s+\(DescribeSpotPriceHistory now, Linux\/UNIX, read \d{4}-/);
    const failing = () => ({ spotPrices: () => Promise.reject(new Error('Could not load credentials from any providers')) });
    const f = await run(['catalog', '--family', 'p5', '--live-spot'], { spotSource: failing });
    expect(f.code).toBe(1);
    expect(f.out).toBe('');
    expect(f.err).toBe('orca catalog: cannot read spot prices in us-east-1 (DescribeSpotPriceHistory): Could not load credentials from any providers; check the AWS credentials (ec2:DescribeSpotPriceHistory) or leave out --live-spot\n');
  });

  it('uses --region, else the config\'s region; a region without a price file has no prices', async () => {
    const r = await run(['catalog', '--region', 'eu-west-1', '--family', 'p5']);
    expect(r.out).toMatch(/^p5\.48xlarge .*2048Gi\s+-\s+-$/m);
    expect(r.out).not.toContain('block');
    expect(r.out).toMatch(/ON-DEMAND: the catalog has no on-demand prices for eu-west-1/);
    const eu = file('config.yaml', 'aws: {region: eu-west-1}\nnode: {name: x}\n');
    expect((await run(['-c', eu, 'catalog', '-o', 'json'])).out).toMatch(/"region": "eu-west-1"/);
  });

  it('colours the header only on a terminal, and never with NO_COLOR', async () => {
    expect((await run(['catalog'], { tty: true })).out.startsWith('\u001b[1mTYPE')).toBe(true);
    expect((await run(['catalog'], { tty: true, env: { NO_COLOR: '1' } })).out).not.toContain('\u001b[');
    expect((await run(['catalog'])).out).not.toContain('\u001b[');
    expect((await run(['validate', JOB], { tty: true })).out).toContain('\u001b[32mvalid\u001b[0m');
  });

  it.each([
    ['a region that is not one', ['catalog', '--region', 'mars'], /--region mars: expected an AWS region such as us-east-1/, undefined],
    ['a malformed spot file', ['catalog'], /cannot read the instance catalog in .*spot\/us-east-1\.json: not JSON/, '{'],
    ['a spot file of the wrong shape', ['catalog'], /spot\/us-east-1\.json: usdPerHour\.p5\.48xlarge\.us-east-1a: /, { region: 'us-east-1', source: 's', readAt: 'r', usdPerHour: { 'p5.48xlarge': { 'us-east-1a': -1 } } }],
  ])('exits 2 for %s', async (_what, args, message, spot) => {
    const r = await run(args, { catalogDir: catalogDir(spot) });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  it('refuses an output format or accelerator it does not know', async () => {
    await expect(run(['catalog', '-o', 'csv'])).rejects.toThrow(/Allowed choices are table, json, yaml/);
    await expect(run(['catalog', '--accelerator', 'tpu'])).rejects.toThrow(/Allowed choices are nvidia, neuron, none/);
  });
});
