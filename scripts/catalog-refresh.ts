// Refreshes instance-catalog/ from AWS: instance-types.json from EC2 DescribeInstanceTypes for every
// family ORCA serves, corrected where AWS documents a different figure (src/catalog/overrides.ts), and
// prices/<region>.json from the Pricing API (on-demand, Linux). capacity-blocks.json is not refreshed
// here: no AWS API lists the Capacity Block rates (see instance-catalog/README.md).
//   npm run catalog:refresh -- --region us-east-1 [--no-prices] [--out DIR] [--endpoint URL]
// Credentials come from the AWS SDK's default chain. --endpoint points EC2 at an emulator (tests).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EC2Client } from '@aws-sdk/client-ec2';
import { PricingClient } from '@aws-sdk/client-pricing';
import { Command } from 'commander';
import { createCatalogSource } from '../src/aws/catalog-source.js';
import { createPriceSource } from '../src/aws/price-source.js';
import { applyOverrides, describeOverride } from '../src/catalog/overrides.js';
import { catalogFamilies, type CatalogData, type PriceData } from '../src/catalog/types.js';

interface Options { region: string; out: string; prices: boolean; endpoint?: string; source?: string }

function write(file: string, data: unknown): void {
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  process.stdout.write(`wrote ${file}\n`);
}

async function refresh(o: Options): Promise<void> {
  const readAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const ec2 = new EC2Client({ region: o.region, ...(o.endpoint === undefined ? {} : { endpoint: o.endpoint }) });
  const described = await createCatalogSource(ec2).instanceTypes(catalogFamilies);
  if (described.length === 0) throw new Error(`DescribeInstanceTypes returned no instance type of ${catalogFamilies.join(', ')}`);
  const { types, report } = applyOverrides(described);
  for (const r of report) process.stdout.write(`${describeOverride(r)}\n`);
  const source = `${o.source ?? `EC2 DescribeInstanceTypes in ${o.region}`}; corrected by src/catalog/overrides.ts`;
  const catalog: CatalogData = { source, readAt, types };
  mkdirSync(join(o.out, 'prices'), { recursive: true });
  write(join(o.out, 'instance-types.json'), catalog);
  if (!o.prices) return;
  const prices = await createPriceSource(new PricingClient({ region: 'us-east-1' })).onDemandPrices(o.region, types.map((t) => t.type));
  const data: PriceData = { region: o.region, source: 'AWS Pricing API GetProducts (on-demand, Linux; shared tenancy, and dedicated tenancy for bare metal)', readAt, onDemandUsdPerHour: prices };
  write(join(o.out, 'prices', `${o.region}.json`), data);
}

const program = new Command('catalog-refresh')
  .requiredOption('--region <region>', 'AWS region to describe and price')
  .option('--out <dir>', 'output directory', 'instance-catalog')
  .option('--no-prices', 'skip the Pricing API')
  .option('--endpoint <url>', 'EC2 endpoint override (an emulator)')
  .option('--source <text>', 'the source line to record instead of the default')
  .action(refresh);
program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`catalog-refresh: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
