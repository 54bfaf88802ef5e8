// ReservationSource over DescribeCapacityReservations: the active reservations and how many
// instances each still has free, so that pods preferring `reserved` use capacity already paid for.
import { paginateDescribeCapacityReservations, type EC2Client } from '@aws-sdk/client-ec2';
import type { CapacityReservationInfo } from '../domain/instance.js';
import type { ReservationSource } from '../ports/catalog.js';
import { or } from './sdk-util.js';

export function createReservationSource(ec2: EC2Client): ReservationSource {
  return {
    async activeReservations(signal) {
      const out: CapacityReservationInfo[] = [];
      const pages = paginateDescribeCapacityReservations({ client: ec2 }, { Filters: [{ Name: 'state', Values: ['active'] }] });
      for await (const page of pages) {
        signal?.throwIfAborted();
        for (const r of page.CapacityReservations ?? []) {
          if (r.CapacityReservationId === undefined || r.InstanceType === undefined || r.AvailabilityZone === undefined) continue;
          out.push({ id: r.CapacityReservationId, instanceType: r.InstanceType, zone: r.AvailabilityZone, available: or(r.AvailableInstanceCount, 0) });
        }
      }
      return out;
    },
  };
}
