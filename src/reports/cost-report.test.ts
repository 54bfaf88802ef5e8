// The chargeback reports from BurstBudget status: rows by instance type and capacity type that add up
// to the ledger's spent exactly (and, printed to the cent, to the printed total), RFC 4180 CSV with
// FOCUS columns, and budgets without status or with a ledger ORCA refuses listed with a note.
import { describe, expect, it } from 'vitest';
import type { BurstBudgetObject } from '../ports/budgets.js';
import { FIXTURE, randomBudget } from '../../test/fakes/report-budgets.js';
import { COST_COLUMNS, NO_SPEND_NOTE, NO_STATUS_NOTE, REFUSED_NOTE, costRecords, costReport, renderCostCsv, renderCostJson, renderCostTable } from './cost-report.js';
import { centsOf } from '../policy/money.js';
import { apportionCents, centDollars, exactDollars } from './money.js';
import { csvField } from './text.js';

const sum = (xs: readonly number[]): number => xs.reduce((a, x) => a + x, 0);
const micros = (s: string): number => Math.round(Number(s) * 1e6);

describe('money', () => {
  it.each([
    [0, '0.000000', 0], [1, '0.000001', 0], [4_999, '0.004999', 0], [5_000, '0.005000', 1], [14_999, '0.014999', 1],
    [812_404_999, '812.404999', 81240], [812_405_000, '812.405000', 81241], [-5_000, '-0.005000', -1], [-4_999, '-0.004999', 0],
  ])('%i micro-dollars: %s exact, %i cents', (m, exact, cents) => {
    expect(exactDollars(m)).toBe(exact);
    expect(centsOf(m)).toBe(cents);
  });

  it.each([
    [[3_333, 3_333, 3_334], [0, 0, 1]],
    [[6_000, 6_000, 6_000], [1, 1, 0]],
    [[5_000, 5_000], [1, 0]],
    [[9_999, 1], [1, 0]],
    [[-3_000, 13_000], [0, 1]],
    [[], []],
  ])('apportions %j as %j cents', (m, cents) => {
    expect(apportionCents(m)).toEqual(cents);
    expect(sum(apportionCents(m))).toBe(centsOf(sum(m)));
  });

  it('prints cents with two places and a sign', () => {
    expect([centDollars(0), centDollars(5), centDollars(81240), centDollars(-101)]).toEqual(['0.00', '0.05', '812.40', '-1.01']);
  });
});

describe('costReport', () => {
  it('sums settled lines and running pods (charged − chargedEarlier) by instance type and capacity type', () => {
    const [gpu] = costReport(FIXTURE.slice(0, 1));
    expect(gpu?.rows).toEqual([
      { instanceType: 'p5.48xlarge', capacityType: 'on-demand', microUSD: 600_001_666 },
      { instanceType: 'g6e.xlarge', capacityType: 'spot', microUSD: 110_349_011 },
      { instanceType: 'p5.48xlarge', capacityType: 'reserved', microUSD: 100_001_667 },
    ]);
    expect(gpu?.totalMicroUSD).toBe(810_352_344);
    expect(gpu?.note).toBeUndefined();
  });

  it.each([
    ['no status', FIXTURE[1], NO_STATUS_NOTE],
    ['a ledger restoredLedger refuses', FIXTURE[2], REFUSED_NOTE],
    ['a ledger with nothing spent', FIXTURE[3], NO_SPEND_NOTE],
    ['a status without a ledger', { namespace: 'x', name: 'y', uid: 'u', spec: {}, status: { spentUSD: 3 } }, REFUSED_NOTE],
  ])('lists a budget with %s, with a note and no rows', (_, budget, note) => {
    const [c] = costReport([budget as BurstBudgetObject]);
    expect(c).toMatchObject({ rows: [], totalMicroUSD: 0, note });
  });

  it('keeps every budget, sorted by namespace and name', () => {
    expect(costReport(FIXTURE).map((c) => `${c.namespace}/${c.budget}`)).toEqual(['biology/gpu', 'chemistry/edited', 'chemistry/new', 'physics, "theory"/cpu']);
  });

  it.each(Array.from({ length: 200 }, (_, i) => i + 1))('random ledger %i: rows add up to spent exactly, and to the cent as printed', (seed) => {
    const budget = randomBudget(seed);
    const [c] = costReport([budget]);
    if (c === undefined) throw new Error('no report');
    const status = budget.status as { spentUSD: number };
    expect(sum(c.rows.map((r) => r.microUSD))).toBe(c.totalMicroUSD);
    expect(centsOf(c.totalMicroUSD)).toBe(Math.round(status.spentUSD * 100));
    const cents = apportionCents(c.rows.map((r) => r.microUSD));
    expect(sum(cents)).toBe(centsOf(c.totalMicroUSD));
    cents.forEach((ct, i) => { expect(Math.abs(ct * 10_000 - (c.rows[i]?.microUSD ?? 0))).toBeLessThan(10_000); });
    const records = costRecords([c]);
    expect(sum(records.map((r) => micros(r.BilledCost)))).toBe(c.totalMicroUSD);
  });

  it('random ledgers together: the table rows add up to each budget total and the totals to TOTAL', () => {
    const budgets = Array.from({ length: 40 }, (_, i) => randomBudget(1000 + i));
    const lines = renderCostTable(costReport(budgets)).trimEnd().split('\n').slice(1);
    const amount = (l: string): number => Math.round(Number(/(-?\d+\.\d\d)(\s|$)/.exec(l.slice(60))?.[1]) * 100);
    const rows = lines.filter((l) => !l.includes('(total)') && !l.startsWith('TOTAL'));
    const totals = lines.filter((l) => l.includes('(total)'));
    const grand = lines.find((l) => l.startsWith('TOTAL')) ?? '';
    expect(sum(rows.map(amount))).toBe(sum(totals.map(amount)));
    expect(sum(totals.map(amount))).toBe(amount(grand));
    const spent = budgets.map((b) => Math.round((b.status as { spentUSD: number }).spentUSD * 100));
    expect(totals.map(amount)).toEqual(spent);
  });
});

