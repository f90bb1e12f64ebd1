import { createRequire } from 'node:module';
import type * as Pino from 'pino';
import type { LogLevel } from '../model/spec.js';
import type { LogFn, Logger } from '../ports.js';

/**
 * pino, loaded by the first line logged: `plan` of a list logs nothing at its level (warn) and does not load it (nor
 * worker_threads and the streams it pulls in: ~10 ms of every start). Synchronous, as logging is: in the build the
 * vendor file beside the bundle (scripts/bundle.mjs), under tsx the package.
 */
function loadPino(): typeof Pino {
  const load = createRequire(import.meta.url);
  let module: typeof Pino;
  try {
    // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- the pino package itself, typed by its own declarations
    module = load('./vendor-pino.cjs');
  } catch (error) {
    if (!(error instanceof Error && 'code' in error && error.code === 'MODULE_NOT_FOUND')) throw error;
    // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- as above
    module = load('pino');
  }
  return module;
}

/** JSON lines on stderr, written synchronously so the last lines (the revert!) are never lost. */
function pinoLogger(level: LogLevel): Logger {
  const { pino } = loadPino();
  return pino(
    { level, base: null, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
    pino.destination({ fd: 2, sync: true }),
  );
}

/** The log, made on its first use; a child's fields are bound then too. */
export function createLogger(level: LogLevel = 'info'): Logger {
  return lazyLogger(() => pinoLogger(level));
}

function lazyLogger(make: () => Logger): Logger {
  let made: Logger | undefined;
  const real = (): Logger => (made ??= make());
  // The caller's arguments as they are (a message given or not), to the real logger's method, called on it.
  const method = (name: 'debug' | 'info' | 'warn' | 'error'): LogFn => (...args: [object, (string | undefined)?] | [string]): void => {
    const l = real();
    Reflect.apply(l[name], l, args);
  };
  return {
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
    child: (fields) => lazyLogger(() => real().child(fields)),
  };
}
