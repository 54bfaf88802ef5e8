import { describe, expect, it } from 'vitest';
import {
  committedOf, countOf, decideLaunch, evaluateLaunch, quoteFor, remainingOf, runtimeSecondsFor, spentOf,
} from './budget-decision.js';
import { USD, type BudgetRules, type BudgetUsage, type DenialReason, type LaunchRequest } from './budget-types.js';

/** $98.32 an hour: the default launch's ceiling, quoted for 1 h. */
const P5 = 98_320_000;
const CENT = 10_000;

const rules = (over: Partial<BudgetRules> = {}): BudgetRules => ({
  id: 'team-a/gpu', namespace: 'team-a', limit: 1000 * USD,
  period: { kind: 'Monthly', resetDay: 1, timeZone: 'UTC' }, defaultMaxRuntimeSeconds: 3600, ...over,
});
const usage = (over: Partial<BudgetUsage> = {}): BudgetUsage => ({
  settled: 0, accruing: 0, reserved: 0, runningInstances: 0, accelerators: {}, ...over,
});
const launch = (over: Partial<LaunchRequest> = {}): LaunchRequest => ({
  podUid: 'pod-1', namespace: 'team-a', instanceType: 'p5.48xlarge', family: 'p5', capacityType: 'on-demand',
  accelerators: { 'nvidia.com/gpu': 8 }, ceilingPerHour: P5, ...over,
});

describe('decideLaunch: money', () => {
  // settled 500 + accruing 200 + reserved 201.68 + quote 98.32 = 1,000.00 exactly.
  const full = usage({ settled: 500 * USD, accruing: 200 * USD, reserved: 201_680_000 });
  it.each([
    { name: 'exactly at the limit is allowed', limit: 1000 * USD, u: full, kind: 'allow' },
    { name: 'one micro-dollar over is denied', limit: 1000 * USD - 1, u: full, kind: 'deny' },
    { name: 'one cent over is denied', limit: 1000 * USD - CENT, u: full, kind: 'deny' },
    { name: 'one micro-dollar of room to spare is allowed', limit: 1000 * USD + 1, u: full, kind: 'allow' },
    { name: 'an empty budget the quote fills exactly', limit: P5, u: usage(), kind: 'allow' },
    { name: 'settled money counts', limit: 1000 * USD, u: usage({ settled: 901_680_001 }), kind: 'deny' },
    { name: 'accruing money counts', limit: 1000 * USD, u: usage({ accruing: 901_680_001 }), kind: 'deny' },
    { name: 'reserved money counts', limit: 1000 * USD, u: usage({ reserved: 901_680_001 }), kind: 'deny' },
    { name: 'all three just fitting', limit: 1000 * USD, u: usage({ settled: 1, accruing: 1, reserved: 901_679_998 }), kind: 'allow' },
  ])('$name', ({ limit, u, kind }) => {
    const decision = decideLaunch(rules({ limit }), u, launch());
    expect(decision.kind).toBe(kind);
    if (decision.kind === 'allow') expect(decision.quote).toBe(P5);
    else expect(decision).toMatchObject({ reason: 'NamespaceBudgetExceeded', permanent: false });
  });

  it('reports an overrun of one micro-dollar as one cent, never as zero', () => {
    const decision = decideLaunch(rules({ limit: 1000 * USD - 1 }), full, launch());
    expect(decision.kind === 'deny' ? decision.message : '').toMatch(/exceeds the limit \$1,000\.00 by \$0\.01$/);
  });

  it.each([
    { name: '$98.32/h × 1 s is quoted 27,312 µUSD and fits a limit of exactly that', limit: 27_312, kind: 'allow' },
    { name: '$98.32/h × 1 s does not fit 27,311 µUSD (the exact 27,311.1 is never under-reserved)', limit: 27_311, kind: 'deny' },
  ])('$name', ({ limit, kind }) => {
    const request = launch({ maxRuntimeSeconds: 1 });
    expect(quoteFor(rules(), request)).toBe(27_312);
    expect(decideLaunch(rules({ limit }), usage(), request)).toMatchObject({ kind });
  });

  it('quotes the budget default runtime for a pod that gives none', () => {
    const r = rules({ defaultMaxRuntimeSeconds: 7200 });
    expect(runtimeSecondsFor(r, launch())).toBe(7200);
    expect(decideLaunch(r, usage(), launch())).toEqual({ kind: 'allow', quote: 196_640_000 });
    expect(runtimeSecondsFor(r, launch({ maxRuntimeSeconds: 60 }))).toBe(60);
    expect(decideLaunch(r, usage(), launch({ maxRuntimeSeconds: 60 }))).toEqual({ kind: 'allow', quote: 1_638_667 });
  });

  it('throws a RangeError for a price or runtime that cannot be money', () => {
    expect(() => decideLaunch(rules(), usage(), launch({ ceilingPerHour: -1 }))).toThrow(RangeError);
    expect(() => decideLaunch(rules(), usage(), launch({ maxRuntimeSeconds: Number.NaN }))).toThrow(RangeError);
  });
});

