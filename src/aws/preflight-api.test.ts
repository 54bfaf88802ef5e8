// The AWS probe over mocked SDK clients: what it asks EC2, SSM, CloudWatch Logs, IAM and STS, what it
// makes of the answers, and which failures become StartupErrors.
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeImagesCommand, DescribeRegionsCommand, DescribeSecurityGroupsCommand, DescribeSubnetsCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { GetInstanceProfileCommand, IAMClient } from '@aws-sdk/client-iam';
import { DeleteParametersCommand, GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { StartupError } from '../domain/errors.js';
import { classifyAwsFailure, createAwsProbe } from './preflight-api.js';

const ec2 = mockClient(EC2Client);
const ssm = mockClient(SSMClient);
const logs = mockClient(CloudWatchLogsClient);
const iam = mockClient(IAMClient);
const sts = mockClient(STSClient);
beforeEach(() => { for (const m of [ec2, ssm, logs, iam, sts]) m.reset(); });

const probe = () => createAwsProbe({ region: 'us-east-1' });
const named = (name: string, message = name): Error => Object.assign(new Error(message), { name });

describe('the AWS probe', () => {
  it('lists every region with whether the account may use it', async () => {
    ec2.on(DescribeRegionsCommand, { AllRegions: true }).resolves({ Regions: [{ RegionName: 'us-east-1', OptInStatus: 'opt-in-not-required' }, { RegionName: 'af-south-1', OptInStatus: 'not-opted-in' }, { RegionName: 'eu-south-2', OptInStatus: 'opted-in' }] });
    expect(await probe().regions()).toEqual([{ name: 'us-east-1', enabled: true }, { name: 'af-south-1', enabled: false }, { name: 'eu-south-2', enabled: true }]);
  });

  it('asks us-east-1 for the regions when the configured region cannot answer, and keeps the first error when it is listed there', async () => {
    const html = named('Error', '@aws-sdk XML parse error: mismatched tags <html> and </title>.');
    ec2.on(DescribeRegionsCommand).rejectsOnce(html).resolvesOnce({ Regions: [{ RegionName: 'us-east-1', OptInStatus: 'opt-in-not-required' }] });
    expect(await createAwsProbe({ region: 'xx-nowhere-9', endpoint: 'http://127.0.0.1:5000' }).regions()).toEqual([{ name: 'us-east-1', enabled: true }]);
    ec2.reset();
    ec2.on(DescribeRegionsCommand).rejectsOnce(named('InternalError')).resolvesOnce({ Regions: [{ RegionName: 'eu-west-1', OptInStatus: 'opt-in-not-required' }] });
    expect(await createAwsProbe({ region: 'eu-west-1' }).regions().catch((e: unknown) => e)).toMatchObject({ name: 'InternalError' });
    ec2.reset();
    ec2.on(DescribeRegionsCommand).rejectsOnce(named('InternalError')).rejectsOnce(named('AuthFailure'));
    expect(await createAwsProbe({ region: 'cn-north-1' }).regions().catch((e: unknown) => e)).toMatchObject({ name: 'InternalError' });
    expect(ec2.commandCalls(DescribeRegionsCommand)).toHaveLength(2);
  });

  it('asks for the configured subnets and security groups by filter, so missing ids are not an error', async () => {
    ec2.on(DescribeSubnetsCommand).resolves({ Subnets: [{ SubnetId: 'subnet-0aaaaaaaaaaaaaaaa', AvailabilityZone: 'us-east-1a' }] });
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-0aaaaaaaaaaaaaaaa' }] });
    expect(await probe().subnets(['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'])).toEqual([{ id: 'subnet-0aaaaaaaaaaaaaaaa', zone: 'us-east-1a' }]);
    expect(await probe().securityGroups(['sg-0aaaaaaaaaaaaaaaa'])).toEqual(['sg-0aaaaaaaaaaaaaaaa']);
    expect(ec2.commandCalls(DescribeSubnetsCommand)[0]?.args[0].input).toEqual({ Filters: [{ Name: 'subnet-id', Values: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'] }] });
    expect(ec2.commandCalls(DescribeSecurityGroupsCommand)[0]?.args[0].input).toEqual({ Filters: [{ Name: 'group-id', Values: ['sg-0aaaaaaaaaaaaaaaa'] }] });
  });

  it('reads DryRunOperation as allowed and any other answer as refused, with EC2\'s code', async () => {
    const launch = { subnetId: 'subnet-0aaaaaaaaaaaaaaaa', securityGroupIds: ['sg-0aaaaaaaaaaaaaaaa'], imageId: 'ami-0cccccccccccccccc', instanceProfileArn: 'arn:aws:iam::123456789012:instance-profile/w' };
    ec2.on(RunInstancesCommand).rejectsOnce(named('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.'))
      .rejectsOnce(named('UnauthorizedOperation', 'You are not authorized to perform this operation.\nEncoded authorization failure message: x'));
    expect(await probe().dryRunLaunch(launch)).toEqual({ allowed: true });
    expect(await probe().dryRunLaunch(launch)).toEqual({ allowed: false, code: 'UnauthorizedOperation', message: 'You are not authorized to perform this operation.' });
    expect(ec2.commandCalls(RunInstancesCommand)[0]?.args[0].input).toEqual({
      DryRun: true, MinCount: 1, MaxCount: 1, ImageId: 'ami-0cccccccccccccccc', InstanceType: 'm5.large', SubnetId: 'subnet-0aaaaaaaaaaaaaaaa',
      SecurityGroupIds: ['sg-0aaaaaaaaaaaaaaaa'], IamInstanceProfile: { Arn: 'arn:aws:iam::123456789012:instance-profile/w' },
    });
  });

  it('writes and deletes a scratch SecureString under the prefix', async () => {
    ssm.on(PutParameterCommand).resolves({});
    ssm.on(DeleteParametersCommand).resolves({});
    await probe().parameterRoundTrip('/orca/c/instances');
    const put = ssm.commandCalls(PutParameterCommand)[0]?.args[0].input;
    expect(put).toMatchObject({ Type: 'SecureString', Name: expect.stringMatching(/^\/orca\/c\/instances\/orca-doctor-[0-9a-f-]{36}$/) as unknown });
    expect(ssm.commandCalls(DeleteParametersCommand)[0]?.args[0].input).toEqual({ Names: [put?.Name] });
  });

  it('answers the identity, log groups, instance profiles (NoSuchEntity: none) and images', async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:iam::123456789012:user/orca' });
    logs.on(DescribeLogGroupsCommand, { logGroupNamePrefix: '/orca/c' }).resolves({ logGroups: [{ logGroupName: '/orca/c' }] });
    iam.on(GetInstanceProfileCommand, { InstanceProfileName: 'there' }).resolves({ InstanceProfile: undefined });
    iam.on(GetInstanceProfileCommand, { InstanceProfileName: 'gone' }).rejects(named('NoSuchEntity', 'Instance Profile gone cannot be found.'));
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'ami-0cccccccccccccccc' } });
    ec2.on(DescribeImagesCommand).resolves({ Images: [{ RootDeviceName: '/dev/xvda' }] });
    const p = probe();
    expect(await p.identity()).toBe('arn:aws:iam::123456789012:user/orca');
    expect(await p.logGroups('/orca/c')).toEqual(['/orca/c']);
    expect(await p.instanceProfileExists('there')).toBe(true);
    expect(await p.instanceProfileExists('gone')).toBe(false);
    expect(await p.resolveImage('/aws/service/x')).toBe('ami-0cccccccccccccccc');
  });

  it('turns missing and rejected credentials into StartupErrors and passes other errors on', async () => {
    ec2.on(DescribeRegionsCommand).rejectsOnce(named('CredentialsProviderError', 'Could not load credentials from any providers')).rejectsOnce(named('AuthFailure')).rejectsOnce(named('RequestLimitExceeded'));
    const p = probe();
    expect(await p.regions().catch((e: unknown) => e)).toMatchObject({ problem: 'aws-credentials', message: expect.stringMatching(/^no AWS credentials found/) as unknown });
    expect(await p.regions().catch((e: unknown) => e)).toMatchObject({ problem: 'aws-credentials', message: 'AWS rejected the credentials (AuthFailure)' });
    const other = await p.regions().catch((e: unknown) => e);
    expect(other).not.toBeInstanceOf(StartupError);
    expect(other).toMatchObject({ name: 'RequestLimitExceeded' });
  });

  it('reads a host that does not resolve as an unknown region, unless an endpoint is configured', () => {
    const dns = Object.assign(new Error('getaddrinfo ENOTFOUND ec2.xx-nowhere-9.amazonaws.com'), { code: 'ENOTFOUND' });
    expect(classifyAwsFailure(dns, { region: 'xx-nowhere-9' })).toMatchObject({ problem: 'unknown-region', message: 'aws.region xx-nowhere-9 is not an EC2 region (no endpoint ec2.xx-nowhere-9.amazonaws.com)' });
    expect(classifyAwsFailure(dns, { region: 'xx-nowhere-9', endpoint: 'http://aws.internal' })).toBeUndefined();
  });
});
