/**
 * `JSON.stringify(value, null, 2) + '\n'`, the same text, handed on in pieces of about 64 KB instead of as one
 * string: a 10,000-destination plan is 4.3 MB of JSON, and building it whole (then its 4.3 MB of bytes for
 * stdout) cost ~8.6 MB of fresh memory and ~60 ms on the host (2026-12-01). Pure: `write` is the only output.
 *
 * Long arrays and the objects near the top are walked here; everything below (small arrays, the objects of a
 * long array) goes through JSON.stringify itself and is re-indented, so the text is JSON.stringify's byte for byte.
 */

/** Arrays longer than this are written element by element. */
const LONG_ARRAY = 64;
/** Plain objects this deep (the root is 0) are walked key by key, so that a long array inside them is found. */
const WALK_DEPTH = 3;
const CHUNK_CHARS = 1 << 16;

const isPlainObject = (v: object): boolean => {
  const proto: unknown = Object.getPrototypeOf(v);
  return (proto === Object.prototype || proto === null) && typeof Reflect.get(v, 'toJSON') !== 'function';
};

/** Characters JSON.stringify escapes in a string (any surrogate: a lone one is escaped, a pair is left to it). */
// eslint-disable-next-line no-control-regex
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/** What JSON.stringify leaves out of an object (and writes as null in an array). */
const skipped = (v: unknown): boolean => v === undefined || typeof v === 'function' || typeof v === 'symbol';

export interface WriteJsonOptions {
  longArray?: number;
  chunkChars?: number;
  /**
   * Long arrays (by identity) whose elements a given function writes: given the element's index, it returns its
   * text as JSON.stringify(element, null, 2) makes it, with `pad` before every line after the first. For arrays of
   * one known shape (a plan's entries), where the generic printer and a re-indent of each element cost most.
   */
  elements?: ReadonlyMap<readonly unknown[], (index: number, pad: string) => string>;
}

export function writeJson(value: unknown, write: (text: string) => void, options: WriteJsonOptions = {}): void {
  for (const piece of jsonPieces(value, options)) write(piece);
}

/**
 * The pieces of writeJson, made as they are taken: a writer that waits for a slow reader between two pieces
 * (stdout to a pipe) holds one piece at a time instead of the whole text queued in the stream.
 */
export function* jsonPieces(value: unknown, options: WriteJsonOptions = {}): Generator<string, void, undefined> {
  const longArray = options.longArray ?? LONG_ARRAY;
  const chunkChars = options.chunkChars ?? CHUNK_CHARS;
  let parts: string[] = [];
  let size = 0;
  /** Pieces of chunkChars or more, made and not yet taken. */
  const ready: string[] = [];
  /** The parts so far become one piece. */
  const flush = (): void => {
    ready.push(parts.join(''));
    parts = [];
    size = 0;
  };
  const put = (text: string): void => {
    parts.push(text);
    size += text.length;
    if (size >= chunkChars) flush();
  };
  function* take(): Generator<string, void, undefined> {
    for (const piece of ready) yield piece;
    ready.length = 0;
  }
  /**
   * Elements of a long array from `from` on, written here until a piece is ready or an element needs the walk
   * (emit); the index where it stopped. A plain loop: V8 optimises a long loop while it runs, not one inside a
   * generator (this way 10,000 entries took ~40 ms less, host, node 20).
   */
  const fill = (v: readonly unknown[], from: number, inner: string, element: ((index: number, pad: string) => string) | undefined): number => {
    // The two separators made once per call, not once per element.
    const first = `\n${inner}`;
    const next = `,${first}`;
    for (let i = from; i < v.length; i++) {
      const el: unknown = v[i];
      if (!skipped(el) && !element && typeof el !== 'string') return i; // an element for the walk
      // put() of the separator and of the element's text, in one step. A string that JSON.stringify writes as it
      // is between quotes (a plan's 10,000 batch lines) goes as it is: no quoted copy of each.
      const sep = i === 0 ? first : next;
      const plain = !element && typeof el === 'string' && !ESCAPED.test(el) ? el : undefined;
      const text = plain !== undefined ? '' : skipped(el) ? 'null' : element ? element(i, inner) : JSON.stringify(el);
      if (plain === undefined) parts.push(sep, text);
      else parts.push(sep, '"', plain, '"');
      size += sep.length + (plain === undefined ? text.length : plain.length + 2);
      if (size >= chunkChars) {
        flush();
        return i + 1;
      }
    }
    return v.length;
  };
  /** `v` at indentation `pad` (its first line is already placed; the lines after it start with `pad`). */
  function* emit(v: unknown, pad: string, depth: number): Generator<string, void, undefined> {
    if (typeof v === 'object' && v !== null) {
      if (Array.isArray(v) && v.length > longArray) {
        const inner = `${pad}  `;
        const element = options.elements?.get(v);
        put('[');
        for (let i = 0; i < v.length;) {
          i = fill(v, i, inner, element);
          if (ready.length > 0) yield* take();
          else if (i < v.length) {
            // An element fill leaves to the walk.
            put(i === 0 ? `\n${inner}` : `,\n${inner}`);
            yield* emit(v[i], inner, depth + 1);
            i++;
          }
        }
        put(`\n${pad}]`);
        return;
      }
      if (!Array.isArray(v) && depth < WALK_DEPTH && isPlainObject(v)) {
        const inner = `${pad}  `;
        let first = true;
        for (const key of Object.keys(v)) {
          const el: unknown = Reflect.get(v, key);
          if (skipped(el)) continue;
          put(`${first ? '{' : ','}\n${inner}${JSON.stringify(key)}: `);
          first = false;
          yield* emit(el, inner, depth + 1);
        }
        put(first ? '{}' : `\n${pad}}`);
        return;
      }
    }
    // undefined only for a skipped value at the root, where JSON.stringify(…) + '\n' gives "undefined\n".
    const text: unknown = JSON.stringify(v, null, 2);
    if (typeof text !== 'string') put('undefined');
    else put(pad !== '' && text.includes('\n') ? text.replaceAll('\n', `\n${pad}`) : text);
  }
  yield* emit(value, '', 0);
  put('\n');
  yield* take();
  if (size > 0) yield parts.join('');
}
