// The example manifests and chart values stay true to the code: every orca.research/* key they
// mention is one ORCA knows (src/domain/keys.ts), every pod template's annotations parse, the
// instance type each names is in the catalog with a way to buy it, its accelerators fit that type,
// and the chart values' `config` is a configuration ORCA accepts. What each reaches on the test bed
// is checked by test/e2e/examples.e2e.test.ts (quickstart-job.yaml's by test/e2e/demo.e2e.test.ts).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog-files.js';
import { extendedResources } from '../../src/catalog/types.js';
import { parseConfig } from '../../src/config/load.js';
import { describeHintErrors, parsePodHints } from '../../src/domain/annotations.js';
import { keyRegistry } from '../../src/domain/keys.js';
import { repoRoot } from '../e2e/testbed/paths.js';

const dir = join(repoRoot, 'examples');
const read = (file: string): string => readFileSync(join(dir, file), 'utf8');
const manifests = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'config.yaml' && !f.startsWith('helm-values'));
const catalog = loadCatalog(join(repoRoot, 'instance-catalog'), 'us-east-1');

interface PodTemplate {
  readonly metadata?: { readonly annotations?: Record<string, string> };
  readonly spec?: { readonly containers?: readonly { readonly resources?: { readonly limits?: Record<string, string | number> } }[] };
}

/** The pod templates of a file's workloads (a Namespace beside them has none). */
function templatesOf(file: string): PodTemplate[] {
  return parseAllDocuments(read(file)).map((d) => d.toJS() as { spec?: { template?: PodTemplate } }).flatMap((o) => (o.spec?.template === undefined ? [] : [o.spec.template]));
}

/** The orca.research/* keys a text mentions, as test/unit/key-docs.test.ts reads them. */
function mentionedKeys(text: string): string[] {
  return [...text.matchAll(/orca\.research\/([A-Za-z][A-Za-z0-9-]*(\/[<*]?[A-Za-z]*>?)?)/g)].map((m) => `orca.research/${m[1] ?? ''}`);
}

const known = (k: string): boolean => keyRegistry.some((e) => (e.prefix === true ? k.startsWith(e.key) : k === e.key));

describe('the example manifests', () => {
  it('are the ones the e2e suite applies', () => {
    expect(manifests.sort()).toEqual([
      'capacity-block-job.yaml', 'capacity-reservation-job.yaml', 'g6e-inference-deployment.yaml', 'inferentia-server.yaml',
      'p5-training-job.yaml', 'quickstart-job.yaml', 'spot-with-fallback-job.yaml', 'trainium-job.yaml',
    ]);
  });

  it.each([...manifests, 'helm-values-university.yaml'])('%s opens with a comment saying what it shows and the state it reaches', (file) => {
    const text = read(file);
    expect(text.startsWith('# ')).toBe(true);
    expect(text).toMatch(/^# What it shows: /m);
    expect(text).toMatch(/^# The state it reaches: /m);
  });

  it.each([...manifests, 'helm-values-university.yaml'])('%s mentions only orca.research/* keys ORCA knows', (file) => {
    const keys = mentionedKeys(read(file));
    expect(keys.filter((k) => !known(k))).toEqual([]);
  });

  it.each(manifests)('%s: its pod template\'s annotations parse and name a catalogued type its accelerators fit', (file) => {
    const [template] = templatesOf(file);
    const hints = parsePodHints(template?.metadata?.annotations ?? {}, { capacityOrder: ['on-demand'], onInterruption: 'fail' });
    if (!hints.ok) throw new Error(describeHintErrors(hints.error));
    const type = hints.value.instanceType ?? '';
    const info = catalog.types.get(type);
    expect(info, `${type} in the catalog`).toBeDefined();
    expect(catalog.onDemandUsdPerHour[type] ?? catalog.capacityBlockUsdPerHour[type], `a price for ${type}`).toBeGreaterThan(0);
    const has = info === undefined ? {} : extendedResources(info);
    const limits = template?.spec?.containers?.[0]?.resources?.limits ?? {};
    for (const [resource, n] of Object.entries(limits)) expect(Number(n), `${resource} of ${type}`).toBeLessThanOrEqual(has[resource] ?? 0);
  });

  it('the key check catches a key ORCA does not know', () => {
    expect(mentionedKeys('orca.research/spot-price: "1"').filter((k) => !known(k))).toEqual(['orca.research/spot-price']);
  });
});

describe('examples/helm-values-university.yaml', () => {
  it('has a config part ORCA accepts as its configuration', () => {
    const values = parse(read('helm-values-university.yaml')) as { config: unknown };
    const r = parseConfig(stringify(values.config));
    expect(r.ok ? r.value.instances.allowedInstanceTypes : r.error.problems).toContain('p5.48xlarge');
  });
});
