/**
 * What each ORCA_ERR_* code means to the person who meets it: what went wrong, what they see, and
 * how to fix it. A Record over every code, so a new error class cannot go undocumented; the table
 * of docs/errors.md is generated from it (npm run docs:generate).
 */
import type { OrcaErrorCode } from './errors.js';

export interface ErrorDoc {
  /** What went wrong, in one sentence. */
  readonly meaning: string;
  /** Where and how it shows: exit code, pod status and Event reason, kubectl's message, a log line. */
  readonly seen: string;
  /** What to do about it. */
  readonly fix: string;
}

export const errorDocs: Readonly<Record<OrcaErrorCode, ErrorDoc>> = {
  ORCA_ERR_STARTUP: {
    meaning: 'A start-up check failed: ORCA cannot work as configured, and trying again would not help (no kubeconfig, an unreachable apiserver, missing RBAC, no AWS credentials, an unknown region, subnets or security groups that do not exist).',
    seen: 'One line on stderr, the problem and then `Fix:` and what to do; ORCA exits before it starts anything, with the code of the problem (3–10).',
    fix: 'Do what the line says; `orca doctor` runs the same checks and more, and prints them all at once.',
  },
  ORCA_ERR_CONFIG: {
    meaning: 'The configuration file or a command-line flag is invalid.',
    seen: 'ORCA prints every problem, one per line naming the key, and exits with code 2 before it starts anything.',
    fix: 'Fix the keys named (docs/configuration.md) and start again.',
  },
  ORCA_ERR_POD_REJECTED: {
    meaning: 'The pod can never run as it is specified (a bad `orca.research/*` annotation, an unsupported volume, an unknown instance type …).',
    seen: 'The pod ends `Failed` with the reason (e.g. `InvalidAnnotation`) and message, and a Warning Event of that reason; nothing is launched.',
    fix: 'Fix the pod spec and create the pod again.',
  },
  ORCA_ERR_PROVIDER_FAILED: {
    meaning: 'A provider call for the pod kept failing with errors that may be transient (an AWS API error, a timeout).',
    seen: 'A Warning Event `ProviderFailed` per failure while ORCA retries; after 5 attempts the pod ends `Failed`, reason `ProviderFailed`, message `gave up after 5 attempts: …`.',
    fix: 'Read the last error in the message; a Job retries the pod. Persistent failures usually mean IAM or networking (docs/operations.md).',
  },
  ORCA_ERR_CONFIG_REF: {
    meaning: 'A container\'s `env` or `envFrom` names a ConfigMap, Secret or key that does not exist and is not `optional`.',
    seen: 'The pod stays `Pending`, reason `CreateContainerConfigError`, with a Warning Event naming what is missing; after 5 attempts it ends `Failed`.',
    fix: 'Create the ConfigMap or Secret (or the key); the next attempt starts the pod.',
  },
  ORCA_ERR_LAUNCH: {
    meaning: 'EC2 refused to launch an instance; the message starts with AWS\'s error code.',
    seen: 'An Event on the pod per attempt; capacity errors move on to the next offering, quota and permission errors wait for an administrator.',
    fix: 'Capacity: allow more types, zones or capacity types. Quota: raise the EC2 quota. `UnauthorizedOperation`: fix ORCA\'s IAM policy (docs/iam.md).',
  },
  ORCA_ERR_TERMINATE_REFUSED: {
    meaning: 'EC2 refused to terminate instances (termination protection, or a state it will not terminate from).',
    seen: 'A warning log line with this code at each poll until EC2 reports the instances shutting down; the pod\'s deletion may be delayed.',
    fix: 'Usually nothing: ORCA lifts termination protection itself. If it repeats, check `ec2:ModifyInstanceAttribute` in ORCA\'s policy.',
  },
  ORCA_ERR_STREAM_REFUSED: {
    meaning: 'A `kubectl exec`, `attach`, `cp` or `port-forward` could not start; nothing ran.',
    seen: 'kubectl prints the kubelet\'s answer after `unable to upgrade connection:` — pod not here (404), `container not found ("<name>")`, or the session limit reached (429).',
    fix: 'Wait for the container to run, name an existing container, or close sessions (`kubeletApi.streams`).',
  },
  ORCA_ERR_SESSION: {
    meaning: 'A Session Manager session on the pod\'s instance failed.',
    seen: 'kubectl prints `error executing command in container: …` with the kind (`not-connected`, `unauthorized`, `helper`, …).',
    fix: '`not-connected`: retry once the instance\'s SSM agent registered, or give the subnet a route to SSM; `unauthorized`: ORCA\'s IAM policy (docs/iam.md).',
  },
};
