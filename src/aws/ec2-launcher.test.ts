import {
  DescribeInstancesCommand, EC2Client, ModifyInstanceAttributeCommand, RunInstancesCommand, TerminateInstancesCommand, type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { LaunchError } from '../domain/errors.js';
import { launchToken, type LaunchSpec } from '../domain/instance.js';
import { classifyEc2Error } from './ec2-errors.js';
import { createEc2Launcher, runInstancesInput, toInstance } from './ec2-launcher.js';

const ec2 = mockClient(EC2Client);
beforeEach(() => { ec2.reset(); });
const launcher = () => createEc2Launcher(new EC2Client({ region: 'us-east-1', maxAttempts: 1 }));

const spec = (over: Partial<LaunchSpec> = {}): LaunchSpec => ({
  clientToken: launchToken('3f1c0b2a-uid', 0), instanceType: 'p5.48xlarge', capacity: 'on-demand', subnetId: 'subnet-0abc1234',
  imageId: 'ami-0123456789abcdef0', rootDeviceName: '/dev/sda1', count: 1, rootVolumeGiB: 500,
  instanceProfileArn: 'arn:aws:iam::123456789012:instance-profile/orca-worker', securityGroupIds: ['sg-0abc1234'],
  userData: '#!/bin/sh\nexec /opt/orca/agent\n', tags: { 'orca.research/cluster': 'lab', 'orca.research/pod-uid': '3f1c0b2a-uid' },
  terminationProtection: false, dryRun: false, ...over,
});
const awsError = (name: string): Error => Object.assign(new Error(`${name} happened`), { name, $fault: 'client', $metadata: {} });
const sdkInstance = (id: string, state = 'pending') => ({
  InstanceId: id, InstanceType: 'p5.48xlarge' as const, State: { Name: state as 'pending' }, Placement: { AvailabilityZone: 'us-east-1b' },
  LaunchTime: new Date('2026-11-23T12:00:00Z'), PrivateIpAddress: '10.0.1.5', Tags: [{ Key: 'orca.research/cluster', Value: 'lab' }],
});

describe('runInstancesInput', () => {
  it('requires IMDSv2, encrypts the root volume, tags instance and volume, and carries the ClientToken', () => {
    const i = runInstancesInput(spec());
    expect(i).toMatchObject({
      ClientToken: 'orca-3f1c0b2a-uid-0', MinCount: 1, MaxCount: 1, SubnetId: 'subnet-0abc1234',
      MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 2, InstanceMetadataTags: 'disabled' },
      BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { VolumeSize: 500, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true } }],
      IamInstanceProfile: { Arn: 'arn:aws:iam::123456789012:instance-profile/orca-worker' },
      CapacityReservationSpecification: { CapacityReservationPreference: 'open' },
      InstanceInitiatedShutdownBehavior: 'terminate',
    });
    expect(i.TagSpecifications?.map((t) => t.ResourceType)).toEqual(['instance', 'volume']);
    expect(Buffer.from(i.UserData ?? '', 'base64').toString()).toBe('#!/bin/sh\nexec /opt/orca/agent\n');
    expect(i.InstanceMarketOptions).toBeUndefined();
  });

  it.each<[string, Partial<LaunchSpec>, Partial<RunInstancesCommandInput>]>([
    ['spot with a maximum price', { capacity: 'spot', maxSpotPrice: 30 }, {
      InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate', MaxPrice: '30' } },
      CapacityReservationSpecification: { CapacityReservationPreference: 'none' } }],
    ['a targeted reservation', { capacity: 'reserved', capacityReservationId: 'cr-0123456789abcdef0' }, {
      CapacityReservationSpecification: { CapacityReservationTarget: { CapacityReservationId: 'cr-0123456789abcdef0' } } }],
    ['a Capacity Block', { capacity: 'reserved', capacityBlockId: 'cr-0fedcba9876543210' }, {
      InstanceMarketOptions: { MarketType: 'capacity-block' },
      CapacityReservationSpecification: { CapacityReservationTarget: { CapacityReservationId: 'cr-0fedcba9876543210' } } }],
    ['on-demand kept out of reservations', { capacityReservationPreference: 'none' }, { CapacityReservationSpecification: { CapacityReservationPreference: 'none' } }],
    ['a batch of identical workers', { count: 50 }, { MinCount: 1, MaxCount: 50 }],
  ])('sets the market and reservation options for %s', (_w, over, want) => {
    expect(runInstancesInput(spec(over))).toMatchObject(want);
  });
});

