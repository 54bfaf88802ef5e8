/**
 * ORCA's typed errors. Every error a user or an operator can meet has a stable `ORCA_ERR_*` code,
 * documented in docs/errors.md (a unit test keeps the two in step).
 */
export abstract class OrcaError extends Error {
  abstract readonly code: `ORCA_ERR_${string}`;
}

/** The configuration (file, flags) is invalid; `problems` lists every problem found, not just the first. */
export class ConfigError extends OrcaError {
  readonly code = 'ORCA_ERR_CONFIG';
  constructor(readonly problems: readonly string[], options?: ErrorOptions) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`, options);
    this.name = 'ConfigError';
  }
}

/** Every code ORCA defines, for the documentation check. */
export const errorCodes = ['ORCA_ERR_CONFIG'] as const;
