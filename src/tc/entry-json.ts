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

/**
 * The fixed parts of an entry's text at one indentation, made once: an entry is then ~10 concatenations of these
 * and its own values (a plan has a few groups, bands and one indentation; 10,000 entries each built their
 * indentation, key and a template per line before).
 */
interface Layout {
  /** `{` to the family's value, by group name (the group's text quoted once). */
  readonly heads: Map<string, string>;
  /** `"cidr": {` to the address's opening quote, by the cidr's family. */
  readonly cidrOpen: Record<4 | 6, string>;
  readonly prefix: string;
  readonly cidrClose: string;
  readonly dport: string;
  readonly sport: string;
  /** `"action"` to `"handles": `, by band: [fault, bypass]. */
  readonly actions: Map<number, [string, string]>;
  readonly handlesOpen: string;
  readonly handlesNext: string;
  readonly handlesClose: string;
  readonly close: string;
  readonly i1: string;
}

const layouts = new Map<string, Layout>();

function layoutOf(pad: string): Layout {
  let l = layouts.get(pad);
  if (l) return l;
  const i1 = `${pad}  `;
  const i2 = `${i1}  `;
  const cidrOpen = (family: number): string => `,\n${i1}"cidr": {\n${i2}"family": ${family},\n${i2}"address": "`;
  l = {
    heads: new Map(), cidrOpen: { 4: cidrOpen(4), 6: cidrOpen(6) }, prefix: `",\n${i2}"prefix": `, cidrClose: `\n${i1}}`,
    dport: `,\n${i1}"dport": `, sport: `,\n${i1}"sport": `, actions: new Map(),
    handlesOpen: `[\n${i2}"`, handlesNext: `",\n${i2}"`, handlesClose: `"\n${i1}]`, close: `\n${pad}}`, i1,
  };
  layouts.set(pad, l);
  return l;
}

export function entryJson(e: Entry, pad: string): string {
  const l = layoutOf(pad);
  let head = l.heads.get(e.group);
  if (head === undefined) l.heads.set(e.group, head = `{\n${l.i1}"group": ${q(e.group)},\n${l.i1}"family": `);
  let s = `${head}${e.family === 'all' ? '"all"' : e.family}`;
  const c = e.cidr;
  // A canonical address (digits, a-f, `.` and `:`) needs no escaping: quoted as JSON.stringify quotes it.
  if (c !== undefined) s = `${s}${l.cidrOpen[c.family]}${c.address}${l.prefix}${c.prefix}${l.cidrClose}`;
  if (e.dport !== undefined) s = `${s}${l.dport}${e.dport}`;
  if (e.sport !== undefined) s = `${s}${l.sport}${e.sport}`;
  let actions = l.actions.get(e.band);
  if (actions === undefined) {
    const text = (action: Entry['action']): string => `,\n${l.i1}"action": "${action}",\n${l.i1}"band": ${e.band},\n${l.i1}"handles": `;
    l.actions.set(e.band, actions = [text('fault'), text('bypass')]);
  }
  s += actions[e.action === 'fault' ? 0 : 1];
  const h = e.handles;
  if (h.length === 0) return `${s}[]${l.close}`;
  // u32 handles (`10:0:1`, hex digits and `:`) need no escaping either.
  s = s + l.handlesOpen + (h[0] ?? '');
  for (let k = 1; k < h.length; k++) s = s + l.handlesNext + (h[k] ?? '');
  return s + l.handlesClose + l.close;
}

/** For writeJson's `elements`: entry `i` of `entries`. */
export const entriesJson = (entries: readonly Entry[]) => (i: number, pad: string): string => {
  const e = entries[i];
  return e ? entryJson(e, pad) : 'null';
};
