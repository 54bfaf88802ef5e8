// PriceSource over the AWS Pricing API (GetProducts, served from us-east-1): on-demand, Linux,
// shared tenancy, no pre-installed software, capacity status Used — the filters Karpenter uses.
import { paginateGetProducts, type PricingClient } from '@aws-sdk/client-pricing';
import type { PriceSource } from '../ports/catalog.js';

interface PriceItem {
  readonly product?: { readonly attributes?: { readonly instanceType?: string } };
  readonly terms?: { readonly OnDemand?: Record<string, { readonly priceDimensions?: Record<string, { readonly pricePerUnit?: { readonly USD?: string } }> }> };
}

/** The USD per hour of one price-list item, or undefined when it has none. */
export function usdPerHour(item: PriceItem): number | undefined {
  for (const term of Object.values(item.terms?.OnDemand ?? {})) {
    for (const dim of Object.values(term.priceDimensions ?? {})) {
      const usd = Number(dim.pricePerUnit?.USD);
      if (Number.isFinite(usd) && usd > 0) return usd;
    }
  }
  return undefined;
}

const filter = (Field: string, Value: string): { Type: 'TERM_MATCH'; Field: string; Value: string } => ({ Type: 'TERM_MATCH', Field, Value });

export function createPriceSource(pricing: PricingClient): PriceSource {
  return {
    async onDemandPrices(region, types, signal) {
      const wanted = new Set(types);
      const out: Record<string, number> = {};
      const Filters = [
        filter('regionCode', region), filter('operatingSystem', 'Linux'), filter('preInstalledSw', 'NA'),
        filter('capacitystatus', 'Used'), filter('tenancy', 'Shared'), filter('marketoption', 'OnDemand'),
      ];
      for await (const page of paginateGetProducts({ client: pricing }, { ServiceCode: 'AmazonEC2', Filters })) {
        signal?.throwIfAborted();
        for (const raw of page.PriceList ?? []) {
          const item = JSON.parse(String(raw)) as PriceItem;
          const type = item.product?.attributes?.instanceType;
          const usd = usdPerHour(item);
          if (type !== undefined && wanted.has(type) && usd !== undefined) out[type] = usd;
        }
      }
      return out;
    },
  };
}
