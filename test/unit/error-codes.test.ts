// Every ORCA_ERR_* code is documented in docs/errors.md, and every documented code exists.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorCodes } from '../../src/domain/errors.js';
import { repoRoot } from '../e2e/testbed/paths.js';

describe('error codes', () => {
  it('match docs/errors.md in both directions', () => {
    const doc = readFileSync(join(repoRoot, 'docs', 'errors.md'), 'utf8');
    const documented = [...doc.matchAll(/^## (ORCA_ERR_[A-Z_]+)$/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...errorCodes].sort());
  });
});
