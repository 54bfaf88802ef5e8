// Writes deploy/helm/orca/values.schema.json from the chart's zod schema (scripts/helm/chart-values.ts).
// `npm run helm:schema` rewrites it; test/unit/helm-values-schema.test.ts fails when it is stale.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { valuesJsonSchema } from './helm/chart-values.js';

export const schemaFile = join(import.meta.dirname, '..', 'deploy', 'helm', 'orca', 'values.schema.json');

if (process.argv[1]?.endsWith('helm-values-schema.ts') === true) writeFileSync(schemaFile, valuesJsonSchema());
