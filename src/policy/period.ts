// Pure: budget periods as instants. A budget's Daily, Weekly or Monthly period starts at local
// midnight of its reset day in the budget's IANA time zone, so a period's length in milliseconds
// follows the zone's rules (a local day of 23, 24, 24.5 or 25 hours). Local wall-clock fields come
// from the runtime's Intl.DateTimeFormat; no time-zone rule is written here. No clock: every
// function takes the instants it needs (ms since the epoch).
//
// Boundary rule: a period starts at the FIRST INSTANT OF ITS LOCAL DAY — the earliest instant at
// which the local date reaches that day. Where midnight occurs twice (clocks go back from 01:00 to 00:00), that is
// the first midnight; where midnight is skipped (clocks jump from 00:00 to 01:00), it is the instant
// of the jump; where a whole local day is skipped (Pacific/Apia, 2011-12-30), that day starts when
// the next one does and no period begins on it. Periods are half-open, [start, end): an instant
// exactly at a boundary belongs to the period that starts there.
//
// The zone is assumed to change its offset at most once within a day either side of a midnight, as
// the IANA database's zones do in practice; were that broken, a call throws rather than hangs.

import type { BudgetPeriod, PeriodKind } from './budget-types.js';

/** A period as instants: [start, end). */
export interface PeriodWindow {
  readonly start: number;
  readonly end: number;
}

/** The part of an interval that falls in one period, [start, end), and that period's window. */
export interface PeriodPiece {
  readonly start: number;
  readonly end: number;
  readonly window: PeriodWindow;
}

/**
 * The one window of a Total period: every instant, -Infinity to +Infinity, so `start <= at < end`
 * holds for any `at` and no boundary ever comes. Note that JSON turns both ends into null.
 */
export const TOTAL_WINDOW: PeriodWindow = Object.freeze({ start: -Infinity, end: Infinity });

/** The period is not usable (unknown kind or time zone, reset day out of range); `problems` lists each. */
export class InvalidPeriodError extends RangeError {
  constructor(readonly problems: readonly string[]) {
    super(`invalid budget period: ${problems.join('; ')}`);
    this.name = 'InvalidPeriodError';
  }
}

const DAY_MS = 86_400_000;
/** The ECMAScript Date range less a margin, so every window around a supported instant is in range too. */
const MAX_INSTANT = 8.64e15 - 100 * DAY_MS;
const KINDS: readonly PeriodKind[] = ['Monthly', 'Weekly', 'Daily', 'Total'];
const RESET_DAY_MAX: Readonly<Record<PeriodKind, number | undefined>> = { Monthly: 31, Weekly: 7, Daily: undefined, Total: undefined };

/** A calendar date (proleptic Gregorian); month 1–12. */
interface CivilDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

/** Which calendar dates a period starts and ends on. */
interface DateSpan {
  readonly from: CivilDate;
  readonly to: CivilDate;
}

// ---- validation ----

/**
 * Every problem with `period`, or none: an unknown kind, a time zone the runtime does not know
 * (checked for every kind, Total included), a reset day that is not an integer in 1–31 (Monthly) or
 * 1–7 (Weekly). The reset day of Daily and Total is ignored.
 */
export function checkPeriod(period: BudgetPeriod): string[] {
  return inspect(period).problems;
}

function inspect(period: BudgetPeriod): { problems: string[]; format?: Intl.DateTimeFormat } {
  const problems = [...kindProblems(period)];
  const format = formatterFor(period.timeZone);
  if (format === undefined) problems.push(`timeZone: ${JSON.stringify(period.timeZone)} is not a known IANA time zone`);
  return format === undefined ? { problems } : { problems, format };
}

function kindProblems(period: BudgetPeriod): string[] {
  if (!KINDS.includes(period.kind)) return [`kind: ${JSON.stringify(period.kind)} is not one of ${KINDS.join(', ')}`];
  const max = RESET_DAY_MAX[period.kind];
  if (max === undefined) return [];
  const day = period.resetDay;
  const ok = Number.isInteger(day) && day >= 1 && day <= max;
  return ok ? [] : [`resetDay: ${String(day)} is not an integer from 1 to ${max} (${period.kind})`];
}

