/**
 * The comparators of cmdProbe, promProbe and httpProbe (litmus-go pkg/probe/comparator/{integer,float,
 * string}.go): which criteria apply to which type, and what "equal" means for each.
 *
 * - int (httpProbe's responseCode is always int; cmdProbe with type int): >=, <=, >, <, ==, !=, oneOf, between
 * - float (promProbe is always float; cmdProbe with type float): the same eight
 * - string (cmdProbe with type string): equal, notEqual, contains, matches, notMatches, oneOf
 * litmus-go accepts `OneOf`/`Between`/`Equal`/`NotEqual`/`Contains`/`Matches`/`NotMatches` too.
 *
 * Where netchaos is stricter than litmus-go, on purpose (docs/probes.md):
 * - the expected value is checked when the probe is read, before any chaos: a criterion the type does not
 *   have, an int that is not one, `between` without exactly two bounds (lower ≤ upper), an invalid regex
 *   (litmus-go finds these at run time, and reads a bad int as 0);
 * - an actual value that is not a number fails the comparison with that reason (litmus-go reads it as 0,
 *   so an empty output passes `== 0`);
 * - `oneOf`/`between` lists are split on commas and each entry trimmed; `oneOf` with one value works;
 *   the other criteria use the whole value (litmus-go compares `equal "a,b"` with "").
 * - regexes are JavaScript regexes (RE2 is nearly a subset); a leading `(?i)`, `(?m)` or `(?s)` group
 *   becomes the matching flag.
 */

export type ComparatorType = 'int' | 'float' | 'string';

export type NumberCriterion = '>=' | '<=' | '>' | '<' | '==' | '!=' | 'oneOf' | 'between';
export type StringCriterion = 'equal' | 'notEqual' | 'contains' | 'matches' | 'notMatches' | 'oneOf';

const numberCriteria: readonly NumberCriterion[] = ['>=', '<=', '>', '<', '==', '!=', 'oneOf', 'between'];
const stringCriteria: readonly StringCriterion[] = ['equal', 'notEqual', 'contains', 'matches', 'notMatches', 'oneOf'];

/** The criteria litmus-go accepts for a type, as written in the ChaosEngine (both spellings where it has two). */
export function criteriaFor(type: ComparatorType): readonly string[] {
  return type === 'string' ? stringCriteria : numberCriteria;
}

const aliases: Readonly<Record<string, string>> = {
  OneOf: 'oneOf', Between: 'between', Equal: 'equal', NotEqual: 'notEqual', Contains: 'contains', Matches: 'matches', NotMatches: 'notMatches',
};

export type Comparator =
  | { readonly type: 'int'; readonly criteria: NumberCriterion; readonly value: string; readonly expected: readonly bigint[] }
  | { readonly type: 'float'; readonly criteria: NumberCriterion; readonly value: string; readonly expected: readonly number[] }
  | { readonly type: 'string'; readonly criteria: StringCriterion; readonly value: string; readonly expected: readonly string[]; readonly regex?: RegExp };

export type Comparison = { readonly ok: true; readonly actual: string } | { readonly ok: false; readonly actual: string; readonly reason: string };

/** Go's strconv.Atoi: an optional sign and decimal digits, within int64. */
export function parseGoInt(text: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const v = BigInt(text);
  if (v > (1n << 63n) - 1n || v < -(1n << 63n)) return undefined;
  return v;
}

/** Go's strconv.ParseFloat for decimal input, plus Inf/Infinity/NaN (Prometheus prints "+Inf" and "NaN"). */
export function parseGoFloat(text: string): number | undefined {
  const t = text.toLowerCase();
  if (/^[+-]?(inf|infinity)$/.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/.test(t)) return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) return undefined;
  return Number(t);
}

/** A Go/RE2 regex as a JavaScript RegExp (a leading (?flags) group becomes flags). */
export function goRegex(pattern: string): RegExp {
  const m = /^\(\?([ims]+)\)/.exec(pattern);
  if (!m) return new RegExp(pattern);
  return new RegExp(pattern.slice(m[0].length), [...new Set(m[1])].join(''));
}

const listOf = (value: string): string[] => value.split(',').map((v) => v.trim());

/**
 * Checks a comparator from the ChaosEngine; returns it ready to use, or the problem as a sentence.
 * `field` names it in messages (e.g. `cmdProbe/inputs.comparator`).
 */
