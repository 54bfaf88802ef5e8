// Budget periods in a time zone: windows across DST changes, clamped monthly reset days, ISO weekdays,
// boundaries, splitting an interval, roll-over, validation. Expected instants are written out in UTC
// from each zone's published rules, not computed by the code under test.
import { describe, expect, it } from 'vitest';
import type { BudgetPeriod, PeriodKind } from './budget-types.js';
import { InvalidPeriodError, TOTAL_WINDOW, checkPeriod, isRollover, nextBoundary, periodCalendar, periodWindow, splitByPeriod } from './period.js';

const H = 3_600_000;
const ms = (iso: string): number => {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`bad test instant ${iso}`);
  return t;
};
const p = (kind: PeriodKind, timeZone = 'UTC', resetDay = 1): BudgetPeriod => ({ kind, resetDay, timeZone });
const daily = (timeZone: string): BudgetPeriod => p('Daily', timeZone);
const thrownBy = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
};

describe('periodWindow, Daily: a local day, 23, 24 or 25 hours long', () => {
  it.each([
    { zone: 'UTC', what: 'an ordinary day', at: '2024-03-15T12:00:00Z', start: '2024-03-15T00:00:00Z', end: '2024-03-16T00:00:00Z', hours: 24 },
    { zone: 'Asia/Kolkata', what: 'offset +05:30', at: '2024-06-01T12:00:00Z', start: '2024-05-31T18:30:00Z', end: '2024-06-01T18:30:00Z', hours: 24 },
    { zone: 'Asia/Kolkata', what: 'the last second before local midnight', at: '2024-06-01T18:29:59Z', start: '2024-05-31T18:30:00Z', end: '2024-06-01T18:30:00Z', hours: 24 },
    { zone: 'Europe/Berlin', what: 'spring forward', at: '2024-03-31T12:00:00Z', start: '2024-03-30T23:00:00Z', end: '2024-03-31T22:00:00Z', hours: 23 },
    { zone: 'Europe/Berlin', what: 'fall back', at: '2024-10-27T12:00:00Z', start: '2024-10-26T22:00:00Z', end: '2024-10-27T23:00:00Z', hours: 25 },
    { zone: 'Europe/Berlin', what: 'an ordinary summer day', at: '2024-07-01T12:00:00Z', start: '2024-06-30T22:00:00Z', end: '2024-07-01T22:00:00Z', hours: 24 },
    { zone: 'America/New_York', what: 'spring forward', at: '2024-03-10T12:00:00Z', start: '2024-03-10T05:00:00Z', end: '2024-03-11T04:00:00Z', hours: 23 },
    { zone: 'America/New_York', what: 'fall back', at: '2024-11-03T12:00:00Z', start: '2024-11-03T04:00:00Z', end: '2024-11-04T05:00:00Z', hours: 25 },
    { zone: 'Australia/Lord_Howe', what: '30-minute fall back', at: '2024-04-07T00:00:00Z', start: '2024-04-06T13:00:00Z', end: '2024-04-07T13:30:00Z', hours: 24.5 },
    { zone: 'Australia/Lord_Howe', what: '30-minute spring forward', at: '2024-10-06T00:00:00Z', start: '2024-10-05T13:30:00Z', end: '2024-10-06T13:00:00Z', hours: 23.5 },
  ])('$zone: $what', ({ zone, at, start, end, hours }) => {
    const w = periodWindow(daily(zone), ms(at));
    expect(w).toEqual({ start: ms(start), end: ms(end) });
    expect((w.end - w.start) / H).toBe(hours);
  });
});

