// An ended spot instance's life priced from its pool's history: read once in the background (the
// pod's money waits meanwhile), priced stretch by stretch at the price in effect, tried again after a
// failure, the sampled charge left standing after three, and forgotten once the instance is not listed.
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { USD } from '../policy/budget-types.js';
import type { SpotPriceHistory, SpotPricePoint } from '../ports/catalog.js';
import { FakeClock } from '../../test/fakes/clock.js';
import { SpotSettlement } from './spot-settlement.js';

const T0 = Date.parse('2026-11-23T12:00:00Z');
const HOUR = 3_600_000;
const instance = { instanceId: 'i-0abc', type: 'p5.48xlarge', zone: 'us-east-1a', launchedAt: T0 - 2 * HOUR };

interface Asked { readonly type: string; readonly zone: string; readonly from: number; readonly to: number }

/** A history that answers each call with the next of `answers` (an Error rejects). */
function history(answers: (readonly SpotPricePoint[] | Error)[]): SpotPriceHistory & { asked: Asked[] } {
  const asked: Asked[] = [];
  return {
    asked,
    history({ type, zone, from, to }) {
      asked.push({ type, zone, from: from.getTime(), to: to.getTime() });
      const a = answers.shift() ?? new Error('no answer left');
      return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
    },
  };
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('SpotSettlement', () => {
  it('prices the life from launch to when the instance was seen gone, at each price in effect', async () => {
    const h = history([[{ at: T0 - 3 * HOUR, usdPerHour: 10 }, { at: T0 - HOUR, usdPerHour: 4 }]]);
    const s = new SpotSettlement({ history: h, clock: new FakeClock(T0), log: createLogger('silent') });
    expect(s.of(instance)).toEqual({ kind: 'reading' });
    expect(s.of(instance)).toEqual({ kind: 'reading' });
    await settle();
    expect(s.of(instance)).toEqual({ kind: 'exact', microUsd: 14 * USD });
    expect(h.asked).toEqual([{ type: 'p5.48xlarge', zone: 'us-east-1a', from: T0 - 2 * HOUR, to: T0 }]);
  });

  it('tries a failed read again after its wait, and leaves the sampled charge standing after three failures', async () => {
    const clock = new FakeClock(T0);
    const h = history([new Error('Throttling'), new Error('Throttling'), new Error('Throttling')]);
    const s = new SpotSettlement({ history: h, clock, log: createLogger('silent'), retryMs: 30_000 });
    s.of(instance);
    await settle();
    expect(s.of(instance)).toEqual({ kind: 'reading' });
    expect(h.asked).toHaveLength(1);
    await clock.advance(30_000);
    s.of(instance);
    await settle();
    await clock.advance(30_000);
    s.of(instance);
    await settle();
    expect(h.asked).toHaveLength(3);
    expect(s.of(instance)).toEqual({ kind: 'sampled' });
    expect(h.asked.every((a) => a.to === T0)).toBe(true);
  });

  it('takes a history without any price as a failure', async () => {
    const s = new SpotSettlement({ history: history([[]]), clock: new FakeClock(T0), log: createLogger('silent'), attempts: 1 });
    s.of(instance);
    await settle();
    expect(s.of(instance)).toEqual({ kind: 'sampled' });
  });

  it('forgets an instance no longer listed (seen again, it is read again)', async () => {
    const h = history([[{ at: 0, usdPerHour: 1 }], [{ at: 0, usdPerHour: 2 }]]);
    const s = new SpotSettlement({ history: h, clock: new FakeClock(T0), log: createLogger('silent') });
    s.of(instance);
    await settle();
    s.retain(new Set(['i-0abc']));
    expect(s.of(instance)).toEqual({ kind: 'exact', microUsd: 2 * USD });
    s.retain(new Set());
    s.of(instance);
    await settle();
    expect(s.of(instance)).toEqual({ kind: 'exact', microUsd: 4 * USD });
  });
});
