/**
 * u32 node ids inside one table bucket. Pure.
 *
 * The kernel keeps the nodes of a bucket sorted by node id and the first match wins, so the order that
 * matters is the node id order. Only two entries that can match the same packet AND send it to different
 * bands need a particular order (the planner's "most specific first"); all others may sit anywhere.
 *
 * For a tree that is refreshed during the run (live dependencies), the ids leave room: entries that stay keep
 * their id, and a new entry takes a free id between the ids of the entries it must follow and precede.
 */
import { type AddressUnits, type Cidr, addressUnits, samePrefix } from '../model/addresses.js';

/** u32 allows 4095 nodes per bucket: node ids 1..0xfff. */
export const MAX_NODE_ID = 0xfff;
/** Widest gap between two entries when the ids are spread for a refreshable tree. */
export const MAX_SPREAD = 256;

/** What of an entry decides which packets it matches and where they go. */
export interface Match {
  readonly cidr: Cidr | undefined;
  readonly dport: number | undefined;
  readonly sport: number | undefined;
  readonly band: number;
}

/** A new entry found no free id between the entries it must follow and precede. */
export class NoRoomError extends Error {
  override readonly name = 'NoRoomError';
}

function covers(a: Cidr, au: AddressUnits, b: Cidr, bu: AddressUnits): boolean {
  return a.family === b.family && a.prefix <= b.prefix && samePrefix(au, bu, a.prefix);
}

/** True when some packet matches both entries and they send it to different bands: their order matters. */
export function conflicts(a: Match, b: Match): boolean {
  return conflictsParsed(a, unitsOf(a), b, unitsOf(b));
}

const unitsOf = (m: Match): AddressUnits | undefined => (m.cidr ? addressUnits(m.cidr) : undefined);

/** conflicts(), with each entry's address already parsed (`au`, `bu`: undefined without a cidr). */
function conflictsParsed(a: Match, au: AddressUnits | undefined, b: Match, bu: AddressUnits | undefined): boolean {
  if (a.band === b.band) return false;
  if (a.dport !== undefined && b.dport !== undefined && a.dport !== b.dport) return false;
  if (a.sport !== undefined && b.sport !== undefined && a.sport !== b.sport) return false;
  if (a.cidr === undefined || b.cidr === undefined || au === undefined || bu === undefined) return true;
  return covers(a.cidr, au, b.cidr, bu) || covers(b.cidr, bu, a.cidr, au);
}

/**
 * The ids of a bucket of `n` entries none of which is live are 1, 2, 3… times this: 1, or (`spread`) evenly spaced
 * ids that leave room for new entries.
 */
export const freshStep = (n: number, spread: boolean): number => (spread ? Math.max(1, Math.min(MAX_SPREAD, Math.floor(MAX_NODE_ID / (n + 1)))) : 1);

/**
 * Node ids for the entries of one bucket, given in the planner's order (most specific first).
 * `kept(i)` is the id entry i already has in the live tree (it keeps it), or undefined for a new entry.
 * Without any kept entry: 1, 2, 3… (`spread` false) or evenly spaced ids that leave room (`spread` true).
 * Throws NoRoomError when a new entry cannot be ordered correctly against the entries that stay.
 */
export function assignNodeIds(entries: readonly Match[], kept: (i: number) => number | undefined, spread: boolean): number[] {
  const ids: (number | undefined)[] = entries.map((_e, i) => kept(i));
  if (ids.every((id) => id === undefined)) {
    const step = freshStep(entries.length, spread);
    return entries.map((_e, i) => (i + 1) * step);
  }
  const used = new Set(ids.filter((id): id is number => id !== undefined));
  // Each address parsed once for the bucket (a new entry is compared with every kept one).
  const units = entries.map(unitsOf);
  entries.forEach((e, i) => {
    if (ids[i] !== undefined) return;
    let low = 0;
    let high = MAX_NODE_ID + 1;
    ids.forEach((id, j) => {
      const other = entries[j];
      if (id === undefined || j === i || other === undefined || !conflictsParsed(e, units[i], other, units[j])) return;
      if (j < i) low = Math.max(low, id);
      else high = Math.min(high, id);
    });
    const id = pickFree(low, high, used);
    if (id === undefined) {
      throw new NoRoomError(`no free u32 node id between ${low} and ${high} for a new entry (its bucket holds ${used.size} nodes)`);
    }
    ids[i] = id;
    used.add(id);
  });
  return ids.map((id) => id ?? 0);
}

/** The free id in (low, high) nearest to the middle when both sides bind, else a spread step away from the side that binds. */
function pickFree(low: number, high: number, used: ReadonlySet<number>): number | undefined {
  const lowBound = low > 0;
  const highBound = high <= MAX_NODE_ID;
  const top = Math.max(0, ...used);
  const preferred = lowBound && highBound ? Math.floor((low + high) / 2)
    : highBound ? high - Math.min(MAX_SPREAD, Math.ceil((high - low) / 2))
    : Math.max(low, top) + Math.min(MAX_SPREAD, Math.max(1, Math.floor((MAX_NODE_ID - Math.max(low, top)) / 2)));
  for (let d = 0; d <= MAX_NODE_ID; d++) {
    for (const id of [preferred - d, preferred + d]) {
      if (id > low && id < high && id >= 1 && id <= MAX_NODE_ID && !used.has(id)) return id;
    }
  }
  return undefined;
}
