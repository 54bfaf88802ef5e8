import { describe, expect, it } from 'vitest';
import type { Offering } from '../../catalog/selection.js';
import { offeringKey, UnavailableOfferings } from '../../catalog/unavailable.js';
import type { LaunchErrorKind } from '../../domain/errors.js';
import { FakeLauncher } from '../../../test/fakes/launcher.js';
import { place, type BaseSpec } from './placement.js';

const withFailures = (f: Record<string, [LaunchErrorKind, string]>): FakeLauncher => Object.assign(new FakeLauncher(), { failures: f });

const base: BaseSpec = {
  imageId: 'ami-1', rootDeviceName: '/dev/sda1', count: 1, rootVolumeGiB: 100, securityGroupIds: [], userData: '', tags: {}, terminationProtection: false, dryRun: false,
};
const o = (capacity: Offering['capacity'], zone: string, usd = 1): Offering => ({ type: 'p5.48xlarge', zone, capacity, usdPerHour: usd });
const subnets: Record<string, string> = { 'us-east-1a': 'subnet-a', 'us-east-1b': 'subnet-b', '': 'subnet-a' };
const deps = (launcher: FakeLauncher, unavailable = new UnavailableOfferings(60_000)) => ({ launcher, unavailable, now: () => 1000, subnetFor: (z: string) => subnets[z] });
const token = (i: number): string => `orca-uid-${i}`;

describe('place', () => {
  it('moves from a spot ICE in the first AZ to on-demand in the second, hiding the empty offering', async () => {
    const launcher = withFailures({ 'spot:p5.48xlarge:subnet-a': ['capacity', 'InsufficientInstanceCapacity'], 'spot:p5.48xlarge:subnet-b': ['capacity', 'InsufficientInstanceCapacity'] });
    const unavailable = new UnavailableOfferings(60_000);
    const r = await place([o('spot', 'us-east-1a'), o('spot', 'us-east-1b'), o('on-demand', 'us-east-1a'), o('on-demand', 'us-east-1b')], base, deps(launcher, unavailable), token);
    expect(r.failure).toBeUndefined();
    expect(r.instances.map((i) => `${i.id} ${i.zone} ${i.lifecycle}`)).toEqual(['i-0001 us-east-1a on-demand']);
    expect(r.attempts.map((a) => a.message)).toEqual([
      'trying p5.48xlarge spot in us-east-1a: InsufficientInstanceCapacity',
      'trying p5.48xlarge spot in us-east-1b: InsufficientInstanceCapacity',
      'p5.48xlarge on-demand in us-east-1a: launched i-0001',
    ]);
    expect(launcher.specs.map((s) => s.clientToken)).toEqual(['orca-uid-0', 'orca-uid-1', 'orca-uid-2']);
    expect(unavailable.isUnavailable(offeringKey('spot', 'p5.48xlarge', 'us-east-1a'), 2000)).toBe(true);
    expect(unavailable.isUnavailable(offeringKey('on-demand', 'p5.48xlarge', 'us-east-1a'), 2000)).toBe(false);
  });

  it.each<[LaunchErrorKind, string]>([['quota', 'QuotaExceeded'], ['unauthorized', 'LaunchUnauthorized'], ['invalid', 'InvalidLaunch'], ['idempotency', 'LaunchFailed'], ['unknown', 'LaunchFailed']])(
    'stops at a %s error instead of trying more offerings', async (kind, reason) => {
      const launcher = withFailures({ 'on-demand:p5.48xlarge:subnet-a': [kind, 'Code'] });
      const r = await place([o('on-demand', 'us-east-1a'), o('on-demand', 'us-east-1b')], base, deps(launcher), token);
      expect(r.failure).toMatchObject({ reason });
      expect(launcher.specs).toHaveLength(1);
    });

  it('reports NoCapacity with every attempt when all offerings are empty', async () => {
    const launcher = withFailures({ 'on-demand:p5.48xlarge:subnet-a': ['capacity', 'InsufficientInstanceCapacity'], 'reserved:p5.48xlarge:subnet-a': ['reservation-full', 'ReservationCapacityExceeded'] });
    const r = await place([o('reserved', '*', 0), o('on-demand', 'us-east-1a')], base, deps(launcher), token);
    expect(r.failure?.reason).toBe('NoCapacity');
    expect(r.failure?.message).toBe('no capacity: trying p5.48xlarge reserved: ReservationCapacityExceeded; trying p5.48xlarge on-demand in us-east-1a: InsufficientInstanceCapacity');
  });

  it('skips zones without a configured subnet, and says so when none is left', async () => {
    const launcher = new FakeLauncher();
    const r = await place([o('on-demand', 'us-west-2a')], base, deps(launcher), token);
    expect(r).toEqual({ instances: [], attempts: [], dryRun: false, failure: { reason: 'NoCapacity', message: 'no configured subnet in any offered zone' } });
    expect(launcher.specs).toEqual([]);
  });

  it('records a passed dry run as such', async () => {
    const r = await place([o('on-demand', 'us-east-1b')], { ...base, dryRun: true }, deps(new FakeLauncher()), token);
    expect(r.attempts.map((a) => [a.outcome, a.message])).toEqual([['dry-run', 'p5.48xlarge on-demand in us-east-1b: dry run passed']]);
    expect(r).toMatchObject({ dryRun: true, instances: [] });
  });

  it('asks for the whole batch in one call, and moves the rest on when EC2 fills it only in part', async () => {
    const launcher = Object.assign(new FakeLauncher(), { capacity: { 'spot:p5.48xlarge:subnet-a': 6 } });
    const unavailable = new UnavailableOfferings(60_000);
    const r = await place([o('spot', 'us-east-1a'), o('spot', 'us-east-1b')], { ...base, count: 10 }, deps(launcher, unavailable), token);
    expect(launcher.specs.map((s) => [s.count, s.subnetId, s.clientToken])).toEqual([[10, 'subnet-a', 'orca-uid-0'], [4, 'subnet-b', 'orca-uid-1']]);
    expect(r.instances).toHaveLength(10);
    expect(r.failure).toBeUndefined();
    expect(r.attempts.map((a) => [a.message, a.instances?.length])).toEqual([
      ['p5.48xlarge spot in us-east-1a: launched 6 of 10 (i-0001, i-0002, i-0003, i-0004, i-0005, i-0006)', 6],
      ['p5.48xlarge spot in us-east-1b: launched 4 of 4 (i-0007, i-0008, i-0009, i-0010)', 4],
    ]);
    expect(unavailable.isUnavailable(offeringKey('spot', 'p5.48xlarge', 'us-east-1a'), 2000)).toBe(true);
  });

  it('keeps what a partly filled batch launched when nothing else has capacity, and says how many are missing', async () => {
    const launcher = Object.assign(new FakeLauncher(), { capacity: { 'on-demand:p5.48xlarge:subnet-a': 2 }, failures: { 'on-demand:p5.48xlarge:subnet-b': ['capacity', 'InsufficientInstanceCapacity'] } });
    const r = await place([o('on-demand', 'us-east-1a'), o('on-demand', 'us-east-1b')], { ...base, count: 5 }, deps(launcher), token);
    expect(r.instances).toHaveLength(2);
    expect(r.failure).toEqual({ reason: 'NoCapacity', message: 'no capacity for 3 of 5: p5.48xlarge on-demand in us-east-1a: launched 2 of 5 (i-0001, i-0002); trying p5.48xlarge on-demand in us-east-1b: InsufficientInstanceCapacity' });
  });
});
