// `orca doctor`: checks everything ORCA depends on — the kubeconfig, each permission of
// deploy/rbac/orca.yaml (SelfSubjectAccessReview), the BurstBudget CRD, the AWS identity, region,
// subnets and security groups, the images, a DryRun launch per subnet, SSM parameters, CloudWatch
// Logs, the instance profile — and prints a ✔/✘ table with the fix under each ✘ (or JSON). Exit 0
// when nothing failed, 1 when a check failed, 2 when the config file is missing or invalid.
import { Command, Option } from 'commander';
import { agentSettings } from './agent-protocol/user-data.js';
import { createAwsProbe } from './aws/preflight-api.js';
import type { Config } from './config/schema.js';
import { StartupError } from './domain/errors.js';
import { loadKubeConfig } from './k8s/client.js';
import { createKubeProbe } from './k8s/preflight-api.js';
import type { AwsDoctorProbe } from './ports/preflight.js';
import { runDoctor, type DoctorConfig, type LoadedKube } from './preflight/doctor.js';
import { renderDoctorJson, renderDoctorTable } from './preflight/doctor-render.js';
import { rulesFor } from './preflight/permissions.js';
import { exitCodes } from './preflight/exit-codes.js';

export interface DoctorProbes {
  readonly kube: LoadedKube;
  readonly aws: AwsDoctorProbe;
}

export interface DoctorCliDeps {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stderr: (text: string) => void;
  /** Where the table goes; process.stdout when not given. */
  readonly stdout?: (text: string) => void;
  /** Whether stdout is a terminal (colours); process.stdout.isTTY when not given. */
  readonly isTTY?: boolean;
  readonly exit: (code: number) => void;
  readonly signal: AbortSignal;
  /** The config file, checked; undefined (the problem printed) when it cannot be read or is invalid. */
  readonly readConfig: (file: string, nodeName: string | undefined) => Config | undefined;
  /** The probes (tests give fakes); the apiserver of the kubeconfig and AWS when not given. */
  readonly probes?: (config: Config, kubeconfig: string | undefined) => DoctorProbes;
}

interface DoctorFlags {
  readonly config: string;
  readonly kubeconfig?: string;
  readonly nodeName?: string;
  readonly output: 'table' | 'json';
}

function loadKube(kubeconfig: string | undefined): LoadedKube {
  try {
    const kc = loadKubeConfig(kubeconfig);
    return { probe: createKubeProbe(kc), server: kc.getCurrentCluster()?.server ?? '(no server)' };
  } catch (e) {
    if (e instanceof StartupError) return { error: e };
    throw e;
  }
}

const realProbes = (config: Config, kubeconfig: string | undefined): DoctorProbes => ({
  kube: loadKube(kubeconfig), aws: createAwsProbe({ region: config.aws.region, endpoint: config.aws.endpoint }),
});

export function doctorConfig(config: Config): DoctorConfig {
  const { aws } = config;
  const settings = agentSettings(aws.clusterId ?? config.node.name);
  return {
    region: aws.region, endpoint: aws.endpoint, subnets: aws.subnets, securityGroupIDs: aws.securityGroupIDs, instanceProfileArn: aws.instanceProfileArn,
    images: config.instances.images, paramPrefix: settings.paramPrefix, logGroup: settings.logGroup,
  };
}

/** Adds `orca doctor` to the CLI. */
export function addDoctorCommand(program: Command, deps: DoctorCliDeps): Command {
  return program.addCommand(new Command('doctor')
    .description('check the kubeconfig, RBAC, CRD, AWS identity, network, images, launch permissions, SSM, CloudWatch Logs and instance profile ORCA needs')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .configureHelp({ showGlobalOptions: true })
    .action(async (_opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<DoctorFlags>();
      const config = deps.readConfig(flags.config, flags.nodeName);
      if (config === undefined) {
        deps.exit(exitCodes.config);
        return;
      }
      const kubeconfig = flags.kubeconfig ?? (deps.env.KUBECONFIG === '' ? undefined : deps.env.KUBECONFIG);
      const probes = (deps.probes ?? realProbes)(config, kubeconfig);
      const results = await runDoctor({ ...probes, config: doctorConfig(config), signal: deps.signal, rules: rulesFor(config.budgets) });
      const text = flags.output === 'json' ? renderDoctorJson(results) : renderDoctorTable(results, deps.isTTY ?? process.stdout.isTTY);
      (deps.stdout ?? ((t: string) => process.stdout.write(t)))(text);
      deps.exit(results.some((r) => r.status === 'fail') ? exitCodes.failed : exitCodes.ok);
    }));
}
