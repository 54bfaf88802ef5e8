// The shipped examples stay valid: the config example parses with the same code ORCA runs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { repoRoot } from '../e2e/testbed/paths.js';

describe('examples/config.yaml', () => {
  it('is a valid configuration', () => {
    const r = parseConfig(readFileSync(join(repoRoot, 'examples', 'config.yaml'), 'utf8'));
    expect(r.ok ? r.value.node.name : r.error.problems).toBe('orca-aws-gpu');
  });
});
