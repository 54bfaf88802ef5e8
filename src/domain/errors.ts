/**
 * ORCA's typed errors. Every error a user or an operator can meet has a stable `ORCA_ERR_*` code,
 * documented in docs/errors.md (a unit test keeps the two in step). Each class carries its code as
 * a static, so the code list below is derived from `errorClasses`, where every class is listed once.
 */
export abstract class OrcaError extends Error {
  abstract readonly code: `ORCA_ERR_${string}`;
}

/** The configuration (file, flags) is invalid; `problems` lists every problem found, not just the first. */
export class ConfigError extends OrcaError {
  static readonly code = 'ORCA_ERR_CONFIG';
  readonly code = ConfigError.code;
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
  static readonly code = 'ORCA_ERR_POD_REJECTED';
  readonly code = PodRejectedError.code;
  constructor(readonly reason: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PodRejectedError';
  }
}

/**
 * A provider call kept failing for a pod with errors that may be transient; ORCA gave up and failed
 * the pod. The last error is the cause. `reason` is the status and Event reason of every failed
 * attempt and of the failure.
 */
export class ProviderFailedError extends OrcaError {
  static readonly code = 'ORCA_ERR_PROVIDER_FAILED';
  static readonly reason = 'ProviderFailed';
  readonly code = ProviderFailedError.code;
  readonly reason = ProviderFailedError.reason;
  constructor(readonly attempts: number, options?: ErrorOptions) {
    super(`gave up after ${attempts} attempts`, options);
    this.name = 'ProviderFailedError';
  }
}

/**
 * A container's environment refers to a ConfigMap, Secret or key that does not exist (yet). Transient,
 * as for a kubelet: the pod waits with reason CreateContainerConfigError and is retried.
 */
export class ConfigRefError extends OrcaError {
  static readonly code = 'ORCA_ERR_CONFIG_REF';
  readonly code = ConfigRefError.code;
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
  static readonly code = 'ORCA_ERR_LAUNCH';
  readonly code = LaunchError.code;
  constructor(readonly kind: LaunchErrorKind, readonly awsCode: string, message: string, options?: ErrorOptions) {
    super(`${awsCode}: ${message}`, options);
    this.name = 'LaunchError';
  }
}

/**
 * EC2 refused to terminate instances: `protected` ones run with termination protection
 * (OperationNotPermitted) — ORCA lifts it and terminates them again; `refused` ones are in a state
 * EC2 will not terminate from (IncorrectInstanceState …). EC2 then terminates none of the call's
 * instances, so ORCA sends the others again without them. `instanceIds` are the ones EC2 named.
 */
export class TerminateRefusedError extends OrcaError {
  static readonly code = 'ORCA_ERR_TERMINATE_REFUSED';
  readonly code = TerminateRefusedError.code;
  constructor(readonly reason: 'protected' | 'refused', readonly instanceIds: readonly string[], message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TerminateRefusedError';
  }
}

/**
 * An exec, attach or port-forward request cannot start: the pod or container does not exist or does
 * not run, or the node's or the pod's session limit is reached. `status` is the HTTP status a
 * kubelet answers with (404, 429 or 500), `message` its text (kubectl shows it after
 * "unable to upgrade connection:").
 */
export class StreamRefusedError extends OrcaError {
  static readonly code = 'ORCA_ERR_STREAM_REFUSED';
  readonly code = StreamRefusedError.code;
  constructor(readonly status: 404 | 429 | 500, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StreamRefusedError';
  }
}

export type SessionErrorKind =
  | 'not-connected' | 'unauthorized' | 'throttled' | 'invalid-document' | 'encryption-unsupported'
  | 'handshake' | 'protocol' | 'closed' | 'timeout' | 'helper' | 'unknown';

/**
 * A Session Manager session (exec, attach, port-forward) failed: StartSession refused
 * (`not-connected`: the instance's SSM agent is not registered yet), the data channel broke or
 * misbehaved, the account requires KMS session encryption (not supported yet), or the exec helper
 * on the instance could not start.
 */
export class SessionError extends OrcaError {
  static readonly code = 'ORCA_ERR_SESSION';
  readonly code = SessionError.code;
  constructor(readonly kind: SessionErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SessionError';
  }
}

/** What stops ORCA before it starts its controllers; each has its own exit code (src/preflight/exit-codes.ts). */
export type StartupProblem =
  | 'no-kubeconfig' | 'apiserver-unreachable' | 'kube-unauthorized' | 'rbac'
  | 'aws-credentials' | 'unknown-region' | 'missing-subnets' | 'missing-security-groups';

/**
 * A start-up check failed: ORCA cannot work as configured, and retrying will not help. `message` names
 * the problem, `fix` what to do about it; ORCA prints both on one line of stderr and exits.
 */
export class StartupError extends OrcaError {
  static readonly code = 'ORCA_ERR_STARTUP';
  readonly code = StartupError.code;
  constructor(readonly problem: StartupProblem, message: string, readonly fix: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StartupError';
  }
}

/** Every ORCA error class, each once: the codes below and the docs check come from this list. */
export const errorClasses = [ConfigError, PodRejectedError, ProviderFailedError, ConfigRefError, LaunchError, TerminateRefusedError, StreamRefusedError, SessionError, StartupError] as const;

export type OrcaErrorCode = (typeof errorClasses)[number]['code'];

/** Every code ORCA defines, for the documentation check. */
export const errorCodes: readonly OrcaErrorCode[] = errorClasses.map((c) => c.code);
