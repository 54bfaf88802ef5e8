// Writes the generated parts of the documentation, each between its markers: the key reference of
// docs/configuration.md (from ConfigSchema), the metrics list of docs/operations.md (from the
// metric definitions) and the error table of docs/errors.md (from the error registry).
// `npm run docs:generate` rewrites them; test/unit/generated-docs.test.ts fails when one is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configReference } from './docs/config-reference.js';
import { errorTable } from './docs/error-table.js';
import { replacePart, type GeneratedPart } from './docs/markers.js';
import { metricsList } from './docs/metrics-list.js';

export const repoDir = join(import.meta.dirname, '..');

export function generatedParts(): GeneratedPart[] {
  return [configReference(), metricsList(), errorTable()];
}

if (process.argv[1]?.endsWith('generate-docs.ts') === true) {
  for (const part of generatedParts()) {
    const file = join(repoDir, part.file);
    writeFileSync(file, replacePart(readFileSync(file, 'utf8'), part));
  }
}
