// deploy/crds/burstbudgets.orca.research.yaml is valid YAML and says what ORCA relies on: names,
// version, status subresource, printer columns, a structural schema whose defaults are the parser's,
// and a status schema that holds every field ORCA writes. A small checker below applies the schema's
// types, bounds, patterns and known fields to sample objects, as the apiserver's strict field
// validation would (no CEL, no defaulting: the real apiserver is the e2e suite's).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { BURST_BUDGET_CRD_FILE } from '../../src/k8s/budget-api.js';
import { parseBudgetSpec, parseDuration } from '../../src/policy/budget-spec.js';
import type { BurstBudgetStatus } from '../../src/ports/budgets.js';
import { repoRoot } from '../e2e/testbed/paths.js';

interface Schema {
  readonly type?: string;
  readonly format?: string;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly items?: Schema;
  readonly required?: readonly string[];
  readonly enum?: readonly unknown[];
  readonly default?: unknown;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly maxItems?: number;
  readonly pattern?: string;
  readonly 'x-kubernetes-validations'?: readonly { rule: string; message: string }[];
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
}

interface Version {
  name: string; served: boolean; storage: boolean; subresources: object;
  additionalPrinterColumns: { name: string; type: string; jsonPath: string; priority?: number }[];
  schema: { openAPIV3Schema: Schema };
}

interface Crd {
  apiVersion: string; kind: string; metadata: { name: string };
  spec: { group: string; scope: string; names: Record<string, unknown>; versions: Version[] };
}

const crd = parse(readFileSync(join(repoRoot, 'deploy', 'crds', 'burstbudgets.orca.research.yaml'), 'utf8')) as Crd;
const version = crd.spec.versions[0] as Version;
const root = version.schema.openAPIV3Schema;
const prop = (s: Schema | undefined, ...path: string[]): Schema => {
  let at = s;
  for (const p of path) at = at?.properties?.[p];
  if (at === undefined) throw new Error(`no schema at ${path.join('.')}`);
  return at;
};
const spec = prop(root, 'spec');
const status = prop(root, 'status');

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const typeOk: Readonly<Record<string, (v: unknown) => boolean>> = {
  object: isObject, array: Array.isArray, string: (v) => typeof v === 'string',
  integer: Number.isInteger, number: (v) => typeof v === 'number', boolean: (v) => typeof v === 'boolean',
};

function boundProblems(s: Schema, v: unknown): string[] {
  const out: string[] = [];
  if (s.enum !== undefined && !s.enum.includes(v)) out.push('not in enum');
  if (typeof v === 'number' && v < (s.minimum ?? -Infinity)) out.push('below minimum');
  if (typeof v === 'number' && v > (s.maximum ?? Infinity)) out.push('above maximum');
  if (typeof v === 'string') out.push(...stringProblems(s, v));
  if (Array.isArray(v) && v.length > (s.maxItems ?? Infinity)) out.push('too many items');
  return out;
}

function stringProblems(s: Schema, v: string): string[] {
  const out: string[] = [];
  if (s.pattern !== undefined && !new RegExp(s.pattern).test(v)) out.push('does not match pattern');
  if (v.length > (s.maxLength ?? Infinity)) out.push('too long');
  if (v.length < (s.minLength ?? 0)) out.push('too short');
  return out;
}

/** What strict field validation would refuse in `v`, as "path: why". */
function violations(s: Schema, v: unknown, path = ''): string[] {
  const type = s.type ?? '';
  if (!(typeOk[type]?.(v) ?? false)) return [`${path}: not ${type}`];
  const out = boundProblems(s, v).map((why) => `${path}: ${why}`);
  if (Array.isArray(v) && s.items !== undefined) v.forEach((item, i) => out.push(...violations(s.items as Schema, item, `${path}[${i}]`)));
  if (!isObject(v) || s.properties === undefined) return out;
  for (const key of s.required ?? []) if (!(key in v)) out.push(`${path}.${key}: required`);
  for (const [key, value] of Object.entries(v)) {
    const inner = s.properties[key];
    out.push(...(inner === undefined ? [`${path}.${key}: unknown field`] : violations(inner, value, `${path}.${key}`)));
  }
  return out;
}

