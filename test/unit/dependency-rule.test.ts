// The dependency rule is only worth something if it fails: prove it on a fixture with leaky imports.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../e2e/testbed/paths.js';

const depcruise = join(repoRoot, 'node_modules', '.bin', 'depcruise');
const config = join(repoRoot, '.dependency-cruiser.cjs');

async function cruise(cwd: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await promisify(execFile)(depcruise, ['src', '--config', config, '--output-type', 'err'], { cwd });
    return { code: 0, out: stdout };
  } catch (e) {
    const x = e as { code: number; stdout: string };
    return { code: x.code, out: x.stdout };
  }
}

describe('the dependency rule', () => {
  it('rejects the pure core importing the AWS SDK, naming the rule and the import', async () => {
    const r = await cruise(join(repoRoot, 'test', 'fixtures', 'depcheck'));
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/error aws-sdk-only-in-aws: src\/domain\/leaky\.ts → .*@aws-sdk\/client-ec2/);
    expect(r.out).toMatch(/error pure-core-has-no-packages: src\/domain\/leaky\.ts/);
    expect(r.out).not.toContain('src/aws/fine.ts →');
  });

  it('rejects a controller importing the EC2 orchestration instead of the provider contract', async () => {
    const r = await cruise(join(repoRoot, 'test', 'fixtures', 'depcheck'));
    expect(r.out).toMatch(/error controllers-use-the-provider-contract: src\/controllers\/peeking\.ts → src\/ec2\/ec2-provider\.ts/);
  });

  it('accepts the project as it is', async () => {
    const r = await cruise(repoRoot);
    expect(r.out).toContain('no dependency violations found');
    expect(r.code).toBe(0);
  });
});
