// What `orca validate` says of a pod is what the EC2 provider decides: its reasons and messages, the
// offerings its planner ranks, the config's zones, subnets, modes and allow-list, the price ceiling.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from './catalog-files.js';
import type { SpotFigures } from './catalog-spot.js';
import { validatePod, type ValidateContext, type Verdict } from './cli-validate.js';
import { parseConfig } from './config/load.js';
import type { Pod } from './domain/pod.js';

const catalog = loadCatalog(fileURLToPath(new URL('../instance-catalog/', import.meta.url)), 'us-east-1');

const SUBNETS = 'subnets: [{zone: us-east-1a, subnetID: subnet-0123456789abcdef0}, {zone: us-east-1b, subnetID: subnet-0fedcba9876543210}]';

function ctx(config = `aws: {region: us-east-1, ${SUBNETS}}\nnode: {name: orca}\n`, extra: Partial<ValidateContext> = {}): ValidateContext {
  const c = parseConfig(config);
  if (!c.ok) throw c.error;
  return { config: c.value, configured: true, catalog, ...extra };
}

function pod(annotations: Record<string, string>, requests: Record<string, string> = {}, more: Partial<Pod['spec']> = {}): Pod {
  return {
    metadata: { namespace: 'ml', name: 'p', uid: 'u', annotations },
    spec: { containers: [{ name: 'c', image: 'x', resources: { requests } }], ...more },
  };
}

const offerings = (v: Verdict): string[] => (v.ok ? v.offerings.map((o) => `${o.type} ${o.capacity} ${o.zone} ${o.subnet}`) : v.problems.map((p) => `problem: ${p}`));
const problems = (v: Verdict): readonly string[] => (v.ok ? [] : v.problems);