/** A formatter of local wall-clock fields in `timeZone`, or undefined for a zone the runtime rejects. */
function formatterFor(timeZone: unknown): Intl.DateTimeFormat | undefined {
  if (typeof timeZone !== 'string' || timeZone === '') return undefined;
  try {
    return new Intl.DateTimeFormat('en-US', {
      timeZone, calendar: 'gregory', numberingSystem: 'latn', hourCycle: 'h23', era: 'short',
      year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
  } catch (e) {
    if (e instanceof RangeError) return undefined;
    throw e;
  }
}

/** The formatter for a valid period; throws InvalidPeriodError listing every problem otherwise. */
function open(period: BudgetPeriod): Intl.DateTimeFormat {
  const { problems, format } = inspect(period);
  if (problems.length > 0 || format === undefined) throw new InvalidPeriodError(problems);
  return format;
}

function checkInstant(name: string, t: number): void {
  if (!Number.isFinite(t) || Math.abs(t) > MAX_INSTANT) {
    throw new RangeError(`${name}: ${t} is not an instant in the supported range (±${MAX_INSTANT} ms)`);
  }
}

// ---- calendar arithmetic (UTC, proleptic Gregorian) ----

/** The instant at which a UTC clock shows these fields; years 0–99 are years, not 1900–1999. */
function utcOf(d: CivilDate, seconds = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(d.year, d.month - 1, d.day);
  return date.getTime() + seconds * 1000;
}

function civilOf(utc: number): CivilDate {
  const date = new Date(utc);
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
}

function addDays(d: CivilDate, days: number): CivilDate {
  return civilOf(utcOf(d) + days * DAY_MS);
}

/** 1 = Monday … 7 = Sunday. */
function isoWeekday(d: CivilDate): number {
  return ((new Date(utcOf(d)).getUTCDay() + 6) % 7) + 1;
}

/** The reset date in the month `shift` months from `d`'s: day `resetDay`, or the month's last day if shorter. */
function resetDate(d: CivilDate, shift: number, resetDay: number): CivilDate {
  const index = d.year * 12 + (d.month - 1) + shift;
  const year = Math.floor(index / 12);
  const month = index - year * 12 + 1;
  const lastDay = civilOf(utcOf({ year, month: month + 1, day: 1 }) - DAY_MS).day;
  return { year, month, day: Math.min(resetDay, lastDay) };
}

/** The dates the period containing local date `d` starts and ends on (not for Total). */
function spanOf(kind: PeriodKind, resetDay: number, d: CivilDate): DateSpan {
  if (kind === 'Weekly') {
    const from = addDays(d, -((isoWeekday(d) - resetDay + 7) % 7));
    return { from, to: addDays(from, 7) };
  }
  if (kind === 'Monthly') {
    const here = resetDate(d, 0, resetDay);
    return d.day >= here.day
      ? { from: here, to: resetDate(d, 1, resetDay) }
      : { from: resetDate(d, -1, resetDay), to: here };
  }
  return { from: d, to: addDays(d, 1) };
}

// ---- local time in a zone ----

/** The local wall clock at `t`, as the instant a UTC clock shows the same fields (whole seconds). */
function wallOf(format: Intl.DateTimeFormat, t: number): number {
  const parts = new Map(format.formatToParts(t).map((p) => [p.type, p.value]));
  const field = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.get(type));
  const year = parts.get('era') === 'BC' ? 1 - field('year') : field('year');
  const seconds = field('hour') * 3600 + field('minute') * 60 + field('second');
  return utcOf({ year, month: field('month'), day: field('day') }, seconds);
}

/** The zone's offset from UTC at `t`, in ms (positive east of Greenwich). */
function offsetAt(format: Intl.DateTimeFormat, t: number): number {
  return wallOf(format, t) - Math.floor(t / 1000) * 1000;
}

function localDate(format: Intl.DateTimeFormat, t: number): CivilDate {
  return civilOf(Math.floor(wallOf(format, t) / DAY_MS) * DAY_MS);
}

/**
 * The first instant of local day `d`: the earlier of the instants that show 00:00:00 on `d`, or, if
 * none does, the instant the clock jumps past it.
 */
function startOfDay(format: Intl.DateTimeFormat, d: CivilDate): number {
  const midnight = utcOf(d);
  const earlier = midnight - offsetAt(format, midnight - DAY_MS);
  const later = midnight - offsetAt(format, midnight + DAY_MS);
  const candidates = earlier === later ? [earlier] : [earlier, later];
  const exact = candidates.filter((t) => wallOf(format, t) === midnight);
  if (exact.length > 0) return Math.min(...exact);
  return firstReaching(format, midnight, Math.min(...candidates), Math.max(...candidates));
}

/** Bisection: the first instant in (lo, hi] whose wall clock is at or past `wall` (false at lo, true at hi). */
function firstReaching(format: Intl.DateTimeFormat, wall: number, lo: number, hi: number): number {
  let [below, atOrPast] = [lo, hi];
  while (atOrPast - below > 1) {
    const mid = Math.floor((below + atOrPast) / 2);
    if (wallOf(format, mid) >= wall) atOrPast = mid;
    else below = mid;
  }
  return atOrPast;
}

function windowOfDate(format: Intl.DateTimeFormat, period: BudgetPeriod, d: CivilDate): PeriodWindow {
  const span = spanOf(period.kind, period.resetDay, d);
  return { start: startOfDay(format, span.from), end: startOfDay(format, span.to) };
}

/** The window containing `at` (not for Total). */
function windowAt(format: Intl.DateTimeFormat, period: BudgetPeriod, at: number): PeriodWindow {
  let window = windowOfDate(format, period, localDate(format, at));
  // Where clocks go back across midnight, the local date can be behind the period `at` is in.
  while (at >= window.end) {
    const next = windowOfDate(format, period, localDate(format, window.end));
    // Cannot happen while the zone keeps to one change a day; a hang would be worse than an error.
    if (next.end <= window.end) throw new RangeError(`time zone ${period.timeZone}: no period after ${window.end}`);
    window = next;
  }
  return window;
}

// ---- the API ----

/**
 * One period, validated once, with its time-zone formatter kept: the cheap way to ask many questions
 * of the same budget period (a ledger splitting many intervals, a roll-over timer). The free
 * functions below each build one of these per call.
 */
export interface PeriodCalendar {
  readonly period: BudgetPeriod;
  /** As periodWindow(period, at). */
  window(at: number): PeriodWindow;
  /** As splitByPeriod(period, from, to). */
  split(from: number, to: number): PeriodPiece[];
  /** As nextBoundary(period, at). */
  nextBoundary(at: number): number;
  /** As isRollover(period, before, after). */
  isRollover(before: number, after: number): boolean;
}

/** A PeriodCalendar for `period`; throws InvalidPeriodError listing every problem of an invalid one. */
export function periodCalendar(period: BudgetPeriod): PeriodCalendar {
  return new ZonedCalendar(period, open(period));
}

class ZonedCalendar implements PeriodCalendar {
  readonly #format: Intl.DateTimeFormat;

  constructor(readonly period: BudgetPeriod, format: Intl.DateTimeFormat) {
    this.#format = format;
  }

  window(at: number): PeriodWindow {
    checkInstant('at', at);
    return this.period.kind === 'Total' ? TOTAL_WINDOW : windowAt(this.#format, this.period, at);
  }

  split(from: number, to: number): PeriodPiece[] {
    checkInstant('from', from);
    checkInstant('to', to);
    if (to <= from) return [];
    if (this.period.kind === 'Total') return [{ start: from, end: to, window: TOTAL_WINDOW }];
    const pieces: PeriodPiece[] = [];
    for (let start = from; start < to;) {
      const window = windowAt(this.#format, this.period, start);
      const end = Math.min(to, window.end);
      pieces.push({ start, end, window });
      start = end;
    }
    return pieces;
  }

  nextBoundary(at: number): number {
    return this.window(at).end;
  }

  isRollover(before: number, after: number): boolean {
    checkInstant('after', after);
    const window = this.window(before);
    return after < window.start || after >= window.end;
  }
}

/**
 * The period containing instant `at`: [start, end) between local midnights of reset days in the
 * period's time zone (Daily: each local day; Weekly: from ISO weekday `resetDay`; Monthly: from day
 * `resetDay`, or the month's last day if it is shorter). Total: TOTAL_WINDOW.
 * Throws InvalidPeriodError for an invalid period, RangeError for an instant that is not finite or
 * beyond the Date range (less 100 days).
 */
export function periodWindow(period: BudgetPeriod, at: number): PeriodWindow {
  return periodCalendar(period).window(at);
}

/**
 * [from, to) cut at period boundaries, in order: one piece per period the interval touches, the
 * pieces' lengths summing to `to - from`. Empty for an empty or reversed interval. Work and result
 * grow with the number of periods spanned. Throws as periodWindow does.
 */
export function splitByPeriod(period: BudgetPeriod, from: number, to: number): PeriodPiece[] {
  return periodCalendar(period).split(from, to);
}

/**
 * When the period containing `at` ends and the next begins (always after `at`); Infinity for Total,
 * which never rolls over — a caller arming a timer must not pass Infinity to setTimeout.
 * Throws as periodWindow does.
 */
export function nextBoundary(period: BudgetPeriod, at: number): number {
  return periodCalendar(period).nextBoundary(at);
}

/** Whether `before` and `after` lie in different periods (a boundary falls between them). Never for Total. */
export function isRollover(period: BudgetPeriod, before: number, after: number): boolean {
  return periodCalendar(period).isRollover(before, after);
}
