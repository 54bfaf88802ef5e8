import { describe, expect, it } from 'vitest';
import type { PodHints } from '../domain/annotations.js';
import type { PodRequest } from '../domain/pod-request.js';
import { selectOfferings, type SelectionContext } from './selection.js';
import type { InstanceTypeInfo } from './types.js';
import { offeringKey, UnavailableOfferings } from './unavailable.js';

const gpu = (type: string, count: number, vcpus: number, memGi: number): InstanceTypeInfo => ({
  type, vcpus, memoryMiB: memGi * 1024, architectures: ['x86_64'], efaInterfaces: 0, networkPerformance: '',
  accelerator: { kind: 'nvidia', model: 'X', count, memoryMiB: 24_576 },
});
const types = new Map([
  ['g5.xlarge', gpu('g5.xlarge', 1, 4, 16)], ['g5.12xlarge', gpu('g5.12xlarge', 4, 48, 192)], ['g5.16xlarge', gpu('g5.16xlarge', 1, 64, 256)],
  ['p5.48xlarge', { ...gpu('p5.48xlarge', 8, 192, 2048), efaInterfaces: 32 }],
  ['trn1.32xlarge', { type: 'trn1.32xlarge', vcpus: 128, memoryMiB: 512 * 1024, architectures: ['x86_64'], efaInterfaces: 8, networkPerformance: '', accelerator: { kind: 'neuron', model: 'Trainium', count: 16, memoryMiB: 32_768, coresPerDevice: 2 } }],
] as [string, InstanceTypeInfo][]);
const onDemand = { 'g5.xlarge': 1.006, 'g5.12xlarge': 5.672, 'g5.16xlarge': 4.096, 'p5.48xlarge': 55.04, 'trn1.32xlarge': 21.5 };
const spot: Record<string, number> = { 'p5.48xlarge/us-east-1a': 30, 'p5.48xlarge/us-east-1b': 25, 'g5.xlarge/us-east-1a': 0.4 };
const ctx = (over: Partial<SelectionContext> = {}): SelectionContext => ({
  mode: 'auto', types, onDemandUsdPerHour: onDemand, spotUsdPerHour: (t, z) => spot[`${t}/${z}`], zones: ['us-east-1a', 'us-east-1b'],
  allowedTypes: [], templates: { big: { instanceType: 'p5.48xlarge' } }, isUnavailable: () => false, ...over,
});
const hints = (over: Partial<PodHints> = {}): PodHints => ({ capacityOrder: ['on-demand'], onInterruption: 'fail', terminationProtection: false, debug: false, ...over });
interface ReqOver { cpuCores?: number; memoryMiB?: number; gpus?: number; neuron?: number; efa?: number }
const req = (over: ReqOver = {}): PodRequest => ({
  cpuCores: over.cpuCores ?? 1, memoryMiB: over.memoryMiB ?? 1024, ephemeralStorageGiB: 0,
  accelerators: { 'nvidia.com/gpu': over.gpus ?? 0, 'aws.amazon.com/neuron': over.neuron ?? 0, 'aws.amazon.com/neuroncore': 0, 'vpc.amazonaws.com/efa': over.efa ?? 0 },
});
const list = (s: ReturnType<typeof selectOfferings>): string[] => (s.ok ? s.ranked.map((o) => `${o.type}/${o.capacity}/${o.zone}/${o.usdPerHour}`) : [s.reason, s.message]);

