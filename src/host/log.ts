import { pino } from 'pino';
import type { LogLevel } from '../model/spec.js';
import type { Logger } from '../ports.js';

/** JSON lines on stderr, written synchronously so the last lines (the revert!) are never lost. */
export function createLogger(level: LogLevel = 'info'): Logger {
  return pino(
    { level, base: null, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
    pino.destination({ fd: 2, sync: true }),
  );
}
