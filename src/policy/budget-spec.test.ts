// A BurstBudget's spec as plain JSON → BudgetSpec: the CRD's defaults, every field mapped, and every
// problem reported with its field path (several at once), unknown fields ignored.
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_RUNTIME_SECONDS, parseBudgetSpec, parseDuration, type BudgetSpec } from './budget-spec.js';
import { USD } from './budget-types.js';

const parsed = (spec: unknown): BudgetSpec => {
  const r = parseBudgetSpec('team-a', 'gpu', spec);
  if (!r.ok) throw new Error(`unexpected problems: ${r.error.join('; ')}`);
  return r.value;
};
const problems = (spec: unknown): readonly string[] => {
  const r = parseBudgetSpec('team-a', 'gpu', spec);
  return r.ok ? [] : r.error;
};

describe('parseBudgetSpec: defaults and mapping', () => {
  it('gives a spec with only limitUSD the CRD\'s defaults, and no optional rule', () => {
    expect(parsed({ limitUSD: 1000 })).toEqual({
      id: 'team-a/gpu', namespace: 'team-a', limit: 1000 * USD,
      period: { kind: 'Monthly', resetDay: 1, timeZone: 'UTC' },
      warnAtPercent: [50, 80, 100], defaultMaxRuntimeSeconds: 86_400, onLimit: 'Hold',
    });
  });

  it('maps every field of a full spec', () => {
    expect(parsed({
      limitUSD: 2500.5,
      period: { kind: 'Weekly', resetDay: 7, timeZone: 'Europe/Berlin' },
      warnAtPercent: [25, 90, 150],
      maxConcurrentInstances: 4,
      maxAccelerators: { 'nvidia.com/gpu': 16, 'aws.amazon.com/neuron': 0 },
      allowedInstanceFamilies: ['p5', 'g6e'],
      deniedInstanceFamilies: ['trn1', 'inf2'],
      allowedCapacityTypes: ['spot', 'on-demand'],
      allowChargesFrom: ['team-b', 'shared-0'],
      onLimit: 'HoldAndDrain',
      defaultMaxRuntime: '1h30m',
      idleTimeout: '30m',
    })).toEqual({
      id: 'team-a/gpu', namespace: 'team-a', limit: 2_500_500_000,
      period: { kind: 'Weekly', resetDay: 7, timeZone: 'Europe/Berlin' },
      warnAtPercent: [25, 90, 150],
      maxConcurrentInstances: 4,
      maxAccelerators: { 'nvidia.com/gpu': 16, 'aws.amazon.com/neuron': 0 },
      allowedFamilies: ['p5', 'g6e'],
      deniedFamilies: ['trn1', 'inf2'],
      allowedCapacityTypes: ['spot', 'on-demand'],
      allowChargesFrom: ['team-b', 'shared-0'],
      onLimit: 'HoldAndDrain',
      defaultMaxRuntimeSeconds: 5400,
      idleTimeoutSeconds: 1800,
    });
  });

  it.each([
    { what: 'dollars and cents', usd: 98.32, micro: 98_320_000 },
    { what: 'a sum floating point would get wrong', usd: 0.1 + 0.2, micro: 300_000 },
    { what: 'zero (nothing may launch)', usd: 0, micro: 0 },
    { what: 'the largest limit', usd: 1e9, micro: 1e15 },
    { what: 'a micro-dollar', usd: 0.000001, micro: 1 },
  ])('turns limitUSD into micro-dollars: $what', ({ usd, micro }) => {
    expect(parsed({ limitUSD: usd }).limit).toBe(micro);
  });

  it.each([
    { what: 'an empty period', period: {}, expected: { kind: 'Monthly', resetDay: 1, timeZone: 'UTC' } },
    { what: 'only a kind', period: { kind: 'Daily' }, expected: { kind: 'Daily', resetDay: 1, timeZone: 'UTC' } },
    { what: 'only a time zone', period: { timeZone: 'America/Argentina/Buenos_Aires' }, expected: { kind: 'Monthly', resetDay: 1, timeZone: 'America/Argentina/Buenos_Aires' } },
    { what: 'a monthly reset on the 31st', period: { resetDay: 31 }, expected: { kind: 'Monthly', resetDay: 31, timeZone: 'UTC' } },
    { what: 'a Daily period ignores its reset day', period: { kind: 'Daily', resetDay: 20 }, expected: { kind: 'Daily', resetDay: 20, timeZone: 'UTC' } },
    { what: 'Total in a zone with a sign in its name', period: { kind: 'Total', timeZone: 'Etc/GMT+5' }, expected: { kind: 'Total', resetDay: 1, timeZone: 'Etc/GMT+5' } },
  ])('fills the period\'s defaults: $what', ({ period, expected }) => {
    expect(parsed({ limitUSD: 1, period }).period).toEqual(expected);
  });

  it('ignores unknown fields, at the top, in the period and among accelerators', () => {
    const spec = parsed({ limitUSD: 1, color: 'blue', period: { kind: 'Daily', anchor: 'x' }, maxAccelerators: { 'amd.com/gpu': 4 } });
    expect(spec.period).toEqual({ kind: 'Daily', resetDay: 1, timeZone: 'UTC' });
    expect(spec).not.toHaveProperty('maxAccelerators');
    expect(spec).not.toHaveProperty('color');
  });

  it('keeps the accelerators named and empty lists as written (an empty allow-list allows nothing)', () => {
    const spec = parsed({ limitUSD: 1, maxAccelerators: { 'aws.amazon.com/neuron': 2 }, allowedInstanceFamilies: [], warnAtPercent: [] });
    expect(spec.maxAccelerators).toEqual({ 'aws.amazon.com/neuron': 2 });
    expect(spec.allowedFamilies).toEqual([]);
    expect(spec.warnAtPercent).toEqual([]);
  });

  it('never sets uid (the caller adds metadata.uid)', () => {
    expect(parsed({ limitUSD: 1 })).not.toHaveProperty('uid');
  });
});

