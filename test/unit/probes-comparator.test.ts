/**
 * Comparators (litmus-go pkg/probe/comparator/integer.go, float.go, string.go): which criteria apply to which
 * type and what each means; where netchaos is stricter (bad expected values refused up front, a non-numeric
 * actual value fails instead of reading as 0) the test says so.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compare, type Comparator, criteriaFor, goRegex, parseComparator, parseGoFloat, parseGoInt } from '../../src/probes/comparator.ts';

function make(type: 'int' | 'float' | 'string', criteria: string, value: string): Comparator {
  const c = parseComparator(type, criteria, value);
  if (typeof c === 'string') throw new Error(c);
  return c;
}
/** The problem parseComparator reports, or 'accepted'. */
const problem = (type: 'int' | 'float' | 'string', criteria: string, value: string): string => {
  const c = parseComparator(type, criteria, value);
  return typeof c === 'string' ? c : 'accepted';
};
const holds = (type: 'int' | 'float' | 'string', criteria: string, value: string, actual: string): boolean => compare(make(type, criteria, value), actual).ok;

describe('int (integer.go CompareInt; httpProbe responseCode, cmdProbe type int)', () => {
  test('>=, <=, >, <, ==, != on integers', () => {
    assert.equal(holds('int', '>=', '5', '5'), true);
    assert.equal(holds('int', '>=', '5', '4'), false);
    assert.equal(holds('int', '<=', '5', '5'), true);
    assert.equal(holds('int', '<=', '5', '6'), false);
    assert.equal(holds('int', '>', '5', '6'), true);
    assert.equal(holds('int', '>', '5', '5'), false);
    assert.equal(holds('int', '<', '5', '4'), true);
    assert.equal(holds('int', '<', '5', '5'), false);
    assert.equal(holds('int', '==', '200', '200'), true);
    assert.equal(holds('int', '==', '200', '503'), false);
    assert.equal(holds('int', '!=', '200', '503'), true);
    assert.equal(holds('int', '!=', '200', '200'), false);
    assert.equal(holds('int', '==', '-3', '-3'), true);
  });
  test('oneOf and between, in both spellings litmus-go accepts', () => {
    assert.equal(holds('int', 'oneOf', '200,201,204', '204'), true);
    assert.equal(holds('int', 'OneOf', '200,201,204', '500'), false);
    assert.equal(holds('int', 'between', '200,299', '250'), true);
    assert.equal(holds('int', 'Between', '200,299', '200'), true);
    assert.equal(holds('int', 'between', '200,299', '299'), true);
    assert.equal(holds('int', 'between', '200,299', '300'), false);
  });
  test('the failure says what was expected (litmus-go wording)', () => {
    const r = compare(make('int', '==', '200'), '503');
    assert.deepEqual(r, { ok: false, actual: '503', reason: 'Actual value: 503. Expected value: equal to 200' });
  });
  test('an actual value that is not an integer fails, with that reason (litmus-go reads it as 0: "" == 0 would pass)', () => {
    const r = compare(make('int', '==', '0'), '');
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.reason, /"" is not an integer/);
    assert.equal(holds('int', '==', '5', '5.0'), false);
  });
  test('checked before any chaos: criteria the type does not have, values that are not integers, bad between', () => {
    assert.match(problem('int', 'contains', '5'), /criteria "contains" is not one litmus-go supports for type int/);
    assert.match(problem('int', '==', 'abc'), /is not an integer/);
    assert.match(problem('int', '==', '2.5'), /is not an integer/);
    assert.match(problem('int', 'between', '1'), /between needs two values/);
    assert.match(problem('int', 'between', '1,2,3'), /between needs two values/);
    assert.match(problem('int', 'between', '9,1'), /lower ≤ upper/);
    assert.match(problem('int', 'oneOf', '200,x'), /not a list of integers/);
  });
  test('spaces around list entries are allowed (litmus-go\'s Atoi would read " 201" as 0)', () => {
    assert.equal(holds('int', 'oneOf', '200, 201', '201'), true);
  });
});

