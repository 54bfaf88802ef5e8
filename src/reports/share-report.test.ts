// `orca share`: each budget's figures as its status has them; a budget without status or with
// malformed figures keeps its place, with a note.
import { describe, expect, it } from 'vitest';
import { NO_STATUS_NOTE } from './cost-report.js';
import { FIXTURE } from '../../test/fakes/report-budgets.js';
import { MALFORMED_FIGURES_NOTE, renderShareJson, renderShareTable, shareReport } from './share-report.js';

describe('shareReport', () => {
  it.each([
    ['biology', 'gpu', { limitUSD: 5000, spentUSD: 810.35, reservedUSD: 12.5, runningInstances: 2, pendingPods: 3, periodEnd: '2027-01-01T00:00:00.000Z', ready: { status: 'True', reason: 'Enforced' } }],
    ['chemistry', 'new', { note: NO_STATUS_NOTE }],
    ['chemistry', 'edited', { spentUSD: 1, note: MALFORMED_FIGURES_NOTE }],
  ])('%s/%s', (namespace, budget, expected) => {
    const share = shareReport(FIXTURE).find((s) => s.namespace === namespace && s.budget === budget);
    expect(share).toMatchObject(expected);
  });

  it('prints a table with every budget and JSON of the same', () => {
    const report = shareReport(FIXTURE);
    const table = renderShareTable(report);
    expect(table.split('\n')[0]).toMatch(/^NAMESPACE\s+BUDGET\s+LIMIT\s+SPENT\s+RESERVED\s+REMAINING\s+FAIR-SHARE\s+INSTANCES\s+PENDING\s+PERIOD-END\s+READY\s+NOTE$/);
    expect(table).toMatch(/biology\s+gpu\s+5000\.00\s+810\.35\s+12\.50\s+4177\.15\s+700\.50\s+2\s+3\s+2027-01-01T00:00:00\.000Z\s+True \(Enforced\)/);
    expect(table).toContain(NO_STATUS_NOTE);
    expect((JSON.parse(renderShareJson(report)) as unknown[]).length).toBe(4);
  });
});