describe('periodWindow: midnight skipped, repeated or behind a fall-back (first instant of the local day)', () => {
  it.each([
    // Clocks jump 00:00 → 01:00: the day starts at the jump, 01:00 local.
    { zone: 'America/Santiago', what: 'midnight skipped', at: '2024-09-08T12:00:00Z', start: '2024-09-08T04:00:00Z', end: '2024-09-09T03:00:00Z' },
    { zone: 'America/Santiago', what: 'the day before the skip', at: '2024-09-07T12:00:00Z', start: '2024-09-07T04:00:00Z', end: '2024-09-08T04:00:00Z' },
    { zone: 'America/Santiago', what: 'clocks back from 24:00 to 23:00', at: '2024-04-06T12:00:00Z', start: '2024-04-06T03:00:00Z', end: '2024-04-07T04:00:00Z' },
    { zone: 'America/Havana', what: 'midnight skipped', at: '2024-03-10T12:00:00Z', start: '2024-03-10T05:00:00Z', end: '2024-03-11T04:00:00Z' },
    // Clocks jumped 23:30 → 00:30 (Toronto, 1919): the day starts at the jump, 00:30 local.
    { zone: 'America/Toronto', what: 'midnight inside a jump', at: '1919-03-31T12:00:00Z', start: '1919-03-31T04:30:00Z', end: '1919-04-01T04:00:00Z' },
    { zone: 'America/Toronto', what: 'the day ending in the jump', at: '1919-03-30T12:00:00Z', start: '1919-03-30T05:00:00Z', end: '1919-03-31T04:30:00Z' },
    // Clocks go back 01:00 → 00:00: the day starts at the first midnight; 00:30 the second time is in it.
    { zone: 'America/Havana', what: 'midnight repeated, second 00:30', at: '2024-11-03T05:30:00Z', start: '2024-11-03T04:00:00Z', end: '2024-11-04T05:00:00Z' },
    { zone: 'America/Havana', what: 'the day before the repeat', at: '2024-11-02T12:00:00Z', start: '2024-11-02T04:00:00Z', end: '2024-11-03T04:00:00Z' },
    // Clocks went back 00:01 → 23:01: 03:30Z shows 23:30 of the 28th, yet is after the 29th began.
    { zone: 'America/Moncton', what: 'local date behind its period', at: '2006-10-29T03:30:00Z', start: '2006-10-29T03:00:00Z', end: '2006-10-30T04:00:00Z' },
    { zone: 'America/Moncton', what: 'the day before', at: '2006-10-28T12:00:00Z', start: '2006-10-28T03:00:00Z', end: '2006-10-29T03:00:00Z' },
    // 2011-12-30 never happened in Samoa: the 29th ends when the 31st begins.
    { zone: 'Pacific/Apia', what: 'the day before a skipped day', at: '2011-12-29T12:00:00Z', start: '2011-12-29T10:00:00Z', end: '2011-12-30T10:00:00Z' },
    { zone: 'Pacific/Apia', what: 'the day after a skipped day', at: '2011-12-30T12:00:00Z', start: '2011-12-30T10:00:00Z', end: '2011-12-31T10:00:00Z' },
  ])('$zone: $what', ({ zone, at, start, end }) => {
    expect(periodWindow(daily(zone), ms(at))).toEqual({ start: ms(start), end: ms(end) });
  });

  it('starts a week whose reset day was skipped when that day would have begun (Samoa, Friday 2011-12-30)', () => {
    expect(periodWindow(p('Weekly', 'Pacific/Apia', 5), ms('2011-12-30T12:00:00Z')))
      .toEqual({ start: ms('2011-12-30T10:00:00Z'), end: ms('2012-01-05T10:00:00Z') });
  });
});

