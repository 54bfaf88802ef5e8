// npm run catalog:refresh over the EC2 wire protocol (moto), as an operator runs it.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CatalogData } from '../../src/catalog/types.js';
import { repoRoot } from './testbed/paths.js';
import { runCommand } from './testbed/testbed.js';
import { awsClientConfig } from './fixture.js';

describe('catalog refresh', () => {
  it('writes every accelerated family with accelerator facts read from DescribeInstanceTypes', async () => {
    const out = mkdtempSync(join(tmpdir(), 'orca-catalog-'));
    const aws = awsClientConfig();
    const r = await runCommand(join(repoRoot, 'node_modules', '.bin', 'tsx'), [
      join(repoRoot, 'scripts', 'catalog-refresh.ts'), '--region', aws.region, '--no-prices', '--endpoint', aws.endpoint, '--out', out,
    ], { AWS_ACCESS_KEY_ID: aws.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: aws.credentials.secretAccessKey });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('override trn2.48xlarge accelerator.memoryMiB: 524288 -> 98304');
    const data = JSON.parse(readFileSync(join(out, 'instance-types.json'), 'utf8')) as CatalogData;
    const byType = new Map(data.types.map((t) => [t.type, t]));
    expect(byType.get('p5.48xlarge')).toMatchObject({ vcpus: 192, efaInterfaces: 32, accelerator: { kind: 'nvidia', model: 'H100', count: 8 } });
    expect(byType.get('p6-b200.48xlarge')?.accelerator).toMatchObject({ model: 'B200', count: 8 });
    // DescribeInstanceTypes says 512 GiB per Trainium2 device; the refresh writes the documented 96 GiB (src/catalog/overrides.ts).
    expect(byType.get('trn2.48xlarge')?.accelerator).toMatchObject({ kind: 'neuron', model: 'Trainium2', count: 16, coresPerDevice: 8, memoryMiB: 98_304 });
    expect(byType.get('inf2.xlarge')?.accelerator).toMatchObject({ kind: 'neuron', model: 'Inferentia2', count: 1 });
    for (const family of ['p5e', 'p5en', 'p4d', 'p4de', 'g6e', 'g6', 'g5', 'trn1', 'trn1n', 'c7i']) {
      expect(data.types.some((t) => t.type.startsWith(`${family}.`)), family).toBe(true);
    }
    expect(data.types.every((t) => !t.type.startsWith('m5.'))).toBe(true);
  });
});
