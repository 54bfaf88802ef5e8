import { GetProductsCommand, PricingClient, type GetProductsCommandInput, type GetProductsCommandOutput } from '@aws-sdk/client-pricing';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createPriceSource, usdPerHour } from './price-source.js';

const pricing = mockClient(PricingClient);
beforeEach(() => { pricing.reset(); });
const prices = () => createPriceSource(new PricingClient({ region: 'us-east-1', maxAttempts: 1 }));

const item = (instanceType: string, usd: string): string => JSON.stringify({
  product: { attributes: { instanceType } },
  terms: { OnDemand: { 'X.JRTCKXETXF': { priceDimensions: { 'X.JRTCKXETXF.6YS6EN2CT7': { unit: 'Hrs', pricePerUnit: { USD: usd } } } } } },
});

const filters = (input: GetProductsCommandInput): string[] => (input.Filters ?? []).map((f) => `${f.Field ?? ''}=${f.Value ?? ''}`);
const common = (region: string): string[] => ['regionCode=' + region, 'operatingSystem=Linux', 'preInstalledSw=NA', 'capacitystatus=Used', 'marketoption=OnDemand'];

/** Answers like the Pricing API: shared-tenancy virtualized types in two pages; bare-metal types only with dedicated tenancy. */
function pricingApi(seen: string[][]): (input: GetProductsCommandInput) => GetProductsCommandOutput {
  return (input) => {
    const f = filters(input);
    seen.push([...f, `NextToken=${input.NextToken ?? ''}`]);
    const out = (PriceList: string[], NextToken?: string): GetProductsCommandOutput => ({ $metadata: {}, PriceList, ...(NextToken === undefined ? {} : { NextToken }) });
    if (f.includes('tenancy=Dedicated')) return out([item('c7i.metal-24xl', '4.7124000000'), item('m5.metal', '4.608')]);
    if (input.NextToken === undefined) return out([item('p5.48xlarge', '55.0400000000'), item('m5.large', '0.096')], 't');
    return out([item('trn1.32xlarge', '21.5000000000'), item('p5e.48xlarge', '0.0000000000')]);
  };
}

describe('createPriceSource', () => {
  it('reads shared-tenancy prices and the bare-metal prices listed only with dedicated tenancy, as Karpenter does', async () => {
    const seen: string[][] = [];
    pricing.on(GetProductsCommand).callsFake(pricingApi(seen));
    const got = await prices().onDemandPrices('us-west-2', ['p5.48xlarge', 'trn1.32xlarge', 'p5e.48xlarge', 'c7i.metal-24xl']);
    expect(got).toEqual({ 'p5.48xlarge': 55.04, 'trn1.32xlarge': 21.5, 'c7i.metal-24xl': 4.7124 });
    expect(seen).toEqual([
      [...common('us-west-2'), 'tenancy=Shared', 'productFamily=Compute Instance', 'NextToken='],
      [...common('us-west-2'), 'tenancy=Shared', 'productFamily=Compute Instance', 'NextToken=t'],
      [...common('us-west-2'), 'tenancy=Dedicated', 'productFamily=Compute Instance (bare metal)', 'NextToken='],
    ]);
    expect(pricing.commandCalls(GetProductsCommand).every((c) => c.args[0].input.ServiceCode === 'AmazonEC2')).toBe(true);
  });

  it('passes a failure of either list on rather than writing a price file with holes', async () => {
    pricing.on(GetProductsCommand).callsFake((input: GetProductsCommandInput) => {
      if (filters(input).includes('tenancy=Dedicated')) throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
      return { PriceList: [item('p5.48xlarge', '55.04')] };
    });
    await expect(prices().onDemandPrices('us-east-1', ['p5.48xlarge'])).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('treats a zero or missing price as no price, never as free', () => {
    expect(usdPerHour({ terms: { OnDemand: { a: { priceDimensions: { b: { pricePerUnit: { USD: '0.0000000000' } } } } } } })).toBeUndefined();
    expect(usdPerHour({})).toBeUndefined();
  });
});
