// deploy/helm/orca/values.schema.json is generated from scripts/helm/chart-values.ts (`npm run
// helm:schema`); this fails when the checked-in file is stale. The zod schema it comes from accepts
// the chart's own values.yaml and refuses what helm must refuse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ChartValuesSchema, valuesJsonSchema } from '../../scripts/helm/chart-values.js';
import { schemaFile } from '../../scripts/helm-values-schema.js';
import { repoRoot } from '../e2e/testbed/paths.js';

const chartDir = join(repoRoot, 'deploy', 'helm', 'orca');
const defaults = (): Record<string, unknown> => parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Record<string, unknown>;

/** Values merged as helm merges a values file over the chart's: maps key by key, everything else replaced. */
function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isMap(b) && isMap(v) ? deepMerge(b, v) : v;
  }
  return out;
}

describe('values.schema.json', () => {
  it('is what `npm run helm:schema` writes (run it after changing the chart values or the config schema)', () => {
    expect(schemaFile).toBe(join(chartDir, 'values.schema.json'));
    expect(readFileSync(schemaFile, 'utf8')).toBe(valuesJsonSchema());
  });

  it('is a draft-07 schema that refuses unknown keys at the top level and inside config', () => {
    const schema = JSON.parse(valuesJsonSchema()) as { $schema: string; additionalProperties: unknown; properties: { config: { additionalProperties: unknown; required: string[] } } };
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.config.additionalProperties).toBe(false);
    expect(schema.properties.config.required).toEqual(['aws', 'node']);
  });
});

describe('the chart values schema', () => {
  it('accepts the chart\'s values.yaml, whose config supplies the required node.name and aws.region', () => {
    const parsed = ChartValuesSchema.safeParse(defaults());
    expect(parsed.error?.issues).toBeUndefined();
    expect(parsed.data?.config.node.name).toBe('orca-aws');
    expect(parsed.data?.config.aws.region).toBe('us-east-1');
  });

  it('accepts the full values of the chart tests once merged over the defaults', () => {
    const full = parse(readFileSync(join(repoRoot, 'test', 'fixtures', 'helm', 'full-values.yaml'), 'utf8')) as Record<string, unknown>;
    const merged = deepMerge(defaults(), full);
    expect(ChartValuesSchema.safeParse(merged).error?.issues).toBeUndefined();
  });

  it.each([
    [{ replicaCount: 1 }, [], 'unrecognized_keys: replicaCount'],
    [{ config: { ...(defaults().config as object), nodes: {} } }, ['config'], 'unrecognized_keys: nodes'],
    [{ awsCredentials: { source: 'vault', irsaRoleArn: '', secretName: '' } }, ['awsCredentials', 'source'], 'invalid_value'],
    [{ replicas: 2 }, ['replicas'], 'too_big'],
  ])('refuses %j at %j', (patch, path, code) => {
    const parsed = ChartValuesSchema.safeParse({ ...defaults(), ...patch });
    const keys = (i: { code: string; keys?: string[] }): string => (i.keys === undefined ? '' : `: ${i.keys.join(',')}`);
    expect(parsed.error?.issues.map((i) => [i.path, `${i.code}${keys(i)}`])).toEqual([[path, code]]);
  });
});
