// `orca validate` and `orca catalog` as a user runs them: the built binary, in its own process, with
// the fixtures of test/fixtures/cli/. Neither needs a cluster or AWS: they read files only.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixture = (name: string): string => `test/fixtures/cli/${name}`;

/** Runs dist/main.js with `args` from the repository root, with no AWS credentials or region in its environment. */
async function orca(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };
  try {
    const r = await promisify(execFile)(process.execPath, ['dist/main.js', ...args], { cwd: root, env, timeout: 60_000 });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: x.code ?? -1, out: x.stdout ?? '', err: x.stderr ?? '' };
  }
}

describe('the orca CLI\'s offline tools', () => {
  it('validate prints the offerings of the example Job in order and exits 0', async () => {
    const r = await orca('validate', fixture('train-job.yaml'), '--config', fixture('config.yaml'));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Job ml\/train-llm \(pod template\): valid$/m);
    expect(r.out).toMatch(/^ {2}1 {2}p5\.48xlarge {2}spot {7}us-east-1a {2}subnet-0123456789abcdef0 {2}<=55\.0400 {2}8 H100 80Gi$/m);
    expect(r.out).toMatch(/^ {2}4 {2}p5\.48xlarge {2}on-demand {2}us-east-1b {2}subnet-0fedcba9876543210 {4}55\.0400 {2}8 H100 80Gi$/m);
    expect(r.out).toContain('price ceiling: 55.0400 USD/h');
    expect(r.out).not.toContain('\u001b[');
    expect(Math.max(...r.out.split('\n').map((l) => l.length))).toBeLessThanOrEqual(100);
  });

  it('validate exits 1 with each problem on its own line, and 2 for a file that is not there', async () => {
    const bad = await orca('validate', fixture('bad-pod.yaml'));
    expect(bad.code).toBe(1);
    expect(bad.out.split('\n').filter((l) => l.startsWith('  x '))).toEqual([
      '  x InvalidAnnotation: orca.research/launch-type: "spot,cheapest" expected a comma-separated order',
      '  x InvalidAnnotation: orca.research/spot-max-price: "3.50" is not an ORCA annotation: use',
    ]);
    const missing = await orca('validate', fixture('no-such-file.yaml'));
    expect(missing.code).toBe(2);
    expect(missing.err).toBe('orca validate: cannot read file test/fixtures/cli/no-such-file.yaml: ENOENT\n');
  });

  it('catalog -o json lists the shipped types with their accelerators and us-east-1 prices', async () => {
    const r = await orca('catalog', '-o', 'json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as { region: string; spot: unknown; types: { type: string; accelerator: { model: string; count: number } | null; onDemandUsdPerHour: number | null }[] };
    expect(report.region).toBe('us-east-1');
    expect(report.spot).toBeNull();
    expect(report.types.find((t) => t.type === 'p5.48xlarge')).toMatchObject({ accelerator: { model: 'H100', count: 8 }, onDemandUsdPerHour: 55.04 });
    expect(report.types.find((t) => t.type === 'trn2.48xlarge')).toMatchObject({ accelerator: { model: 'Trainium2' }, onDemandUsdPerHour: null });
    expect(report.types.length).toBeGreaterThan(100);
  });
});
