// orca doctor's checks over fake probes: every check passes against a healthy fake, and each one
// fails (with its fix) or is skipped (with why) when its part is broken or not configured.
import { describe, expect, it } from 'vitest';
import { StartupError } from '../domain/errors.js';
import { awsError, FakeAwsProbe, FakeKubeProbe } from '../../test/fakes/preflight.js';
import { runDoctor, type CheckResult, type DoctorConfig, type LoadedKube } from './doctor.js';

const config: DoctorConfig = {
  region: 'us-east-1',
  subnets: [{ zone: 'us-east-1a', subnetID: 'subnet-0aaaaaaaaaaaaaaaa' }, { zone: 'us-east-1b', subnetID: 'subnet-0bbbbbbbbbbbbbbbb' }],
  securityGroupIDs: ['sg-0aaaaaaaaaaaaaaaa'],
  instanceProfileArn: 'arn:aws:iam::123456789012:instance-profile/orca-worker',
  images: { cpu: '/aws/service/cpu', nvidia: '/aws/service/nvidia', neuron: 'ami-0eeeeeeeeeeeeeeee' },
  paramPrefix: '/orca/test/instances', logGroup: '/orca/test',
};

async function doctor(o: { kube?: FakeKubeProbe | LoadedKube; aws?: FakeAwsProbe; config?: Partial<DoctorConfig> } = {}): Promise<CheckResult[]> {
  const k = o.kube ?? new FakeKubeProbe();
  const kube: LoadedKube = k instanceof FakeKubeProbe ? { probe: k, server: 'https://127.0.0.1:6443' } : k;
  return runDoctor({ kube, aws: o.aws ?? new FakeAwsProbe(), config: { ...config, ...o.config }, signal: new AbortController().signal });
}

const row = (results: readonly CheckResult[], check: string): CheckResult | undefined => results.find((r) => r.check === check);

