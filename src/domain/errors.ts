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

/**
 * The provider can never run this pod as specified (bad annotation, unsupported volume, no such
 * instance type …). `reason` is the pod status reason and Event reason, in UpperCamelCase.
 */
export class PodRejectedError extends OrcaError {
  readonly code = 'ORCA_ERR_POD_REJECTED';
  constructor(readonly reason: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PodRejectedError';
  }
}

/** A provider call kept failing for a pod; ORCA gave up and failed the pod. */
export class ProviderFailedError extends OrcaError {
  readonly code = 'ORCA_ERR_PROVIDER_FAILED';
  constructor(readonly attempts: number, options?: ErrorOptions) {
    super(`the provider failed ${attempts} times`, options);
    this.name = 'ProviderFailedError';
  }
}

/**
 * A container's environment refers to a ConfigMap, Secret or key that does not exist (yet). Transient,
 * as for a kubelet: the pod waits with reason CreateContainerConfigError and is retried.
 */
export class ConfigRefError extends OrcaError {
  readonly code = 'ORCA_ERR_CONFIG_REF';
  readonly reason = 'CreateContainerConfigError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigRefError';
  }
}

export type LaunchErrorKind =
  | 'capacity' | 'quota' | 'reservation-full' | 'unsupported' | 'throttled' | 'unauthorized' | 'invalid' | 'idempotency' | 'unknown';

/**
 * EC2 refused a launch. `kind` says what ORCA does next: capacity, reservation-full and unsupported
 * mark the offering unavailable and move on; quota and unauthorized need an admin; invalid is the
 * pod's or the config's fault; throttled was already retried by the SDK.
 */
export class LaunchError extends OrcaError {
  readonly code = 'ORCA_ERR_LAUNCH';
  constructor(readonly kind: LaunchErrorKind, readonly awsCode: string, message: string, options?: ErrorOptions) {
    super(`${awsCode}: ${message}`, options);
    this.name = 'LaunchError';
  }
}

/** Every code ORCA defines, for the documentation check. */
export const errorCodes = ['ORCA_ERR_CONFIG', 'ORCA_ERR_POD_REJECTED', 'ORCA_ERR_PROVIDER_FAILED', 'ORCA_ERR_CONFIG_REF', 'ORCA_ERR_LAUNCH'] as const;
