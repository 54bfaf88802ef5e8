// Every exit code of the orca CLI, in one place (docs/configuration.md, "Exit codes", lists them).
import type { StartupProblem } from '../domain/errors.js';

export const exitCodes = {
  /** Stopped cleanly (SIGTERM/SIGINT), or a subcommand did what it was asked. */
  ok: 0,
  /** Failed: an unexpected error, or `orca doctor` found a failing check. */
  failed: 1,
  /** The config file is missing or invalid. */
  config: 2,
  'no-kubeconfig': 3,
  'apiserver-unreachable': 4,
  'kube-unauthorized': 5,
  rbac: 6,
  'aws-credentials': 7,
  'unknown-region': 8,
  'missing-subnets': 9,
  'missing-security-groups': 10,
} as const satisfies Record<'ok' | 'failed' | 'config' | StartupProblem, number>;

export function exitCodeOf(problem: StartupProblem): number {
  return exitCodes[problem];
}
