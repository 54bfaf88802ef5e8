// docs/annotations.md carries the table generated from the annotation registry (npm run docs:annotations).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { annotationTable, docFile } from '../../scripts/annotation-docs.js';

describe('docs/annotations.md', () => {
  it('holds the current table of every orca.research/* annotation', () => {
    expect(readFileSync(docFile, 'utf8')).toContain(annotationTable());
  });
});
