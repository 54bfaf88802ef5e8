// The real Clock, for app.ts. Tests use a fake.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from './ports/clock.js';

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: async (ms, signal) => {
    await sleep(ms, undefined, signal === undefined ? {} : { signal });
  },
};