describe('decideLaunch: every denial reason with its message', () => {
  const gpus16 = { 'nvidia.com/gpu': 16 };
  it.each<{ name: string; r: Partial<BudgetRules>; u: Partial<BudgetUsage>; req: Partial<LaunchRequest>; reason: DenialReason; permanent: boolean; message: string }>([
    {
      name: 'another namespace without allowChargesFrom', r: {}, u: {}, req: { namespace: 'team-b' },
      reason: 'BudgetChargeNotAllowed', permanent: true,
      message: 'budget team-a/gpu: pods of namespace team-b may not charge it (it allows charges from: none)',
    },
    {
      name: 'a namespace allowChargesFrom does not list', r: { allowChargesFrom: ['team-c', 'team-d'] }, u: {}, req: { namespace: 'team-b' },
      reason: 'BudgetChargeNotAllowed', permanent: true,
      message: 'budget team-a/gpu: pods of namespace team-b may not charge it (it allows charges from: team-c, team-d)',
    },
    {
      name: 'a family outside allowedFamilies', r: { allowedFamilies: ['g6e', 'trn1'] }, u: {}, req: {},
      reason: 'InstanceFamilyNotAllowed', permanent: true,
      message: 'budget team-a/gpu: instance family p5 (p5.48xlarge) is not allowed (allowed: g6e, trn1)',
    },
    {
      name: 'a family in deniedFamilies', r: { deniedFamilies: ['p4d', 'p5'] }, u: {}, req: {},
      reason: 'InstanceFamilyNotAllowed', permanent: true,
      message: 'budget team-a/gpu: instance family p5 (p5.48xlarge) is denied',
    },
    {
      name: 'a capacity type outside allowedCapacityTypes', r: { allowedCapacityTypes: ['on-demand', 'reserved'] }, u: {}, req: { capacityType: 'spot' },
      reason: 'CapacityTypeNotAllowed', permanent: true,
      message: 'budget team-a/gpu: capacity type spot is not allowed (allowed: on-demand, reserved)',
    },
    {
      name: 'a quote alone above the whole limit', r: { limit: 50 * USD }, u: {}, req: { maxRuntimeSeconds: 86_400 },
      reason: 'QuoteExceedsBudget', permanent: true,
      message: "budget team-a/gpu: this launch's quote $2,359.68 ($98.32/h for 24 h) alone exceeds the whole limit $50.00",
    },
    {
      name: 'more accelerators in the launch alone than the maximum', r: { maxAccelerators: { 'nvidia.com/gpu': 4 } }, u: {}, req: {},
      reason: 'NamespaceMaxAccelerators', permanent: true,
      message: 'budget team-a/gpu: this launch brings 8 nvidia.com/gpu, more than the maximum of 4 at once',
    },
    {
      name: 'accelerators in use plus the launch above the maximum', r: { maxAccelerators: gpus16 }, u: { accelerators: { 'nvidia.com/gpu': 12 } }, req: {},
      reason: 'NamespaceMaxAccelerators', permanent: false,
      message: 'budget team-a/gpu: 12 nvidia.com/gpu in use + 8 for this launch = 20, over the maximum of 16',
    },
    {
      name: 'instances in use at the maximum', r: { maxConcurrentInstances: 4 }, u: { runningInstances: 4 }, req: {},
      reason: 'NamespaceMaxInstances', permanent: false,
      message: 'budget team-a/gpu: 4 instances in use, the maximum is 4',
    },
    {
      name: 'a budget that allows no instance at all', r: { maxConcurrentInstances: 0 }, u: {}, req: {},
      reason: 'NamespaceMaxInstances', permanent: true,
      message: 'budget team-a/gpu: allows at most 0 instances at once',
    },
    {
      name: 'money spent and reserved leaving a cent too little', r: { limit: 1_234_560_000 }, u: { settled: 1_000 * USD, accruing: 100 * USD, reserved: 85_410_000 }, req: { maxRuntimeSeconds: 1800 },
      reason: 'NamespaceBudgetExceeded', permanent: false,
      message: "budget team-a/gpu: spent $1,100.00 + reserved $85.41 + this launch's quote $49.16 ($98.32/h for 30 min) exceeds the limit $1,234.56 by $0.01",
    },
    {
      name: 'over by more than a cent, with an odd runtime', r: {}, u: { settled: 800 * USD, accruing: 100 * USD, reserved: 50 * USD }, req: { maxRuntimeSeconds: 3601 },
      reason: 'NamespaceBudgetExceeded', permanent: false,
      message: "budget team-a/gpu: spent $900.00 + reserved $50.00 + this launch's quote $98.35 ($98.32/h for 3601 s) exceeds the limit $1,000.00 by $48.35",
    },
  ])('$name: $reason', ({ r, u, req, reason, permanent, message }) => {
    expect(decideLaunch(rules(r), usage(u), launch(req))).toEqual({ kind: 'deny', reason, permanent, message });
  });
});

