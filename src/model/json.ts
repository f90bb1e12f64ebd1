/**
 * JSON from outside the process (tc, ip, crictl, the effect worker, the Kubernetes API, package.json),
 * read one way: parse to `unknown`, then look at it only through these guards (or an ajv schema).
 */

/** A JSON object (not an array, not null). */
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A field of an object, or undefined when `o` is not an object or has no such field. */
export const field = (o: unknown, key: string): unknown => (isObject(o) ? o[key] : undefined);

/** A string field, or undefined. */
export const stringField = (o: unknown, key: string): string | undefined => {
  const v = field(o, key);
  return typeof v === 'string' ? v : undefined;
};

/** A number field, or undefined. */
export const numberField = (o: unknown, key: string): number | undefined => {
  const v = field(o, key);
  return typeof v === 'number' ? v : undefined;
};

/**
 * Parses JSON text; `fail` makes the error to throw when it is not JSON (it gets the start of the text,
 * for the message).
 */
export function parseJson(text: string, fail: (start: string) => Error): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw fail(text.slice(0, 200));
  }
}

/** Parses JSON text, or gives undefined when it is not JSON. */
export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
