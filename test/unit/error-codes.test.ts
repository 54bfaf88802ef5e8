// Every ORCA_ERR_* code is documented in docs/errors.md, and every documented code exists; every
// error class is listed once in errorClasses, so no code can be left out of the list.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as errors from '../../src/domain/errors.js';
import { repoRoot } from '../e2e/testbed/paths.js';

const { errorClasses, errorCodes, OrcaError } = errors;

describe('error codes', () => {
  it('match docs/errors.md in both directions', () => {
    const doc = readFileSync(join(repoRoot, 'docs', 'errors.md'), 'utf8');
    const documented = [...doc.matchAll(/^## (ORCA_ERR_[A-Z_]+)$/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...errorCodes].sort());
  });

  it('come from errorClasses, which lists every error class of src/domain/errors.ts once, each with its own code', () => {
    const isErrorClass = (v: unknown): v is abstract new (...args: never[]) => errors.OrcaError => typeof v === 'function' && v.prototype instanceof OrcaError;
    const defined = Object.values(errors as Record<string, unknown>).filter(isErrorClass);
    expect(errorClasses.map((c) => c.name).sort()).toEqual(defined.map((c) => c.name).sort());
    expect(new Set(errorCodes).size).toBe(errorClasses.length);
    expect(errorCodes).toEqual(errorClasses.map((c) => c.code));
  });

  it('are carried by the errors themselves', () => {
    const cause = new Error('AWS is down');
    const failed = new errors.ProviderFailedError(5, { cause });
    expect(failed).toMatchObject({ code: 'ORCA_ERR_PROVIDER_FAILED', reason: 'ProviderFailed', attempts: 5, message: 'gave up after 5 attempts', cause });
    expect(new errors.PodRejectedError('InvalidAnnotation', 'bad').code).toBe(errors.PodRejectedError.code);
    expect(new errors.ConfigError(['x']).code).toBe(errors.ConfigError.code);
    expect(new errors.ConfigRefError('missing').code).toBe(errors.ConfigRefError.code);
    expect(new errors.LaunchError('capacity', 'InsufficientInstanceCapacity', 'none').code).toBe(errors.LaunchError.code);
  });
});