describe('decideLaunch: permanent denials before waiting ones', () => {
  it('reports a family not allowed rather than a full budget, and lists both', () => {
    const r = rules({ deniedFamilies: ['p5'], limit: 100 * USD });
    const u = usage({ settled: 90 * USD });
    expect(decideLaunch(r, u, launch())).toMatchObject({ reason: 'InstanceFamilyNotAllowed', permanent: true });
    expect(evaluateLaunch(r, u, launch()).denials.map((d) => d.reason)).toEqual(['InstanceFamilyNotAllowed', 'NamespaceBudgetExceeded']);
  });

  it('reports a quote above the whole limit, which also exceeds what is left, as permanent', () => {
    const evaluation = evaluateLaunch(rules({ limit: 50 * USD }), usage(), launch());
    expect(evaluation.quote).toBe(P5);
    expect(evaluation.denials.map((d) => [d.reason, d.permanent])).toEqual([['QuoteExceedsBudget', true], ['NamespaceBudgetExceeded', false]]);
  });

  it('checks every rule in one pass, in the reporting order', () => {
    const r = rules({
      allowedFamilies: ['g6e'], allowedCapacityTypes: ['spot'], limit: 10 * USD,
      maxAccelerators: { 'nvidia.com/gpu': 4 }, maxConcurrentInstances: 1,
    });
    const denials = evaluateLaunch(r, usage({ runningInstances: 1 }), launch({ namespace: 'team-b' })).denials;
    expect(denials.map((d) => d.reason)).toEqual([
      'BudgetChargeNotAllowed', 'InstanceFamilyNotAllowed', 'CapacityTypeNotAllowed', 'QuoteExceedsBudget',
      'NamespaceMaxAccelerators', 'NamespaceMaxInstances', 'NamespaceBudgetExceeded',
    ]);
    expect(denials.every((d) => d.message.startsWith('budget team-a/gpu: '))).toBe(true);
  });

  it('has no denials for a launch every rule allows', () => {
    expect(evaluateLaunch(rules(), usage(), launch())).toEqual({ quote: P5, denials: [] });
  });
});