describe('selectOfferings with the account\'s capacity reservations', () => {
  const reservations = [
    { id: 'cr-a', instanceType: 'p5.48xlarge', zone: 'us-east-1a', available: 2 },
    { id: 'cr-full', instanceType: 'p5.48xlarge', zone: 'us-east-1b', available: 0 },
    { id: 'cr-west', instanceType: 'p5.48xlarge', zone: 'us-west-2a', available: 4 },
    { id: 'cr-g5', instanceType: 'g5.xlarge', zone: 'us-east-1b', available: 1 },
  ];
  const lst = (s: ReturnType<typeof selectOfferings>): string[] => (s.ok ? s.ranked.map((o) => `${o.type}/${o.capacity}/${o.zone}/${o.reservationId ?? '-'}`) : [s.message]);

  it('offers a free reservation of the type in a configured zone first, at no marginal cost', () => {
    const s = selectOfferings(req({ gpus: 8 }), hints({ instanceType: 'p5.48xlarge', capacityOrder: ['reserved', 'on-demand'] }), ctx({ mode: 'explicit', reservations }));
    expect(lst(s)).toEqual(['p5.48xlarge/reserved/us-east-1a/cr-a', 'p5.48xlarge/on-demand/us-east-1a/-', 'p5.48xlarge/on-demand/us-east-1b/-']);
  });

  it('says why there is no reserved offering, and hides a reservation that just ran out', () => {
    const none = selectOfferings(req(), hints({ instanceType: 'p5.48xlarge', capacityOrder: ['reserved'] }), ctx({ mode: 'explicit', reservations: [] }));
    expect(lst(none)).toEqual(['p5.48xlarge reserved no capacity reservation with free instances in the configured zones']);
    const hidden = selectOfferings(req(), hints({ instanceType: 'p5.48xlarge', capacityOrder: ['reserved', 'on-demand'] }),
      ctx({ mode: 'explicit', reservations, isUnavailable: (k) => k === offeringKey('reserved', 'p5.48xlarge', 'us-east-1a') }));
    expect(lst(hidden)[0]).toBe('p5.48xlarge/on-demand/us-east-1a/-');
    expect(hidden.rejected).toContainEqual({ candidate: 'p5.48xlarge reserved in us-east-1a', reason: 'recently out of capacity', unavailable: true });
  });

  it('uses the pod\'s named reservation instead of the account\'s list', () => {
    const s = selectOfferings(req(), hints({ instanceType: 'p5.48xlarge', capacityOrder: ['reserved'], capacityReservationId: 'cr-mine' }), ctx({ mode: 'explicit', reservations }));
    expect(lst(s)).toEqual(['p5.48xlarge/reserved/*/-']);
  });
});

describe('selectOfferings for a type sold only through Capacity Blocks for ML', () => {
  const p5e = { ...gpu('p5e.48xlarge', 8, 192, 2048), efaInterfaces: 32 };
  const blocks = { 'p5e.48xlarge': ['ap-northeast-1', 'us-east-2'], 'p5.48xlarge': ['us-east-1', 'us-east-2'] };
  const withP5e = (over: Partial<SelectionContext> = {}): SelectionContext =>
    ctx({ mode: 'explicit', types: new Map([...types, ['p5e.48xlarge', p5e]]), capacityBlockLocations: blocks, ...over });

  it('says that a type without an on-demand price is sold through Capacity Blocks, and how to use one', () => {
    const s = selectOfferings(req({ gpus: 8 }), hints({ instanceType: 'p5e.48xlarge' }), withP5e());
    expect(list(s)).toEqual(['NoInstanceType',
      'p5e.48xlarge has no on-demand price: it is sold through Capacity Blocks for ML (ap-northeast-1, us-east-2); '
      + 'name one with orca.research/capacity-block-id and put reserved in orca.research/launch-type']);
  });

  it('tells a pod that names a block but not reserved capacity what is missing', () => {
    const s = selectOfferings(req({ gpus: 8 }), hints({ instanceType: 'p5e.48xlarge', capacityBlockId: 'cr-0123456789abcdef0' }), withP5e());
    expect(list(s)[1]).toBe('p5e.48xlarge has no on-demand price: it is sold through Capacity Blocks for ML (ap-northeast-1, us-east-2); '
      + 'put reserved in orca.research/launch-type to launch into cr-0123456789abcdef0');
  });

  it('keeps the other reasons beside it when the pod also tries spot, and launches into a named block', () => {
    const both = selectOfferings(req({ gpus: 8 }), hints({ instanceType: 'p5e.48xlarge', capacityOrder: ['spot', 'on-demand'] }), withP5e());
    expect(both.rejected.map((r) => `${r.candidate} ${r.reason}`)).toEqual([
      'p5e.48xlarge spot in us-east-1a no spot price', 'p5e.48xlarge spot in us-east-1b no spot price',
      expect.stringMatching(/^p5e\.48xlarge has no on-demand price: it is sold through Capacity Blocks for ML/) as string,
    ]);
    const block = hints({ instanceType: 'p5e.48xlarge', capacityOrder: ['reserved', 'on-demand'], capacityBlockId: 'cr-0123456789abcdef0' });
    expect(list(selectOfferings(req({ gpus: 8 }), block, withP5e()))).toEqual(['p5e.48xlarge/reserved/*/0']);
  });

  it('reads the Capacity Block data, not a list of names: a priced type and an unknown one keep their reasons', () => {
    expect(list(selectOfferings(req({ gpus: 8 }), hints({ instanceType: 'p5.48xlarge' }), withP5e()))[0]).toBe('p5.48xlarge/on-demand/us-east-1a/55.04');
    expect(list(selectOfferings(req({ gpus: 8 }), hints({ instanceType: 'p5e.48xlarge' }), withP5e({ capacityBlockLocations: {} }))))
      .toEqual(['NoInstanceType', 'p5e.48xlarge on-demand in us-east-1a no known on-demand price; p5e.48xlarge on-demand in us-east-1b no known on-demand price']);
  });
});

