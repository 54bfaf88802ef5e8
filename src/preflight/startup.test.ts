// The start-up checks over fake probes: each failure a person must fix gives its StartupError (one
// line, the ids it concerns, the fix); checks that could not be made are warnings.
import { describe, expect, it } from 'vitest';
import { StartupError } from '../domain/errors.js';
import { FakeAwsProbe, FakeKubeProbe } from '../../test/fakes/preflight.js';
import { exitCodeOf, exitCodes } from './exit-codes.js';
import { runStartupChecks, startupLine, type StartupConfig, type StartupVerdict } from './startup.js';

const config: StartupConfig = {
  region: 'us-east-1',
  subnets: [{ zone: 'us-east-1a', subnetID: 'subnet-0aaaaaaaaaaaaaaaa' }, { zone: 'us-east-1b', subnetID: 'subnet-0bbbbbbbbbbbbbbbb' }],
  securityGroupIDs: ['sg-0aaaaaaaaaaaaaaaa'],
};

function run(o: { kube?: FakeKubeProbe; aws?: FakeAwsProbe | null; config?: Partial<StartupConfig>; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<StartupVerdict> {
  return runStartupChecks({
    kube: o.kube ?? new FakeKubeProbe(), config: { ...config, ...o.config }, signal: o.signal ?? new AbortController().signal,
    ...(o.aws === null ? {} : { aws: o.aws ?? new FakeAwsProbe() }), ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
  });
}

function failed(v: StartupVerdict): StartupError {
  if (v.ok) throw new Error('the checks passed');
  return v.error;
}

describe('the start-up checks', () => {
  it('pass with every permission, the region, subnets and security groups there, asking about each permission once', async () => {
    const kube = new FakeKubeProbe();
    const aws = new FakeAwsProbe();
    expect(await run({ kube, aws })).toEqual({ ok: true, warnings: [] });
    expect(kube.asked).toHaveLength(26);
    expect(aws.calls).toEqual(['regions', 'subnets', 'securityGroups']);
  });

  it('name every missing permission (rbac)', async () => {
    const kube = new FakeKubeProbe();
    kube.denied.add('patch /nodes/status').add('create /events').add('update coordination.k8s.io/leases kube-node-lease');
    const e = failed(await run({ kube }));
    expect(e.problem).toBe('rbac');
    expect(e.message).toBe("the kubeconfig's identity may not patch nodes/status, create events, update leases.coordination.k8s.io in kube-node-lease");
    expect(startupLine(e)).toMatch(/^orca: the kubeconfig's identity may not patch nodes\/status, .*\. Fix: grant them with kubectl apply -f deploy\/rbac\/orca\.yaml .*\.$/);
    expect(startupLine(e)).not.toContain('\n');
  });

  it('stop at an unreachable apiserver after one question, and ask AWS nothing', async () => {
    const kube = new FakeKubeProbe();
    kube.error = new StartupError('apiserver-unreachable', 'cannot reach the apiserver https://127.0.0.1:1 (ECONNREFUSED)', 'check the server');
    const aws = new FakeAwsProbe();
    expect(failed(await run({ kube, aws })).problem).toBe('apiserver-unreachable');
    expect(kube.asked).toHaveLength(1);
    expect(aws.calls).toEqual([]);
  });

  it('warn and go on when the apiserver answers an error that may be transient, or does not answer in time', async () => {
    const kube = new FakeKubeProbe();
    kube.error = new Error('create self subject access review: HTTP 500: etcdserver: request timed out');
    expect(await run({ kube, aws: null })).toEqual({ ok: true, warnings: ['could not check the Kubernetes permissions (create self subject access review: HTTP 500: etcdserver: request timed out); starting anyway'] });
    const silent = new FakeKubeProbe();
    silent.hang = 'ignoring the signal';
    expect(await run({ kube: silent, aws: null, timeoutMs: 20 })).toEqual({ ok: true, warnings: ['could not check the Kubernetes permissions (no answer within 0.02 s); starting anyway'] });
    silent.hang = true;
    expect(await run({ kube: silent, aws: null, timeoutMs: 20 })).toEqual({ ok: true, warnings: ['could not check the Kubernetes permissions (no answer within 0.02 s); starting anyway'] });
  });

  it('ask AWS nothing without subnets (no AWS probe), or once the signal has aborted', async () => {
    expect(await run({ aws: null })).toEqual({ ok: true, warnings: [] });
    const aws = new FakeAwsProbe();
    const stop = new AbortController();
    stop.abort('SIGTERM');
    await run({ aws, signal: stop.signal });
    expect(aws.calls).toEqual([]);
  });

  it('refuse a region EC2 does not have, and an opt-in region the account has not enabled', async () => {
    const unknown = failed(await run({ config: { region: 'xx-nowhere-9' } }));
    expect(unknown).toMatchObject({ problem: 'unknown-region', message: 'aws.region xx-nowhere-9 is not an EC2 region' });
    expect(unknown.fix).toContain('us-east-1');
    expect(failed(await run({ config: { region: 'af-south-1' } }))).toMatchObject({ problem: 'unknown-region', message: 'aws.region af-south-1 is an opt-in region this account has not enabled' });
  });

  it('name the subnets that do not exist, and a subnet configured in the wrong zone', async () => {
    const e = failed(await run({ config: { subnets: [...config.subnets, { zone: 'us-east-1c', subnetID: 'subnet-0123456789abcdef0' }, { zone: 'us-east-1d', subnetID: 'subnet-0fedcba9876543210' }] } }));
    expect(e).toMatchObject({ problem: 'missing-subnets', message: 'aws.subnets subnet-0123456789abcdef0, subnet-0fedcba9876543210 do not exist in us-east-1' });
    const zone = failed(await run({ config: { subnets: [{ zone: 'us-east-1c', subnetID: 'subnet-0aaaaaaaaaaaaaaaa' }] } }));
    expect(zone).toMatchObject({ problem: 'missing-subnets', message: 'aws.subnets: subnet-0aaaaaaaaaaaaaaaa is in us-east-1a, not us-east-1c' });
  });

  it('name the security groups that do not exist, and ask nothing when none are configured', async () => {
    expect(failed(await run({ config: { securityGroupIDs: ['sg-0aaaaaaaaaaaaaaaa', 'sg-0123456789abcdef0'] } })))
      .toMatchObject({ problem: 'missing-security-groups', message: 'aws.securityGroupIDs sg-0123456789abcdef0 does not exist in us-east-1' });
    const aws = new FakeAwsProbe();
    expect(await run({ aws, config: { securityGroupIDs: [] } })).toEqual({ ok: true, warnings: [] });
    expect(aws.calls).toEqual(['regions', 'subnets']);
  });

  it('pass on the probe\'s StartupError (no credentials) and warn on any other AWS error', async () => {
    const aws = new FakeAwsProbe();
    aws.errors.set('regions', new StartupError('aws-credentials', 'no AWS credentials found', 'set AWS_PROFILE'));
    expect(failed(await run({ aws })).problem).toBe('aws-credentials');
    const throttled = new FakeAwsProbe();
    throttled.errors.set('subnets', Object.assign(new Error('Rate exceeded'), { name: 'RequestLimitExceeded' }));
    expect(await run({ aws: throttled })).toEqual({ ok: true, warnings: ['could not check the AWS region, subnets and security groups (Rate exceeded); starting anyway'] });
  });
});

describe('the exit codes', () => {
  it('are distinct for every start-up problem, and apart from ok, failed and config', () => {
    const values = Object.values(exitCodes);
    expect(new Set(values).size).toBe(values.length);
    expect(exitCodeOf('no-kubeconfig')).toBe(3);
    expect(exitCodeOf('missing-security-groups')).toBe(10);
    expect(Math.max(...values)).toBeLessThan(126);
  });
});
