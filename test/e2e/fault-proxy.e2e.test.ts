// The fault-injecting proxy in front of moto, driven through ORCA's own EC2 launcher over the real
// wire protocol: per-offering capacity errors, capacity pools that fill a call in part, pending
// instances, ClientToken idempotency, throttling retried by the SDK's retry strategy, canned
// capacity reservations, and call counts.
import { DescribeCapacityReservationsCommand, DescribeInstancesCommand, DescribeSubnetsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEc2Launcher } from '../../src/aws/ec2-launcher.js';
import { NoCapacityRetryStrategy } from '../../src/aws/retry.js';
import { LaunchError } from '../../src/domain/errors.js';
import { launchToken, type LaunchSpec } from '../../src/domain/instance.js';
import { FaultProxy } from '../fault-proxy/fault-proxy.js';
import { awsClientConfig } from './fixture.js';

let proxy: FaultProxy & { readonly url: string };
let ec2: EC2Client;
let ami = '';
let subnets: { id: string; zone: string }[] = [];

beforeAll(async () => {
  proxy = await FaultProxy.start(awsClientConfig().endpoint);
  ec2 = new EC2Client({ ...awsClientConfig(), endpoint: proxy.url, maxAttempts: 1 });
  const ssm = new SSMClient(awsClientConfig());
  ami = (await ssm.send(new GetParameterCommand({ Name: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' }))).Parameter?.Value ?? '';
  const s = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }] }));
  subnets = (s.Subnets ?? []).map((x) => ({ id: x.SubnetId ?? '', zone: x.AvailabilityZone ?? '' })).sort((a, b) => a.zone.localeCompare(b.zone));
});
afterAll(async () => { await proxy.stop(); });

const spec = (over: Partial<LaunchSpec>): LaunchSpec => ({
  clientToken: launchToken('uid-fault', 0), instanceType: 'p5.48xlarge', capacity: 'on-demand', subnetId: subnets[0]?.id ?? '',
  imageId: ami, rootDeviceName: '/dev/xvda', count: 1, rootVolumeGiB: 200, securityGroupIds: [], userData: '#!/bin/sh\necho generic bootstrap\n',
  tags: { 'orca.research/cluster': 'fault-test', 'orca.research/pod-uid': 'uid-fault' }, terminationProtection: false, dryRun: false, ...over,
});

