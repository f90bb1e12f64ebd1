import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { type WriteJsonOptions, jsonPieces, writeJson } from '../../src/model/json-out.ts';
import { buildSpec } from '../../src/config/spec.ts';
import type { VariableName } from '../../src/config/vars.ts';
import { plan } from '../../src/tc/plan.ts';
import { ENTRY_KEYS, entriesJson, entryJson } from '../../src/tc/entry-json.ts';
import { specOf } from '../support/spec.ts';

/** The pieces writeJson hands on, and their text. */
function pieces(value: unknown, options: WriteJsonOptions = {}): { text: string; count: number; largest: number } {
  const out: string[] = [];
  writeJson(value, (t) => { out.push(t); }, options);
  return { text: out.join(''), count: out.length, largest: Math.max(...out.map((t) => t.length)) };
}
const expected = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;

describe('writeJson: JSON.stringify(value, null, 2) + newline, in pieces', () => {
  test('the same text for every kind of value, nested, with long arrays written element by element', () => {
    const long = Array.from({ length: 9 }, (_, i) => ({ i, s: `a"b\\c\n${i}`, nested: { deep: [i, [i], {}], empty: [] }, gone: undefined, f: () => i }));
    const values: unknown[] = [
      {}, [], { a: [] }, { a: {} }, [undefined, () => 1, Symbol('x'), null], 'text', 42, null, true,
      { a: 1, b: undefined, c: 'x', d: [1, 2, 3], e: { f: { g: { h: { i: [1, { j: 2 }] } } } } },
      { list: long, other: { list: long, n: -0.5e-7, when: new Date(0), big: Number.MAX_SAFE_INTEGER } },
      long, [long, long], Object.assign(Object.create(null) as object, { x: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }),
      { toJSON: () => ({ replaced: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }) },
      { s: new String('boxed'), n: new Number(3), arr: [new Date(1)] },
      Array.from({ length: 12 }, (_, i) => (i % 3 === 0 ? undefined : i % 3 === 1 ? [i, [i, [i]]] : `x${i}`)),
    ];
    for (const v of values) {
      for (const longArray of [0, 2, 8, 64]) {
        assert.equal(pieces(v, { longArray, chunkChars: 7 }).text, expected(v), `${JSON.stringify(v)} (longArray ${longArray})`);
      }
    }
  });

  test('strings of a long array: the same text as JSON.stringify, whatever it escapes', () => {
    const strings = ['plain', '', 'a"b', 'a\\b', 'tab\there', 'nl\n', '\u0000\u001f', '\u007f', 'é ü', '\u2028', '\ud800', 'x\udfff', '\ud83d\ude00', '\ude00\ud83d', '"'];
    const values = [strings, [...strings].reverse(), { list: strings, n: 1 }, Array.from({ length: 200 }, (_, i) => strings[i % strings.length])];
    for (const v of values) {
      for (const chunkChars of [1, 7, 1 << 16]) assert.equal(pieces(v, { longArray: 0, chunkChars }).text, expected(v), JSON.stringify(v));
    }
  });

  test('a 10,001-destination plan: the same text as JSON.stringify, in pieces of about 64 KB', () => {
    // Every other address: no two merge into a network.
    const list = Array.from({ length: 10_000 }, (_, k) => { const i = 2 * k; return `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`; });
    const text = ['192.0.2.11', ...list, '2001:db8::1|443', '2001:db8:1::/48'].join('\n');
    const vars: Partial<Record<VariableName, string>> = { DESTINATION_IPS_FILE: '/list', NETWORK_LATENCY: '100' };
    const spec = buildSpec({ get: (n) => (vars[n] === undefined ? undefined : { value: vars[n], label: n }), readFile: () => text });
    const p = plan(spec);
    const view = { plan: p, notes: [], resolved: [] };
    const out = pieces(view);
    assert.equal(out.text, expected(view));
    assert.ok(out.text.length > 2_000_000, `${out.text.length} characters`);
    assert.ok(out.count >= 30, `${out.count} pieces`);
    assert.ok(out.largest < 70_000, `largest piece ${out.largest} characters`);
  });
});

describe('entryJson: a plan entry as JSON.stringify writes it', () => {
  // Every shape an entry takes: with and without an address, IPv4/IPv6/all, destination and source ports (match and
  // exclusion), one handle, many (a hashed /28), none (all traffic), two groups, both directions.
  const plans = [
    plan(specOf({})),
    plan(specOf({ DESTINATION_PORTS: '!5432,22', SOURCE_PORTS: '!8443', NETWORK_LATENCY: '10' })),
    plan(specOf({ DESTINATION_PORTS: '5432', NETWORK_LATENCY: '10' })),
    plan(specOf({ DESTINATION_IPS: '192.0.2.11,2001:db8::11|443|80', DESTINATION_PORTS: '!9090', SOURCE_PORTS: '8443', NETWORK_LATENCY: '100', DIRECTION: 'both' })),
    plan(specOf({
      DESTINATION_IPS: `${Array.from({ length: 40 }, (_, i) => `198.51.100.${i * 4}/30`).join(',')},203.0.113.16/28|53`,
      FAULTS: 'loss=5@192.0.2.12|8080,2001:db8:1::/48 latency=20@2001:db8::5',
    })),
  ];
  const entries = plans.flatMap((p) => p.entries);

  test('every entry the planner makes has exactly these keys, in this order (a new key must be written by entryJson too)', () => {
    for (const e of entries) assert.deepEqual(Object.keys(e), [...ENTRY_KEYS]);
  });

  test('the same text as JSON.stringify(entry, null, 2) at any indentation', () => {
    const shapes = new Set(entries.map((e) => `${e.family} ${e.cidr ? 'cidr' : '-'} ${e.dport ?? '-'} ${e.sport ?? '-'} ${e.action} ${Math.min(e.handles.length, 2)}`));
    assert.ok(shapes.size >= 8, [...shapes].join('; '));
    for (const e of entries) {
      for (const pad of ['', '  ', '      ']) assert.equal(entryJson(e, pad), JSON.stringify(e, null, 2).replaceAll('\n', `\n${pad}`));
    }
  });

  test('writeJson with entryJson for the entries: the text of JSON.stringify', () => {
    for (const p of plans) {
      const view = { top: { plan: p } };
      assert.equal(pieces(view, { longArray: 0, chunkChars: 100, elements: new Map([[p.entries, entriesJson(p.entries)]]) }).text, expected(view));
    }
  });
});

describe('jsonPieces: the pieces made as they are taken', () => {
  test('the first piece comes before the rest of a long array is written (a writer waiting on a slow reader holds one piece)', () => {
    const list = Array.from({ length: 5000 }, (_, i) => i);
    let made = 0;
    const pieces = jsonPieces({ list }, { chunkChars: 1000, elements: new Map([[list, (i: number) => { made++; return String(list[i]); }]]) });
    const first = pieces.next();
    assert.equal(first.done, false);
    assert.ok(made < 500, `${made} of 5000 elements written for the first piece`);
    const rest = [...pieces];
    assert.equal(made, 5000);
    assert.equal([first.value, ...rest].join(''), expected({ list }));
    assert.ok(rest.length > 20, `${rest.length + 1} pieces`);
  });
});
