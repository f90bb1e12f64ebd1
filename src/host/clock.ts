/** The real Clock port. */
// timers.promises through its getter, at the first sleep: node:timers/promises is not loaded by commands that never sleep.
import { promises as timers } from 'node:timers';
import type { Clock } from '../ports.js';

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    try {
      await timers.setTimeout(ms, undefined, signal ? { signal } : {});
    } catch (error) {
      if (!(error instanceof Error && error.name === 'AbortError')) throw error;
    }
  },
};
