// `orca doctor`'s AWS checks: the identity, the region, subnets and security groups, the images, a
// DryRun launch per subnet, SSM parameters, CloudWatch Logs and the instance profile.
import type { AwsDoctorProbe } from '../ports/preflight.js';
import { fail, guarded, pass, skip, type CheckResult, type DoctorConfig } from './check-result.js';
import { checkRegion, checkSecurityGroups, checkSubnets } from './startup.js';

const LAUNCH_FIX = 'grant ec2:RunInstances on the subnet, security groups, image and instances, ec2:CreateTags on launch, and iam:PassRole on the instance profile\'s role (docs/iam.md)';

async function networkChecks(aws: AwsDoctorProbe, c: DoctorConfig, signal: AbortSignal): Promise<CheckResult[]> {
  const region = await guarded('region', 'grant ec2:DescribeRegions (docs/iam.md)', async () => { await checkRegion(aws, c.region, signal); return pass('region', c.region); });
  const subnets = c.subnets.length === 0
    ? skip('subnets', 'no aws.subnets: ORCA launches nothing')
    : await guarded('subnets', 'grant ec2:DescribeSubnets (docs/iam.md)', async () => {
      await checkSubnets(aws, c, signal);
      return pass('subnets', c.subnets.map((s) => `${s.subnetID} (${s.zone})`).join(', '));
    });
  const groups = c.securityGroupIDs.length === 0
    ? skip('security groups', 'no aws.securityGroupIDs: instances get their VPC\'s default group')
    : await guarded('security groups', 'grant ec2:DescribeSecurityGroups (docs/iam.md)', async () => {
      await checkSecurityGroups(aws, c, signal);
      return pass('security groups', c.securityGroupIDs.join(', '));
    });
  return [region, subnets, groups];
}

/** One row per image kind, and the AMI a DryRun launch can use (the CPU image's, else the first found). */
async function imageChecks(aws: AwsDoctorProbe, c: DoctorConfig, signal: AbortSignal): Promise<{ rows: CheckResult[]; imageId: string | undefined }> {
  const kinds = ['cpu', 'nvidia', 'neuron'] as const;
  const found = new Map<string, string>();
  const rows = await Promise.all(kinds.map((kind) => guarded(`image ${kind}`,
    `set instances.images.${kind} to an SSM public parameter or AMI of ${c.region}; ORCA needs ssm:GetParameter on /aws/service/* and ec2:DescribeImages`,
    async () => {
      const ami = await aws.resolveImage(c.images[kind], signal);
      found.set(kind, ami);
      return pass(`image ${kind}`, c.images[kind] === ami ? ami : `${ami} (${c.images[kind]})`);
    })));
  return { rows, imageId: kinds.map((k) => found.get(k)).find((id) => id !== undefined) };
}

async function launchChecks(aws: AwsDoctorProbe, c: DoctorConfig, imageId: string | undefined, signal: AbortSignal): Promise<CheckResult[]> {
  if (c.subnets.length === 0) return [skip('launch', 'no aws.subnets: ORCA launches nothing')];
  if (imageId === undefined) return [skip('launch', 'needs an image that resolves (see the image rows)')];
  return Promise.all(c.subnets.map((s) => guarded(`launch ${s.subnetID}`, LAUNCH_FIX, async () => {
    const out = await aws.dryRunLaunch({
      subnetId: s.subnetID, securityGroupIds: c.securityGroupIDs, imageId, ...(c.instanceProfileArn === undefined ? {} : { instanceProfileArn: c.instanceProfileArn }),
    }, signal);
    if (out.allowed) return pass(`launch ${s.subnetID}`, `DryRun RunInstances m5.large of ${imageId} allowed`);
    if (out.code === 'UnauthorizedOperation') return fail(`launch ${s.subnetID}`, 'UnauthorizedOperation: not allowed ec2:RunInstances with these parameters', LAUNCH_FIX);
    return fail(`launch ${s.subnetID}`, `${out.code}: ${out.message}`, 'EC2 refused the launch for the reason it gives; correct the config or the account');
  })));
}

async function storeChecks(aws: AwsDoctorProbe, c: DoctorConfig, signal: AbortSignal): Promise<CheckResult[]> {
  const ssm = await guarded('ssm parameters', `grant ssm:PutParameter and ssm:DeleteParameters on parameter${c.paramPrefix}/* (docs/iam.md)`, async () => {
    await aws.parameterRoundTrip(c.paramPrefix, signal);
    return pass('ssm parameters', `wrote and deleted a SecureString under ${c.paramPrefix}`);
  });
  const logs = await guarded('cloudwatch logs', `grant logs:DescribeLogGroups, logs:GetLogEvents and logs:FilterLogEvents on ${c.logGroup} (docs/iam.md)`, async () => {
    const groups = await aws.logGroups(c.logGroup, signal);
    return pass('cloudwatch logs', groups.includes(c.logGroup) ? `log group ${c.logGroup} found` : `no log group ${c.logGroup} yet (the first instance creates it)`);
  });
  return [ssm, logs];
}

async function profileCheck(aws: AwsDoctorProbe, c: DoctorConfig, signal: AbortSignal): Promise<CheckResult> {
  const arn = c.instanceProfileArn;
  if (arn === undefined) return skip('instance profile', 'no aws.instanceProfileArn: instances run without an IAM role');
  const name = arn.slice(arn.lastIndexOf('/') + 1);
  return guarded('instance profile', 'grant iam:GetInstanceProfile to let orca doctor check it (docs/iam.md)', async () => (await aws.instanceProfileExists(name, signal)
    ? pass('instance profile', name)
    : fail('instance profile', `instance profile ${name} does not exist`, 'create it (aws iam create-instance-profile, add the instance role) or correct aws.instanceProfileArn')));
}

/** Every AWS check; all but the identity skipped when the credentials do not work. */
export async function awsChecks(aws: AwsDoctorProbe, c: DoctorConfig, signal: AbortSignal): Promise<CheckResult[]> {
  const identity = await guarded('aws identity', 'check the AWS credentials ORCA runs with', async () => pass('aws identity', await aws.identity(signal)));
  if (identity.status === 'fail') return [identity, skip('aws', 'the other AWS checks need working credentials')];
  const network = await networkChecks(aws, c, signal);
  const images = await imageChecks(aws, c, signal);
  const launches = await launchChecks(aws, c, images.imageId, signal);
  return [identity, ...network, ...images.rows, ...launches, ...await storeChecks(aws, c, signal), await profileCheck(aws, c, signal)];
}