describe('orca doctor\'s checks', () => {
  it('all pass against a healthy cluster and account, one row per RBAC rule and per subnet', async () => {
    const aws = new FakeAwsProbe();
    const results = await doctor({ aws });
    expect(results.filter((r) => r.status !== 'pass')).toEqual([]);
    expect(results.map((r) => r.check)).toEqual([
      'kubeconfig', 'rbac nodes', 'rbac nodes/status', 'rbac pods', 'rbac pods/status', 'rbac configmaps,secrets', 'rbac events', 'rbac burstbudgets',
      'rbac burstbudgets/status', 'rbac tokenreviews', 'rbac subjectaccessreviews', 'rbac leases (kube-node-lease)', 'rbac configmaps (orca-system)', 'BurstBudget CRD',
      'aws identity', 'region', 'subnets', 'security groups', 'image cpu', 'image nvidia', 'image neuron',
      'launch subnet-0aaaaaaaaaaaaaaaa', 'launch subnet-0bbbbbbbbbbbbbbbb', 'ssm parameters', 'cloudwatch logs', 'instance profile',
    ]);
    expect(row(results, 'image cpu')?.detail).toBe('ami-0cccccccccccccccc (/aws/service/cpu)');
    expect(aws.launches).toEqual(config.subnets.map((s) => ({
      subnetId: s.subnetID, securityGroupIds: config.securityGroupIDs, imageId: 'ami-0cccccccccccccccc', instanceProfileArn: config.instanceProfileArn,
    })));
    expect(row(results, 'aws identity')?.detail).toBe('arn:aws:iam::123456789012:user/orca');
  });

  it('fail an RBAC rule naming the missing verbs, and the CRD when it is not installed', async () => {
    const kube = new FakeKubeProbe();
    kube.denied.add('patch /pods/status');
    kube.crd = false;
    const results = await doctor({ kube });
    expect(row(results, 'rbac pods/status')).toMatchObject({ status: 'fail', detail: 'may not patch pods/status' });
    expect(row(results, 'rbac pods/status')?.fix).toContain('kubectl apply -f deploy/rbac/orca.yaml');
    expect(row(results, 'BurstBudget CRD')).toEqual({ check: 'BurstBudget CRD', status: 'fail', detail: 'burstbudgets.orca.research is not installed', fix: 'kubectl apply -f deploy/crds/burstbudgets.orca.research.yaml' });
  });

  it('fail the kubeconfig when there is none, and the apiserver once when it cannot be reached', async () => {
    const none = await doctor({ kube: { error: new StartupError('no-kubeconfig', 'no kubeconfig found', 'pass --kubeconfig') } });
    expect(none.slice(0, 2)).toEqual([{ check: 'kubeconfig', status: 'fail', detail: 'no kubeconfig found', fix: 'pass --kubeconfig' }, expect.objectContaining({ check: 'aws identity', status: 'pass' })]);
    const kube = new FakeKubeProbe();
    kube.error = new StartupError('apiserver-unreachable', 'cannot reach the apiserver https://127.0.0.1:1 (ECONNREFUSED)', 'check the server');
    const unreachable = await doctor({ kube });
    expect(unreachable.filter((r) => r.status === 'fail')).toEqual([{ check: 'apiserver', status: 'fail', detail: 'cannot reach the apiserver https://127.0.0.1:1 (ECONNREFUSED)', fix: 'check the server' }]);
    expect(kube.asked).toHaveLength(1);
  });

  it('fail the apiserver when it does not answer in time', async () => {
    const kube = new FakeKubeProbe();
    kube.hang = 'ignoring the signal';
    const results = await runDoctor({ kube: { probe: kube, server: 'https://10.0.0.1:6443' }, aws: new FakeAwsProbe(), config, signal: new AbortController().signal, timeoutMs: 20 });
    expect(results.slice(0, 2)).toEqual([
      { check: 'kubeconfig', status: 'pass', detail: 'https://10.0.0.1:6443' },
      { check: 'apiserver', status: 'fail', detail: 'no answer from https://10.0.0.1:6443 in time', fix: 'check that the apiserver runs and this host can reach it' },
    ]);
  });

  it('skip the other AWS checks when the credentials do not work', async () => {
    const aws = new FakeAwsProbe();
    aws.errors.set('identity', new StartupError('aws-credentials', 'no AWS credentials found', 'set AWS_PROFILE'));
    const results = await doctor({ aws });
    expect(results.slice(-2)).toEqual([
      { check: 'aws identity', status: 'fail', detail: 'no AWS credentials found', fix: 'set AWS_PROFILE' },
      { check: 'aws', status: 'skip', detail: 'the other AWS checks need working credentials' },
    ]);
    expect(aws.calls).toEqual(['identity']);
  });

  it('fail a launch EC2 refuses with UnauthorizedOperation, naming ec2:RunInstances and the fix', async () => {
    const aws = new FakeAwsProbe();
    aws.dryRun = { allowed: false, code: 'UnauthorizedOperation', message: 'You are not authorized to perform this operation. Encoded authorization failure message: abc' };
    const launch = row(await doctor({ aws }), 'launch subnet-0aaaaaaaaaaaaaaaa');
    expect(launch).toMatchObject({ status: 'fail', detail: 'UnauthorizedOperation: not allowed ec2:RunInstances with these parameters' });
    expect(launch?.fix).toMatch(/^grant ec2:RunInstances .* iam:PassRole .*docs\/iam\.md/);
    aws.dryRun = { allowed: false, code: 'InvalidParameterValue', message: 'Value (orca-worker) for parameter iamInstanceProfile.name is invalid' };
    expect(row(await doctor({ aws }), 'launch subnet-0bbbbbbbbbbbbbbbb')).toMatchObject({ status: 'fail', detail: 'InvalidParameterValue: Value (orca-worker) for parameter iamInstanceProfile.name is invalid' });
  });

  it('fail missing subnets and security groups by id, and skip the launches without subnets', async () => {
    const missing = await doctor({ config: { subnets: [{ zone: 'us-east-1a', subnetID: 'subnet-0123456789abcdef0' }], securityGroupIDs: ['sg-0123456789abcdef0'] } });
    expect(row(missing, 'subnets')).toMatchObject({ status: 'fail', detail: 'aws.subnets subnet-0123456789abcdef0 does not exist in us-east-1' });
    expect(row(missing, 'security groups')).toMatchObject({ status: 'fail', detail: 'aws.securityGroupIDs sg-0123456789abcdef0 does not exist in us-east-1' });
    const none = await doctor({ config: { subnets: [], securityGroupIDs: [] } });
    expect(none.filter((r) => r.status === 'skip').map((r) => r.check)).toEqual(['subnets', 'security groups', 'launch']);
    expect(none.some((r) => r.status === 'fail')).toBe(false);
  });

  it('fail an unknown region and an image that does not resolve; without any image, skip the launches', async () => {
    const aws = new FakeAwsProbe();
    aws.images.clear();
    const results = await doctor({ aws, config: { region: 'xx-nowhere-9', subnets: [] } });
    expect(row(results, 'region')).toMatchObject({ status: 'fail', detail: 'aws.region xx-nowhere-9 is not an EC2 region' });
    expect(row(results, 'image nvidia')).toMatchObject({ status: 'fail', detail: '/aws/service/nvidia does not name an AMI' });
    expect(row(results, 'image nvidia')?.fix).toContain('instances.images.nvidia');
    expect(row(await doctor({ aws }), 'launch')).toEqual({ check: 'launch', status: 'skip', detail: 'needs an image that resolves (see the image rows)' });
  });

  it('fail SSM and CloudWatch Logs access with the actions to grant', async () => {
    const aws = new FakeAwsProbe();
    aws.errors.set('parameterRoundTrip', awsError('AccessDeniedException', 'User: arn:aws:iam::123456789012:user/orca is not authorized to perform: ssm:PutParameter'));
    aws.errors.set('logGroups', awsError('AccessDeniedException', 'not authorized to perform: logs:DescribeLogGroups'));
    const results = await doctor({ aws });
    expect(row(results, 'ssm parameters')).toEqual({
      check: 'ssm parameters', status: 'fail', detail: 'AccessDeniedException: User: arn:aws:iam::123456789012:user/orca is not authorized to perform: ssm:PutParameter',
      fix: 'grant ssm:PutParameter and ssm:DeleteParameters on parameter/orca/test/instances/* (docs/iam.md)',
    });
    expect(row(results, 'cloudwatch logs')?.fix).toMatch(/^grant logs:DescribeLogGroups/);
    aws.errors.clear();
    aws.logGroupNames = [];
    expect(row(await doctor({ aws }), 'cloudwatch logs')).toMatchObject({ status: 'pass', detail: 'no log group /orca/test yet (the first instance creates it)' });
  });

  it('fail an instance profile that does not exist, and skip it when none is configured', async () => {
    const aws = new FakeAwsProbe();
    aws.profiles.clear();
    expect(row(await doctor({ aws }), 'instance profile')).toMatchObject({ status: 'fail', detail: 'instance profile orca-worker does not exist' });
    expect(row(await doctor({ config: { instanceProfileArn: undefined } }), 'instance profile')).toMatchObject({ status: 'skip' });
  });

  it('say a failure that may be transient may pass on a second run', async () => {
    const aws = new FakeAwsProbe();
    aws.errors.set('logGroups', awsError('ServiceUnavailableException', 'try again'));
    expect(row(await doctor({ aws }), 'cloudwatch logs')?.fix).toMatch(/\(if the error is transient, run orca doctor again\)$/);
  });
});
