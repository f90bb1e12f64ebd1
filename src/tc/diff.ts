/**
 * The difference between the live tree and a refreshed plan, as `tc -batch` lines. Pure.
 *
 * The refreshed plan is made with `plan(spec, facts, { previous: live })`, so entries that stay keep their
 * handles; the diff deletes the entries that went (by handle), creates a missing table (a family that had no
 * address yet) with its link, then adds the new entries with their handles. Nothing else is touched: the root,
 * the netems, the other entries and the traffic that they match stay as they are. With two hash levels the
 * link nodes in the level-1 buckets are links (of the level-2 tables), not entries: a live two-level family
 * has them all from the start, so a refresh only adds and deletes entries.
 */
import type { Plan, Table } from './plan.js';

export interface Diff {
  /** The batch, in order: deletes, new tables and their links, adds. Empty when nothing changed. */
  readonly lines: readonly string[];
  /** For each line, the line that undoes it (undefined for a new table or link, which stay when a batch is rolled back). */
  readonly undo: readonly (string | undefined)[];
  readonly added: number;
  readonly deleted: number;
  /** Tables the diff creates. */
  readonly newTables: readonly Table[];
}

/** A plan change that cannot be made by filter adds and deletes (bands or the root changed). */
export class DiffError extends Error {
  override readonly name = 'DiffError';
}

const entryLine = /^filter add dev (\S+) parent (\S+) protocol (\S+) prio (\d+) handle ([0-9a-f]+:[0-9a-f]+:[0-9a-f]+) u32 ht /;
const tableLine = /^filter add dev (\S+) parent \S+ protocol \S+ prio \d+ handle ([0-9a-f]+:) u32 divisor \d+$/;
const linkLine = /^filter add dev (\S+) parent \S+ protocol \S+ prio \d+ u32 match u32 0 0 .*link ([0-9a-f]+:)$/;
/** A link node in a bucket of a level-1 table (two hash levels): `… handle 11:b:1 u32 ht 11:b: match u32 0 0 hashkey … link H:`. */
const bucketLinkLine = /^filter add dev (\S+) parent \S+ protocol \S+ prio \d+ handle [0-9a-f]+:[0-9a-f]+:[0-9a-f]+ u32 ht [0-9a-f]+:[0-9a-f]+: match u32 0 0 .*link ([0-9a-f]+:)$/;

interface Parts {
  /** `dev|handle` → the line that adds the entry there. */
  readonly entries: Map<string, string>;
  /** `dev|htid` → the line that creates the table, and the line that links it (in the order of the links' lines). */
  readonly tables: Map<string, { create: string; link: string | undefined }>;
  /** Every other line (qdiscs, the ingress redirect, the all-traffic filter). */
  readonly rest: string[];
}

function parts(apply: readonly string[]): Parts {
  const out: Parts = { entries: new Map(), tables: new Map(), rest: [] };
  const links = new Map<string, string>();
  for (const line of apply) {
    const t = tableLine.exec(line);
    const l = linkLine.exec(line) ?? bucketLinkLine.exec(line);
    const e = l ? null : entryLine.exec(line);
    if (e) out.entries.set(`${e[1]}|${e[5]}`, line);
    else if (t) out.tables.set(`${t[1]}|${t[2]}`, { create: line, link: undefined });
    else if (l) links.set(`${l[1]}|${l[2]}`, line);
    else out.rest.push(line);
  }
  for (const [key, link] of links) {
    const t = out.tables.get(key);
    if (t) out.tables.set(key, { ...t, link });
    else out.rest.push(link);
  }
  return out;
}

/** `filter add dev … handle H u32 ht …` → `filter del dev … handle H u32`. */
export function deleteLine(add: string): string {
  const m = entryLine.exec(add);
  if (!m) throw new DiffError(`not an entry line: ${add}`);
  return `filter del dev ${m[1]} parent ${m[2]} protocol ${m[3]} prio ${m[4]} handle ${m[5]} u32`;
}

export function diffPlan(old: Plan, next: Plan): Diff {
  const a = parts(old.apply);
  const b = parts(next.apply);
  if (a.rest.join('\n') !== b.rest.join('\n')) {
    throw new DiffError('the refreshed plan changes more than filter entries (root, bands or netem): it cannot be applied as a difference');
  }
  const lines: string[] = [];
  const undo: (string | undefined)[] = [];
  let deleted = 0;
  let added = 0;
  for (const [key, line] of a.entries) {
    if (b.entries.get(key) === line) continue;
    lines.push(deleteLine(line));
    undo.push(line);
    deleted++;
  }
  const created = [...b.tables.entries()].filter(([key]) => !a.tables.has(key));
  for (const [, t] of created) {
    lines.push(t.create);
    undo.push(undefined);
  }
  // The links in the plan's order: a level-1 table's bucket links before the root's link to it.
  const links = new Set(created.map(([, t]) => t.link));
  for (const line of created.length > 0 ? next.apply : []) {
    if (!links.has(line)) continue;
    lines.push(line);
    undo.push(undefined);
  }
  for (const [key, line] of b.entries) {
    if (a.entries.get(key) === line) continue;
    lines.push(line);
    undo.push(deleteLine(line));
    added++;
  }
  const newTables = next.tables.filter((t) => !old.tables.some((o) => o.htid === t.htid));
  return { lines, undo, added, deleted, newTables };
}

/** The lines that undo the first `done` lines of a diff, last first (tables and links stay). */
export function undoLines(diff: Diff, done: number): string[] {
  return diff.undo.slice(0, done).filter((l): l is string => l !== undefined).reverse();
}