describe('periodWindow, boundaries', () => {
  it('puts an instant exactly at a boundary in the new period, and the millisecond before in the old', () => {
    const boundary = ms('2024-10-27T23:00:00Z'); // Berlin, local midnight of 2024-10-28
    const berlin = daily('Europe/Berlin');
    expect(periodWindow(berlin, boundary)).toEqual({ start: boundary, end: ms('2024-10-28T23:00:00Z') });
    expect(periodWindow(berlin, boundary - 1)).toEqual({ start: ms('2024-10-26T22:00:00Z'), end: boundary });
  });

  it('keeps two-digit and negative years as they are (no 1900 offset)', () => {
    expect(periodWindow(daily('UTC'), ms('0050-06-15T12:00:00Z'))).toEqual({ start: ms('0050-06-15T00:00:00Z'), end: ms('0050-06-16T00:00:00Z') });
    expect(periodWindow(daily('UTC'), ms('-000001-06-15T12:00:00Z')))
      .toEqual({ start: ms('-000001-06-15T00:00:00Z'), end: ms('-000001-06-16T00:00:00Z') });
  });

  it.each([
    ['Europe/Berlin', [23, 24, 25]], ['America/New_York', [23, 24, 25]], ['America/Santiago', [23, 24, 25]],
    ['America/Havana', [23, 24, 25]], ['Australia/Lord_Howe', [23.5, 24, 24.5]], ['Asia/Kolkata', [24]],
  ])(
    'tiles two years of %s without gaps: each day contains its start, the next starts at its end, days last %j hours',
    (zone, hours) => {
      const calendar = periodCalendar(daily(zone));
      let at = ms('2023-01-01T00:00:00Z');
      const lengths = new Set<number>();
      for (let i = 0; i < 730; i++) {
        const w = calendar.window(at);
        expect(w.start).toBeLessThanOrEqual(at);
        expect(calendar.window(w.end).start).toBe(w.end);
        lengths.add((w.end - w.start) / H);
        at = w.end;
      }
      expect([...lengths].sort((x, y) => x - y)).toEqual(hours);
    },
  );
});

describe('periodWindow, Weekly: from local midnight of ISO weekday resetDay', () => {
  // 2024-03-13 is a Wednesday; 2024-03-17 a Sunday.
  it.each([
    { resetDay: 1, zone: 'UTC', at: '2024-03-13T12:00:00Z', start: '2024-03-11T00:00:00Z', end: '2024-03-18T00:00:00Z' },
    { resetDay: 7, zone: 'UTC', at: '2024-03-13T12:00:00Z', start: '2024-03-10T00:00:00Z', end: '2024-03-17T00:00:00Z' },
    { resetDay: 1, zone: 'UTC', at: '2024-03-17T23:59:59Z', start: '2024-03-11T00:00:00Z', end: '2024-03-18T00:00:00Z' },
    { resetDay: 7, zone: 'UTC', at: '2024-03-17T00:00:00Z', start: '2024-03-17T00:00:00Z', end: '2024-03-24T00:00:00Z' },
    { resetDay: 3, zone: 'UTC', at: '2024-03-13T00:00:00Z', start: '2024-03-13T00:00:00Z', end: '2024-03-20T00:00:00Z' },
    { resetDay: 1, zone: 'UTC', at: '2024-12-31T12:00:00Z', start: '2024-12-30T00:00:00Z', end: '2025-01-06T00:00:00Z' },
    // Sunday 2024-03-10 is New York's spring-forward day: that week is an hour short.
    { resetDay: 7, zone: 'America/New_York', at: '2024-03-12T12:00:00Z', start: '2024-03-10T05:00:00Z', end: '2024-03-17T04:00:00Z' },
    // Monday 00:00 in Berlin is Sunday 22:00/23:00 UTC.
    { resetDay: 1, zone: 'Europe/Berlin', at: '2024-03-17T23:30:00Z', start: '2024-03-17T23:00:00Z', end: '2024-03-24T23:00:00Z' },
  ])('resetDay $resetDay in $zone at $at', ({ resetDay, zone, at, start, end }) => {
    expect(periodWindow(p('Weekly', zone, resetDay), ms(at))).toEqual({ start: ms(start), end: ms(end) });
  });
});

