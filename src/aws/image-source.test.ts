import { DescribeImagesCommand, DescribeSpotPriceHistoryCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createImageSource } from './image-source.js';
import { createSpotPriceSource } from './spot-price-source.js';

const ec2 = mockClient(EC2Client);
const ssm = mockClient(SSMClient);
beforeEach(() => { ec2.reset(); ssm.reset(); });
const images = () => createImageSource(new SSMClient({ region: 'us-east-1' }), new EC2Client({ region: 'us-east-1' }));
const dlami = '/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id';

describe('createImageSource', () => {
  it('resolves an SSM public parameter to the AMI and its root device', async () => {
    ssm.on(GetParameterCommand, { Name: dlami }).resolves({ Parameter: { Value: 'ami-0abc1234def567890' } });
    ec2.on(DescribeImagesCommand, { ImageIds: ['ami-0abc1234def567890'] }).resolves({ Images: [{ ImageId: 'ami-0abc1234def567890', RootDeviceName: '/dev/sda1' }] });
    expect(await images().resolve(dlami)).toEqual({ imageId: 'ami-0abc1234def567890', rootDeviceName: '/dev/sda1' });
  });

  it('resolves the Neuron DLAMI parameter, whose name ends in image_id', async () => {
    const neuron = '/aws/service/neuron/dlami/base/ubuntu-24.04/latest/image_id';
    ssm.on(GetParameterCommand, { Name: neuron }).resolves({ Parameter: { Name: neuron, Type: 'String', Value: 'ami-0f1e2d3c4b5a69788' } });
    ec2.on(DescribeImagesCommand, { ImageIds: ['ami-0f1e2d3c4b5a69788'] }).resolves({ Images: [{ ImageId: 'ami-0f1e2d3c4b5a69788', RootDeviceName: '/dev/sda1' }] });
    expect(await images().resolve(neuron)).toEqual({ imageId: 'ami-0f1e2d3c4b5a69788', rootDeviceName: '/dev/sda1' });
    expect(ssm.commandCalls(GetParameterCommand).map((c) => c.args[0].input)).toEqual([{ Name: neuron }]);
  });

  it('takes an AMI id as it is, and names a parameter that does not hold one', async () => {
    ec2.on(DescribeImagesCommand).resolves({ Images: [{ RootDeviceName: '/dev/xvda' }] });
    expect(await images().resolve('ami-0123456789abcdef0')).toEqual({ imageId: 'ami-0123456789abcdef0', rootDeviceName: '/dev/xvda' });
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'not-an-ami' } });
    await expect(images().resolve('/aws/service/x')).rejects.toThrow('/aws/service/x does not name an AMI (got "not-an-ami")');
  });

  it('refuses an AMI that does not exist', async () => {
    ec2.on(DescribeImagesCommand).resolves({ Images: [] });
    await expect(images().resolve('ami-0123456789abcdef0')).rejects.toThrow('AMI ami-0123456789abcdef0 was not found or has no root device');
  });
});

describe('createSpotPriceSource', () => {
  it('keeps the newest positive Linux price of each type and zone', async () => {
    const at = (s: string): Date => new Date(`2026-11-23T${s}Z`);
    ec2.on(DescribeSpotPriceHistoryCommand).resolves({ SpotPriceHistory: [
      { InstanceType: 'p5.48xlarge', AvailabilityZone: 'us-east-1a', SpotPrice: '30.1', Timestamp: at('10:00:00') },
      { InstanceType: 'p5.48xlarge', AvailabilityZone: 'us-east-1a', SpotPrice: '28.5', Timestamp: at('11:00:00') },
      { InstanceType: 'p5.48xlarge', AvailabilityZone: 'us-east-1b', SpotPrice: '0', Timestamp: at('11:00:00') },
      { InstanceType: 'g6e.xlarge', AvailabilityZone: 'us-east-1b', SpotPrice: '0.61', Timestamp: at('09:00:00') },
    ] });
    const now = new Date('2026-11-23T12:00:00Z');
    const prices = await createSpotPriceSource(new EC2Client({ region: 'us-east-1' }), () => now).spotPrices(['p5.48xlarge', 'g6e.xlarge']);
    expect([...prices]).toEqual([['p5.48xlarge/us-east-1a', 28.5], ['g6e.xlarge/us-east-1b', 0.61]]);
    expect(ec2.commandCalls(DescribeSpotPriceHistoryCommand)[0]?.args[0].input).toMatchObject({
      InstanceTypes: ['p5.48xlarge', 'g6e.xlarge'], ProductDescriptions: ['Linux/UNIX'], StartTime: now,
    });
  });

  it('reads one pool\'s prices over a span, oldest first, without other zones or prices that are not positive', async () => {
    const at = (t: string): Date => new Date(`2026-11-23T${t}Z`);
    ec2.on(DescribeSpotPriceHistoryCommand).resolves({ SpotPriceHistory: [
      { InstanceType: 'p5.48xlarge', AvailabilityZone: 'us-east-1a', SpotPrice: '20', Timestamp: at('11:30:00') },
      { InstanceType: 'p5.48xlarge', AvailabilityZone: 'us-east-1a', SpotPrice: '12', Timestamp: at('09:00:00') },
      { InstanceType: 'p5.48xlarge', AvailabilityZone: 'us-east-1b', SpotPrice: '99', Timestamp: at('10:00:00') },
      { InstanceType: 'p5.48xlarge', AvailabilityZone: 'us-east-1a', SpotPrice: 'n/a', Timestamp: at('10:00:00') },
    ] });
    const from = at('10:00:00');
    const to = at('12:00:00');
    const points = await createSpotPriceSource(new EC2Client({ region: 'us-east-1' }), () => to).history({ type: 'p5.48xlarge', zone: 'us-east-1a', from, to });
    expect(points).toEqual([{ at: at('09:00:00').getTime(), usdPerHour: 12 }, { at: at('11:30:00').getTime(), usdPerHour: 20 }]);
    expect(ec2.commandCalls(DescribeSpotPriceHistoryCommand)[0]?.args[0].input).toMatchObject({
      InstanceTypes: ['p5.48xlarge'], ProductDescriptions: ['Linux/UNIX'], AvailabilityZone: 'us-east-1a', StartTime: from, EndTime: to,
    });
  });
});
