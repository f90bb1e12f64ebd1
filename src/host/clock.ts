/** The real Clock port. */
import { setTimeout as delay } from 'node:timers/promises';
import type { Clock } from '../ports.js';

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    try {
      await delay(ms, undefined, signal ? { signal } : {});
    } catch (error) {
      if (!(error instanceof Error && error.name === 'AbortError')) throw error;
    }
  },
};