describe('renderers', () => {
  it.each([
    ['plain', 'plain'], ['a,b', '"a,b"'], ['say "hi"', '"say ""hi"""'], ['two\nlines', '"two\nlines"'], ['cr\r', '"cr\r"'], ['', ''],
  ])('quotes CSV field %j as %j (RFC 4180)', (value, quoted) => {
    expect(csvField(value)).toBe(quoted);
  });

  it('writes CSV with FOCUS columns, CRLF lines, exact amounts and a note line for a budget without figures', () => {
    const text = renderCostCsv(costReport(FIXTURE));
    const lines = text.split('\r\n');
    expect(lines[0]).toBe(COST_COLUMNS.join(','));
    expect(text.endsWith('\r\n')).toBe(true);
    expect(lines[1]).toBe('2026-12-01T00:00:00.000Z,2027-01-01T00:00:00.000Z,2026-12-01T00:00:00.000Z,2026-12-12T10:00:00.000Z,600.001666,USD,p5.48xlarge,Standard,biology,gpu,on-demand,');
    expect(lines[2]).toContain(',110.349011,USD,g6e.xlarge,Dynamic,biology,gpu,spot,');
    expect(lines[3]).toContain(',100.001667,USD,p5.48xlarge,Committed,biology,gpu,reserved,');
    expect(lines[4]).toBe(`,,,,,USD,,,chemistry,edited,,${REFUSED_NOTE}`);
    expect(lines[5]).toBe(`,,,,,USD,,,chemistry,new,,${NO_STATUS_NOTE}`);
    expect(lines[6]).toContain(',0.000000,USD,,,"physics, ""theory""",cpu,,nothing spent this period');
  });

  it('writes JSON rows and totals per budget, amounts as exact decimal strings', () => {
    const json = JSON.parse(renderCostJson(costReport(FIXTURE))) as { rows: Record<string, string>[]; budgets: Record<string, unknown>[]; total: Record<string, string> };
    expect(json.rows).toHaveLength(6);
    expect(json.rows[0]).toMatchObject({ BilledCost: '600.001666', ResourceType: 'p5.48xlarge', PricingCategory: 'Standard', x_Namespace: 'biology', x_Budget: 'gpu' });
    expect(json.budgets).toEqual([
      { x_Namespace: 'biology', x_Budget: 'gpu', BillingPeriodStart: '2026-12-01T00:00:00.000Z', BillingPeriodEnd: '2027-01-01T00:00:00.000Z', ChargePeriodEnd: '2026-12-12T10:00:00.000Z', BilledCost: '810.352344', BillingCurrency: 'USD' },
      { x_Namespace: 'chemistry', x_Budget: 'edited', BillingPeriodStart: null, BillingPeriodEnd: null, ChargePeriodEnd: null, BilledCost: null, BillingCurrency: 'USD', x_Note: REFUSED_NOTE },
      { x_Namespace: 'chemistry', x_Budget: 'new', BillingPeriodStart: null, BillingPeriodEnd: null, ChargePeriodEnd: null, BilledCost: null, BillingCurrency: 'USD', x_Note: NO_STATUS_NOTE },
      { x_Namespace: 'physics, "theory"', x_Budget: 'cpu', BillingPeriodStart: '2026-12-01T00:00:00.000Z', BillingPeriodEnd: '2027-01-01T00:00:00.000Z', ChargePeriodEnd: '2026-12-12T10:00:00.000Z', BilledCost: '0.000000', BillingCurrency: 'USD', x_Note: NO_SPEND_NOTE },
    ]);
    expect(json.total).toEqual({ BilledCost: '810.352344', BillingCurrency: 'USD' });
  });

  it('writes a table whose cents add up: rows to the budget total (the status spentUSD), totals to TOTAL', () => {
    const table = renderCostTable(costReport(FIXTURE));
    expect(table).toContain('600.00');
    expect(table).toContain('110.35');
    expect(table).toContain('100.00');
    expect(table).toMatch(/biology\s+gpu\s+\S+\s+\(total\)\s+810\.35/);
    expect(table).toMatch(/TOTAL\s+810\.35/);
    expect(table).toContain(NO_STATUS_NOTE);
    expect(table).toContain(REFUSED_NOTE);
  });
});
