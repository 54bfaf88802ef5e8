// The start-up checks wired to the real adapters: the kubeconfig ORCA will use, the apiserver's answers
// about ORCA's permissions, and (with subnets configured) EC2's about the region, subnets and
// security groups. Prints one line on stderr and gives the exit code when ORCA must not start.
import type { Config } from './config/schema.js';
import { StartupError } from './domain/errors.js';
import { createAwsProbe } from './aws/preflight-api.js';
import { loadKubeConfig } from './k8s/client.js';
import { createKubeProbe } from './k8s/preflight-api.js';
import { exitCodeOf } from './preflight/exit-codes.js';
import { rulesFor } from './preflight/permissions.js';
import { runStartupChecks, startupLine } from './preflight/startup.js';

export interface StartupCheckOptions {
  readonly config: Config;
  readonly kubeconfig: string | undefined;
  readonly stderr: (text: string) => void;
  readonly signal: AbortSignal;
  /** Skip the AWS checks (a provider that calls no AWS API runs the pods). */
  readonly skipAws: boolean;
}

/** The exit code when a check failed (its line already printed), else undefined. */
export async function checkStartup(o: StartupCheckOptions): Promise<number | undefined> {
  const aws = o.config.aws;
  let kube;
  try {
    kube = createKubeProbe(loadKubeConfig(o.kubeconfig));
  } catch (e) {
    if (!(e instanceof StartupError)) throw e;
    o.stderr(`${startupLine(e)}\n`);
    return exitCodeOf(e.problem);
  }
  const withAws = !o.skipAws && aws.subnets.length > 0;
  const verdict = await runStartupChecks({
    kube, config: aws, signal: o.signal, rules: rulesFor(o.config.budgets),
    ...(withAws ? { aws: createAwsProbe({ region: aws.region, endpoint: aws.endpoint }) } : {}),
  });
  if (!verdict.ok) {
    o.stderr(`${startupLine(verdict.error)}\n`);
    return exitCodeOf(verdict.error.problem);
  }
  for (const w of verdict.warnings) o.stderr(`orca: warning: ${w}\n`);
  return undefined;
}
