import { describe, expect, it } from 'vitest';
import type { Offering } from '../catalog/selection.js';
import { offeringKey, UnavailableOfferings } from '../catalog/unavailable.js';
import type { LaunchErrorKind } from '../domain/errors.js';
import { FakeLauncher } from '../../test/fakes/launcher.js';
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
    expect(r.ok && r.offering).toEqual(o('on-demand', 'us-east-1a'));
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
      expect(r).toMatchObject({ ok: false, reason });
      expect(launcher.specs).toHaveLength(1);
    });

  it('reports NoCapacity with every attempt when all offerings are empty', async () => {
    const launcher = withFailures({ 'on-demand:p5.48xlarge:subnet-a': ['capacity', 'InsufficientInstanceCapacity'], 'reserved:p5.48xlarge:subnet-a': ['reservation-full', 'ReservationCapacityExceeded'] });
    const r = await place([o('reserved', '*', 0), o('on-demand', 'us-east-1a')], base, deps(launcher), token);
    expect(r).toMatchObject({ ok: false, reason: 'NoCapacity' });
    expect(r.ok ? '' : r.message).toBe('no capacity: trying p5.48xlarge reserved: ReservationCapacityExceeded; trying p5.48xlarge on-demand in us-east-1a: InsufficientInstanceCapacity');
  });

  it('skips zones without a configured subnet, and says so when none is left', async () => {
    const launcher = new FakeLauncher();
    const r = await place([o('on-demand', 'us-west-2a')], base, deps(launcher), token);
    expect(r).toEqual({ ok: false, reason: 'NoCapacity', message: 'no configured subnet in any offered zone', attempts: [] });
    expect(launcher.specs).toEqual([]);
  });

  it('records a passed dry run as such', async () => {
    const r = await place([o('on-demand', 'us-east-1b')], { ...base, dryRun: true }, deps(new FakeLauncher()), token);
    expect(r.attempts.map((a) => [a.outcome, a.message])).toEqual([['dry-run', 'p5.48xlarge on-demand in us-east-1b: dry run passed']]);
  });
});
