// What ORCA's start-up checks and `orca doctor` ask of the Kubernetes API and of AWS. The adapters
// (k8s/preflight-api.ts, aws/preflight-api.ts) throw StartupError for the failures a person must fix
// (no credentials, an unreachable apiserver, an unknown region); any other error may be transient.

/** One SelfSubjectAccessReview question. */
export interface Permission {
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly verb: string;
  readonly namespace?: string;
}

export interface KubeProbe {
  /** Whether the kubeconfig's identity may do `p`. */
  can(p: Permission, signal?: AbortSignal): Promise<boolean>;
}

export interface RegionInfo {
  readonly name: string;
  /** False for an opt-in region the account has not opted in to. */
  readonly enabled: boolean;
}

export interface SubnetInfo {
  readonly id: string;
  readonly zone: string;
}

export interface AwsProbe {
  /** Every EC2 region (DescribeRegions, AllRegions). */
  regions(signal?: AbortSignal): Promise<readonly RegionInfo[]>;
  /** Those of `ids` that exist, with their zone. */
  subnets(ids: readonly string[], signal?: AbortSignal): Promise<readonly SubnetInfo[]>;
  /** Those of `ids` that exist. */
  securityGroups(ids: readonly string[], signal?: AbortSignal): Promise<readonly string[]>;
}

/** EC2's answer to a DryRun launch: allowed (DryRunOperation), or refused with EC2's code and message. */
export type DryRunOutcome = { readonly allowed: true } | { readonly allowed: false; readonly code: string; readonly message: string };

export interface DryRunLaunch {
  readonly subnetId: string;
  readonly securityGroupIds: readonly string[];
  readonly imageId: string;
  readonly instanceProfileArn?: string;
}

/** The AWS questions `orca doctor` asks besides the start-up ones. */
export interface AwsDoctorProbe extends AwsProbe {
  /** The ARN of the identity the credentials belong to (STS GetCallerIdentity). */
  identity(signal?: AbortSignal): Promise<string>;
  dryRunLaunch(launch: DryRunLaunch, signal?: AbortSignal): Promise<DryRunOutcome>;
  /** Writes and deletes a scratch SecureString under `prefix` (where ORCA keeps assignments). */
  parameterRoundTrip(prefix: string, signal?: AbortSignal): Promise<void>;
  /** Lists the log groups named `prefix…` (DescribeLogGroups). */
  logGroups(prefix: string, signal?: AbortSignal): Promise<readonly string[]>;
  /** Whether the instance profile exists (IAM GetInstanceProfile). */
  instanceProfileExists(name: string, signal?: AbortSignal): Promise<boolean>;
  /** The AMI an SSM public parameter or ami-… id names, after DescribeImages found it. */
  resolveImage(parameterOrAmi: string, signal?: AbortSignal): Promise<string>;
}

export interface KubeDoctorProbe extends KubeProbe {
  /** Whether the BurstBudget CRD is installed (listing BurstBudgets does not answer 404). */
  budgetCrdInstalled(signal?: AbortSignal): Promise<boolean>;
}