describe('validatePod', () => {
  it('ranks as the provider does: capacity order, then price, then the configured zone order', async () => {
    const v = await validatePod('Pod ml/p', pod({ 'orca.research/instance-type': 'g6e.xlarge', 'orca.research/launch-type': 'on-demand,spot' }), ctx());
    expect(offerings(v)).toEqual([
      'g6e.xlarge on-demand us-east-1a subnet-0123456789abcdef0', 'g6e.xlarge on-demand us-east-1b subnet-0fedcba9876543210',
      'g6e.xlarge spot us-east-1a subnet-0123456789abcdef0', 'g6e.xlarge spot us-east-1b subnet-0fedcba9876543210',
    ]);
    expect(v).toMatchObject({ ok: true, ceilingUsdPerHour: 1.861 });
    expect(v.ok && v.offerings[0]).toMatchObject({ usdPerHour: 1.861, price: 'on-demand', accelerators: '1 L40S 44.7Gi' });
  });

  it('in auto mode picks the cheapest types that fit, of one accelerator kind, and the ceiling is the dearest', async () => {
    const v = await validatePod('Pod ml/p', pod({}, { 'nvidia.com/gpu': '8', memory: '1Ti' }), ctx(`aws: {region: us-east-1, ${SUBNETS}}\nnode: {name: orca}\ninstances: {selectionMode: auto}\n`));
    if (!v.ok) throw new Error(v.problems.join('\n'));
    const prices = v.offerings.map((o) => o.usdPerHour);
    expect(prices).toEqual([...prices].sort((a, b) => a - b));
    expect(v.offerings.every((o) => /^(8|16) /.test(o.accelerators))).toBe(true);
    expect(v.ceilingUsdPerHour).toBe(Math.max(...prices));
  });

  it('shows spot at the pod\'s ceiling when the catalog has no spot figure, else the figure', async () => {
    const spot = await validatePod('Pod ml/p', pod({ 'orca.research/instance-type': 'p5.48xlarge', 'orca.research/launch-type': 'spot', 'orca.research/max-spot-price': '30' }), ctx());
    expect(spot).toMatchObject({ ok: true, ceilingUsdPerHour: 30, offerings: [{ price: 'spot-ceiling', usdPerHour: 30 }, { price: 'spot-ceiling', usdPerHour: 30 }] });
    const figures: SpotFigures = { region: 'us-east-1', source: 'DescribeSpotPriceHistory', readAt: '2026-11-30T00:00:00Z', usdPerHour: { 'p5.48xlarge': { 'us-east-1b': 21.5, 'us-east-1a': 40 } } };
    const v = await validatePod('Pod ml/p', pod({ 'orca.research/instance-type': 'p5.48xlarge', 'orca.research/launch-type': 'spot', 'orca.research/max-spot-price': '30' }), ctx(undefined, { spot: figures }));
    // us-east-1a's figure is above the pod's maximum: the provider's own selection turns it down.
    expect(v).toMatchObject({ ok: true, offerings: [{ zone: 'us-east-1b', price: 'catalog-spot', usdPerHour: 21.5 }] });
    expect(v.ok && v.offerings.length).toBe(1);
    expect(v.ok && v.notes.join('\n')).toContain('the catalog\'s spot figures (DescribeSpotPriceHistory, read 2026-11-30T00:00:00Z)');
  });

  it.each([
    ['a type that does not fit', pod({ 'orca.research/instance-type': 'g6e.xlarge' }, { 'nvidia.com/gpu': '2' }), 'NoInstanceType: g6e.xlarge needs 2 nvidia.com/gpu, has 1'],
    ['a type the catalog lacks', pod({ 'orca.research/instance-type': 'x9.huge' }), 'NoInstanceType: x9.huge is not in the instance catalog'],
    ['no type in explicit mode', pod({}), 'InvalidInstanceSelection: the pod must name orca.research/instance-type (or orca.research/workload-template)'],
    ['a zone without a subnet', pod({ 'orca.research/instance-type': 'g6e.xlarge', 'orca.research/zone': 'us-east-1c' }), 'InvalidAnnotation: orca.research/zone: "us-east-1c" has no configured subnet (aws.subnets has us-east-1a, us-east-1b)'],
    ['a zone id', pod({ 'orca.research/instance-type': 'g6e.xlarge', 'orca.research/zone': 'use1-az2' }), 'InvalidAnnotation: orca.research/zone: "use1-az2" is an Availability Zone id; name the zone instead (aws.subnets has us-east-1a, us-east-1b)'],
    ['a subnet not configured', pod({ 'orca.research/instance-type': 'g6e.xlarge', 'orca.research/subnet': 'subnet-0aaaaaaaaaaaaaaaa' }), /^InvalidAnnotation: orca\.research\/subnet: "subnet-0aaaaaaaaaaaaaaaa" is not one of the configured subnets/],
    ['a type sold as Capacity Blocks only, on demand', pod({ 'orca.research/instance-type': 'p5e.48xlarge' }), /^NoInstanceType: p5e\.48xlarge has no on-demand price: it is sold through Capacity Blocks for ML/],
    ['bad annotations, all of them', pod({ 'orca.research/instance-type': 'P5', 'orca.research/max-lifetime': 'forever' }), /^InvalidAnnotation: orca\.research\/instance-type: "P5" expected an EC2 instance type/],
    ['a volume an instance cannot provide', pod({ 'orca.research/instance-type': 'g6e.xlarge' }, {}, { volumes: [{ name: 'data', hostPath: { path: '/x' } }] }), 'UnsupportedVolume: volume data: hostPath volumes are not supported on burst instances (use emptyDir, configMap, secret or downwardAPI)'],
  ])('refuses %s with the reason and message of the pod\'s Event', async (_what, p, message) => {
    const v = await validatePod('Pod ml/p', p, ctx());
    expect(v.ok).toBe(false);
    expect(problems(v)[0]).toMatch(message);
  });

  it('lists every annotation problem on its own line', async () => {
    const v = await validatePod('Pod ml/p', pod({ 'orca.research/instance-type': 'P5', 'orca.research/max-lifetime': 'forever', 'orca.research/colour': 'blue' }), ctx());
    expect(problems(v)).toHaveLength(3);
  });

  it('refuses a type outside instances.allowedInstanceTypes, and uses the config\'s templates', async () => {
    const config = `aws: {region: us-east-1, ${SUBNETS}}\nnode: {name: orca}\ninstances: {selectionMode: template, allowedInstanceTypes: [g6e.xlarge], templates: {small: {instanceType: g6e.xlarge}}}\n`;
    expect(problems(await validatePod('Pod ml/p', pod({ 'orca.research/instance-type': 'p5.48xlarge' }), ctx(config)))).toEqual(['NoInstanceType: p5.48xlarge is not in instances.allowedInstanceTypes']);
    expect(offerings(await validatePod('Pod ml/p', pod({ 'orca.research/workload-template': 'small' }), ctx(config)))[0]).toBe('g6e.xlarge on-demand us-east-1a subnet-0123456789abcdef0');
    expect(problems(await validatePod('Pod ml/p', pod({ 'orca.research/workload-template': 'big' }), ctx(config)))).toEqual(['InvalidInstanceSelection: no workload template named "big" in the configuration']);
  });

  it('refuses what EC2\'s tag limit would refuse', async () => {
    const tags = Object.fromEntries(Array.from({ length: 45 }, (_, i) => [`team-${i}`, 'x']));
    const config = `aws: {region: us-east-1, ${SUBNETS}, tags: ${JSON.stringify(tags)}}\nnode: {name: orca}\n`;
    expect(problems(await validatePod('Pod ml/p', pod({ 'orca.research/instance-type': 'g6e.xlarge' }), ctx(config)))[0]).toMatch(/^TooManyTags: the instance would carry \d+ tags/);
  });

  it('says ORCA launches nothing when the config has no subnets', async () => {
    expect(problems(await validatePod('Pod ml/p', pod({ 'orca.research/instance-type': 'g6e.xlarge' }), ctx('aws: {region: us-east-1}\nnode: {name: orca}\n')))).toEqual([
      'NoProvider: This ORCA build has no EC2 provider configured, so it cannot run pods; nothing was launched (aws.subnets is empty)',
    ]);
  });

  it('without a configuration, takes the pod\'s own zone and subnet and says the rest is unknown', async () => {
    const none = { ...ctx('aws: {region: us-east-1}\nnode: {name: orca}\n'), configured: false };
    const v = await validatePod('Pod ml/p', pod({ 'orca.research/instance-type': 'g6e.xlarge', 'orca.research/zone': 'us-east-1c', 'orca.research/subnet': 'subnet-0aaaaaaaaaaaaaaaa' }), none);
    expect(offerings(v)).toEqual(['g6e.xlarge on-demand us-east-1c subnet-0aaaaaaaaaaaaaaaa']);
    expect(offerings(await validatePod('Pod ml/p', pod({ 'orca.research/instance-type': 'g6e.xlarge' }), none))).toEqual(['g6e.xlarge on-demand any -']);
    expect(v.ok && v.notes.join('\n')).toMatch(/without --config: ORCA's defaults/);
  });

  it('says that the account\'s reservations are not known offline, and takes a named one at the configured rate', async () => {
    const listed = await validatePod('Pod ml/p', pod({ 'orca.research/instance-type': 'g6e.xlarge', 'orca.research/launch-type': 'reserved,on-demand' }), ctx());
    expect(listed.ok && listed.notes.join('\n')).toMatch(/reserved: the account's capacity reservations are listed from EC2 at launch/);
    const config = `aws: {region: us-east-1, ${SUBNETS}}\nnode: {name: orca}\nbudgets: {reservedUSDPerHour: 99}\n`;
    const named = await validatePod('Pod ml/p', pod({ 'orca.research/instance-type': 'g6e.xlarge', 'orca.research/launch-type': 'reserved', 'orca.research/capacity-reservation-id': 'cr-0123456789abcdef0' }), ctx(config));
    expect(named).toMatchObject({ ok: true, ceilingUsdPerHour: 99, offerings: [{ capacity: 'reserved', zone: '(reservation\'s)', subnet: 'subnet-0123456789abcdef0', price: 'reserved', usdPerHour: 0 }] });
  });
});
