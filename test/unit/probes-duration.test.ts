/**
 * Go duration strings (litmus-go pkg/types/types.go parseProbeTimeouts → time.ParseDuration). The table
 * is the behaviour of Go's time.ParseDuration (values and error texts), checked case by case.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, GoDurationError, nsToMs, parseGoDuration } from '../../src/probes/duration.ts';

const S = 1_000_000_000n;
const MS = 1_000_000n;
const US = 1_000n;
const M = 60n * S;
const H = 60n * M;

describe('parseGoDuration: what Go time.ParseDuration accepts', () => {
  const cases: [string, bigint][] = [
    ['0', 0n], ['5s', 5n * S], ['30s', 30n * S], ['1478s', 1478n * S],
    ['-5s', -5n * S], ['+5s', 5n * S], ['-0', 0n], ['+0', 0n],
    ['5.0s', 5n * S], ['5.6s', 5n * S + 600n * MS], ['5.s', 5n * S], ['.5s', 500n * MS], ['1.0s', S], ['1.00s', S],
    ['1.004s', S + 4n * MS], ['1.0040s', S + 4n * MS], ['100.00100s', 100n * S + MS],
    ['10ns', 10n], ['11us', 11n * US], ['12µs', 12n * US], ['12μs', 12n * US], ['13ms', 13n * MS], ['14s', 14n * S], ['15m', 15n * M], ['16h', 16n * H],
    ['3h30m', 3n * H + 30n * M], ['10.5s4m', 4n * M + 10n * S + 500n * MS], ['-2m3.4s', -(2n * M + 3n * S + 400n * MS)],
    ['1h2m3s4ms5us6ns', H + 2n * M + 3n * S + 4n * MS + 5n * US + 6n], ['39h9m14.425s', 39n * H + 9n * M + 14n * S + 425n * MS],
    ['1h2m3.5s', H + 2n * M + 3n * S + 500n * MS], ['300ms', 300n * MS], ['1.5us', 1500n], ['1.5µs', 1500n], ['-1s', -S],
    ['52763797000ns', 52763797000n], ['0.3333333333333333333h', 20n * M], ['9007199254740993ns', 9007199254740993n],
    ['9223372036854775807ns', 9223372036854775807n], ['9223372036854775.807us', 9223372036854775807n],
    ['9223372036s854ms775us807ns', 9223372036854775807n], ['-9223372036854775808ns', -9223372036854775808n],
    ['-9223372036854775807ns', -9223372036854775807n], ['0.100000000000000000000h', 6n * M],
    ['0.830103483285477580700h', 49n * M + 48n * S + 372539827n],
  ];
  for (const [text, ns] of cases) {
    test(`${JSON.stringify(text)} = ${ns} ns`, () => { assert.equal(parseGoDuration(text), ns); });
  }
});

describe('parseGoDuration: what Go refuses, with Go\'s message', () => {
  const cases: [string, string][] = [
    ['', 'time: invalid duration ""'],
    ['3', 'time: missing unit in duration "3"'],
    ['-', 'time: invalid duration "-"'],
    ['s', 'time: invalid duration "s"'],
    ['.', 'time: invalid duration "."'],
    ['-.', 'time: invalid duration "-."'],
    ['.s', 'time: invalid duration ".s"'],
    ['+.s', 'time: invalid duration "+.s"'],
    ['1d', 'time: unknown unit "d" in duration "1d"'],
    ['5 s', 'time: unknown unit " s" in duration "5 s"'],
    ['1s2', 'time: missing unit in duration "1s2"'],
    ['9223372036854775808ns', 'time: invalid duration "9223372036854775808ns"'],
    ['9223372036854775.808us', 'time: invalid duration "9223372036854775.808us"'],
    ['-9223372036854775809ns', 'time: invalid duration "-9223372036854775809ns"'],
    ['3000000h', 'time: invalid duration "3000000h"'],
  ];
  for (const [text, message] of cases) {
    test(`${JSON.stringify(text)} → ${message}`, () => {
      assert.throws(() => parseGoDuration(text), (e: unknown) => e instanceof GoDurationError && e.message === message);
    });
  }
});

test('nsToMs keeps fractions of a millisecond (timers take ms)', () => {
  assert.equal(nsToMs(parseGoDuration('1.5us')), 0.0015);
  assert.equal(nsToMs(parseGoDuration('2m')), 120_000);
});

test('formatDuration prints as Go prints a Duration', () => {
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(300), '300ms');
  assert.equal(formatDuration(1.5), '1.5ms');
  assert.equal(formatDuration(0.0015), '1.5µs');
  assert.equal(formatDuration(5000), '5s');
  assert.equal(formatDuration(3_723_500), '1h2m3.5s');
  assert.equal(formatDuration(90_000), '1m30s');
  assert.equal(formatDuration(-1000), '-1s');
});
