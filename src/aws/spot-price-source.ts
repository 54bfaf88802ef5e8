// SpotPriceSource over DescribeSpotPriceHistory: the newest Linux/UNIX price per type and zone.
// StartTime "now" makes EC2 return just the current price of each pool.
import { paginateDescribeSpotPriceHistory, type _InstanceType, type EC2Client, type SpotPrice } from '@aws-sdk/client-ec2';
import type { SpotPriceSource } from '../ports/catalog.js';

type Latest = Map<string, { readonly at: number; readonly usd: number }>;

function keep(latest: Latest, p: SpotPrice): void {
  const usd = Number(p.SpotPrice);
  if (!Number.isFinite(usd) || usd <= 0) return;
  const key = `${String(p.InstanceType)}/${String(p.AvailabilityZone)}`;
  const at = p.Timestamp === undefined ? 0 : p.Timestamp.getTime();
  const seen = latest.get(key);
  if (seen === undefined || seen.at < at) latest.set(key, { at, usd });
}

export function createSpotPriceSource(ec2: EC2Client, now: () => Date): SpotPriceSource {
  return {
    async spotPrices(types, signal) {
      const latest: Latest = new Map();
      const pages = paginateDescribeSpotPriceHistory({ client: ec2, pageSize: 1000 }, {
        InstanceTypes: types as _InstanceType[], ProductDescriptions: ['Linux/UNIX'], StartTime: now(),
      });
      for await (const page of pages) {
        signal?.throwIfAborted();
        for (const p of page.SpotPriceHistory ?? []) keep(latest, p);
      }
      return new Map([...latest].map(([k, v]) => [k, v.usd]));
    },
  };
}