/** Every schema node below `s` with its path. */
function* nodes(s: Schema, path = ''): Generator<[string, Schema]> {
  yield [path, s];
  for (const [k, inner] of Object.entries(s.properties ?? {})) yield* nodes(inner, `${path}.${k}`);
  if (s.items !== undefined) yield* nodes(s.items, `${path}[]`);
}

describe('the BurstBudget CRD: names and version', () => {
  it('is burstbudgets.orca.research, namespaced, kind BurstBudget, short name bb', () => {
    expect(crd.apiVersion).toBe('apiextensions.k8s.io/v1');
    expect(crd.kind).toBe('CustomResourceDefinition');
    expect(crd.metadata.name).toBe('burstbudgets.orca.research');
    expect(crd.spec.group).toBe('orca.research');
    expect(crd.spec.scope).toBe('Namespaced');
    expect(crd.spec.names).toMatchObject({ kind: 'BurstBudget', plural: 'burstbudgets', singular: 'burstbudget', shortNames: ['bb'] });
  });

  it('serves and stores v1alpha1 alone, with the status subresource', () => {
    expect(crd.spec.versions).toHaveLength(1);
    expect(version).toMatchObject({ name: 'v1alpha1', served: true, storage: true, subresources: { status: {} } });
  });

  it('prints the money, instances, pending pods, period end and age', () => {
    expect(version.additionalPrinterColumns).toEqual([
      { name: 'Limit', type: 'number', jsonPath: '.status.limitUSD' },
      { name: 'Spent', type: 'number', jsonPath: '.status.spentUSD' },
      { name: 'Reserved', type: 'number', jsonPath: '.status.reservedUSD' },
      { name: 'Remaining', type: 'number', jsonPath: '.status.remainingUSD' },
      { name: 'Instances', type: 'integer', jsonPath: '.status.runningInstances' },
      { name: 'Pending', type: 'integer', jsonPath: '.status.pendingPods', priority: 1 },
      // A date column shows an age, and a time still to come shows as <invalid>: the period's end is printed as written.
      { name: 'Period-End', type: 'string', description: 'When the current period ends (RFC 3339); empty for a Total budget.', jsonPath: '.status.periodEnd' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ]);
  });
});

describe('the BurstBudget CRD: a structural schema', () => {
  it('gives every node a type and preserves no unknown fields anywhere', () => {
    for (const [path, node] of nodes(root)) {
      expect(node.type, path).toBeDefined();
      expect(node['x-kubernetes-preserve-unknown-fields'], path).toBeUndefined();
    }
  });

  it('requires spec and spec.limitUSD, a number from 0', () => {
    expect(root.required).toEqual(['spec']);
    expect(spec.required).toEqual(['limitUSD']);
    expect(prop(spec, 'limitUSD')).toMatchObject({ type: 'number', minimum: 0 });
  });

  it('has the defaults the parser applies: an empty spec but for limitUSD parses to the same', () => {
    expect(prop(spec, 'period').default).toEqual({});
    const defaults = Object.fromEntries(Object.entries(prop(spec, 'period').properties ?? {}).map(([k, s]) => [k, s.default]));
    expect(defaults).toEqual({ kind: 'Monthly', resetDay: 1, timeZone: 'UTC' });
    expect(prop(spec, 'warnAtPercent').default).toEqual([50, 80, 100]);
    expect(prop(spec, 'onLimit').default).toBe('Hold');
    expect(prop(spec, 'defaultMaxRuntime').default).toBe('24h');
    const r = parseBudgetSpec('ns', 'b', { limitUSD: 1 });
    expect(r.ok && r.value).toMatchObject({
      period: defaults, warnAtPercent: [50, 80, 100], onLimit: 'Hold',
      defaultMaxRuntimeSeconds: parseDuration(prop(spec, 'defaultMaxRuntime').default as string),
    });
  });

  it('keeps a Weekly reset day to an ISO weekday with a CEL rule', () => {
    expect(prop(spec, 'period')['x-kubernetes-validations']).toEqual([{
      rule: "!has(self.kind) || self.kind != 'Weekly' || !has(self.resetDay) || self.resetDay <= 7",
      message: 'resetDay of a Weekly period is an ISO weekday, 1 = Monday … 7 = Sunday',
      fieldPath: '.resetDay',
    }]);
  });

  it('accepts in the duration fields exactly what parseDuration reads', () => {
    const samples = ['24h', '90m', '1h30m', '2d', '1d2h3m4s', '45s', '', '1', '30m1h', '1h1h', '1.5h', '1w', '24H', ' 1h'];
    for (const key of ['defaultMaxRuntime', 'idleTimeout']) {
      const s = prop(spec, key);
      for (const text of samples) expect(violations(s, text).length === 0, `${key} ${JSON.stringify(text)}`).toBe(parseDuration(text) !== undefined);
    }
  });

  it('lists exactly the two accelerator resources', () => {
    expect(Object.keys(prop(spec, 'maxAccelerators').properties ?? {})).toEqual(['nvidia.com/gpu', 'aws.amazon.com/neuron']);
  });
});

const goodSpec = {
  limitUSD: 1000.5,
  period: { kind: 'Weekly', resetDay: 1, timeZone: 'America/Argentina/Buenos_Aires' },
  warnAtPercent: [50, 80, 100, 120], maxConcurrentInstances: 4,
  maxAccelerators: { 'nvidia.com/gpu': 8, 'aws.amazon.com/neuron': 0 },
  allowedInstanceFamilies: ['p5', 'g6e', 'trn1', 'inf2'], deniedInstanceFamilies: ['p4d'],
  allowedCapacityTypes: ['reserved', 'spot', 'on-demand'], allowChargesFrom: ['team-b', 'ml-0'],
  onLimit: 'HoldAndDrain', defaultMaxRuntime: '1h30m', idleTimeout: '30m',
};

describe('the BurstBudget CRD: what the schema refuses', () => {
  it('accepts a full, good spec', () => {
    expect(violations(spec, goodSpec)).toEqual([]);
  });

  it.each([
    { what: 'a negative limit', change: { limitUSD: -1 }, expected: ['.limitUSD: below minimum'] },
    { what: 'a limit as a string', change: { limitUSD: '100' }, expected: ['.limitUSD: not number'] },
    { what: 'an unknown period kind', change: { period: { kind: 'Yearly' } }, expected: ['.period.kind: not in enum'] },
    { what: 'reset day 32', change: { period: { resetDay: 32 } }, expected: ['.period.resetDay: above maximum'] },
    { what: 'a time zone that is no IANA name', change: { period: { timeZone: '+02:00' } }, expected: ['.period.timeZone: does not match pattern'] },
    { what: 'a time zone of 65 characters', change: { period: { timeZone: `A/${'b'.repeat(63)}` } }, expected: ['.period.timeZone: too long'] },
    { what: 'an unknown period field', change: { period: { anchor: 1 } }, expected: ['.period.anchor: unknown field'] },
    { what: 'a threshold of 0', change: { warnAtPercent: [0] }, expected: ['.warnAtPercent[0]: below minimum'] },
    { what: 'eleven thresholds', change: { warnAtPercent: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] }, expected: ['.warnAtPercent: too many items'] },
    { what: 'a fractional instance cap', change: { maxConcurrentInstances: 1.5 }, expected: ['.maxConcurrentInstances: not integer'] },
    { what: 'an unknown accelerator', change: { maxAccelerators: { 'amd.com/gpu': 1 } }, expected: ['.maxAccelerators.amd.com/gpu: unknown field'] },
    { what: 'a negative accelerator cap', change: { maxAccelerators: { 'nvidia.com/gpu': -1 } }, expected: ['.maxAccelerators.nvidia.com/gpu: below minimum'] },
    { what: 'an instance type as a family', change: { allowedInstanceFamilies: ['p5.48xlarge'] }, expected: ['.allowedInstanceFamilies[0]: does not match pattern'] },
    { what: 'an unknown capacity type', change: { allowedCapacityTypes: ['ondemand'] }, expected: ['.allowedCapacityTypes[0]: not in enum'] },
    { what: 'a namespace that is no DNS label', change: { allowChargesFrom: ['Team_B'] }, expected: ['.allowChargesFrom[0]: does not match pattern'] },
    { what: 'an unknown onLimit', change: { onLimit: 'Drain' }, expected: ['.onLimit: not in enum'] },
    { what: 'an unknown spec field', change: { budget: 1 }, expected: ['.budget: unknown field'] },
  ])('$what', ({ change, expected }) => {
    expect(violations(spec, { ...goodSpec, ...change })).toEqual(expected);
  });
});