describe('decideLaunch: who pays (allowChargesFrom)', () => {
  it.each([
    { name: 'a pod charges its own namespace', from: 'team-a', allow: undefined, kind: 'allow' },
    { name: 'its own namespace needs no listing', from: 'team-a', allow: ['team-b'], kind: 'allow' },
    { name: 'a listed namespace may charge', from: 'team-b', allow: ['team-b'], kind: 'allow' },
    { name: 'an unlisted namespace may not', from: 'team-c', allow: ['team-b'], kind: 'deny' },
    { name: 'an empty list admits no other namespace', from: 'team-b', allow: [], kind: 'deny' },
    { name: 'names match exactly', from: 'Team-B', allow: ['team-b'], kind: 'deny' },
  ])('$name', ({ from, allow, kind }) => {
    const r = allow === undefined ? rules() : rules({ allowChargesFrom: allow });
    const decision = decideLaunch(r, usage(), launch({ namespace: from }));
    expect(decision.kind).toBe(kind);
    if (decision.kind === 'deny') expect(decision).toMatchObject({ reason: 'BudgetChargeNotAllowed', permanent: true });
  });
});

describe('decideLaunch: families, capacity types, instances and accelerators that fit', () => {
  it.each<{ name: string; r: Partial<BudgetRules>; u: Partial<BudgetUsage>; req: Partial<LaunchRequest> }>([
    { name: 'a family in allowedFamilies', r: { allowedFamilies: ['g6e', 'p5'] }, u: {}, req: {} },
    { name: 'a family not in deniedFamilies', r: { deniedFamilies: ['p4d'] }, u: {}, req: {} },
    { name: 'an allowed capacity type', r: { allowedCapacityTypes: ['spot'] }, u: {}, req: { capacityType: 'spot' } },
    { name: 'one instance below the maximum', r: { maxConcurrentInstances: 4 }, u: { runningInstances: 3 }, req: {} },
    { name: 'accelerators exactly at the maximum', r: { maxAccelerators: { 'nvidia.com/gpu': 16 } }, u: { accelerators: { 'nvidia.com/gpu': 8 } }, req: {} },
    { name: 'a limit on another accelerator kind', r: { maxAccelerators: { 'aws.amazon.com/neuron': 0 } }, u: {}, req: {} },
    { name: 'zero of a limited kind', r: { maxAccelerators: { 'aws.amazon.com/neuron': 0 } }, u: {}, req: { accelerators: { 'aws.amazon.com/neuron': 0 } } },
    { name: 'a resource named like an Object member', r: { maxAccelerators: {} }, u: {}, req: { accelerators: { constructor: 4, toString: 1 } } },
  ])('allows $name', ({ r, u, req }) => {
    expect(decideLaunch(rules(r), usage(u), launch(req))).toEqual({ kind: 'allow', quote: P5 });
  });

  it('an empty allowedFamilies list allows no family', () => {
    expect(decideLaunch(rules({ allowedFamilies: [] }), usage(), launch())).toMatchObject({
      reason: 'InstanceFamilyNotAllowed', message: 'budget team-a/gpu: instance family p5 (p5.48xlarge) is not allowed (allowed: none)',
    });
  });

  it('checks each accelerator kind of a launch on its own', () => {
    const r = rules({ maxAccelerators: { 'nvidia.com/gpu': 16, 'vpc.amazonaws.com/efa': 2 } });
    const req = launch({ accelerators: { 'nvidia.com/gpu': 8, 'vpc.amazonaws.com/efa': 4 } });
    expect(evaluateLaunch(r, usage(), req).denials.map((d) => d.message)).toEqual([
      'budget team-a/gpu: this launch brings 4 vpc.amazonaws.com/efa, more than the maximum of 2 at once',
    ]);
  });
});

describe('usage figures', () => {
  const u = usage({ settled: 700 * USD, accruing: 250 * USD, reserved: 80 * USD });
  it('spent is settled + accruing; committed adds reserved; remaining may go below zero', () => {
    expect(spentOf(u)).toBe(950 * USD);
    expect(committedOf(u)).toBe(1030 * USD);
    expect(remainingOf(1000 * USD, u)).toBe(-30 * USD);
    expect(remainingOf(1100 * USD, u)).toBe(70 * USD);
  });

  it('reads counts by own key only', () => {
    expect(countOf({ a: 2 }, 'a')).toBe(2);
    expect(countOf({ a: 2 }, 'constructor')).toBeUndefined();
    expect(countOf(undefined, 'a')).toBeUndefined();
  });
});
