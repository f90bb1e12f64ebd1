/**
 * The log: JSON lines on stderr, written synchronously so the last lines (the revert!) are never lost.
 *
 * A line is `{"level":"info","time":"<ISO 8601>", <child bindings>, <the object's fields>, "msg":"…"}`: the
 * fields and their order of the pino logger this replaces (pino took ~0.16 s of every start under emulation
 * and 1 MB; what we use of it is these few lines). Fields whose value is undefined are left out; a field of
 * the object repeats a binding's name after it (a JSON reader keeps the last).
 */
import { writeSync } from 'node:fs';
import type { LogLevel } from '../model/spec.js';
import type { LogFn, Logger } from '../ports.js';

const RANK: Readonly<Record<LogLevel, number>> = { debug: 20, info: 30, warn: 40, error: 50 };

/** `,"key":value` for each field whose value can be written (not undefined, not a function). */
function fieldsText(fields: object): string {
  let text = '';
  for (const [key, value] of Object.entries(fields)) {
    const json = valueText(value);
    if (json !== undefined) text += `,${JSON.stringify(key)}:${json}`;
  }
  return text;
}

function valueText(value: unknown): string | undefined {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (typeof value === 'bigint') return value.toString();
  try {
    return JSON.stringify(value);
  } catch {
    // a circular or otherwise unwritable value: a placeholder rather than a lost line
    return JSON.stringify(Array.isArray(value) ? '[Array]' : '[Object]');
  }
}

/** Writes the whole text to fd, waiting out a full non-blocking pipe (EAGAIN) rather than losing the line. */
export function writeAll(fd: number, text: string): void {
  let buf = Buffer.from(text);
  for (let tries = 0; buf.length > 0;) {
    try {
      const n = writeSync(fd, buf);
      buf = buf.subarray(n);
      tries = 0;
    } catch (error) {
      const code: unknown = error instanceof Error ? Reflect.get(error, 'code') : undefined;
      if (code !== 'EAGAIN' || ++tries > 100) return; // stderr closed: nothing to tell
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}

/**
 * A logger writing each line, whole, through `write` (default: stderr, synchronously); lines below `level`
 * are dropped. `now` gives the time of a line (ms since the epoch).
 */
export function createLogger(level: LogLevel = 'info', write: (line: string) => void = (l) => { writeAll(2, l); }, now: () => number = Date.now): Logger {
  const min = RANK[level];
  const make = (bindings: string): Logger => {
    const at = (lvl: LogLevel): LogFn => {
      const head = `{"level":"${lvl}","time":"`;
      if (RANK[lvl] < min) return () => undefined;
      return (a: string | object, b?: string) => {
        const [fields, msg] = typeof a === 'string' ? [undefined, a] : [a, b];
        const own = fields === undefined || fields === null ? '' : fieldsText(fields);
        const text = msg === undefined ? '' : `,"msg":${JSON.stringify(msg)}`;
        write(`${head}${new Date(now()).toISOString()}"${bindings}${own}${text}}\n`);
      };
    };
    return {
      debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'),
      child: (more) => make(bindings + fieldsText(more)),
    };
  };
  return make('');
}
