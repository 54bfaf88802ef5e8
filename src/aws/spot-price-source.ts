// SpotPriceSource and SpotPriceHistory over DescribeSpotPriceHistory (Linux/UNIX). StartTime "now"
// makes EC2 return just the current price of each pool; a StartTime and an EndTime return every
// change between them and the price in effect at the start.
import { EC2Client, paginateDescribeSpotPriceHistory, type _InstanceType, type SpotPrice } from '@aws-sdk/client-ec2';
import type { SpotPriceHistory, SpotPricePoint, SpotPriceSource } from '../ports/catalog.js';

type Latest = Map<string, { readonly at: number; readonly usd: number }>;

function pointOf(p: SpotPrice): SpotPricePoint | undefined {
  const usd = Number(p.SpotPrice);
  if (!Number.isFinite(usd) || usd <= 0) return undefined;
  return { at: p.Timestamp === undefined ? 0 : p.Timestamp.getTime(), usdPerHour: usd };
}

function keep(latest: Latest, p: SpotPrice): void {
  const point = pointOf(p);
  if (point === undefined) return;
  const key = `${String(p.InstanceType)}/${String(p.AvailabilityZone)}`;
  const seen = latest.get(key);
  if (seen === undefined || seen.at < point.at) latest.set(key, { at: point.at, usd: point.usdPerHour });
}

export function createSpotPriceSource(ec2: EC2Client, now: () => Date): SpotPriceSource & SpotPriceHistory {
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
    async history({ type, zone, from, to }, signal) {
      const points: SpotPricePoint[] = [];
      const pages = paginateDescribeSpotPriceHistory({ client: ec2, pageSize: 1000 }, {
        InstanceTypes: [type as _InstanceType], ProductDescriptions: ['Linux/UNIX'], AvailabilityZone: zone, StartTime: from, EndTime: to,
      });
      for await (const page of pages) {
        signal?.throwIfAborted();
        for (const p of page.SpotPriceHistory ?? []) {
          const point = p.AvailabilityZone === zone ? pointOf(p) : undefined;
          if (point !== undefined) points.push(point);
        }
      }
      return points.sort((a, b) => a.at - b.at);
    },
  };
}

/** The current spot prices of a region for a one-off read (the CLI's `catalog --live-spot`): the SDK's default credentials, three attempts. */
export function regionSpotPrices(region: string, endpoint: string | undefined): SpotPriceSource {
  return createSpotPriceSource(new EC2Client({ region, ...(endpoint === undefined ? {} : { endpoint }), maxAttempts: 3 }), () => new Date());
}