describe('selectOfferings never refuses without saying why', () => {
  it('names a zone hint that matches no configured zone (an AZ id, say)', () => {
    const s = selectOfferings(req(), hints({ instanceType: 'g5.xlarge', zone: 'use1-az2', capacityOrder: ['spot', 'on-demand'] }), ctx({ mode: 'explicit' }));
    expect(list(s)).toEqual(['NoInstanceType',
      'g5.xlarge spot orca.research/zone use1-az2 is not a configured zone (the configured zones are us-east-1a, us-east-1b); '
      + 'g5.xlarge on-demand orca.research/zone use1-az2 is not a configured zone (the configured zones are us-east-1a, us-east-1b)']);
  });

  it('says so when no zone is configured or there is no capacity type to try', () => {
    expect(list(selectOfferings(req(), hints({ instanceType: 'g5.xlarge' }), ctx({ zones: [] }))))
      .toEqual(['NoInstanceType', 'g5.xlarge on-demand no zone is configured']);
    expect(list(selectOfferings(req(), hints({ instanceType: 'g5.xlarge', capacityOrder: [] }), ctx())))
      .toEqual(['NoInstanceType', 'g5.xlarge has no capacity type to try (orca.research/launch-type: )']);
  });
});

describe('selectOfferings', () => {
  it('explicit: the named type in the pod\'s capacity order, then zone order', () => {
    const s = selectOfferings(req({ gpus: 8 }), hints({ instanceType: 'p5.48xlarge', capacityOrder: ['spot', 'on-demand'] }), ctx({ mode: 'explicit' }));
    expect(list(s)).toEqual(['p5.48xlarge/spot/us-east-1b/25', 'p5.48xlarge/spot/us-east-1a/30', 'p5.48xlarge/on-demand/us-east-1a/55.04', 'p5.48xlarge/on-demand/us-east-1b/55.04']);
  });

  it('auto: the cheapest type that fits, and why every other was turned down', () => {
    const s = selectOfferings(req({ gpus: 1, cpuCores: 8 }), hints(), ctx());
    expect(list(s).slice(0, 3)).toEqual(['g5.16xlarge/on-demand/us-east-1a/4.096', 'g5.16xlarge/on-demand/us-east-1b/4.096', 'g5.12xlarge/on-demand/us-east-1a/5.672']);
    expect(s.rejected).toEqual(expect.arrayContaining([
      { candidate: 'g5.xlarge', reason: 'needs 8 CPUs, has 4' },
      { candidate: 'trn1.32xlarge', reason: 'needs 1 nvidia.com/gpu, has 0' },
    ]));
  });

  it('template: the template\'s type; an unknown template is a clear error', () => {
    expect(list(selectOfferings(req(), hints({ workloadTemplate: 'big' }), ctx({ mode: 'template' })))[0]).toBe('p5.48xlarge/on-demand/us-east-1a/55.04');
    expect(list(selectOfferings(req(), hints({ workloadTemplate: 'huge' }), ctx({ mode: 'template' }))))
      .toEqual(['InvalidInstanceSelection', 'no workload template named "huge" in the configuration']);
    expect(list(selectOfferings(req(), hints({ workloadTemplate: 'big' }), ctx({ mode: 'explicit' })))[0]).toBe('InvalidInstanceSelection');
  });

  it('explicit mode requires the pod to name its instance', () => {
    expect(list(selectOfferings(req(), hints(), ctx({ mode: 'explicit' })))).toEqual(['InvalidInstanceSelection', 'the pod must name orca.research/instance-type (or orca.research/workload-template)']);
  });

  it.each([
    ['a type not in the catalog', hints({ instanceType: 'p9.96xlarge' }), req(), ctx(), 'p9.96xlarge is not in the instance catalog'],
    ['a type not allowed', hints({ instanceType: 'p5.48xlarge' }), req(), ctx({ allowedTypes: ['g5.xlarge'] }), 'p5.48xlarge is not in instances.allowedInstanceTypes'],
    ['too many GPUs', hints({ instanceType: 'g5.xlarge' }), req({ gpus: 2 }), ctx(), 'g5.xlarge needs 2 nvidia.com/gpu, has 1'],
    ['too much memory', hints({ instanceType: 'g5.xlarge' }), req({ memoryMiB: 64 * 1024 }), ctx(), 'g5.xlarge needs 64Gi memory, has 16Gi'],
    ['EFA the type lacks', hints({ instanceType: 'g5.xlarge' }), req({ efa: 1 }), ctx(), 'g5.xlarge needs 1 vpc.amazonaws.com/efa, has 0'],
    ['no price', hints({ instanceType: 'g5.xlarge' }), req(), ctx({ onDemandUsdPerHour: {} }), 'g5.xlarge on-demand in us-east-1a no known on-demand price; g5.xlarge on-demand in us-east-1b no known on-demand price'],
    ['spot above the maximum', hints({ instanceType: 'p5.48xlarge', capacityOrder: ['spot'], maxSpotPrice: 20 }), req(), ctx(),
      'p5.48xlarge spot in us-east-1a spot price 30 is above the maximum 20; p5.48xlarge spot in us-east-1b spot price 25 is above the maximum 20'],
    ['no spot price', hints({ instanceType: 'g5.12xlarge', capacityOrder: ['spot'] }), req(), ctx(), 'g5.12xlarge spot in us-east-1a no spot price; g5.12xlarge spot in us-east-1b no spot price'],
  ].map(([what, h, r, c, message]) => ({ what, h, r, c, message })) as { what: string; h: PodHints; r: PodRequest; c: SelectionContext; message: string }[])(
    'refuses $what, saying why', ({ h, r, c, message }) => {
      expect(list(selectOfferings(r, h, c))).toEqual(['NoInstanceType', message]);
    });

  it('puts a named reservation first at no marginal cost, and skips reserved without one', () => {
    const withCr = hints({ instanceType: 'p5.48xlarge', capacityOrder: ['reserved', 'on-demand'], capacityReservationId: 'cr-0123456789abcdef0' });
    expect(list(selectOfferings(req(), withCr, ctx()))[0]).toBe('p5.48xlarge/reserved/*/0');
    const withoutCr = hints({ instanceType: 'p5.48xlarge', capacityOrder: ['reserved', 'on-demand'] });
    expect(list(selectOfferings(req(), withoutCr, ctx()))[0]).toBe('p5.48xlarge/on-demand/us-east-1a/55.04');
  });

  it('honours the zone hint and hides offerings that just ran out of capacity until they expire', () => {
    const u = new UnavailableOfferings(60_000);
    u.mark(offeringKey('spot', 'p5.48xlarge', 'us-east-1b'), 0);
    const h = hints({ instanceType: 'p5.48xlarge', capacityOrder: ['spot', 'on-demand'] });
    const at = (now: number): SelectionContext => ctx({ isUnavailable: (k) => u.isUnavailable(k, now) });
    expect(list(selectOfferings(req(), h, at(1000)))[0]).toBe('p5.48xlarge/spot/us-east-1a/30');
    expect(list(selectOfferings(req(), h, at(60_000)))[0]).toBe('p5.48xlarge/spot/us-east-1b/25');
    expect(list(selectOfferings(req(), { ...h, zone: 'us-east-1a' }, ctx()))).toEqual(['p5.48xlarge/spot/us-east-1a/30', 'p5.48xlarge/on-demand/us-east-1a/55.04']);
  });

  it('breaks price ties by zone order, then by type name', () => {
    const same = { 'g5.12xlarge': 4.096, 'g5.16xlarge': 4.096 };
    const s = selectOfferings(req({ gpus: 1, cpuCores: 40 }), hints(), ctx({ onDemandUsdPerHour: same }));
    expect(list(s)).toEqual(['g5.12xlarge/on-demand/us-east-1a/4.096', 'g5.16xlarge/on-demand/us-east-1a/4.096', 'g5.12xlarge/on-demand/us-east-1b/4.096', 'g5.16xlarge/on-demand/us-east-1b/4.096']);
  });
});
