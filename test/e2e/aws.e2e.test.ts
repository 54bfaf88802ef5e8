// Proves the AWS emulator is real: AWS SDK v3 clients speak EC2 (Query/XML), SSM and CloudWatch Logs
// (JSON 1.1) to moto over HTTP on loopback, and state persists between calls.
import { randomUUID } from 'node:crypto';
import {
  CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, GetLogEventsCommand, PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeInstancesCommand, EC2Client, RunInstancesCommand, TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { createImageSource } from '../../src/aws/image-source.js';
import { createSpotPriceSource } from '../../src/aws/spot-price-source.js';
import { awsClientConfig } from './fixture.js';

describe('ORCA\'s AWS adapters over the wire', () => {
  it('resolves the Amazon Linux 2023 SSM public parameter to a bootable image with its root device', async () => {
    const images = createImageSource(new SSMClient(awsClientConfig()), new EC2Client(awsClientConfig()));
    const img = await images.resolve('/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64');
    expect(img.imageId).toMatch(/^ami-[0-9a-f]+$/);
    expect(img.rootDeviceName).toMatch(/^\/dev\//);
  });

  it('reads current spot prices per type and zone', async () => {
    const prices = await createSpotPriceSource(new EC2Client(awsClientConfig()), () => new Date()).spotPrices(['p5.48xlarge']);
    expect(prices.size).toBeGreaterThan(0);
    for (const [key, usd] of prices) {
      expect(key).toMatch(/^p5\.48xlarge\/us-east-1[a-f]$/);
      expect(usd).toBeGreaterThan(0);
    }
  });
});

describe('moto', () => {
  it('runs, describes and terminates an EC2 instance from an AMI found through an SSM public parameter', async () => {
    const ssm = new SSMClient(awsClientConfig());
    const ec2 = new EC2Client(awsClientConfig());
    const param = await ssm.send(new GetParameterCommand({ Name: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' }));
    const ami = param.Parameter?.Value ?? '';
    expect(ami).toMatch(/^ami-[0-9a-f]+$/);

    const tag = randomUUID();
    const run = await ec2.send(new RunInstancesCommand({
      ImageId: ami, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1,
      MetadataOptions: { HttpTokens: 'required' },
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'orca.research/smoke', Value: tag }] }],
    }));
    const id = run.Instances?.[0]?.InstanceId ?? '';
    expect(id).toMatch(/^i-[0-9a-f]+$/);

    const described = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:orca.research/smoke', Values: [tag] }] }));
    const inst = described.Reservations?.flatMap((r) => r.Instances ?? []) ?? [];
    expect(inst.map((i) => [i.InstanceId, i.InstanceType, i.State?.Name, i.MetadataOptions?.HttpTokens]))
      .toEqual([[id, 't3.micro', 'running', 'required']]);

    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    const after = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    expect(after.Reservations?.[0]?.Instances?.[0]?.State?.Name).toBe('terminated');
  });

  it('writes a CloudWatch log event and reads it back', async () => {
    const logs = new CloudWatchLogsClient(awsClientConfig());
    const group = `/orca/smoke/${randomUUID()}`;
    await logs.send(new CreateLogGroupCommand({ logGroupName: group }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: 'main' }));
    const now = Date.now();
    await logs.send(new PutLogEventsCommand({
      logGroupName: group, logStreamName: 'main',
      logEvents: [{ timestamp: now, message: 'hello from the test bed' }, { timestamp: now + 1, message: 'second line' }],
    }));
    const got = await logs.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: 'main', startFromHead: true }));
    expect(got.events?.map((e) => e.message)).toEqual(['hello from the test bed', 'second line']);
  });

  it('answers an unknown resource with the AWS error code, not a transport failure', async () => {
    const ec2 = new EC2Client(awsClientConfig());
    await expect(ec2.send(new TerminateInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })))
      .rejects.toMatchObject({ name: 'InvalidInstanceID.NotFound' });
  });
});
