/**
 * One plan entry as `JSON.stringify(entry, null, 2)` writes it, indented by `pad` after its first line: the same
 * text byte for byte (test/unit/json-out.test.ts compares them for every shape of entry), made with a few
 * concatenations instead of the generic pretty printer and a re-indent. A 10,000-destination plan has 10,000
 * entries: through JSON.stringify and replaceAll they took ~50 ms (host, node 20, 2026-12-01), this way about half;
 * the whole JSON of `plan` went from ~105 to ~53 ms in one profile of each (bench/startup-profile.md, round 5).
 * The keys are those of the Entry literal in src/tc/plan.ts, in its order.
 */
import type { Entry } from './plan.js';

/** The keys written, in order: the entry literals' (groupEntries in src/tc/plan.ts); a unit test holds the two together. */
export const ENTRY_KEYS = ['group', 'family', 'cidr', 'dport', 'sport', 'action', 'band', 'handles'] as const;

const q = JSON.stringify;

/** The text up to the family's value, for one group at one indentation (a plan has a few groups, one indentation). */
const heads = new Map<string, string>();

export function entryJson(e: Entry, pad: string): string {
  const i1 = `${pad}  `;
  const key = `${pad}\0${e.group}`;
  let head = heads.get(key);
  if (head === undefined) heads.set(key, head = `{\n${i1}"group": ${q(e.group)},\n${i1}"family": `);
  let s = head + (e.family === 'all' ? '"all"' : String(e.family));
  const c = e.cidr;
  if (c !== undefined) {
    const i2 = `${i1}  `;
    // A canonical address (digits, a-f, `.` and `:`) needs no escaping: quoted as JSON.stringify quotes it.
    s += `,\n${i1}"cidr": {\n${i2}"family": ${c.family},\n${i2}"address": "${c.address}",\n${i2}"prefix": ${c.prefix}\n${i1}}`;
  }
  if (e.dport !== undefined) s += `,\n${i1}"dport": ${e.dport}`;
  if (e.sport !== undefined) s += `,\n${i1}"sport": ${e.sport}`;
  s += `,\n${i1}"action": "${e.action}",\n${i1}"band": ${e.band},\n${i1}"handles": `;
  const h = e.handles;
  if (h.length === 0) {
    s += '[]';
  } else {
    const i2 = `${i1}  `;
    // u32 handles (`10:0:1`, hex digits and `:`) need no escaping either.
    for (let k = 0; k < h.length; k++) s += `${k === 0 ? '[\n' : ',\n'}${i2}"${h[k] ?? ''}"`;
    s += `\n${i1}]`;
  }
  return `${s}\n${pad}}`;
}

/** For writeJson's `elements`: entry `i` of `entries`. */
export const entriesJson = (entries: readonly Entry[]) => (i: number, pad: string): string => {
  const e = entries[i];
  return e ? entryJson(e, pad) : 'null';
};