describe('createEc2Launcher', () => {
  it('returns the launched instances as ORCA instances', async () => {
    ec2.on(RunInstancesCommand).resolves({ Instances: [sdkInstance('i-0aaa')] });
    expect(await launcher().launch(spec())).toEqual([{
      id: 'i-0aaa', type: 'p5.48xlarge', zone: 'us-east-1b', state: 'pending', lifecycle: 'on-demand', launchTime: '2026-11-23T12:00:00.000Z',
      privateIp: '10.0.1.5', tags: { 'orca.research/cluster': 'lab' },
    }]);
  });

  it('gets the same instance back when a create is repeated with the same ClientToken (no second launch)', async () => {
    const byToken = new Map<string, string>();
    let launched = 0;
    ec2.on(RunInstancesCommand).callsFake((input: RunInstancesCommandInput) => {
      const token = input.ClientToken ?? '';
      if (!byToken.has(token)) byToken.set(token, `i-${String(++launched).padStart(4, '0')}`);
      return { Instances: [sdkInstance(byToken.get(token) ?? '')] };
    });
    const first = await launcher().launch(spec({ clientToken: launchToken('pod-uid-1', 0) }));
    const afterCrash = await launcher().launch(spec({ clientToken: launchToken('pod-uid-1', 0) }));
    expect(afterCrash.map((i) => i.id)).toEqual(first.map((i) => i.id));
    expect(launched).toBe(1);
    expect(launchToken('pod-uid-1', 1)).not.toBe(launchToken('pod-uid-1', 0));
    expect(launchToken('x'.repeat(80), 3)).toHaveLength(64);
  });

  it.each([
    ['InsufficientInstanceCapacity', 'capacity'], ['MaxSpotInstanceCountExceeded', 'capacity'], ['SpotMaxPriceTooLow', 'capacity'],
    ['VcpuLimitExceeded', 'quota'], ['InstanceLimitExceeded', 'quota'],
    ['ReservationCapacityExceeded', 'reservation-full'], ['Unsupported', 'unsupported'],
    ['RequestLimitExceeded', 'throttled'], ['UnauthorizedOperation', 'unauthorized'],
    ['IdempotentParameterMismatch', 'idempotency'], ['InvalidAMIID.NotFound', 'invalid'], ['InvalidParameterCombination', 'invalid'],
    ['SomethingNew', 'unknown'], ['constructor', 'unknown'],
  ])('turns %s into a LaunchError of kind %s', async (code, kind) => {
    ec2.on(RunInstancesCommand).rejects(awsError(code));
    const e = await launcher().launch(spec()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LaunchError);
    expect(e).toMatchObject({ kind, awsCode: code, code: 'ORCA_ERR_LAUNCH', message: `${code}: ${code} happened` });
  });

  it('never puts user data into an error message', async () => {
    ec2.on(RunInstancesCommand).rejects(awsError('InvalidParameterValue'));
    const e = (await launcher().launch(spec({ userData: 'SECRET-MARKER' })).catch((x: unknown) => x)) as Error;
    expect(e.message).not.toContain('SECRET-MARKER');
  });

  it('treats DryRunOperation as success of a dry run, launching nothing', async () => {
    ec2.on(RunInstancesCommand).rejects(awsError('DryRunOperation'));
    expect(await launcher().launch(spec({ dryRun: true }))).toEqual([]);
    expect(ec2.commandCalls(RunInstancesCommand)[0]?.args[0].input.DryRun).toBe(true);
    await expect(launcher().launch(spec({ dryRun: false }))).rejects.toBeInstanceOf(LaunchError);
  });

  it('lists 2500 tagged instances in three DescribeInstances calls of up to 1000', async () => {
    const page = (from: number, n: number, next?: string) => ({
      Reservations: [{ Instances: Array.from({ length: n }, (_, k) => sdkInstance(`i-${from + k}`, 'running')) }], ...(next === undefined ? {} : { NextToken: next }),
    });
    ec2.on(DescribeInstancesCommand).resolvesOnce(page(0, 1000, 'a')).resolvesOnce(page(1000, 1000, 'b')).resolvesOnce(page(2000, 500));
    const all = await launcher().listTagged('orca.research/cluster', 'lab');
    expect(all).toHaveLength(2500);
    const calls = ec2.commandCalls(DescribeInstancesCommand);
    expect(calls).toHaveLength(3);
    expect(calls[0]?.args[0].input).toMatchObject({ Filters: [{ Name: 'tag:orca.research/cluster', Values: ['lab'] }], MaxResults: 1000 });
  });

  it('terminates in batches of 1000 and ignores instances already gone', async () => {
    ec2.on(TerminateInstancesCommand).rejectsOnce(awsError('InvalidInstanceID.NotFound')).resolves({});
    await launcher().terminate(Array.from({ length: 1500 }, (_, k) => `i-${k}`));
    expect(ec2.commandCalls(TerminateInstancesCommand).map((c) => c.args[0].input.InstanceIds?.length)).toEqual([1000, 500]);
  });

  it('still terminates the others when EC2 no longer knows one id of the call', async () => {
    const gone = Object.assign(new Error("The instance ID 'i-00000000000000002' does not exist"), { name: 'InvalidInstanceID.NotFound' });
    ec2.on(TerminateInstancesCommand).rejectsOnce(gone).resolves({});
    await launcher().terminate(['i-00000000000000001', 'i-00000000000000002', 'i-00000000000000003']);
    expect(ec2.commandCalls(TerminateInstancesCommand).map((c) => c.args[0].input.InstanceIds)).toEqual([
      ['i-00000000000000001', 'i-00000000000000002', 'i-00000000000000003'], ['i-00000000000000001', 'i-00000000000000003'],
    ]);
  });

  it('reports termination protection as TerminateRefusedError naming the instance, and lifts it with ModifyInstanceAttribute', async () => {
    const refused = Object.assign(new Error("The instance 'i-0abcdef0123456789' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again."), { name: 'OperationNotPermitted' });
    ec2.on(TerminateInstancesCommand).rejects(refused);
    ec2.on(ModifyInstanceAttributeCommand).resolves({});
    await expect(launcher().terminate(['i-0abcdef0123456789'])).rejects.toEqual(expect.objectContaining({ code: 'ORCA_ERR_TERMINATE_REFUSED', reason: 'protected', instanceIds: ['i-0abcdef0123456789'] }));
    await launcher().unprotect('i-0abcdef0123456789');
    expect(ec2.commandCalls(ModifyInstanceAttributeCommand)[0]?.args[0].input).toEqual({ InstanceId: 'i-0abcdef0123456789', DisableApiTermination: { Value: false } });
  });

  it('reads a state it does not know as unknown, never as pending', () => {
    expect(toInstance({ InstanceId: 'i-1', State: { Name: 'hibernating' as never } }).state).toBe('unknown');
  });
});

describe('classifyEc2Error', () => {
  it('knows only errors, not strings', () => {
    expect(classifyEc2Error('InsufficientInstanceCapacity')).toBe('unknown');
  });
});