describe('periodWindow, Monthly: from day resetDay, clamped to the month’s last day', () => {
  it.each([
    { resetDay: 31, zone: 'UTC', what: 'leap February', at: '2024-02-15T12:00:00Z', start: '2024-01-31T00:00:00Z', end: '2024-02-29T00:00:00Z' },
    { resetDay: 31, zone: 'UTC', what: 'leap February, on the 29th', at: '2024-02-29T00:00:00Z', start: '2024-02-29T00:00:00Z', end: '2024-03-31T00:00:00Z' },
    { resetDay: 31, zone: 'UTC', what: 'non-leap February', at: '2023-02-27T23:59:59Z', start: '2023-01-31T00:00:00Z', end: '2023-02-28T00:00:00Z' },
    { resetDay: 31, zone: 'UTC', what: 'non-leap February, on the 28th', at: '2023-02-28T00:00:00Z', start: '2023-02-28T00:00:00Z', end: '2023-03-31T00:00:00Z' },
    { resetDay: 31, zone: 'UTC', what: 'early March', at: '2023-03-01T00:00:00Z', start: '2023-02-28T00:00:00Z', end: '2023-03-31T00:00:00Z' },
    { resetDay: 31, zone: 'UTC', what: 'April', at: '2024-04-30T06:00:00Z', start: '2024-04-30T00:00:00Z', end: '2024-05-31T00:00:00Z' },
    { resetDay: 30, zone: 'UTC', what: 'resetDay 30 in February', at: '2024-03-01T00:00:00Z', start: '2024-02-29T00:00:00Z', end: '2024-03-30T00:00:00Z' },
    { resetDay: 15, zone: 'UTC', what: 'before the reset day, across new year', at: '2024-01-10T00:00:00Z', start: '2023-12-15T00:00:00Z', end: '2024-01-15T00:00:00Z' },
    { resetDay: 15, zone: 'UTC', what: 'after the reset day, across new year', at: '2024-12-20T00:00:00Z', start: '2024-12-15T00:00:00Z', end: '2025-01-15T00:00:00Z' },
    { resetDay: 1, zone: 'Europe/Berlin', what: 'a month with spring forward', at: '2024-03-10T00:00:00Z', start: '2024-02-29T23:00:00Z', end: '2024-03-31T22:00:00Z' },
    { resetDay: 31, zone: 'Europe/Berlin', what: 'clamped, local midnight', at: '2024-02-15T12:00:00Z', start: '2024-01-30T23:00:00Z', end: '2024-02-28T23:00:00Z' },
  ])('resetDay $resetDay in $zone: $what', ({ resetDay, zone, at, start, end }) => {
    expect(periodWindow(p('Monthly', zone, resetDay), ms(at))).toEqual({ start: ms(start), end: ms(end) });
  });
});

describe('periodWindow, Total', () => {
  it('is one window holding every instant', () => {
    expect(periodWindow(p('Total', 'Europe/Berlin'), 0)).toBe(TOTAL_WINDOW);
    expect(periodWindow(p('Total'), ms('2099-01-01T00:00:00Z'))).toEqual({ start: -Infinity, end: Infinity });
    expect(Object.isFrozen(TOTAL_WINDOW)).toBe(true);
  });
});

describe('periodWindow, failures', () => {
  it('throws InvalidPeriodError listing every problem of an invalid period', () => {
    const bad = { kind: 'Monthly', resetDay: 32, timeZone: 'Mars/Olympus_Mons' } as const;
    const error = thrownBy(() => periodWindow(bad, 0));
    expect(error).toBeInstanceOf(InvalidPeriodError);
    expect(error).toBeInstanceOf(RangeError);
    expect((error as InvalidPeriodError).problems).toHaveLength(2);
    expect((error as InvalidPeriodError).message).toMatch(/resetDay: 32 .*; timeZone: "Mars\/Olympus_Mons"/);
  });

  it.each([NaN, Infinity, -Infinity, 8.64e15])('throws RangeError for the instant %d', (at) => {
    expect(() => periodWindow(daily('UTC'), at)).toThrow(RangeError);
    expect(() => periodWindow(daily('UTC'), at)).not.toThrow(InvalidPeriodError);
  });
});