describe('parseBudgetSpec: problems, each with its field path', () => {
  it.each([
    { what: 'no spec', spec: undefined, expected: ['spec: missing'] },
    { what: 'a null spec', spec: null, expected: ['spec: missing'] },
    { what: 'a string spec', spec: 'lots', expected: ['spec: "lots" is not an object'] },
    { what: 'a list spec', spec: [{ limitUSD: 1 }], expected: ['spec: [{"limitUSD":1}] is not an object'] },
    { what: 'no limit', spec: {}, expected: ['spec.limitUSD: missing (a number of US dollars, such as 1000)'] },
    { what: 'a negative limit', spec: { limitUSD: -1 }, expected: ['spec.limitUSD: -1 is less than 0'] },
    { what: 'a limit as a string', spec: { limitUSD: '100' }, expected: ['spec.limitUSD: "100" is not a finite number'] },
    { what: 'an infinite limit', spec: { limitUSD: Infinity }, expected: ['spec.limitUSD: Infinity is not a finite number'] },
    { what: 'a NaN limit', spec: { limitUSD: NaN }, expected: ['spec.limitUSD: NaN is not a finite number'] },
    { what: 'a limit over a billion', spec: { limitUSD: 1e9 + 1 }, expected: ['spec.limitUSD: 1000000001 is more than 1000000000'] },
  ])('$what', ({ spec, expected }) => {
    expect(problems(spec)).toEqual(expected);
  });

  it.each([
    { what: 'not an object', period: 'Monthly', expected: ['spec.period: "Monthly" is not an object'] },
    { what: 'an unknown kind', period: { kind: 'Yearly' }, expected: ['spec.period.kind: "Yearly" is not one of Monthly, Weekly, Daily, Total'] },
    { what: 'a kind in lower case', period: { kind: 'monthly' }, expected: ['spec.period.kind: "monthly" is not one of Monthly, Weekly, Daily, Total'] },
    { what: 'reset day 0', period: { resetDay: 0 }, expected: ['spec.period.resetDay: 0 is less than 1'] },
    { what: 'reset day 32', period: { resetDay: 32 }, expected: ['spec.period.resetDay: 32 is more than 31'] },
    { what: 'a fractional reset day', period: { resetDay: 1.5 }, expected: ['spec.period.resetDay: 1.5 is not a whole number'] },
    { what: 'a reset day as a string', period: { resetDay: '1' }, expected: ['spec.period.resetDay: "1" is not a finite number'] },
    { what: 'a Weekly reset day past Sunday', period: { kind: 'Weekly', resetDay: 8 }, expected: ['spec.period.resetDay: 8 is not an integer from 1 to 7 (Weekly)'] },
    { what: 'a time zone the runtime does not know', period: { timeZone: 'Mars/Olympus' }, expected: ['spec.period.timeZone: "Mars/Olympus" is not a known IANA time zone'] },
    { what: 'an empty time zone', period: { timeZone: '' }, expected: ['spec.period.timeZone: "" is not an IANA time zone name such as Europe/Berlin'] },
    { what: 'an offset, not a zone name', period: { timeZone: '+02:00' }, expected: ['spec.period.timeZone: "+02:00" is not an IANA time zone name such as Europe/Berlin'] },
    { what: 'a time zone as a number', period: { timeZone: 1 }, expected: ['spec.period.timeZone: 1 is not a string'] },
    { what: 'a time zone of 65 characters', period: { timeZone: `A/${'b'.repeat(63)}` }, expected: [`spec.period.timeZone: "A/${'b'.repeat(63)}" is longer than 64 characters`] },
    {
      what: 'every field bad at once',
      period: { kind: 'Hourly', resetDay: -3, timeZone: 'Mars/Olympus' },
      expected: ['spec.period.kind: "Hourly" is not one of Monthly, Weekly, Daily, Total', 'spec.period.resetDay: -3 is less than 1', 'spec.period.timeZone: "Mars/Olympus" is not a known IANA time zone'],
    },
  ])('period: $what', ({ period, expected }) => {
    expect(problems({ limitUSD: 1, period })).toEqual(expected);
  });

  it.each([
    { what: 'warnAtPercent not a list', spec: { warnAtPercent: 50 }, expected: ['spec.warnAtPercent: 50 is not a list'] },
    { what: 'warnAtPercent with 11 items', spec: { warnAtPercent: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] }, expected: ['spec.warnAtPercent: has 11 items, more than 10'] },
    { what: 'warnAtPercent items out of range or fractional', spec: { warnAtPercent: [50, 0, 80.5, 1001] }, expected: ['spec.warnAtPercent[1]: 0 is less than 1', 'spec.warnAtPercent[2]: 80.5 is not a whole number', 'spec.warnAtPercent[3]: 1001 is more than 1000'] },
    { what: 'a negative instance cap', spec: { maxConcurrentInstances: -1 }, expected: ['spec.maxConcurrentInstances: -1 is less than 0'] },
    { what: 'a fractional instance cap', spec: { maxConcurrentInstances: 2.5 }, expected: ['spec.maxConcurrentInstances: 2.5 is not a whole number'] },
    { what: 'maxAccelerators not an object', spec: { maxAccelerators: 8 }, expected: ['spec.maxAccelerators: 8 is not an object'] },
    { what: 'bad accelerator caps', spec: { maxAccelerators: { 'nvidia.com/gpu': -1, 'aws.amazon.com/neuron': '2' } }, expected: ['spec.maxAccelerators["nvidia.com/gpu"]: -1 is less than 0', 'spec.maxAccelerators["aws.amazon.com/neuron"]: "2" is not a finite number'] },
    { what: 'instance families not a list', spec: { allowedInstanceFamilies: 'p5' }, expected: ['spec.allowedInstanceFamilies: "p5" is not a list'] },
    { what: 'bad instance families', spec: { deniedInstanceFamilies: ['p5', 'P5', 'g6e.xlarge', 4] }, expected: ['spec.deniedInstanceFamilies[1]: "P5" is not an instance family such as p5, g6e or trn1', 'spec.deniedInstanceFamilies[2]: "g6e.xlarge" is not an instance family such as p5, g6e or trn1', 'spec.deniedInstanceFamilies[3]: 4 is not a string'] },
    { what: 'an unknown capacity type', spec: { allowedCapacityTypes: ['spot', 'ondemand'] }, expected: ['spec.allowedCapacityTypes[1]: "ondemand" is not one of reserved, spot, on-demand'] },
    { what: 'bad namespace names', spec: { allowChargesFrom: ['team-b', 'Team_C', '-x'] }, expected: ['spec.allowChargesFrom[1]: "Team_C" is not a namespace name', 'spec.allowChargesFrom[2]: "-x" is not a namespace name'] },
    { what: 'a namespace name of 64 characters', spec: { allowChargesFrom: ['a'.repeat(64)] }, expected: [`spec.allowChargesFrom[0]: "${'a'.repeat(64)}" is longer than 63 characters`] },
    { what: 'an unknown onLimit', spec: { onLimit: 'Drain' }, expected: ['spec.onLimit: "Drain" is not one of Hold, HoldAndDrain'] },
  ])('$what', ({ spec, expected }) => {
    expect(problems({ limitUSD: 1, ...spec })).toEqual(expected);
  });

  it.each([
    { what: 'minutes without a unit', text: '1h30', why: 'is not a duration such as 24h, 90m, 1h30m or 2d' },
    { what: 'units out of order', text: '30m1h', why: 'is not a duration such as 24h, 90m, 1h30m or 2d' },
    { what: 'an empty duration', text: '', why: 'is not a duration such as 24h, 90m, 1h30m or 2d' },
    { what: 'weeks', text: '1w', why: 'is not a duration such as 24h, 90m, 1h30m or 2d' },
    { what: 'zero', text: '0s', why: 'is not more than 0s and at most 365d' },
    { what: 'more than a year', text: '366d', why: 'is not more than 0s and at most 365d' },
    { what: 'too many days to count', text: `${'9'.repeat(30)}d`, why: 'is not a duration such as 24h, 90m, 1h30m or 2d' },
  ])('durations: $what', ({ text, why }) => {
    expect(problems({ limitUSD: 1, defaultMaxRuntime: text })).toEqual([`spec.defaultMaxRuntime: ${JSON.stringify(text)} ${why}`]);
    expect(problems({ limitUSD: 1, idleTimeout: text })).toEqual([`spec.idleTimeout: ${JSON.stringify(text)} ${why}`]);
  });

  it('refuses a duration that is a number of seconds rather than a string', () => {
    expect(problems({ limitUSD: 1, defaultMaxRuntime: 3600 })).toEqual(['spec.defaultMaxRuntime: 3600 is not a string']);
  });

  it('reports every problem of a spec at once, in field order', () => {
    expect(problems({
      limitUSD: -5, period: { timeZone: 'Mars/Olympus' }, warnAtPercent: [0], maxAccelerators: { 'nvidia.com/gpu': 0.5 },
      maxConcurrentInstances: 'two', allowedCapacityTypes: ['ice'], onLimit: 'Stop', defaultMaxRuntime: 'forever',
    })).toEqual([
      'spec.limitUSD: -5 is less than 0',
      'spec.period.timeZone: "Mars/Olympus" is not a known IANA time zone',
      'spec.warnAtPercent[0]: 0 is less than 1',
      'spec.maxAccelerators["nvidia.com/gpu"]: 0.5 is not a whole number',
      'spec.maxConcurrentInstances: "two" is not a finite number',
      'spec.allowedCapacityTypes[0]: "ice" is not one of reserved, spot, on-demand',
      'spec.defaultMaxRuntime: "forever" is not a duration such as 24h, 90m, 1h30m or 2d',
      'spec.onLimit: "Stop" is not one of Hold, HoldAndDrain',
    ]);
  });

  it('cuts a long bad value short in its problem', () => {
    expect(problems({ limitUSD: 1, onLimit: 'x'.repeat(500) })).toEqual([`spec.onLimit: "${'x'.repeat(76)}... is not one of Hold, HoldAndDrain`]);
  });
});

describe('parseDuration', () => {
  it.each([
    ['24h', 86_400], ['90m', 5400], ['1h30m', 5400], ['2d', 172_800], ['45s', 45], ['1d2h3m4s', 93_784],
    ['0s', 0], ['007m', 420], ['36h', 129_600],
  ])('%s is %i s', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', '24', 'h', '1h1h', '30m1h', '1.5h', '-1h', ' 1h', '1h ', '1H', '1w', '1 h', '1h30', `${'9'.repeat(30)}d`])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('agrees with the default runtime', () => {
    expect(parseDuration('24h')).toBe(DEFAULT_MAX_RUNTIME_SECONDS);
  });
});
