// PriceSource over the AWS Pricing API (GetProducts, served from us-east-1): on-demand, Linux, no
// pre-installed software, capacity status Used — the filters Karpenter uses. As Karpenter does, it
// reads two lists: virtualized types with shared tenancy, and bare-metal types (`*.metal*`), whose
// prices the Pricing API lists with dedicated tenancy only.
import { paginateGetProducts, type Filter, type PricingClient } from '@aws-sdk/client-pricing';
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

const filter = (Field: string, Value: string): Filter => ({ Type: 'TERM_MATCH', Field, Value });

/** The two lists: tenancy and product family of virtualized, then of bare-metal instance types. */
const lists: readonly (readonly Filter[])[] = [
  [filter('tenancy', 'Shared'), filter('productFamily', 'Compute Instance')],
  [filter('tenancy', 'Dedicated'), filter('productFamily', 'Compute Instance (bare metal)')],
];

interface Query { readonly region: string; readonly wanted: ReadonlySet<string>; readonly signal: AbortSignal | undefined }

async function readList(pricing: PricingClient, list: readonly Filter[], q: Query, out: Record<string, number>): Promise<void> {
  const Filters = [
    filter('regionCode', q.region), filter('operatingSystem', 'Linux'), filter('preInstalledSw', 'NA'),
    filter('capacitystatus', 'Used'), filter('marketoption', 'OnDemand'), ...list,
  ];
  for await (const page of paginateGetProducts({ client: pricing }, { ServiceCode: 'AmazonEC2', Filters })) {
    q.signal?.throwIfAborted();
    for (const raw of page.PriceList ?? []) {
      const item = JSON.parse(String(raw)) as PriceItem;
      const type = item.product?.attributes?.instanceType;
      const usd = usdPerHour(item);
      if (type !== undefined && q.wanted.has(type) && usd !== undefined) out[type] = usd;
    }
  }
}

export function createPriceSource(pricing: PricingClient): PriceSource {
  return {
    async onDemandPrices(region, types, signal) {
      const out: Record<string, number> = {};
      const q: Query = { region, wanted: new Set(types), signal };
      for (const list of lists) await readList(pricing, list, q, out);
      return out;
    },
  };
}