export function parseComparator(type: ComparatorType, criteriaText: string, value: string): Comparator | string {
  const criteria = aliases[criteriaText] ?? criteriaText;
  if (type === 'string') {
    const c = stringCriteria.find((x) => x === criteria);
    if (!c) return `criteria ${JSON.stringify(criteriaText)} is not one litmus-go supports for type string (${stringCriteria.join(', ')})`;
    if (c === 'matches' || c === 'notMatches') {
      try {
        return { type, criteria: c, value, expected: [value], regex: goRegex(value) };
      } catch (error) {
        return `value ${JSON.stringify(value)} is not a valid regular expression: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    return { type, criteria: c, value, expected: c === 'oneOf' ? listOf(value) : [value] };
  }
  const c = numberCriteria.find((x) => x === criteria);
  if (!c) return `criteria ${JSON.stringify(criteriaText)} is not one litmus-go supports for type ${type} (${numberCriteria.join(', ')})`;
  const parts = c === 'oneOf' || c === 'between' ? listOf(value) : [value.trim()];
  if (c === 'between' && parts.length !== 2) return `criteria between needs two values "lower,upper", got ${JSON.stringify(value)}`;
  if (type === 'int') {
    const expected: bigint[] = [];
    for (const p of parts) {
      const v = parseGoInt(p);
      if (v === undefined) return `value ${JSON.stringify(value)} is not ${parts.length > 1 ? 'a list of integers' : 'an integer'} (type int)`;
      expected.push(v);
    }
    if (c === 'between' && (expected[0] ?? 0n) > (expected[1] ?? 0n)) return `criteria between needs lower ≤ upper, got ${JSON.stringify(value)}`;
    return { type, criteria: c, value, expected };
  }
  const expected: number[] = [];
  for (const p of parts) {
    const v = parseGoFloat(p);
    if (v === undefined || Number.isNaN(v)) return `value ${JSON.stringify(value)} is not ${parts.length > 1 ? 'a list of numbers' : 'a number'} (type float)`;
    expected.push(v);
  }
  if (c === 'between' && (expected[0] ?? 0) > (expected[1] ?? 0)) return `criteria between needs lower ≤ upper, got ${JSON.stringify(value)}`;
  return { type, criteria: c, value, expected };
}

function compareNumbers<T extends bigint | number>(a: T, criteria: NumberCriterion, expected: readonly T[]): string | undefined {
  const b = expected[0];
  if (b === undefined) return 'no expected value';
  switch (criteria) {
    case '>=': return a >= b ? undefined : `greater than or equal to ${b}`;
    case '<=': return a <= b ? undefined : `lesser than or equal to ${b}`;
    case '>': return a > b ? undefined : `greater than ${b}`;
    case '<': return a < b ? undefined : `lesser than ${b}`;
    case '==': return a === b ? undefined : `equal to ${b}`;
    case '!=': return a !== b ? undefined : `not equal to ${b}`;
    case 'oneOf': return expected.some((x) => x === a) ? undefined : `one of [${expected.join(',')}]`;
    case 'between': {
      const hi = expected[1] ?? b;
      return a >= b && a <= hi ? undefined : `between ${b} and ${hi}`;
    }
  }
}

function compareStrings(c: Extract<Comparator, { type: 'string' }>, a: string): string | undefined {
  const b = c.value;
  switch (c.criteria) {
    case 'equal': return a === b ? undefined : `equal to ${JSON.stringify(b)}`;
    case 'notEqual': return a !== b ? undefined : `not equal to ${JSON.stringify(b)}`;
    case 'contains': return a.includes(b) ? undefined : `containing ${JSON.stringify(b)}`;
    case 'matches': return c.regex?.test(a) ? undefined : `matching the regex ${b}`;
    case 'notMatches': return c.regex?.test(a) ? `not matching the regex ${b}` : undefined;
    case 'oneOf': return c.expected.includes(a) ? undefined : `one of [${c.expected.map((x) => JSON.stringify(x)).join(', ')}]`;
  }
}

/** Compares an actual value (already trimmed by the caller where litmus-go trims) with the comparator. */
export function compare(c: Comparator, actual: string): Comparison {
  let expectation: string | undefined;
  if (c.type === 'string') {
    expectation = compareStrings(c, actual);
  } else if (c.type === 'int') {
    const a = parseGoInt(actual.trim());
    if (a === undefined) return { ok: false, actual, reason: `Actual value: ${JSON.stringify(actual)} is not an integer (comparator type int)` };
    expectation = compareNumbers(a, c.criteria, c.expected);
  } else {
    const a = parseGoFloat(actual.trim());
    if (a === undefined) return { ok: false, actual, reason: `Actual value: ${JSON.stringify(actual)} is not a number (comparator type float)` };
    expectation = compareNumbers(a, c.criteria, c.expected);
  }
  if (expectation === undefined) return { ok: true, actual };
  return { ok: false, actual, reason: `Actual value: ${c.type === 'string' ? JSON.stringify(actual) : actual}. Expected value: ${expectation}` };
}