describe('splitByPeriod', () => {
  const berlin = daily('Europe/Berlin');

  it('cuts an interval across two boundaries into three pieces that sum to the whole', () => {
    const [from, to] = [ms('2024-03-30T12:00:00Z'), ms('2024-04-01T06:00:00Z')];
    const pieces = splitByPeriod(berlin, from, to);
    expect(pieces.map((x) => [x.start, x.end])).toEqual([
      [from, ms('2024-03-30T23:00:00Z')],
      [ms('2024-03-30T23:00:00Z'), ms('2024-03-31T22:00:00Z')],
      [ms('2024-03-31T22:00:00Z'), to],
    ]);
    expect(pieces.reduce((sum, x) => sum + (x.end - x.start), 0)).toBe(to - from);
    expect(pieces[1]?.window).toEqual({ start: ms('2024-03-30T23:00:00Z'), end: ms('2024-03-31T22:00:00Z') });
    expect(pieces[0]?.window.start).toBe(ms('2024-03-29T23:00:00Z'));
  });

  it('cuts a monthly interval at each clamped reset day', () => {
    const pieces = splitByPeriod(p('Monthly', 'UTC', 31), ms('2023-01-15T00:00:00Z'), ms('2023-04-01T00:00:00Z'));
    expect(pieces.map((x) => new Date(x.start).toISOString().slice(0, 10))).toEqual(['2023-01-15', '2023-01-31', '2023-02-28', '2023-03-31']);
    expect(pieces.at(-1)?.end).toBe(ms('2023-04-01T00:00:00Z'));
  });

  it('gives one piece, and no empty one, for an interval that ends exactly at a boundary', () => {
    const w = periodWindow(berlin, ms('2024-10-27T12:00:00Z'));
    expect(splitByPeriod(berlin, w.start, w.end)).toEqual([{ start: w.start, end: w.end, window: w }]);
  });

  it('gives nothing for an empty or reversed interval', () => {
    expect(splitByPeriod(berlin, 1000, 1000)).toEqual([]);
    expect(splitByPeriod(berlin, 2000, 1000)).toEqual([]);
  });

  it('gives one piece for Total, however long the interval', () => {
    expect(splitByPeriod(p('Total'), 0, ms('2100-01-01T00:00:00Z'))).toEqual([{ start: 0, end: ms('2100-01-01T00:00:00Z'), window: TOTAL_WINDOW }]);
  });

  it('refuses an unbounded interval and an invalid period', () => {
    expect(() => splitByPeriod(berlin, 0, Infinity)).toThrow(RangeError);
    expect(() => splitByPeriod(p('Total'), NaN, 0)).toThrow(RangeError);
    expect(() => splitByPeriod(p('Daily', 'Nowhere/Land'), 0, 1)).toThrow(InvalidPeriodError);
  });
});

describe('nextBoundary and isRollover', () => {
  const ny = daily('America/New_York');

  it('gives the end of the current period, strictly after the instant even at a boundary', () => {
    expect(nextBoundary(ny, ms('2024-11-03T12:00:00Z'))).toBe(ms('2024-11-04T05:00:00Z'));
    expect(nextBoundary(ny, ms('2024-11-04T05:00:00Z'))).toBe(ms('2024-11-05T05:00:00Z'));
    expect(nextBoundary(p('Weekly', 'UTC', 7), ms('2024-03-13T12:00:00Z'))).toBe(ms('2024-03-17T00:00:00Z'));
  });

  it('never comes for Total', () => {
    expect(nextBoundary(p('Total'), 0)).toBe(Infinity);
  });

  it.each([
    ['the last millisecond to the boundary', '2024-11-04T04:59:59.999Z', '2024-11-04T05:00:00Z', true],
    ['within one day, across the repeated hour', '2024-11-03T05:30:00Z', '2024-11-03T06:30:00Z', false],
    ['backwards into the previous day', '2024-11-03T12:00:00Z', '2024-11-03T03:59:59Z', true],
    ['the same instant', '2024-11-03T12:00:00Z', '2024-11-03T12:00:00Z', false],
    ['days apart', '2024-11-01T12:00:00Z', '2024-11-09T12:00:00Z', true],
  ])('%s: %s → %s is a rollover: %s', (_what, before, after, expected) => {
    expect(isRollover(ny, ms(before), ms(after))).toBe(expected);
  });

  it('is never a rollover for Total, and refuses a non-finite instant', () => {
    expect(isRollover(p('Total'), 0, ms('2100-01-01T00:00:00Z'))).toBe(false);
    expect(() => isRollover(ny, 0, NaN)).toThrow(RangeError);
  });
});

