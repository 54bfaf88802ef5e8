// The offline tools of the orca CLI: `orca validate <pod.yaml>` (what ORCA would do with a pod, from
// the provider's own checks and planner; exit 0 valid, 1 invalid, 2 usage error) and `orca catalog`
// (the instance types, accelerators and prices of the shipped catalog). Neither calls a Kubernetes
// API, and only `catalog --live-spot` calls AWS (DescribeSpotPriceHistory): they read the file
// given, the configuration given with --config, and instance-catalog/.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { regionSpotPrices } from './aws/spot-price-source.js';
import { loadCatalog, type LoadedCatalog } from './catalog-files.js';
import { loadSpotFigures, type SpotFigures } from './catalog-spot.js';
import { catalogReport, families, renderCatalogJson, renderCatalogTable, renderCatalogYaml, type AcceleratorFilter, type CatalogFilter, type CatalogReport } from './cli-catalog.js';
import { manifestPods } from './cli-manifests.js';
import { painter, type Paint } from './cli-text.js';
import { validatePod, type ValidateContext, type Verdict } from './cli-validate.js';
import { renderVerdicts } from './cli-validate-text.js';
import { parseConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import type { SpotPriceSource } from './ports/catalog.js';

export interface ToolDeps {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stderr: (text: string) => void;
  /** Where the output goes; process.stdout when not given. */
  readonly stdout?: (text: string) => void;
  /** Sets the exit code of the CLI. */
  readonly exit: (code: number) => void;
  /** Whether the output is a terminal (colours, unless NO_COLOR is set); process.stdout.isTTY when not given. */
  readonly tty?: boolean;
  /** The instance-catalog/ directory; the one beside dist/ when not given. */
  readonly catalogDir?: string;
  /** Live spot prices for --live-spot (tests give a fake); EC2 with the SDK's default credentials when not given. */
  readonly spotSource?: (region: string, endpoint: string | undefined) => SpotPriceSource;
}

/** The current spot price of each of `types` in each zone of `region`, as the catalog's spot figures are kept. */
async function liveSpot(region: string, endpoint: string | undefined, types: readonly string[], deps: ToolDeps): Promise<SpotFigures> {
  const prices = await (deps.spotSource ?? regionSpotPrices)(region, endpoint).spotPrices(types);
  const usdPerHour: Record<string, Record<string, number>> = {};
  for (const [key, usd] of prices) {
    const [type = '', zone = ''] = key.split('/');
    usdPerHour[type] = { ...usdPerHour[type], [zone]: usd };
  }
  return { region, source: 'DescribeSpotPriceHistory now, Linux/UNIX', readAt: new Date().toISOString(), usdPerHour };
}

/** The region whose prices are shown when neither --config nor --region names one (the catalog's seed region). */
export const DEFAULT_REGION = 'us-east-1';
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

const shippedCatalog = (): string => fileURLToPath(new URL('../instance-catalog/', import.meta.url));

class UsageError extends Error {}

interface Io { readonly out: (t: string) => void; readonly paint: Paint; readonly dir: string }

function ioOf(deps: ToolDeps): Io {
  const tty = deps.tty ?? process.stdout.isTTY;
  const noColor = (deps.env.NO_COLOR ?? '') !== '';
  return { out: deps.stdout ?? ((t) => process.stdout.write(t)), paint: painter(tty && !noColor), dir: deps.catalogDir ?? shippedCatalog() };
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/** The configuration of -c/--config when it was given; else ORCA's defaults in `region`. */
function configOf(cmd: Command, region: string): { readonly config: Config; readonly configured: boolean } {
  const root = cmd.parent ?? cmd;
  const file = root.opts<{ config?: string }>().config;
  const given = file !== undefined && root.getOptionValueSource('config') !== 'default';
  const text = given ? readText(file, 'config file') : `aws: {region: ${region}}\nnode: {name: orca}\n`;
  const parsed = parseConfig(text);
  if (!parsed.ok) throw new UsageError(`${given ? file : '(defaults)'}: ${parsed.error.message}`);
  return { config: parsed.value, configured: given };
}

function catalogOf(dir: string, region: string): { readonly catalog: LoadedCatalog; readonly spot: SpotFigures | undefined } {
  try {
    return { catalog: loadCatalog(dir, region), spot: loadSpotFigures(dir, region) };
  } catch (e) {
    throw new UsageError(`cannot read the instance catalog in ${dir}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Runs a tool: a UsageError is exit 2 with its message; the tool's own code otherwise. */
async function guarded(name: string, deps: ToolDeps, run: () => Promise<number>): Promise<void> {
  try {
    deps.exit(await run());
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    deps.stderr(`orca ${name}: ${e.message}\n`);
    deps.exit(2);
  }
}

async function validate(args: readonly string[], cmd: Command, deps: ToolDeps): Promise<number> {
  const unknown = args.filter((a) => a.startsWith('-'));
  if (unknown.length > 0) throw new UsageError(`unknown option ${unknown.join(', ')} (see orca validate --help)`);
  const [file, ...extra] = args;
  if (file === undefined || extra.length > 0) throw new UsageError('give exactly one file: orca validate <pod.yaml> [--config file]');
  const { config, configured } = configOf(cmd, DEFAULT_REGION);
  const manifests = manifestPods(readText(file, 'file'));
  if (!manifests.ok) throw new UsageError(`${file}: ${manifests.error}`);
  const io = ioOf(deps);
  const ctx: ValidateContext = { config, configured, ...catalogOf(io.dir, config.aws.region) };
  const verdicts: Verdict[] = [];
  for (const m of manifests.value.pods) {
    verdicts.push(m.pod === undefined ? { source: m.source, ok: false, problems: m.problems } : await validatePod(m.source, m.pod, ctx));
  }
  io.out(renderVerdicts(verdicts, manifests.value.skipped, io.paint));
  return verdicts.every((v) => v.ok) ? 0 : 1;
}

interface CatalogFlags {
  readonly output: 'table' | 'json' | 'yaml';
  readonly accelerator?: AcceleratorFilter;
  readonly family?: string;
  readonly region?: string;
  readonly liveSpot?: boolean;
}

function filterOf(flags: CatalogFlags): CatalogFilter {
  return { ...(flags.accelerator === undefined ? {} : { accelerator: flags.accelerator }), ...(flags.family === undefined ? {} : { family: flags.family }) };
}

function noMatch(flags: CatalogFlags, c: LoadedCatalog): string {
  const family = flags.family === undefined ? '' : ` --family ${flags.family}`;
  const accelerator = flags.accelerator === undefined ? '' : ` --accelerator ${flags.accelerator}`;
  return `orca catalog: no instance type in the catalog matches${family}${accelerator} (families: ${families(c).join(', ')})\n`;
}

/** The report with the spot prices read now: undefined, after saying why, when they could not be read. */
async function withLiveSpot(r: CatalogReport, make: (spot: SpotFigures) => CatalogReport, endpoint: string | undefined, deps: ToolDeps): Promise<CatalogReport | undefined> {
  try {
    return make(await liveSpot(r.region, endpoint, r.types.map((t) => t.type), deps));
  } catch (e) {
    deps.stderr(`orca catalog: cannot read spot prices in ${r.region} (DescribeSpotPriceHistory): ${e instanceof Error ? e.message : String(e)}; check the AWS credentials (ec2:DescribeSpotPriceHistory) or leave out --live-spot\n`);
    return undefined;
  }
}

async function catalog(flags: CatalogFlags, cmd: Command, deps: ToolDeps): Promise<number> {
  if (flags.region !== undefined && !REGION.test(flags.region)) throw new UsageError(`--region ${flags.region}: expected an AWS region such as us-east-1`);
  const { config } = configOf(cmd, DEFAULT_REGION);
  const region = flags.region ?? config.aws.region;
  const io = ioOf(deps);
  const { catalog: c, spot: shipped } = catalogOf(io.dir, region);
  const onDemandFile = Object.keys(c.onDemandUsdPerHour).length > 0 ? `instance-catalog/prices/${region}.json` : null;
  const make = (spot: SpotFigures | undefined): CatalogReport => catalogReport(c, { region, onDemandFile, spot, filter: filterOf(flags) });
  const first = make(shipped);
  if (first.types.length === 0) {
    deps.stderr(noMatch(flags, c));
    return 1;
  }
  const report = flags.liveSpot === true ? await withLiveSpot(first, make, config.aws.endpoint, deps) : first;
  if (report === undefined) return 1;
  const render = { table: (r: CatalogReport) => renderCatalogTable(r, io.paint), json: renderCatalogJson, yaml: renderCatalogYaml }[flags.output];
  io.out(render(report));
  return 0;
}

/** Adds `orca validate` and `orca catalog` to the CLI. */
export function addToolCommands(program: Command, deps: ToolDeps): Command {
  const validateCmd = new Command('validate')
    .description('check the pods of a file (Pods, and the pod templates of workloads) as ORCA would and show the offerings it would try, in order; launches nothing, calls no AWS API (exit 0 valid, 1 invalid, 2 usage error)')
    .argument('[pod-yaml]', 'a YAML file of one or more documents')
    .allowUnknownOption().allowExcessArguments()
    .addHelpText('after', '\nThe configuration of orca -c/--config (before or after validate) gives the region,\nzones, subnets and instance settings; without it, ORCA\'s defaults in us-east-1.')
    .action(async (_file: unknown, _opts: unknown, cmd: Command) => { await guarded('validate', deps, () => validate(cmd.args, cmd, deps)); });
  const catalogCmd = new Command('catalog')
    .description('the instance types ORCA can launch: accelerators, vCPUs, memory, on-demand and recent spot price (from instance-catalog/; with --live-spot, spot prices read now from AWS)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'yaml']).default('table'))
    .addOption(new Option('--accelerator <kind>', 'only types with this accelerator').choices(['nvidia', 'neuron', 'none']))
    .option('--family <family>', 'only this family, e.g. p5 or g6e')
    .option('--region <region>', `prices of this region (default: aws.region of --config, else ${DEFAULT_REGION})`)
    .option('--live-spot', 'read the current spot prices from AWS (DescribeSpotPriceHistory, the SDK\'s default credentials)')
    .action(async (flags: CatalogFlags, cmd: Command) => { await guarded('catalog', deps, () => catalog(flags, cmd, deps)); });
  return program.addCommand(validateCmd).addCommand(catalogCmd);
}
