// `orca cost` and `orca share` through the CLI with a fake list of BurstBudgets: the formats, the
// namespace and kubeconfig passed on, exit 0 when printed, and exit 1 with the fix on stderr when the
// budgets cannot be read (the CRD is not installed).
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addReportCommands } from './cli-reports.js';
import { KubeApiError } from './k8s/client.js';
import type { BurstBudgetObject } from './ports/budgets.js';
import { FIXTURE } from '../test/fakes/report-budgets.js';

async function run(args: string[], list: () => Promise<BurstBudgetObject[]> = () => Promise.resolve([...FIXTURE])): Promise<{ code: number | undefined; out: string; err: string; calls: unknown[][] }> {
  const seen = { code: undefined as number | undefined, out: '', err: '', calls: [] as unknown[][] };
  const program = new Command('orca').option('--kubeconfig <file>').exitOverride();
  addReportCommands(program, {
    env: { KUBECONFIG: '/env/kubeconfig' }, stderr: (t) => { seen.err += t; }, stdout: (t) => { seen.out += t; }, exit: (c) => { seen.code = c; },
    list: (kubeconfig, namespace) => { seen.calls.push([kubeconfig, namespace]); return list(); },
  });
  for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: () => undefined });
  await program.parseAsync(['node', 'orca', ...args]);
  return seen;
}

describe('orca cost and orca share', () => {
  it.each([
    [['cost'], /^NAMESPACE\s+BUDGET\s+PERIOD/],
    [['cost', '-o', 'csv'], /^BillingPeriodStart,BillingPeriodEnd,/],
    [['cost', '-o', 'json'], /^\{\n {2}"rows": \[/],
    [['share'], /^NAMESPACE\s+BUDGET\s+LIMIT/],
    [['share', '-o', 'json'], /^\[\n {2}\{/],
  ])('%j prints its report and exits 0', async (args, start) => {
    const r = await run(args);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(start);
    expect(r.err).toBe('');
  });

  it('passes -n and --kubeconfig on (else $KUBECONFIG, all namespaces)', async () => {
    expect((await run(['--kubeconfig', '/k', 'cost', '-n', 'biology'])).calls).toEqual([['/k', 'biology']]);
    expect((await run(['share', '--kubeconfig', '/k2'])).calls).toEqual([['/k2', undefined]]);
    expect((await run(['cost'])).calls).toEqual([['/env/kubeconfig', undefined]]);
  });

  it.each([
    [404, /the BurstBudget CRD \(burstbudgets\.orca\.research\) is not installed: install it with kubectl apply -f deploy\/crds\/burstbudgets\.orca\.research\.yaml/],
    [403, /not allowed to list burstbudgets\.orca\.research/],
    [500, /list burst budgets: HTTP 500/],
  ])('exits 1 with the reason on stderr when the list answers %i', async (status, message) => {
    const r = await run(['cost'], () => Promise.reject(new KubeApiError('list burst budgets', status, { code: status, body: '{"message":"boom"}' })));
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^orca cost: cannot read BurstBudgets: /);
    expect(r.err).toMatch(message);
  });

  it('refuses an unknown output format', async () => {
    await expect(run(['share', '-o', 'csv'])).rejects.toThrow(/Allowed choices are table, json/);
  });
});
