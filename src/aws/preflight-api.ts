// AwsDoctorProbe over SDK v3 clients: the start-up questions (DescribeRegions, DescribeSubnets,
// DescribeSecurityGroups) and `orca doctor`'s (STS, a DryRun RunInstances, SSM, CloudWatch Logs, IAM,
// images). Missing or rejected credentials and a region with no endpoint are StartupErrors; any
// other error is passed on (it may be transient, or it is a check's own failure).
import { randomUUID } from 'node:crypto';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeRegionsCommand, DescribeSecurityGroupsCommand, DescribeSubnetsCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { GetInstanceProfileCommand, IAMClient } from '@aws-sdk/client-iam';
import { DeleteParametersCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { StartupError } from '../domain/errors.js';
import type { AwsDoctorProbe, DryRunLaunch, DryRunOutcome, RegionInfo } from '../ports/preflight.js';
import { requestHandler } from './adapters.js';
import { createImageSource } from './image-source.js';
import { withSignal } from './sdk-util.js';

export interface AwsProbeOptions {
  readonly region: string;
  readonly endpoint?: string | undefined;
}

const REJECTED = new Set(['AuthFailure', 'UnrecognizedClientException', 'InvalidClientTokenId', 'SignatureDoesNotMatch', 'ExpiredToken', 'ExpiredTokenException', 'InvalidAccessKeyId']);

/** The StartupError `err` amounts to, or undefined. Without an endpoint override, a host EC2 does not have means a region that does not exist. */
export function classifyAwsFailure(err: unknown, o: AwsProbeOptions): StartupError | undefined {
  const e = err as { name?: unknown; code?: unknown } | null;
  const name = typeof e?.name === 'string' ? e.name : '';
  if (name === 'CredentialsProviderError') {
    return new StartupError('aws-credentials', 'no AWS credentials found (environment, shared config and credentials files, web identity, container or instance metadata)',
      'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or give ORCA an IAM role (IRSA, EKS Pod Identity, an instance profile)');
  }
  if (REJECTED.has(name)) {
    return new StartupError('aws-credentials', `AWS rejected the credentials (${name})`, 'check the access key, its secret and session token, and that they have not expired');
  }
  if (o.endpoint === undefined && e?.code === 'ENOTFOUND') {
    return new StartupError('unknown-region', `aws.region ${o.region} is not an EC2 region (no endpoint ec2.${o.region}.amazonaws.com)`, 'set aws.region to a region such as us-east-1');
  }
  return undefined;
}

function dryRunOutcome(e: unknown): DryRunOutcome {
  const name = e instanceof Error ? e.name : 'Unknown';
  if (name === 'DryRunOperation') return { allowed: true };
  return { allowed: false, code: name, message: e instanceof Error ? e.message.split('\n')[0] ?? '' : String(e) };
}

function launchCommand(l: DryRunLaunch): RunInstancesCommand {
  return new RunInstancesCommand({
    DryRun: true, MinCount: 1, MaxCount: 1, ImageId: l.imageId, InstanceType: 'm5.large', SubnetId: l.subnetId,
    ...(l.securityGroupIds.length === 0 ? {} : { SecurityGroupIds: [...l.securityGroupIds] }),
    ...(l.instanceProfileArn === undefined ? {} : { IamInstanceProfile: { Arn: l.instanceProfileArn } }),
  });
}

/** The region asked for the list of regions when the configured one cannot answer. */
const HOME_REGION = 'us-east-1';

function clientConfig(o: AwsProbeOptions): { region: string; requestHandler: typeof requestHandler; maxAttempts: number; endpoint?: string } {
  return { region: o.region, requestHandler, maxAttempts: 2, ...(o.endpoint === undefined ? {} : { endpoint: o.endpoint }) };
}

async function regionsFrom(ec2: EC2Client, signal: AbortSignal | undefined): Promise<RegionInfo[]> {
  const out = await ec2.send(new DescribeRegionsCommand({ AllRegions: true }), withSignal(signal));
  return (out.Regions ?? []).map((r) => ({ name: r.RegionName ?? '', enabled: r.OptInStatus !== 'not-opted-in' }));
}

function clients(o: AwsProbeOptions): { ec2: EC2Client; ssm: SSMClient; logs: CloudWatchLogsClient; iam: IAMClient; sts: STSClient } {
  const c = clientConfig(o);
  return { ec2: new EC2Client(c), ssm: new SSMClient(c), logs: new CloudWatchLogsClient(c), iam: new IAMClient(c), sts: new STSClient(c) };
}

export function createAwsProbe(o: AwsProbeOptions): AwsDoctorProbe {
  const { ec2, ssm, logs, iam, sts } = clients(o);
  const images = createImageSource(ssm, ec2);
  const classified = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (e) {
      throw classifyAwsFailure(e, o) ?? e;
    }
  };
  return {
    regions: (signal) => classified(() => regionsFrom(ec2, signal).catch(async (e: unknown) => {
      // A region EC2 does not have may answer anything (an emulator answers HTML): ask the partition's
      // first region which regions there are; if it lists this one, the first error stands.
      if (classifyAwsFailure(e, o) !== undefined || o.region === HOME_REGION) throw e;
      const list = await regionsFrom(new EC2Client(clientConfig({ ...o, region: HOME_REGION })), signal).catch(() => { throw e; });
      if (list.some((r) => r.name === o.region)) throw e;
      return list;
    })),
    subnets: (ids, signal) => classified(async () => {
      const out = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'subnet-id', Values: [...ids] }] }), withSignal(signal));
      return (out.Subnets ?? []).map((s) => ({ id: s.SubnetId ?? '', zone: s.AvailabilityZone ?? '' }));
    }),
    securityGroups: (ids, signal) => classified(async () => {
      const out = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-id', Values: [...ids] }] }), withSignal(signal));
      return (out.SecurityGroups ?? []).map((g) => g.GroupId ?? '');
    }),
    identity: (signal) => classified(async () => (await sts.send(new GetCallerIdentityCommand({}), withSignal(signal))).Arn ?? ''),
    dryRunLaunch: (launch, signal) => classified(() => ec2.send(launchCommand(launch), withSignal(signal)).then(
      () => ({ allowed: false, code: 'NotDryRun', message: 'EC2 launched instead of answering DryRunOperation' } as const),
      (e: unknown) => { if (classifyAwsFailure(e, o) !== undefined) throw e; return dryRunOutcome(e); },
    )),
    parameterRoundTrip: (prefix, signal) => classified(async () => {
      const Name = `${prefix}/orca-doctor-${randomUUID()}`;
      await ssm.send(new PutParameterCommand({ Name, Type: 'SecureString', Value: 'orca doctor scratch value' }), withSignal(signal));
      await ssm.send(new DeleteParametersCommand({ Names: [Name] }), withSignal(signal));
    }),
    logGroups: (prefix, signal) => classified(async () => {
      const out = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: prefix }), withSignal(signal));
      return (out.logGroups ?? []).map((g) => g.logGroupName ?? '');
    }),
    instanceProfileExists: (name, signal) => classified(async () => {
      try {
        await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: name }), withSignal(signal));
        return true;
      } catch (e) {
        if (e instanceof Error && e.name === 'NoSuchEntity' || (e instanceof Error && e.name === 'NoSuchEntityException')) return false;
        throw e;
      }
    }),
    resolveImage: (parameterOrAmi, signal) => classified(async () => (await images.resolve(parameterOrAmi, signal)).imageId),
  };
}