describe('float (float.go CompareFloat; promProbe always, cmdProbe type float)', () => {
  test('the eight criteria on floats', () => {
    assert.equal(holds('float', '>=', '0.5', '0.5'), true);
    assert.equal(holds('float', '<=', '0.5', '0.51'), false);
    assert.equal(holds('float', '>', '1e3', '1000.1'), true);
    assert.equal(holds('float', '<', '0.99', '0.995'), false);
    assert.equal(holds('float', '==', '1.50', '1.5'), true);
    assert.equal(holds('float', '!=', '1.5', '1.5'), false);
    assert.equal(holds('float', 'oneOf', '0.5,1.5', '1.5'), true);
    assert.equal(holds('float', 'between', '0.1,0.2', '0.15'), true);
    assert.equal(holds('float', 'between', '0.1,0.2', '0.25'), false);
  });
  test('Prometheus special values: +Inf and NaN (never equal, never in range)', () => {
    assert.equal(holds('float', '>', '1e308', '+Inf'), true);
    assert.equal(holds('float', '<', '0', '-Inf'), true);
    assert.equal(holds('float', '==', '0', 'NaN'), false);
    assert.equal(holds('float', '>=', '0', 'NaN'), false);
  });
  test('a value that is not a number is refused up front; an actual one fails', () => {
    assert.match(problem('float', '>', 'ten'), /is not a number/);
    assert.match(problem('float', 'equal', '1'), /not one litmus-go supports for type float/);
    const r = compare(make('float', '>', '1'), 'n/a');
    assert.equal(r.ok, false);
  });
});

describe('string (string.go CompareString; cmdProbe type string)', () => {
  test('equal, notEqual, contains, with the spellings litmus-go accepts', () => {
    assert.equal(holds('string', 'equal', 'Running', 'Running'), true);
    assert.equal(holds('string', 'Equal', 'Running', 'Pending'), false);
    assert.equal(holds('string', 'notEqual', 'Failed', 'Running'), true);
    assert.equal(holds('string', 'NotEqual', 'Failed', 'Failed'), false);
    assert.equal(holds('string', 'contains', 'ok', 'status: ok'), true);
    assert.equal(holds('string', 'Contains', 'ok', 'status: down'), false);
  });
  test('equal uses the whole value, commas included (litmus-go would compare with "")', () => {
    assert.equal(holds('string', 'equal', 'a,b', 'a,b'), true);
    assert.equal(holds('string', 'equal', 'a,b', ''), false);
  });
  test('matches / notMatches take a regex; (?i) becomes the i flag', () => {
    assert.equal(holds('string', 'matches', '^[0-9]+ms$', '120ms'), true);
    assert.equal(holds('string', 'matches', '^[0-9]+ms$', 'timeout'), false);
    assert.equal(holds('string', 'notMatches', 'error|fail', 'all good'), true);
    assert.equal(holds('string', 'NotMatches', 'error|fail', 'request failed'), false);
    assert.equal(holds('string', 'matches', '(?i)^ok$', 'OK'), true);
    assert.equal(goRegex('(?is)a.b').flags, 'is');
    assert.match(problem('string', 'matches', '([unclosed'), /not a valid regular expression/);
  });
  test('oneOf splits on commas', () => {
    assert.equal(holds('string', 'oneOf', 'Running,Succeeded', 'Succeeded'), true);
    assert.equal(holds('string', 'oneOf', 'Running, Succeeded', 'Succeeded'), true);
    assert.equal(holds('string', 'oneOf', 'Running,Succeeded', 'Pending'), false);
  });
  test('number criteria are not string criteria', () => {
    assert.match(problem('string', '==', 'x'), /not one litmus-go supports for type string \(equal, notEqual, contains, matches, notMatches, oneOf\)/);
    assert.deepEqual(criteriaFor('string'), ['equal', 'notEqual', 'contains', 'matches', 'notMatches', 'oneOf']);
    assert.deepEqual(criteriaFor('int'), ['>=', '<=', '>', '<', '==', '!=', 'oneOf', 'between']);
  });
});

test('Go number parsing: Atoi is decimal digits within int64; ParseFloat knows Inf/NaN', () => {
  assert.equal(parseGoInt('+42'), 42n);
  assert.equal(parseGoInt('9223372036854775808'), undefined);
  assert.equal(parseGoInt('0x10'), undefined);
  assert.equal(parseGoInt(''), undefined);
  assert.equal(parseGoFloat('1e-3'), 0.001);
  assert.equal(parseGoFloat('.5'), 0.5);
  assert.equal(parseGoFloat('Inf'), Infinity);
  assert.ok(Number.isNaN(parseGoFloat('NaN')));
  assert.equal(parseGoFloat(''), undefined);
  assert.equal(parseGoFloat('1,5'), undefined);
});
