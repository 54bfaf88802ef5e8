import { DescribeCapacityReservationsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { createReservationSource } from './reservation-source.js';

describe('reservation source', () => {
  it('lists active reservations with their free instances, over every page', async () => {
    const ec2 = mockClient(EC2Client);
    ec2.on(DescribeCapacityReservationsCommand).resolvesOnce({
      CapacityReservations: [{ CapacityReservationId: 'cr-1', InstanceType: 'p5.48xlarge', AvailabilityZone: 'us-east-1a', AvailableInstanceCount: 2 }, { CapacityReservationId: 'cr-x' }],
      NextToken: 'more',
    }).resolvesOnce({ CapacityReservations: [{ CapacityReservationId: 'cr-2', InstanceType: 'trn2.48xlarge', AvailabilityZone: 'us-east-1b' }] });
    expect(await createReservationSource(new EC2Client({})).activeReservations()).toEqual([
      { id: 'cr-1', instanceType: 'p5.48xlarge', zone: 'us-east-1a', available: 2 },
      { id: 'cr-2', instanceType: 'trn2.48xlarge', zone: 'us-east-1b', available: 0 },
    ]);
    expect(ec2.commandCalls(DescribeCapacityReservationsCommand)[0]?.args[0].input.Filters).toEqual([{ Name: 'state', Values: ['active'] }]);
  });
});
