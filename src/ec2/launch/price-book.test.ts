import { describe, expect, it } from 'vitest';
import type { CapacityReservationInfo } from '../../domain/instance.js';
import { createLogger } from '../../observability/logger.js';
import type { BootImage, ImageSource, ReservationSource, SpotPriceSource } from '../../ports/catalog.js';
import { FakeClock } from '../../../test/fakes/clock.js';
import { PriceBook } from './price-book.js';

const timings = { spotRefreshMs: 300_000, reservationRefreshMs: 60_000, imageRefreshMs: 3_600_000 };

/** Answers that the test can hold back (`held`) and fail (`failures`, one per call, in order). */
class Source<T> {
  readonly calls: string[] = [];
  readonly failures: Error[] = [];
  held = false;
  readonly #waiting: (() => void)[] = [];

  constructor(public value: (arg: string) => T) {}

  answer(arg: string): Promise<T> {
    this.calls.push(arg);
    const failure = this.failures.shift();
    const value = this.value;
    const reply = (): Promise<T> => (failure === undefined ? Promise.resolve(value(arg)) : Promise.reject(failure));
    if (!this.held) return reply();
    return new Promise<void>((r) => { this.#waiting.push(r); }).then(reply);
  }

  release(): void {
    this.held = false;
    for (const r of this.#waiting.splice(0)) r();
  }
}

const throttled = (): Error => Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded' });
const reservation = (available: number): CapacityReservationInfo => ({ id: 'cr-1', instanceType: 'p5.48xlarge', zone: 'us-east-1a', available });
const ami = (imageId: string): BootImage => ({ imageId, rootDeviceName: '/dev/sda1' });

function setup() {
  const clock = new FakeClock();
  let usd = 30;
  const spotSource = new Source<ReadonlyMap<string, number>>((types) => new Map(types.split(',').map((t) => [`${t}/us-east-1a`, usd])));
  const reservationSource = new Source<readonly CapacityReservationInfo[]>(() => [reservation(2)]);
  const imageSource = new Source<BootImage>(() => ami('ami-1'));
  const spot: SpotPriceSource = { spotPrices: (types) => spotSource.answer(types.join(',')) };
  const reservations: ReservationSource = { activeReservations: () => reservationSource.answer('') };
  const images: ImageSource = { resolve: (wanted) => imageSource.answer(wanted) };
  const book = new PriceBook({ spot, reservations, images, onDemandUsdPerHour: { 'p5.48xlarge': 98.32 }, clock, log: createLogger('silent'), timings });
  const setSpot = (v: number): void => { usd = v; };
  return { clock, book, spotSource, reservationSource, imageSource, setSpot };
}

/** Lets queued microtasks run until `source` was called `n` times. */
async function calledTimes(source: Source<unknown>, n: number): Promise<void> {
  for (let i = 0; i < 50 && source.calls.length < n; i++) await Promise.resolve();
  expect(source.calls).toHaveLength(n);
}

/** Whether `p` settled within the microtasks that are queued now. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => { done = true; }, () => { done = true; });
  for (let i = 0; i < 20; i++) await Promise.resolve();
  return done;
}

describe('PriceBook spot prices', () => {
  it('reads once for many concurrent ensureSpot calls of the same types, and each waits for that read', async () => {
    const { book, spotSource } = setup();
    spotSource.held = true;
    const calls = [book.ensureSpot(['p5.48xlarge', 'g6e.xlarge']), book.ensureSpot(['g6e.xlarge', 'p5.48xlarge']), book.ensureSpot(['p5.48xlarge'])];
    expect(await settled(Promise.race(calls))).toBe(false);
    spotSource.release();
    await Promise.all(calls);
    expect(spotSource.calls).toEqual(['p5.48xlarge,g6e.xlarge']);
    expect(book.spotPrice('g6e.xlarge', 'us-east-1a')).toBe(30);
  });

  it('reads again only the types never read before', async () => {
    const { book, spotSource } = setup();
    await book.ensureSpot(['p5.48xlarge']);
    await book.ensureSpot(['p5.48xlarge', 'g6e.xlarge', 'trn1.32xlarge']);
    await book.ensureSpot(['trn1.32xlarge', 'p5.48xlarge']);
    expect(spotSource.calls).toEqual(['p5.48xlarge', 'g6e.xlarge,trn1.32xlarge']);
  });

  it('retries a failed first read at the next call', async () => {
    const { book, spotSource } = setup();
    const err = throttled();
    spotSource.failures.push(err);
    await expect(book.ensureSpot(['p5.48xlarge'])).rejects.toBe(err);
    expect(book.spotPrice('p5.48xlarge', 'us-east-1a')).toBeUndefined();
    await book.ensureSpot(['p5.48xlarge']);
    expect(spotSource.calls).toEqual(['p5.48xlarge', 'p5.48xlarge']);
    expect(book.spotPrice('p5.48xlarge', 'us-east-1a')).toBe(30);
  });

  it('refresh reads again only the types read spotRefreshMs ago or earlier', async () => {
    const { clock, book, spotSource, setSpot } = setup();
    await book.ensureSpot(['p5.48xlarge']);
    await clock.advance(timings.spotRefreshMs / 2);
    await book.ensureSpot(['g6e.xlarge']);
    await clock.advance(timings.spotRefreshMs / 2 - 1);
    await book.refresh();
    expect(spotSource.calls).toHaveLength(2);
    setSpot(25);
    await clock.advance(1);
    await book.refresh();
    expect(spotSource.calls.at(-1)).toBe('p5.48xlarge');
    expect([book.spotPrice('p5.48xlarge', 'us-east-1a'), book.spotPrice('g6e.xlarge', 'us-east-1a')]).toEqual([25, 30]);
    await clock.advance(timings.spotRefreshMs / 2);
    await book.refresh();
    expect(spotSource.calls).toEqual(['p5.48xlarge', 'g6e.xlarge', 'p5.48xlarge', 'g6e.xlarge']);
  });

  it('keeps the last spot prices when the re-read fails and reads them again at the next refresh', async () => {
    const { clock, book, spotSource, setSpot } = setup();
    await book.ensureSpot(['p5.48xlarge']);
    await clock.advance(timings.spotRefreshMs);
    spotSource.failures.push(throttled());
    setSpot(25);
    await expect(book.refresh()).resolves.toBeUndefined();
    expect(book.spotPrice('p5.48xlarge', 'us-east-1a')).toBe(30);
    await book.ensureSpot(['p5.48xlarge']);
    expect(spotSource.calls).toHaveLength(2);
    await book.refresh();
    expect(spotSource.calls).toHaveLength(3);
    expect(book.spotPrice('p5.48xlarge', 'us-east-1a')).toBe(25);
  });

  it('answers on-demand prices from the seed it was given', () => {
    const { book } = setup();
    expect([book.onDemand('p5.48xlarge'), book.onDemand('g6e.xlarge')]).toEqual([98.32, undefined]);
  });
});

describe('PriceBook reservations', () => {
  it('reads the reservations once, and again only after reservationRefreshMs', async () => {
    const { clock, book, reservationSource } = setup();
    expect(await book.reservations()).toEqual([reservation(2)]);
    reservationSource.value = () => [reservation(1)];
    await book.reservations();
    await clock.advance(timings.reservationRefreshMs - 1);
    await book.refresh();
    expect(reservationSource.calls).toHaveLength(1);
    expect(await book.reservations()).toEqual([reservation(2)]);
    await clock.advance(1);
    await book.refresh();
    expect(reservationSource.calls).toHaveLength(2);
    expect(await book.reservations()).toEqual([reservation(1)]);
  });

  it('reads them again only while pods asked for them within ten refresh periods', async () => {
    const { clock, book, reservationSource } = setup();
    await book.reservations();
    await clock.advance(timings.reservationRefreshMs);
    await book.refresh();
    await clock.advance(9 * timings.reservationRefreshMs);
    await book.refresh();
    expect(reservationSource.calls).toHaveLength(2);
    await book.reservations();
    await book.refresh();
    expect(reservationSource.calls).toHaveLength(3);
  });

  it('never reads them while no pod asked for them', async () => {
    const { clock, book, reservationSource } = setup();
    await clock.advance(timings.reservationRefreshMs);
    await book.refresh();
    expect(reservationSource.calls).toEqual([]);
  });

  it('retries a failed first read at the next call', async () => {
    const { book, reservationSource } = setup();
    const err = throttled();
    reservationSource.failures.push(err);
    await expect(book.reservations()).rejects.toBe(err);
    expect(await book.reservations()).toEqual([reservation(2)]);
    expect(reservationSource.calls).toHaveLength(2);
  });

  it('keeps the last reservations when a re-read fails, for callers during the re-read too', async () => {
    const { clock, book, reservationSource } = setup();
    await book.reservations();
    await clock.advance(timings.reservationRefreshMs);
    reservationSource.held = true;
    reservationSource.failures.push(throttled());
    const refreshing = book.refresh();
    await calledTimes(reservationSource, 2);
    const during = book.reservations();
    reservationSource.release();
    await refreshing;
    expect(await during).toEqual([reservation(2)]);
    expect(await book.reservations()).toEqual([reservation(2)]);
    expect(reservationSource.calls).toHaveLength(2);
    await book.refresh();
    expect(reservationSource.calls).toHaveLength(2);
    await clock.advance(timings.reservationRefreshMs);
    await book.refresh();
    expect(reservationSource.calls).toHaveLength(3);
  });
});

describe('PriceBook boot images', () => {
  it('resolves an image once for concurrent and later calls', async () => {
    const { book, imageSource } = setup();
    imageSource.held = true;
    const calls = [book.image('/aws/service/gpu'), book.image('/aws/service/gpu')];
    imageSource.release();
    expect(await Promise.all(calls)).toEqual([ami('ami-1'), ami('ami-1')]);
    expect(await book.image('/aws/service/gpu')).toEqual(ami('ami-1'));
    expect(imageSource.calls).toEqual(['/aws/service/gpu']);
  });

  it('retries a failed resolution at the next call', async () => {
    const { book, imageSource } = setup();
    const err = new Error('ParameterNotFound');
    imageSource.failures.push(err);
    await expect(book.image('/aws/service/gpu')).rejects.toBe(err);
    expect(await book.image('/aws/service/gpu')).toEqual(ami('ami-1'));
    expect(imageSource.calls).toHaveLength(2);
  });

  it('resolves the image again after imageRefreshMs and uses the new one', async () => {
    const { clock, book, imageSource } = setup();
    await book.image('/aws/service/gpu');
    imageSource.value = () => ami('ami-2');
    await clock.advance(timings.imageRefreshMs - 1);
    await book.refresh();
    expect(await book.image('/aws/service/gpu')).toEqual(ami('ami-1'));
    await clock.advance(1);
    await book.refresh();
    expect(await book.image('/aws/service/gpu')).toEqual(ami('ami-2'));
    expect(imageSource.calls).toHaveLength(2);
  });

  it('keeps the last image when a refresh fails, for callers during the refresh too', async () => {
    const { clock, book, imageSource } = setup();
    await book.image('/aws/service/gpu');
    await clock.advance(timings.imageRefreshMs);
    imageSource.held = true;
    imageSource.failures.push(throttled());
    const refreshing = book.refresh();
    await calledTimes(imageSource, 2);
    const during = book.image('/aws/service/gpu');
    imageSource.release();
    await refreshing;
    await expect(during).resolves.toEqual(ami('ami-1'));
    expect(await book.image('/aws/service/gpu')).toEqual(ami('ami-1'));
    expect(imageSource.calls).toHaveLength(2);
  });

  it('tries a failed image refresh again one imageRefreshMs later, not at every pass', async () => {
    const { clock, book, imageSource } = setup();
    await book.image('/aws/service/gpu');
    await clock.advance(timings.imageRefreshMs);
    imageSource.failures.push(throttled());
    await book.refresh();
    await book.refresh();
    expect(imageSource.calls).toHaveLength(2);
    imageSource.value = () => ami('ami-2');
    await clock.advance(timings.imageRefreshMs);
    await book.refresh();
    expect(imageSource.calls).toHaveLength(3);
    expect(await book.image('/aws/service/gpu')).toEqual(ami('ami-2'));
  });
});