describe('the fault-injecting proxy', () => {
  it('fails spot p5 in the first AZ with InsufficientInstanceCapacity, and lets on-demand in the second through to moto', async () => {
    const [a, b] = subnets;
    if (a === undefined || b === undefined) throw new Error('moto has no default subnets');
    proxy.rules.push({ action: 'RunInstances', match: { InstanceType: 'p5.48xlarge', SubnetId: a.id, 'InstanceMarketOptions.MarketType': 'spot' }, error: 'InsufficientInstanceCapacity' });
    const launcher = createEc2Launcher(ec2);
    const e = await launcher.launch(spec({ capacity: 'spot', subnetId: a.id, clientToken: launchToken('uid-fault', 0) })).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LaunchError);
    expect(e).toMatchObject({ kind: 'capacity', awsCode: 'InsufficientInstanceCapacity' });
    const [inst] = await launcher.launch(spec({ capacity: 'on-demand', subnetId: b.id, clientToken: launchToken('uid-fault', 1) }));
    expect(inst).toMatchObject({ type: 'p5.48xlarge', zone: b.zone, tags: { 'orca.research/pod-uid': 'uid-fault' } });
    const sent = proxy.runInstances.at(-1) ?? {};
    expect(sent).toMatchObject({ 'MetadataOptions.HttpTokens': 'required', ClientToken: 'orca-uid-fault-1', 'BlockDeviceMapping.1.Ebs.Encrypted': 'true' });
    expect(Buffer.from(sent.UserData ?? '', 'base64').toString()).toBe('#!/bin/sh\necho generic bootstrap\n');
  });

  it('with ORCA\'s retry strategy, sends an InsufficientInstanceCapacity launch once but retries throttling', async () => {
    const [a] = subnets;
    const client = new EC2Client({ ...awsClientConfig(), endpoint: proxy.url, retryStrategy: new NoCapacityRetryStrategy() });
    const launcher = createEc2Launcher(client);
    proxy.rules.push({ action: 'RunInstances', match: { InstanceType: 'p5en.48xlarge' }, error: 'InsufficientInstanceCapacity' });
    const before = proxy.runInstances.length;
    await expect(launcher.launch(spec({ instanceType: 'p5en.48xlarge', subnetId: a?.id ?? '', clientToken: 'orca-ice-once' }))).rejects.toMatchObject({ kind: 'capacity' });
    expect(proxy.runInstances.length - before).toBe(1);
    proxy.rules.push({ action: 'RunInstances', match: { InstanceType: 'trn2.48xlarge' }, error: 'RequestLimitExceeded', times: 2 });
    const [inst] = await launcher.launch(spec({ instanceType: 'trn2.48xlarge', subnetId: a?.id ?? '', clientToken: 'orca-throttled', tags: { 'orca.research/cluster': 'throttled' } }));
    expect(inst?.type).toBe('trn2.48xlarge');
    expect(proxy.runInstances.length - before).toBe(4);
  });

  it('answers a repeated ClientToken with the first launch, so moto holds one instance', async () => {
    const launcher = createEc2Launcher(ec2);
    const first = await launcher.launch(spec({ clientToken: 'orca-idempotent-0', tags: { 'orca.research/cluster': 'idem' } }));
    const again = await launcher.launch(spec({ clientToken: 'orca-idempotent-0', tags: { 'orca.research/cluster': 'idem' } }));
    expect(again.map((i) => i.id)).toEqual(first.map((i) => i.id));
    expect(await launcher.listTagged('orca.research/cluster', 'idem')).toHaveLength(1);
  });

  it('throttles twice and the SDK\'s retry strategy gets through on the third attempt', async () => {
    proxy.rules.push({ action: 'DescribeInstances', error: 'RequestLimitExceeded', times: 2 });
    const before = proxy.count('DescribeInstances');
    const patient = new EC2Client({ ...awsClientConfig(), endpoint: proxy.url, maxAttempts: 3 });
    const out = await patient.send(new DescribeInstancesCommand({ MaxResults: 1000 }));
    expect(out.Reservations).toBeDefined();
    expect(proxy.count('DescribeInstances') - before).toBe(3);
  });

  it('reads 1000 running instances with one DescribeInstances call', async () => {
    const launcher = createEc2Launcher(ec2);
    const launched = await launcher.launch(spec({ instanceType: 'g6e.xlarge', count: 1000, clientToken: 'orca-sync-1000', tags: { 'orca.research/cluster': 'sync-1000' } }));
    expect(launched).toHaveLength(1000);
    const before = proxy.count('DescribeInstances');
    const all = await launcher.listTagged('orca.research/cluster', 'sync-1000');
    const calls = proxy.count('DescribeInstances') - before;
    process.stdout.write(`sync figures: ${JSON.stringify({ instances: all.length, describeInstancesCalls: calls })}\n`);
    expect(all).toHaveLength(1000);
    expect(calls).toBe(1);
  });

  it('fills a batched launch only as far as its capacity pool goes, then answers InsufficientInstanceCapacity', async () => {
    const launcher = createEc2Launcher(ec2);
    proxy.pools.push({ match: { InstanceType: 'g6.xlarge' }, available: 6 });
    const got = await launcher.launch(spec({ instanceType: 'g6.xlarge', count: 10, clientToken: 'orca-pool-0', tags: { 'orca.research/cluster': 'pool' } }));
    expect(got).toHaveLength(6);
    expect(proxy.runInstances.at(-1)).toMatchObject({ MinCount: '1', MaxCount: '10' });
    const more = await launcher.launch(spec({ instanceType: 'g6.xlarge', count: 4, clientToken: 'orca-pool-1' })).catch((x: unknown) => x);
    expect(more).toMatchObject({ kind: 'capacity', awsCode: 'InsufficientInstanceCapacity' });
    expect(await launcher.listTagged('orca.research/cluster', 'pool')).toHaveLength(6);
  });

  it('shows a new instance as pending for a while, as EC2 does', async () => {
    const launcher = createEc2Launcher(ec2);
    proxy.pendingMs = 8000;
    const [inst] = await launcher.launch(spec({ instanceType: 'g6.2xlarge', clientToken: 'orca-pending-0', tags: { 'orca.research/cluster': 'pending' } }));
    expect((await launcher.listTagged('orca.research/cluster', 'pending')).map((i) => [i.id, i.state])).toEqual([[inst?.id, 'pending']]);
    proxy.pendingMs = 1;
    expect((await launcher.listTagged('orca.research/cluster', 'pending')).map((i) => i.state)).toEqual(['running']);
    proxy.pendingMs = 0;
  });

  it('serves capacity reservations moto does not have', async () => {
    proxy.reservations.push({ id: 'cr-0123456789abcdef0', instanceType: 'p5.48xlarge', zone: 'us-east-1a', available: 2 });
    const r = await ec2.send(new DescribeCapacityReservationsCommand({}));
    expect(r.CapacityReservations?.map((c) => [c.CapacityReservationId, c.InstanceType, c.AvailableInstanceCount])).toEqual([['cr-0123456789abcdef0', 'p5.48xlarge', 2]]);
  });
});
