// Every orca.research/* key ORCA uses is in one registry (src/domain/keys.ts), explained in the
// document the registry names; and every such key a document mentions is a real one.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyRegistry } from '../../src/domain/keys.js';
import { repoRoot } from '../e2e/testbed/paths.js';

const read = (file: string): string => readFileSync(join(repoRoot, file), 'utf8');
const documents = ['README.md', ...readdirSync(join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

describe('the registry of orca.research/* keys', () => {
  it('has each key once, and each is explained in the document it names', () => {
    const keys = keyRegistry.map((e) => `${e.kind} ${e.key}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const e of keyRegistry) expect(read(e.doc), `${e.key} in ${e.doc}`).toContain(`\`${e.prefix === true ? `${e.key}<` : e.key}`);
  });

  it('knows every orca.research/* key the documents mention', () => {
    const known = (k: string): boolean => keyRegistry.some((e) => (e.prefix === true ? k.startsWith(e.key) : k === e.key));
    for (const doc of documents) {
      const mentioned = [...read(doc).matchAll(/orca\.research\/([A-Za-z][A-Za-z0-9-]*(\/[<*]?[A-Za-z]*>?)?)/g)].map((m) => `orca.research/${m[1] ?? ''}`);
      for (const k of mentioned) expect(known(k), `${k} in ${doc}`).toBe(true);
    }
  });
});
