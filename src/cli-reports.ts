// The report subcommands of the orca CLI: `orca cost` (spend this period by instance type and
// capacity type, from each BurstBudget's status.ledger) and `orca share` (each budget's figures).
// They read every BurstBudget once through the Kubernetes API, print, and exit: 0 when printed, 1
// with a message on stderr when the budgets could not be read.
import { Command, Option } from 'commander';
import { BURST_BUDGET_CRD_FILE, listBudgets } from './k8s/budget-api.js';
import { KubeApiError, loadKubeConfig } from './k8s/client.js';
import type { BurstBudgetObject } from './ports/budgets.js';
import { costReport, renderCostCsv, renderCostJson, renderCostTable } from './reports/cost-report.js';
import { renderShareJson, renderShareTable, shareReport } from './reports/share-report.js';

export interface ReportDeps {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stderr: (text: string) => void;
  /** Where the report goes; process.stdout when not given. */
  readonly stdout?: (text: string) => void;
  /** Sets the exit code of the CLI. */
  readonly exit: (code: number) => void;
  /** Lists the BurstBudgets (tests give a fake); the Kubernetes API of the kubeconfig when not given. */
  readonly list?: (kubeconfig: string | undefined, namespace: string | undefined) => Promise<BurstBudgetObject[]>;
}

interface ReportFlags {
  readonly namespace?: string;
  readonly output: string;
  readonly kubeconfig?: string;
}

const defaultList = (kubeconfig: string | undefined, namespace: string | undefined): Promise<BurstBudgetObject[]> =>
  listBudgets(loadKubeConfig(kubeconfig), namespace);

/** What went wrong reading the budgets, and what to do about it. */
export function readFailure(err: unknown): string {
  if (err instanceof KubeApiError && err.status === 404) {
    return `the BurstBudget CRD (burstbudgets.orca.research) is not installed: install it with kubectl apply -f ${BURST_BUDGET_CRD_FILE}`;
  }
  if (err instanceof KubeApiError && err.status === 403) return `not allowed to list burstbudgets.orca.research (${err.message}); ask for list on them, or name a namespace you may read with -n`;
  return err instanceof Error ? err.message : String(err);
}

const RENDER = {
  cost: { table: renderCostTable, csv: renderCostCsv, json: renderCostJson },
  share: { table: renderShareTable, json: renderShareJson },
} as const;

function render(report: 'cost' | 'share', output: string, budgets: readonly BurstBudgetObject[]): string {
  if (report === 'share') return RENDER.share[output === 'json' ? 'json' : 'table'](shareReport(budgets));
  return RENDER.cost[output as keyof typeof RENDER.cost](costReport(budgets));
}

function reportCommand(report: 'cost' | 'share', description: string, deps: ReportDeps): Command {
  const outputs = Object.keys(RENDER[report]);
  return new Command(report)
    .description(description)
    .option('-n, --namespace <namespace>', 'only the BurstBudgets of this namespace (default: every namespace)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(outputs).default('table'))
    .action(async (_opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<ReportFlags>();
      const kubeconfig = flags.kubeconfig ?? (deps.env.KUBECONFIG === '' ? undefined : deps.env.KUBECONFIG);
      let budgets: BurstBudgetObject[];
      try {
        budgets = await (deps.list ?? defaultList)(kubeconfig, flags.namespace);
      } catch (e) {
        deps.stderr(`orca ${report}: cannot read BurstBudgets: ${readFailure(e)}\n`);
        deps.exit(1);
        return;
      }
      (deps.stdout ?? ((t: string) => process.stdout.write(t)))(render(report, flags.output, budgets));
      deps.exit(0);
    });
}

/** Adds `orca cost` and `orca share` to the CLI. */
export function addReportCommands(program: Command, deps: ReportDeps): Command {
  return program
    .addCommand(reportCommand('cost', 'spend this period per namespace, budget, instance type and capacity type (from each BurstBudget\'s status.ledger)', deps))
    .addCommand(reportCommand('share', 'each BurstBudget\'s limit, spent, reserved, remaining, instances, pending pods, period end and Ready', deps));
}