const fullStatus: BurstBudgetStatus = {
  observedGeneration: 3, limitUSD: 1000, spentUSD: 12.34, reservedUSD: 98.32, remainingUSD: 889.34,
  runningInstances: 1, pendingPods: 2, periodEnd: '2025-02-01T00:00:00.000Z', lastUpdated: '2025-01-15T10:00:00.000Z',
  conditions: [{ type: 'Ready', status: 'True', reason: 'Enforced', message: 'the budget is enforced', lastTransitionTime: '2025-01-01T00:00:00.000Z' }],
  ledger: {
    periodStart: '2025-01-01T00:00:00.000Z', settledMicroUSD: 12_340_000,
    settledByType: [{ instanceType: 'p5.48xlarge', capacityType: 'on-demand', microUSD: 12_340_000 }],
    pods: [{
      uid: 'u-1', namespace: 'team-a', name: 'train-0', instanceType: 'p5.48xlarge', capacityType: 'on-demand',
      quoteMicroUSD: 98_320_000, chargedMicroUSD: 1_000_000, chargedEarlierMicroUSD: 0, startedAt: '2025-01-15T09:00:00.000Z', chargedThrough: '2025-01-15T09:59:50.000Z',
    }],
    warnedAtPercent: [50],
  },
};

describe('the BurstBudget CRD: status', () => {
  it('holds every field of a BurstBudgetStatus with its type', () => {
    expect(violations(status, fullStatus)).toEqual([]);
  });

  it('refuses fields ORCA does not write, and fractional micro-dollars', () => {
    expect(violations(status, { ...fullStatus, extra: 1, ledger: { ...fullStatus.ledger, settledMicroUSD: 1.5 } })).toEqual([
      '.ledger.settledMicroUSD: not integer', '.extra: unknown field',
    ]);
  });

  it('keeps micro-dollars as int64 integers and instants as date-time', () => {
    const ints = [...nodes(status)].filter(([path]) => /MicroUSD$|microUSD$/.test(path));
    expect(ints.map(([path]) => path)).toEqual([
      '.ledger.settledMicroUSD', '.ledger.settledByType[].microUSD',
      '.ledger.pods[].quoteMicroUSD', '.ledger.pods[].chargedMicroUSD', '.ledger.pods[].chargedEarlierMicroUSD',
    ]);
    for (const [path, s] of ints) expect({ path, type: s.type, format: s.format }).toEqual({ path, type: 'integer', format: 'int64' });
    for (const p of [['periodEnd'], ['lastUpdated'], ['ledger', 'periodStart']]) expect(prop(status, ...p).format).toBe('date-time');
  });
});

describe('ORCA\'s RBAC and the CRD', () => {
  it('grants reading BurstBudgets and writing their status, and the error of a missing CRD names this file', () => {
    interface Rule { apiGroups: string[]; resources: string[]; verbs: string[] }
    const docs = parseAllDocuments(readFileSync(join(repoRoot, 'deploy', 'rbac', 'orca.yaml'), 'utf8')).map((d) => d.toJS() as { kind: string; rules?: Rule[] });
    const rules = docs.find((d) => d.kind === 'ClusterRole')?.rules ?? [];
    expect(rules.filter((r) => r.apiGroups.includes('orca.research'))).toEqual([
      { apiGroups: ['orca.research'], resources: ['burstbudgets'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['orca.research'], resources: ['burstbudgets/status'], verbs: ['patch', 'update'] },
    ]);
    expect(parse(readFileSync(join(repoRoot, BURST_BUDGET_CRD_FILE), 'utf8'))).toEqual(crd);
  });
});
