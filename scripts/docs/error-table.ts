// The table of docs/errors.md, from the error registry: every code with its meaning, what the user
// sees and the fix (src/domain/error-docs.ts), in the order of src/domain/errors.ts.
import { errorDocs } from '../../src/domain/error-docs.js';
import { errorCodes } from '../../src/domain/errors.js';
import { cell, type GeneratedPart } from './markers.js';

export function errorTable(): GeneratedPart {
  const rows = errorCodes.map((code) => {
    const d = errorDocs[code];
    return `| [\`${code}\`](#${code.toLowerCase()}) | ${cell(d.meaning)} | ${cell(d.seen)} | ${cell(d.fix)} |`;
  });
  return { file: 'docs/errors.md', name: 'error-codes', body: ['| code | meaning | what you see | fix |', '|---|---|---|---|', ...rows].join('\n') };
}
