// A Clock whose time moves only when the test says so; sleepers wake as it passes their time.
import type { Clock } from '../../src/ports/clock.js';

export class FakeClock implements Clock {
  #now: number;
  readonly #sleepers: { at: number; wake: () => void }[] = [];

  constructor(start = Date.parse('2026-11-23T12:00:00Z')) {
    this.#now = start;
  }

  now(): Date {
    return new Date(this.#now);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolveSleep, reject) => {
      if (signal?.aborted === true) {
        reject(new Error('aborted'));
        return;
      }
      const entry = { at: this.#now + ms, wake: resolveSleep };
      this.#sleepers.push(entry);
      signal?.addEventListener('abort', () => {
        const at = this.#sleepers.indexOf(entry);
        if (at < 0) return;
        this.#sleepers.splice(at, 1);
        reject(new Error('aborted'));
      }, { once: true });
    });
  }

  /** How many sleeps are pending. */
  get sleeping(): number {
    return this.#sleepers.length;
  }

  /** Waits (real time, bounded) until someone sleeps, then advances: no race with a sleeper to come. */
  async tick(ms: number): Promise<void> {
    for (let i = 0; i < 400 && this.#sleepers.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    await this.advance(ms);
  }

  /** Moves time on and wakes every sleeper whose time has come; lets their continuations run. */
  async advance(ms: number): Promise<void> {
    this.#now += ms;
    for (const s of this.#sleepers.filter((x) => x.at <= this.#now)) {
      this.#sleepers.splice(this.#sleepers.indexOf(s), 1);
      s.wake();
    }
    for (let i = 0; i < 20; i++) await Promise.resolve();
  }
}