describe('checkPeriod', () => {
  it.each([
    p('Daily'), p('Total', 'Asia/Kolkata'), p('Weekly', 'Europe/Berlin', 1), p('Weekly', 'Europe/Berlin', 7),
    p('Monthly', 'America/New_York', 1), p('Monthly', 'America/New_York', 31), p('Daily', 'UTC', 99), p('Total', 'UTC', -1),
  ])('accepts %o', (period) => {
    expect(checkPeriod(period)).toEqual([]);
  });

  it.each<[string, BudgetPeriod, RegExp]>([
    ['an unknown time zone', p('Daily', 'Mars/Olympus_Mons'), /^timeZone: "Mars\/Olympus_Mons" is not a known IANA time zone$/],
    ['an empty time zone', p('Total', ''), /^timeZone: "" is not a known/],
    ['a time zone that is not a string', { kind: 'Daily', resetDay: 1, timeZone: 5 as unknown as string }, /^timeZone: 5 is not/],
    ['Monthly resetDay 0', p('Monthly', 'UTC', 0), /^resetDay: 0 is not an integer from 1 to 31 \(Monthly\)$/],
    ['Monthly resetDay 32', p('Monthly', 'UTC', 32), /^resetDay: 32 /],
    ['Monthly resetDay 1.5', p('Monthly', 'UTC', 1.5), /^resetDay: 1.5 /],
    ['Monthly resetDay NaN', p('Monthly', 'UTC', NaN), /^resetDay: NaN /],
    ['Weekly resetDay 8', p('Weekly', 'UTC', 8), /^resetDay: 8 is not an integer from 1 to 7 \(Weekly\)$/],
    ['Weekly resetDay 0', p('Weekly', 'UTC', 0), /^resetDay: 0 /],
    ['an unknown kind', { kind: 'Yearly' as PeriodKind, resetDay: 1, timeZone: 'UTC' }, /^kind: "Yearly" is not one of Monthly, Weekly, Daily, Total$/],
  ])('reports %s', (_what, period, problem) => {
    const problems = checkPeriod(period);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(problem);
  });

  it('reports every problem at once', () => {
    expect(checkPeriod({ kind: 'Weekly', resetDay: 9, timeZone: 'Nowhere/Land' })).toHaveLength(2);
    expect(checkPeriod({ kind: 'Hourly' as PeriodKind, resetDay: 1, timeZone: 'Nowhere/Land' })).toHaveLength(2);
  });
});

describe('periodCalendar', () => {
  it('answers as the free functions do, for one validated period', () => {
    const period = p('Monthly', 'America/New_York', 31);
    const calendar = periodCalendar(period);
    const [a, b] = [ms('2024-02-10T00:00:00Z'), ms('2024-04-02T00:00:00Z')];
    expect(calendar.period).toBe(period);
    expect(calendar.window(a)).toEqual(periodWindow(period, a));
    expect(calendar.window(a)).toEqual({ start: ms('2024-01-31T05:00:00Z'), end: ms('2024-02-29T05:00:00Z') });
    expect(calendar.split(a, b)).toEqual(splitByPeriod(period, a, b));
    expect(calendar.split(a, b)).toHaveLength(3);
    expect(calendar.nextBoundary(a)).toBe(nextBoundary(period, a));
    expect(calendar.isRollover(a, b)).toBe(true);
    expect(calendar.isRollover(a, a + H)).toBe(false);
  });

  it('refuses an invalid period when it is made, not later', () => {
    expect(() => periodCalendar(p('Weekly', 'UTC', 0))).toThrow(InvalidPeriodError);
  });
});
