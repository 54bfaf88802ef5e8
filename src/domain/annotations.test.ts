import { describe, expect, it } from 'vitest';
import { annotations, describeHintErrors, parseDuration, parsePodHints, PREFIX, type HintDefaults } from './annotations.js';

const defaults: HintDefaults = { capacityOrder: ['on-demand'], onInterruption: 'fail' };
const parse = (a: Record<string, string>) => parsePodHints(Object.fromEntries(Object.entries(a).map(([k, v]) => [PREFIX + k, v])), defaults);

describe('parsePodHints', () => {
  it('gives the defaults when the pod says nothing, and ignores other annotations', () => {
    const r = parsePodHints({ 'kubectl.kubernetes.io/last-applied-configuration': '{}' }, defaults);
    expect(r).toEqual({ ok: true, value: { capacityOrder: ['on-demand'], onInterruption: 'fail', terminationProtection: false, debug: false } });
  });

  it('parses every key into its typed field', () => {
    const r = parse({
      'instance-type': 'p5.48xlarge', 'launch-type': 'reserved, spot,on-demand', 'max-spot-price': '35.5',
      'capacity-reservation-id': 'cr-0123456789abcdef0', 'capacity-reservation-preference': 'targeted',
      ami: 'ami-0abcdef1234567890', 'max-lifetime': '1d12h', subnet: 'subnet-0abc1234', zone: 'us-east-1b',
      'on-interruption': 'relaunch', 'budget-namespace': 'biology-dept', 'termination-protection': 'true', debug: 'false',
    });
    expect(r).toEqual({ ok: true, value: {
      instanceType: 'p5.48xlarge', capacityOrder: ['reserved', 'spot', 'on-demand'], maxSpotPrice: 35.5,
      capacityReservationId: 'cr-0123456789abcdef0', capacityReservationPreference: 'targeted', ami: 'ami-0abcdef1234567890',
      maxLifetimeSeconds: 129_600, subnet: 'subnet-0abc1234', zone: 'us-east-1b', onInterruption: 'relaunch',
      budgetNamespace: 'biology-dept', terminationProtection: true, debug: false,
    } });
  });

  it.each([
    ['instance-type', 'P5.48XLARGE', 'expected an EC2 instance type such as p5.48xlarge'],
    ['instance-type', 'p5', 'expected an EC2 instance type such as p5.48xlarge'],
    ['workload-template', 'Big_GPU', 'expected a template name from the configuration'],
    ['launch-type', 'cheap', 'expected a comma-separated order of reserved, spot, on-demand; "cheap" is not one'],
    ['launch-type', 'spot,spot', 'lists a capacity type twice'],
    ['launch-type', '', 'expected a comma-separated order of reserved, spot, on-demand; "" is not one'],
    ['max-spot-price', '$5', 'expected a price in USD per hour, such as "12.50"'],
    ['max-spot-price', '0.0001', 'must be more than 0.001 USD per hour'],
    ['spot-max-price', '5', 'is not an ORCA annotation: use orca.research/max-spot-price'],
    ['capacity-reservation-id', 'reservation-1', 'expected a capacity reservation id such as cr-0123456789abcdef0'],
    ['capacity-reservation-preference', 'capacity-reservations-only', 'expected one of open, none, targeted'],
    ['capacity-block-id', 'cb-123', 'expected a Capacity Block id such as cr-0123456789abcdef0'],
    ['ami', 'ubuntu', 'expected an AMI id such as ami-0123456789abcdef0'],
    ['max-lifetime', '4 hours', 'expected a duration such as 30m, 4h, 7d or 1h30m'],
    ['max-lifetime', '0h', 'must be more than 0 and at most 365d'],
    ['max-lifetime', '400d', 'must be more than 0 and at most 365d'],
    ['subnet', 'sn-1', 'expected a subnet id such as subnet-0123456789abcdef0'],
    ['zone', 'virginia', 'expected an Availability Zone such as us-east-1b'],
    ['on-interruption', 'ignore', 'expected one of fail, relaunch'],
    ['budget-namespace', 'Biology', 'expected a lowercase name such as biology-dept'],
    ['termination-protection', 'yes', 'expected true or false'],
    ['debug', '1', 'expected true or false'],
    ['user-data', 'IyEvYmluL3NoCg==', 'is not supported: instances are generic workers; give the pod its settings through env, ConfigMaps or Secrets'],
    ['instance_type', 'p5.48xlarge', 'is not an ORCA annotation (see docs/annotations.md)'],
  ])('rejects %s=%j: %s', (key, value, problem) => {
    expect(parse({ [key]: value })).toEqual({ ok: false, error: [{ key: PREFIX + key, value, problem }] });
  });

  it.each([
    [{ 'max-spot-price': '5' }, 'max-spot-price', 'needs spot in orca.research/launch-type'],
    [{ 'capacity-reservation-preference': 'targeted' }, 'capacity-reservation-preference', 'needs orca.research/capacity-reservation-id'],
    [{ 'capacity-block-id': 'cr-0123456789abcdef0', 'capacity-reservation-id': 'cr-0123456789abcdef1' }, 'capacity-block-id', 'cannot be combined with orca.research/capacity-reservation-id'],
    [{ 'instance-type': 'p5.48xlarge', 'workload-template': 'big' }, 'workload-template', 'cannot be combined with orca.research/instance-type'],
  ])('rejects the combination %j', (a, key, problem) => {
    const r = parse(a);
    expect(r.ok ? [] : r.error.map((e) => [e.key, e.problem])).toEqual([[PREFIX + key, problem]]);
  });

  it('reports every problem at once', () => {
    const r = parse({ 'instance-type': 'X', 'launch-type': 'cheap', debug: 'maybe', nonsense: '1' });
    expect(r.ok ? 0 : r.error.length).toBe(4);
    expect(r.ok ? '' : describeHintErrors(r.error)).toContain('orca.research/launch-type: "cheap" expected a comma-separated order');
  });

  it('accepts AZ ids and trims surrounding spaces', () => {
    expect(parse({ zone: ' use1-az2 ' })).toMatchObject({ ok: true, value: { zone: 'use1-az2' } });
  });
});

describe('parseDuration', () => {
  it.each([['30m', 1800], ['4h', 14_400], ['7d', 604_800], ['1h30m', 5400], ['90s', 90], ['h', undefined], ['-1h', undefined]])('%s → %s', (v, s) => {
    expect(parseDuration(v)).toBe(s);
  });
});

describe('the registry', () => {
  it('has a type, default and doc line for every key', () => {
    for (const [key, e] of Object.entries(annotations)) {
      expect([key, e.type.length > 0, e.default.length > 0, e.doc.length > 10]).toEqual([key, true, true, true]);
    }
  });
});
