// The generated parts of the documentation (npm run docs:generate) are current: the key reference
// of docs/configuration.md, the metrics list of docs/operations.md and the error table of
// docs/errors.md. A stale part fails here, naming the command that rewrites it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { keyRows, typeOf } from '../../scripts/docs/config-reference.js';
import { orcaMetrics } from '../../scripts/docs/metrics-list.js';
import { markedPart, replacePart } from '../../scripts/docs/markers.js';
import { generatedParts, repoDir } from '../../scripts/generate-docs.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { errorDocs } from '../../src/domain/error-docs.js';
import { errorCodes } from '../../src/domain/errors.js';

const read = (file: string): string => readFileSync(join(repoDir, file), 'utf8');

function unwrap(t: z.ZodType): z.ZodType {
  let cur = t;
  while (cur instanceof z.ZodDefault || cur instanceof z.ZodPrefault || cur instanceof z.ZodOptional) cur = cur.unwrap() as z.ZodType;
  return cur;
}

/** The leaf keys of a zod object, walked on the zod schema itself (not on its JSON Schema). */
function leafKeys(t: z.ZodType, prefix = ''): string[] {
  const inner = unwrap(t);
  if (!(inner instanceof z.ZodObject)) return [prefix];
  return Object.entries(inner.shape as Record<string, z.ZodType>).flatMap(([k, v]) => leafKeys(v, prefix === '' ? k : `${prefix}.${k}`));
}

describe('the generated parts of the documentation', () => {
  it.each(generatedParts().map((p) => [`${p.file} (${p.name})`, p] as const))('%s is current; else run npm run docs:generate', (_, part) => {
    expect(read(part.file)).toContain(markedPart(part));
  });

  it('are replaced between their markers only, and a missing marker is an error', () => {
    const part = { file: 'x.md', name: 'p', body: 'new' };
    const doc = `before\n${markedPart({ ...part, body: 'old' })}\nafter`;
    expect(replacePart(doc, part)).toBe(`before\n${markedPart(part)}\nafter`);
    expect(() => replacePart('no markers here', part)).toThrow('x.md: the markers of p are missing');
  });
});

describe('the configuration reference', () => {
  it('has a row for every key of ConfigSchema, each with a description', () => {
    const doc = read('docs/configuration.md').split('config-keys:begin')[1]?.split('config-keys:end')[0] ?? '';
    const documented = [...doc.matchAll(/^\| `([^`]+)` \| (?!section)[^|]+\|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(leafKeys(ConfigSchema).sort());
    const undescribed = [...doc.matchAll(/^\| `([^`]+)` \|[^\n]*\| {2}\|$/gm)].map((m) => m[1]);
    expect(undescribed).toEqual([]);
  });

  it('says what a key takes, its default, and that a key without one is required or unset', () => {
    const rows = keyRows({
      type: 'object', required: ['name'],
      properties: {
        name: { type: 'string', description: 'the name' },
        port: { type: 'integer', minimum: 1, maximum: 65535, default: 80, description: 'a port' },
        mode: { type: 'string', enum: ['a', 'b'], description: 'a | or b' },
        sub: { type: 'object', properties: { ids: { type: 'array', items: { type: 'string', title: '`id-…`' }, default: [] } } },
      },
    });
    expect(rows).toEqual([
      '| `name` | string | **required** | the name |',
      '| `port` | integer 1–65535 | `80` | a port |',
      '| `mode` | `a`, `b` | unset | a \\| or b |',
      '| `sub.ids` | list of `id-…` | `[]` |  |',
    ]);
    expect(typeOf({ type: 'object', additionalProperties: { type: 'string' } })).toBe('map of name → string');
    expect(typeOf({ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER })).toBe('integer ≥ 0');
  });
});

describe('the metrics list', () => {
  it('holds ORCA\'s metrics with their type and labels, and not the process metrics', () => {
    const metrics = orcaMetrics();
    expect(metrics.find((m) => m.name === 'orca_instance_launches_total')).toMatchObject({ type: 'counter', labelNames: ['instance_type', 'market', 'outcome'] });
    expect(metrics.every((m) => m.name.startsWith('orca_') && m.help !== '')).toBe(true);
    expect(metrics.map((m) => m.name)).not.toContain('orca_process_cpu_seconds_total');
    expect(metrics.map((m) => m.name)).not.toContain('orca_nodejs_eventloop_lag_seconds');
  });
});

describe('the error table', () => {
  it('documents every code: what it means, what the user sees, the fix', () => {
    for (const code of errorCodes) {
      const d = errorDocs[code];
      expect([d.meaning, d.seen, d.fix].every((s) => s.length > 20), code).toBe(true);
    }
  });
});
