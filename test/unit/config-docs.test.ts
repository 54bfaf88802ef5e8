// docs/configuration.md documents every key the schema accepts, and nothing else.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigSchema } from '../../src/config/schema.js';
import { repoRoot } from '../e2e/testbed/paths.js';

function unwrap(t: z.ZodType): z.ZodType {
  let cur = t;
  while (cur instanceof z.ZodDefault || cur instanceof z.ZodPrefault || cur instanceof z.ZodOptional) {
    cur = cur.unwrap() as z.ZodType;
  }
  return cur;
}

function leafKeys(t: z.ZodType, prefix = ''): string[] {
  const inner = unwrap(t);
  if (!(inner instanceof z.ZodObject)) return [prefix];
  return Object.entries(inner.shape as Record<string, z.ZodType>)
    .flatMap(([k, v]) => leafKeys(v, prefix === '' ? k : `${prefix}.${k}`));
}

describe('docs/configuration.md', () => {
  it('lists exactly the keys of the config schema', () => {
    const doc = readFileSync(join(repoRoot, 'docs', 'configuration.md'), 'utf8');
    const keysSection = doc.split('## Keys')[1]?.split('\n## ')[0] ?? '';
    const documented = [...keysSection.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(leafKeys(ConfigSchema).sort());
  });
});
