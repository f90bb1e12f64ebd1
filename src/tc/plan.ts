/**
 * The planner: (Spec, Facts) → Plan. Pure: no I/O, no clock, no environment.
 *
 * Tree (see docs/how-it-works.md):
 *   root  prio handle 4e43: bands 3+K   (default priomap kept: unmatched traffic uses bands 1-3)
 *   4e43:4 … 4e43:(3+K)  one netem per distinct fault profile (handles 4e44: …)
 *   u32 filters: per IP family one filter priority whose root table links to a hash table
 *   (keyed on the last address byte, for many /25+ destinations) and then to a linear table.
 *   Entries are ordered most specific first; "bypass" entries (port exclusions) send packets to
 *   band 2, where the priomap sends normal traffic, before the broader entry would catch them.
 */
import { PlanError } from '../model/errors.js';
import type { Direction, FaultGroup, Netem, Spec } from '../model/spec.js';
import { type Cidr, type DestinationItem, type IpFamily, type PortFilter, addressWords, formatCidr } from '../model/addresses.js';
import { describeNetem, netemArgs } from './netem.js';
import { assignNodeIds, freshStep } from './handles.js';

/** The root qdisc handle that marks a tree as ours ("NC"). */
export const ROOT_MAJOR = 0x4e43;
export const ROOT_HANDLE = `${ROOT_MAJOR.toString(16)}:`;
/** Bands 1-3 are prio's defaults; fault profiles start at band 4. At most 16 bands. */
export const FIRST_FAULT_BAND = 4;
export const MAX_PROFILES = 16 - 3;
/** Packets that a port exclusion lets through go to band 2: the priomap's band for normal traffic. */
export const BYPASS_BAND = 2;
/** u32 allows 4095 nodes per table (bucket): node ids 1..0xfff. */
export const MAX_NODES = 0xfff;
/** A family uses a hash table once it has more hashable entries than this. */
export const HASH_MIN_ENTRIES = 32;
/**
 * A family uses two hash levels once it has more hashable entries than this: the level-1 table (key: the
 * address's last byte) holds in each bucket one link node to its own level-2 table (key: the byte before), which
 * holds the entries. A packet to an address that no entry has then walks one link node and a (nearly always)
 * empty bucket instead of a bucket of ~20 entries (10,000 destinations). Below it, the one-level layout.
 */
export const HASH2_MIN_ENTRIES = 1024;

const familyInfo = {
  4: { protocol: 'ip', prio: 1, match: 'ip', bits: 32, hashMinPrefix: 25, hashOffset: 16, srcHashOffset: 12, linear: 0x10, hash: 0x11, level2: 0x100, any: '0.0.0.0/0' },
  6: { protocol: 'ipv6', prio: 2, match: 'ip6', bits: 128, hashMinPrefix: 121, hashOffset: 36, srcHashOffset: 20, linear: 0x20, hash: 0x21, level2: 0x200, any: '::/0' },
} as const;

/**
 * The htid of the level-2 table that bucket `bucket` (the last address byte) of a two-level family links to:
 * IPv4 100:-1ff:, IPv6 200:-2ff: (u32 htids are 12 bits; none of them is 10:, 11:, 20:, 21: or the marker's 7ff:).
 */
export const level2Htid = (family: IpFamily, bucket: number): string => `${hex(familyInfo[family].level2 + bucket)}:`;
const ALL_TRAFFIC_PRIO = 3;
/** The pref of our redirect filter on the ingress qdisc ("NC"): with the ifb as its target, it marks the ingress qdisc as ours. */
export const INGRESS_FILTER_PRIO = 0x4e43;

/**
 * The ifb device that carries the ingress tree (≤ 15 chars, the kernel's limit), one per interface and never
 * shared: `nc-ifb-<dev>` when the interface's name fits as it is (≤ 8 of A-Z a-z 0-9 _ . -), else
 * `nc-ifh-<8 hex digits>` of a hash of the whole name (`enp0s31f6` and `enp0s31f6.100` differ in their hash,
 * where cutting both to 8 characters made them one device). The two prefixes keep the forms apart.
 */
export function ifbName(dev: string): string {
  return /^[A-Za-z0-9_.-]{1,8}$/.test(dev) ? `nc-ifb-${dev}` : `nc-ifh-${fnv1a(dev).toString(16).padStart(8, '0')}`;
}

/**
 * The ifb name netchaos gave an interface before the collision-free names (up to d1b5e65): `nc-ifb-` and the
 * interface's name with other characters than A-Z a-z 0-9 _ . - as `-`, cut to 15 characters. Read only (sweep
 * of an expired tree of that format); never created.
 */
export function legacyIfbName(dev: string): string {
  return `nc-ifb-${dev.replace(/[^A-Za-z0-9_.-]/g, '-')}`.slice(0, 15);
}

/** True for a device named like one of our ifbs (either form, and the older `nc-ifb-<first 8 chars>`). */
export const isIfbName = (name: string): boolean => /^nc-if[bh]-/.test(name);

/** FNV-1a, 32 bit, over the name's UTF-8 bytes. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * Which side of the packet an entry is matched on: egress packets go TO the dependency (dst, dport = the
 * dependency's port, sport = the target's), ingress packets come FROM it (src, sport = the dependency's port).
 */
type Side = 'dst' | 'src';

/** What discovery found; in local mode there is nothing to discover. */
export interface Facts {
  /** Addresses found for each group (hostnames, pods, Services), in the order of spec.groups. */
  readonly discovered?: readonly (readonly DestinationItem[])[];
}

export interface Band {
  /** prio band number (1-based) and its class id, e.g. 4 and `4e43:4`. */
  readonly band: number;
  readonly classid: string;
  readonly netemHandle: string;
  readonly netem: Netem;
  readonly netemArgs: readonly string[];
  readonly description: string;
  /** Names of the groups that share this profile. */
  readonly groups: readonly string[];
}

export interface Entry {
  readonly group: string;
  readonly family: IpFamily | 'all';
  /** Undefined: any address. */
  readonly cidr: Cidr | undefined;
  readonly dport: number | undefined;
  readonly sport: number | undefined;
  readonly action: 'fault' | 'bypass';
  readonly band: number;
  /** Where it sits: u32 handle `htid:bucket:node`; empty for the all-traffic entry. */
  readonly handles: readonly string[];
}

export interface Table {
  readonly family: IpFamily;
  readonly htid: string;
  readonly kind: 'hash' | 'linear';
  readonly divisor: number;
  /** Filter nodes in the table: entries, or (level 1) the 256 link nodes. */
  readonly nodes: number;
  /**
   * Two hash levels (HASH2_MIN_ENTRIES): 1 for the table keyed on the last byte, whose buckets hold one link node
   * each, 2 for the 256 tables they link to (level2Htid), keyed on the byte before, which hold the entries.
   * Absent: the one-level layout (the hash table holds the entries).
   */
  readonly level?: 1 | 2;
}

export interface Plan {
  readonly interface: string;
  readonly rootHandle: string;
  readonly bands: readonly Band[];
  /** True when the fault applies to every packet leaving the interface (no destination, no port). */
  readonly allTraffic: boolean;
  readonly entries: readonly Entry[];
  readonly tables: readonly Table[];
  readonly warnings: readonly string[];
  /** `tc -batch` lines that build the tree. */
  readonly apply: readonly string[];
  /** `tc -batch` lines (run with -force -json) that remove it and show what is left. */
  readonly revert: readonly string[];
  /** Absent in plans made before DIRECTION existed: egress. */
  readonly direction?: Direction;
  /** The ifb device carrying the ingress tree (direction ingress or both). */
  readonly ifb?: string;
  /** `ip -batch` lines run before the tc batch (create the ifb and set it up); empty for egress. */
  readonly links?: readonly string[];
}

export interface PlanOptions {
  /**
   * The tree as it is live (a refresh during the run): entries that stay keep their handles, new ones get free
   * handles in the right order, each IP family keeps its table layout (linear, hash or two-level hash), and its
   * tables stay.
   */
  readonly previous?: Plan;
  /** More hashable entries than this in a family: two hash levels. Default HASH2_MIN_ENTRIES (tests lower it). */
  readonly hash2MinEntries?: number;
}

/** True when the run re-resolves named dependencies (DEPENDENCY_REFRESH): the handles then leave room for new entries. */
export const refreshes = (spec: Spec): boolean => spec.refreshS > 0 && spec.groups.some((g) => g.named !== undefined);

export function plan(spec: Spec, facts: Facts = {}, options: PlanOptions = {}): Plan {
  const dev = spec.interface;
  const bands = assignBands(spec.groups);
  const drafts = new Drafts(spec.groups.reduce((n, g, i) => n + g.destinations.length + (facts.discovered?.[i]?.length ?? 0), 0));
  spec.groups.forEach((g, i) => { groupEntries(drafts, g, g.destinations, bandOf(bands, g), facts.discovered?.[i]); });
  // The entries' order as indexes into `drafts` (sorted, not the objects: their addresses are in its columns).
  const order = repeatsPossible(spec, facts) ? dedupe(drafts, drafts.all()) : drafts.all();
  order.sort((i, j) => compareEntries(drafts, i, j));
  const allTraffic = order.some((i) => drafts.entries[i]?.family === 'all');

  const direction = spec.direction;
  /** The whole tree on one device: root prio, one netem per band, the filters (the same entries and handles on either side). */
  const tree = (treeDev: string, side: Side): { tables: Table[]; placed: Entry[]; lines: string[] } => {
    const tables: Table[] = [];
    const placed: Entry[] = [];
    // The qdisc lines first, then each family's filter lines straight into the same array (not through a second
    // array of 10,000 lines).
    const lastBand = FIRST_FAULT_BAND + bands.length - 1;
    const lines = [
      `qdisc add dev ${treeDev} root handle ${ROOT_HANDLE} prio bands ${lastBand}`,
      ...bands.map((b) => `qdisc add dev ${treeDev} parent ${b.classid} handle ${b.netemHandle} netem ${b.netemArgs.join(' ')}`),
    ];
    for (const family of [4, 6] as const) {
      const mine = order.filter((i) => drafts.entries[i]?.family === family);
      if (mine.length === 0 && !options.previous?.tables.some((t) => t.family === family)) continue;
      const result = placeFamily(treeDev, family, drafts, mine, side, { previous: options.previous, spread: refreshes(spec), hash2MinEntries: options.hash2MinEntries ?? HASH2_MIN_ENTRIES });
      tables.push(...result.tables);
      for (const e of result.entries) placed.push(e);
      for (const l of result.lines) lines.push(l);
    }
    for (const i of order) {
      const e = drafts.entries[i];
      if (e?.family !== 'all') continue;
      e.handles = [];
      placed.push(e);
      lines.push(`filter add dev ${treeDev} parent ${ROOT_HANDLE} protocol all prio ${ALL_TRAFFIC_PRIO} u32 match u32 0 0 flowid ${classid(e.band)}`);
    }
    return { tables, placed, lines };
  };
  const egress = tree(dev, 'dst');

  const warnings: string[] = [];
  if (allTraffic) {
    const what = { egress: 'ALL egress traffic of', ingress: 'ALL traffic arriving at', both: 'ALL traffic leaving and arriving at' }[direction];
    warnings.push(`No destination and no port given: the fault applies to ${what} ${dev} (Litmus behaviour), including DNS and health checks.`);
  }
  const base = { interface: dev, rootHandle: ROOT_HANDLE, bands, allTraffic, entries: egress.placed, tables: egress.tables, warnings, revert: revertLines(dev) };
  if (direction === 'egress') return { ...base, apply: egress.lines };
  const ifb = ifbName(dev);
  const ingress = tree(ifb, 'src');
  return {
    ...base,
    direction,
    ifb,
    links: [`link add ${ifb} type ifb`, `link set dev ${ifb} up`],
    // The redirect comes last: packets reach the ifb only once its tree is complete.
    apply: (direction === 'both' ? egress.lines.concat(ingress.lines) : ingress.lines).concat([
      `qdisc add dev ${dev} handle ffff: ingress`,
      `filter add dev ${dev} parent ffff: protocol all prio ${INGRESS_FILTER_PRIO} u32 match u32 0 0 action mirred egress redirect dev ${ifb}`,
    ]),
  };
}

/**
 * The planner's rules that the input alone decides: at most 13 fault profiles, duplication on its own, one
 * fault per destination among the addresses given. buildSpec refuses them before anything runs (exit 2);
 * plan() checks the same rules again once discovery has added the named dependencies' addresses (PlanError).
 */
export function specProblems(groups: readonly FaultGroup[]): PlanError[] {
  try {
    const bands = assignBands(groups);
    // One group without port exclusions cannot give one match two outcomes: nothing to compare.
    if (groups.length > 1 || groups.some((g) => g.destinationPorts.mode === 'except' || g.sourcePorts.mode === 'except')) {
      const drafts = new Drafts();
      for (const g of groups) if (g.named === undefined || g.destinations.length > 0) groupEntries(drafts, g, g.destinations, bandOf(bands, g));
      dedupe(drafts, drafts.all());
    }
    return [];
  } catch (error) {
    if (error instanceof PlanError) return [error];
    throw error;
  }
}

function bandOf(bands: readonly Band[], g: FaultGroup): number {
  const found = bands.find((b) => b.groups.includes(g.name));
  if (!found) throw new Error(`unreachable: no band for ${g.name}`);
  return found.band;
}

export function revertLines(dev: string): string[] {
  return [`qdisc del dev ${dev} root handle ${ROOT_HANDLE}`, `qdisc show dev ${dev}`];
}

const classids: string[] = [];
const classid = (band: number): string => (classids[band] ??= `${ROOT_HANDLE}${band.toString(16)}`);
const hex = (n: number): string => n.toString(16);

function netemKey(n: Netem): string {
  return netemArgs(n).join(' ');
}

function assignBands(groups: readonly FaultGroup[]): Band[] {
  const bands: Band[] = [];
  for (const g of groups) {
    const key = netemKey(g.netem);
    const existing = bands.find((b) => b.netemArgs.join(' ') === key);
    if (existing) {
      bands[bands.indexOf(existing)] = { ...existing, groups: [...existing.groups, g.name] };
      continue;
    }
    if (bands.length === MAX_PROFILES) {
      throw new PlanError('FAULTS', `at most ${MAX_PROFILES} different fault profiles fit in one prio qdisc (16 bands), and ${g.name} (${describeNetem(g.netem)}) is the ${MAX_PROFILES + 1}th; merge some groups`);
    }
    const band = FIRST_FAULT_BAND + bands.length;
    bands.push({
      band,
      classid: classid(band),
      netemHandle: `${hex(ROOT_MAJOR + 1 + bands.length)}:`,
      netem: g.netem,
      netemArgs: netemArgs(g.netem),
      description: describeNetem(g.netem),
      groups: [g.name],
    });
  }
  if (bands.length > 1 && bands.some((b) => b.netem.duplicatePct > 0)) {
    throw new PlanError('FAULTS', `duplication cannot share a tree with other faults (${bands.map((b) => `${b.groups.join(', ')}: ${b.description}`).join('; ')}): current kernels refuse a duplicating netem next to other netems ("netem: cannot mix duplicating netems with other netems in tree"). Run duplication on its own, or give every group the same fault`);
  }
  return bands;
}

/** An entry while it is planned: the Entry itself (the literal's keys in their order), its handles set once placed. */
type Draft = { -readonly [K in keyof Entry]: Entry[K] };

/** The handles of an entry not placed yet. */
const UNPLACED: readonly string[] = Object.freeze([]);

/**
 * The entries while they are planned, as columns: `entries[i]` is the object the Plan holds in the end (one object
 * per entry: no second, placed copy), `words[4i…4i+3]` its address as 32-bit words (IPv4 in the first, 0 without an
 * address), for the order and the hash bucket. The planner sorts and filters indexes into them, not objects. A list
 * of 10,000 destinations made 10,000 entries before, each with its own address array and then a placed copy: all
 * of them lived long enough to be copied by the young generation's collections (bench/startup-profile.md).
 */
class Drafts {
  readonly entries: Draft[] = [];
  words: Uint32Array;

  /**
   * `expected`: about how many entries will come (one per destination is the common case). Room for them is made at
   * once: a typed array that doubles as it fills makes ~twice the memory, every page of it touched fresh (on the
   * host of bench/startup-profile.md round 12 a fresh page costs ~17 µs), and the room not filled is never touched.
   */
  constructor(expected = 0) {
    this.words = new Uint32Array(4 * Math.max(64, expected));
  }

  /** Adds `e` with the address at src[at…at+3] (none: zeros). */
  push(e: Draft, src: Uint32Array | undefined, at: number): void {
    const i = this.entries.length;
    if (4 * i + 4 > this.words.length) {
      const grown = new Uint32Array(this.words.length * 2);
      grown.set(this.words);
      this.words = grown;
    }
    if (src) for (let k = 0; k < 4; k++) this.words[4 * i + k] = src[at + k] ?? 0;
    this.entries.push(e);
  }

  /** Every index, in the order the entries were made. */
  all(): number[] {
    return this.entries.map((_e, i) => i);
  }
}

/** No ports (one shared array, not a new one per entry and loop). */
const NONE: readonly number[] = Object.freeze([]);

/**
 * The filter entries one group needs: its port exclusions, then its matches. `discovered` addresses (hostnames,
 * pods, Services) are not merged into networks, so that a refresh can add or delete each one alone.
 */
function groupEntries(out: Drafts, g: FaultGroup, destinations: readonly DestinationItem[], band: number, discovered: readonly DestinationItem[] = []): void {
  const handles = UNPLACED;
  /** The entries of one address (at w[at…]) or of none (w undefined). */
  const emit = (family: IpFamily | 'all', cidr: Cidr | undefined, w: Uint32Array | undefined, at: number, dports: PortFilter, sports: PortFilter): void => {
    const group = g.name;
    let positive = false;
    // No port on either side (a plain list of addresses): none of the four port loops' iterators.
    if (dports.mode !== 'any' || sports.mode !== 'any') {
      for (const p of dports.mode === 'except' ? dports.ports : NONE) out.push({ group, family, cidr, dport: p, sport: undefined, action: 'bypass', band: BYPASS_BAND, handles }, w, at);
      for (const p of sports.mode === 'except' ? sports.ports : NONE) out.push({ group, family, cidr, dport: undefined, sport: p, action: 'bypass', band: BYPASS_BAND, handles }, w, at);
      for (const p of dports.mode === 'only' ? dports.ports : NONE) { out.push({ group, family, cidr, dport: p, sport: undefined, action: 'fault', band, handles }, w, at); positive = true; }
      for (const p of sports.mode === 'only' ? sports.ports : NONE) { out.push({ group, family, cidr, dport: undefined, sport: p, action: 'fault', band, handles }, w, at); positive = true; }
    }
    if (!positive) out.push({ group, family, cidr, dport: undefined, sport: undefined, action: 'fault', band, handles }, w, at);
  };
  if (destinations.length + discovered.length === 0) {
    if (g.destinationPorts.mode === 'any' && g.sourcePorts.mode === 'any') {
      emit('all', undefined, undefined, 0, g.destinationPorts, g.sourcePorts);
    } else {
      emit(4, undefined, undefined, 0, g.destinationPorts, g.sourcePorts);
      emit(6, undefined, undefined, 0, g.destinationPorts, g.sourcePorts);
    }
    return;
  }
  const add = (cidr: Cidr, w: Uint32Array, at: number, ports: readonly number[]): void => {
    emit(cidr.family, cidr, w, at, ports.length > 0 ? { mode: 'only', ports } : g.destinationPorts, g.sourcePorts);
  };
  mergeDestinations(destinations, g.destinationWords, add);
  const one = new Uint32Array(4);
  for (const { cidr, ports } of discovered) {
    addressWords(cidr, one, 0);
    add(cidr, one, 0, ports);
  }
}

/**
 * Merges overlapping and adjacent networks that carry the same ports into the fewest CIDRs that cover exactly the
 * same addresses, and hands each on (IPv4 first, in address order). Networks that merge with nothing come as they were.
 * `given`: the items' addresses as the parser read them (4 words each); without it, each address's text is read here.
 */
function mergeDestinations(items: readonly DestinationItem[], given: Uint32Array | undefined, add: (cidr: Cidr, w: Uint32Array, at: number, ports: readonly number[]) => void): void {
  let words = given;
  if (words?.length !== 4 * items.length) {
    words = new Uint32Array(4 * items.length);
    const fill = words;
    items.forEach((item, i) => { addressWords(item.cidr, fill, 4 * i); });
  }
  // Each slot's items as indexes into `items` (and `words`): no second array of addresses.
  const byPorts = new Map<string, { ports: readonly number[]; v4: number[]; v6: number[] }>();
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (!item) continue;
    const key = item.ports.length === 0 ? '' : item.ports.join(',');
    let slot = byPorts.get(key);
    if (!slot) byPorts.set(key, slot = { ports: item.ports, v4: [], v6: [] });
    (item.cidr.family === 4 ? slot.v4 : slot.v6).push(i);
  }
  for (const { ports, v4, v6 } of byPorts.values()) {
    for (const family of [v4, v6]) mergeNetworks(items, family, words, (cidr, w, at) => { add(cidr, w, at, ports); });
  }
}

/**
 * Sorted by address (the wider of two networks that start together first), a network is dropped when the one
 * kept before it covers it, and two halves of one network (buddies: the same prefix, differing only in its last
 * bit) are replaced by that network, repeatedly. What is kept has no overlaps and no buddies: the fewest CIDRs.
 * `which`: the items of one family to merge (indexes into `items`, whose addresses are at words[4i…4i+3]).
 */
function mergeNetworks(items: readonly DestinationItem[], which: number[], words: Uint32Array, add: (cidr: Cidr, w: Uint32Array, at: number) => void): void {
  const prefixOf = (i: number): number => items[i]?.cidr.prefix ?? 0;
  const order = which.sort((i, j) => compareWords(words, 4 * i, words, 4 * j) || prefixOf(i) - prefixOf(j));
  const kept: Cidr[] = [];
  // The kept networks' addresses, 4 words each.
  const keptWords = new Uint32Array(4 * which.length);
  for (const i of order) {
    const c = items[i]?.cidr;
    if (!c) continue;
    const u = 4 * i;
    const last = kept[kept.length - 1];
    const lastAt = 4 * (kept.length - 1);
    if (last && last.prefix <= c.prefix && samePrefixWords(keptWords, lastAt, words, u, last.prefix)) continue;
    let merged = c;
    for (;;) {
      const before = kept[kept.length - 1];
      const beforeAt = 4 * (kept.length - 1);
      if (!before || !buddies(before, keptWords, beforeAt, merged, words, u)) break;
      kept.pop();
      // The lower half's address is the network's address.
      merged = { family: before.family, address: before.address, prefix: before.prefix - 1 };
    }
    const at = 4 * kept.length;
    kept.push(merged);
    // A merged network starts at its lower half's address: u's leading bits, the rest 0.
    for (let k = 0; k < 4; k++) {
      const keep = merged === c ? 32 : Math.max(0, Math.min(32, merged.prefix - 32 * k));
      keptWords[at + k] = keep === 0 ? 0 : ((words[u + k] ?? 0) & (0xffffffff << (32 - keep))) >>> 0;
    }
  }
  kept.forEach((c, k) => { add(c, keptWords, 4 * k); });
}

/** Lexicographic order of the addresses at a[ai…ai+3] and b[bi…bi+3]. */
function compareWords(a: Uint32Array, ai: number, b: Uint32Array, bi: number): number {
  for (let k = 0; k < 4; k++) {
    const d = (a[ai + k] ?? 0) - (b[bi + k] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** True when the first `bits` bits of the addresses at a[ai…] and b[bi…] are equal. */
function samePrefixWords(a: Uint32Array, ai: number, b: Uint32Array, bi: number, bits: number): boolean {
  const whole = bits >>> 5;
  for (let k = 0; k < whole; k++) if (a[ai + k] !== b[bi + k]) return false;
  const rest = bits & 31;
  if (rest === 0) return true;
  const mask = 0xffffffff << (32 - rest);
  return (((a[ai + whole] ?? 0) ^ (b[bi + whole] ?? 0)) & mask) === 0;
}

/** Bit `i` (0 = the most significant) of the address at w[at…]. */
const bitOf = (w: Uint32Array, at: number, i: number): number => ((w[at + (i >>> 5)] ?? 0) >>> (31 - (i & 31))) & 1;

/** a (at x[xi…]) and b (at y[yi…]), a first, are the two halves of one network. */
function buddies(a: Cidr, x: Uint32Array, xi: number, b: Cidr, y: Uint32Array, yi: number): boolean {
  const p = a.prefix;
  if (p === 0 || b.prefix !== p) return false;
  return samePrefixWords(x, xi, y, yi, p - 1) && bitOf(x, xi, p - 1) === 0 && bitOf(y, yi, p - 1) === 1;
}

const entryKey = (e: Omit<Entry, 'handles'>): string =>
  `${e.family}|${e.cidr ? formatCidr(e.cidr) : '*'}|${e.dport ?? '*'}|${e.sport ?? '*'}`;

function describeEntry(e: Draft): string {
  const where = e.cidr ? formatCidr(e.cidr) : e.family === 'all' ? 'all traffic' : `any IPv${e.family} address`;
  return `${where}${e.dport ? ` dport ${e.dport}` : ''}${e.sport ? ` sport ${e.sport}` : ''}`;
}

/**
 * False when groupEntries cannot have made two entries with one match: one group, no discovered addresses, and no
 * destination with ports of its own. Its networks then come out of mergeNetworks once each, without overlaps, and
 * each network's entries differ in their ports. dedupe (a map of every entry's address) is then skipped: a list of
 * 10,000 addresses is one such group.
 */
function repeatsPossible(spec: Spec, facts: Facts): boolean {
  const [only, ...others] = spec.groups;
  return only === undefined || others.length > 0 || (facts.discovered?.[0]?.length ?? 0) > 0 || only.destinations.some((d) => d.ports.length > 0);
}

/** Drops exact repeats (of the entries at `order`); the same match with two different outcomes is an error. */
function dedupe(drafts: Drafts, order: readonly number[]): number[] {
  // Looked up by the address text (made once by the parser; no key string is built per entry), then compared
  // field by field with the few entries that share the address.
  const byAddress = new Map<string, Draft | Draft[]>();
  const kept: number[] = [];
  const same = (a: Draft, b: Draft): boolean =>
    a.family === b.family && a.cidr?.prefix === b.cidr?.prefix && a.dport === b.dport && a.sport === b.sport;
  for (const i of order) {
    const e = drafts.entries[i];
    if (!e) continue;
    const key = e.cidr?.address ?? `any IPv${e.family}`;
    const found = byAddress.get(key);
    const prev = found === undefined ? undefined : Array.isArray(found) ? found.find((x) => same(x, e)) : same(found, e) ? found : undefined;
    if (!prev) {
      byAddress.set(key, found === undefined ? e : Array.isArray(found) ? [...found, e] : [found, e]);
      kept.push(i);
    } else if (prev.band !== e.band || prev.action !== e.action) {
      throw new PlanError('FAULTS', `${describeEntry(e)} is given two different faults (in ${prev.group} and ${e.group}); give each destination one fault`);
    }
  }
  return kept;
}

const familyRank = { 4: 0, 6: 1, all: 2 } as const;

/** Most specific first: longer prefix, then exclusions, then port matches, then a stable order. */
function compareEntries(drafts: Drafts, i: number, j: number): number {
  const a = drafts.entries[i];
  const b = drafts.entries[j];
  if (!a || !b) return 0;
  const diff =
    (b.cidr?.prefix ?? -1) - (a.cidr?.prefix ?? -1) ||
    (a.action === b.action ? 0 : a.action === 'bypass' ? -1 : 1) ||
    (a.dport !== undefined || a.sport !== undefined ? 0 : 1) - (b.dport !== undefined || b.sport !== undefined ? 0 : 1) ||
    familyRank[a.family] - familyRank[b.family];
  if (diff !== 0) return diff;
  // Entries without an address have 0 words: equal.
  const d = compareWords(drafts.words, 4 * i, drafts.words, 4 * j);
  if (d !== 0) return d;
  return (a.dport ?? 0) - (b.dport ?? 0) || (a.sport ?? 0) - (b.sport ?? 0);
}

/** A (slot, entry index) pair as one number: slot * PAIR + index (exact in a double: slot ≤ 0x10000, index < 2^32). */
const PAIR = 2 ** 32;

/** How a refreshed plan places its entries: against the live tree (`previous`), ids spread to leave room. */
interface Placement {
  readonly previous: Plan | undefined;
  readonly spread: boolean;
  readonly hash2MinEntries: number;
}

/** Identity of an entry across refreshes: what it matches and where it sends the packets. */
const identity = (e: Omit<Entry, 'handles'>): string => `${entryKey(e)}|${e.action}|${e.band}`;

function placeFamily(
  dev: string, family: IpFamily, drafts: Drafts, order: readonly number[], side: Side = 'dst',
  live: Placement = { previous: undefined, spread: false, hash2MinEntries: HASH2_MIN_ENTRIES },
): { tables: Table[]; entries: Entry[]; lines: string[] } {
  const f = familyInfo[family];
  const head = `filter add dev ${dev} parent ${ROOT_HANDLE} protocol ${f.protocol} prio ${f.prio}`;
  /** This family's entries, in their order (the drafts at `order`). */
  const entries = order.map((i) => drafts.entries[i]).filter((e) => e !== undefined);
  const hashable = (e: Draft): boolean => e.cidr !== undefined && e.cidr.prefix >= f.hashMinPrefix;
  // A live family keeps its layout: a hash table created mid-run would be linked after the linear one, and a
  // second level added mid-run would move every entry.
  const liveTables = live.previous?.tables.filter((t) => t.family === family) ?? [];
  let layout: 'linear' | 'hash' | 'hash2';
  if (liveTables.length > 0) layout = liveTables.some((t) => t.level === 1) ? 'hash2' : liveTables.some((t) => t.kind === 'hash') ? 'hash' : 'linear';
  else {
    const hashed = entries.filter(hashable).length;
    layout = hashed > live.hash2MinEntries ? 'hash2' : hashed > HASH_MIN_ENTRIES ? 'hash' : 'linear';
  }
  const useHash = layout !== 'linear';
  const two = layout === 'hash2';
  const liveHandles = new Map<string, readonly string[]>();
  for (const e of live.previous?.entries ?? []) if (e.family === family) liveHandles.set(identity(e), e.handles);
  /** The ids of a slot's entries (at `prefix`) in a refresh: the live entries keep theirs. */
  const liveIds = (inSlot: readonly Draft[], prefix: string): number[] => assignNodeIds(inSlot, (k) => {
    const m = inSlot[k];
    const handle = m && liveHandles.get(identity(m))?.find((h) => h.startsWith(prefix));
    return handle === undefined ? undefined : parseInt(handle.slice(prefix.length), 16);
  }, live.spread);

  // Which buckets (slots) each entry lands in: the hash table's bucket (its last byte; two levels: last byte * 256
  // + the byte before, i.e. the level-2 table and its bucket), LINEAR the linear table's only one.
  const LINEAR = two ? 0x10000 : 0x100;
  const slotText = (slot: number): string =>
    slot === LINEAR ? `${hex(f.linear)}:0:` : two ? `${level2Htid(family, slot >>> 8)}${hex(slot & 0xff)}:` : `${hex(f.hash)}:${hex(slot)}:`;
  // The address's last word (IPv4: its only one) holds the last byte and the byte before.
  const lastWord = family === 4 ? 0 : 3;
  // (slot, entry) pairs as one number each, sorted: slot after slot, each slot's entries in their order. A native
  // sort of one typed array: no array per slot, and no walk over the 65,536 possible slots of two hash levels
  // (10,000 destinations make ~5,000 slots of one entry each per family).
  const pairs: number[] = [];
  entries.forEach((e, i) => {
    if (!useHash || !hashable(e) || !e.cidr) { pairs.push(LINEAR * PAIR + i); return; }
    const word = drafts.words[4 * (order[i] ?? 0) + lastWord] ?? 0;
    const first = word & 0xff;
    const last = first + 2 ** (f.bits - e.cidr.prefix);
    // Two levels: a /25../31 (/121../127) has one byte before its last: one level-2 bucket in each table.
    const before = (word >>> 8) & 0xff;
    for (let b = first; b < last; b++) pairs.push((two ? (b << 8) | before : b) * PAIR + i);
  });
  const sorted = Float64Array.from(pairs).sort();
  // Node ids slot by slot (so each entry's handles come in its buckets' order), in the entries' order.
  const fresh = liveHandles.size === 0;
  const handlesOf: (string[] | undefined)[] = [];
  /** Entry nodes per slot kind: the hash table's (all levels), the linear table's, and each level-2 table's. */
  let hashNodes = 0;
  let linearNodes = 0;
  const level2Nodes = new Array<number>(two ? 256 : 0).fill(0);
  /** Two levels: the hashed entries' (entry, handle) in slot order, i.e. level-2 table after table (their lines' order). */
  const hashedEntry: number[] = [];
  const hashedHandle: string[] = [];
  const inSlot: number[] = [];
  for (let at = 0; at < sorted.length;) {
    const slot = Math.floor((sorted[at] ?? 0) / PAIR);
    inSlot.length = 0;
    for (; at < sorted.length && Math.floor((sorted[at] ?? 0) / PAIR) === slot; at++) inSlot.push((sorted[at] ?? 0) - slot * PAIR);
    const n = inSlot.length;
    const prefix = slotText(slot);
    if (n > MAX_NODES) {
      throw new PlanError('DESTINATION_IPS', `more than ${MAX_NODES} IPv${family} filter entries land in one u32 table (${prefix}); merge destinations into CIDRs`);
    }
    if (slot === LINEAR) linearNodes += n;
    else hashNodes += n;
    if (two && slot !== LINEAR) level2Nodes[slot >>> 8] = (level2Nodes[slot >>> 8] ?? 0) + n;
    // Without a live tree the ids are k * step (assignNodeIds' rule for a bucket without kept entries), computed here
    // without its arrays.
    const step = fresh ? freshStep(n, live.spread) : 0;
    const ids = fresh ? undefined : liveIds(inSlot.map((i) => entries[i]).filter((e) => e !== undefined), prefix);
    for (let k = 0; k < n; k++) {
      const i = inSlot[k] ?? 0;
      const handle = `${prefix}${hex(ids ? ids[k] ?? 0 : (k + 1) * step)}`;
      const handles = handlesOf[i];
      // A literal for the first: an array that starts empty and grows reserves room for 17.
      if (handles) handles.push(handle);
      else handlesOf[i] = [handle];
      if (two && slot !== LINEAR) {
        hashedEntry.push(i);
        hashedHandle.push(handle);
      }
    }
  }
  const how = { head, match: f.match, side };
  const { tables, lines } = familyTables(family, head, {
    layout, liveTables, hashNodes, level2Nodes, linearNodes, offset: side === 'dst' ? f.hashOffset : f.srcHashOffset,
    level2Lines: level2LineWriter(how, entries, { entry: hashedEntry, handle: hashedHandle, perTable: level2Nodes }),
  });
  return { tables, entries: placeEntries(entries, handlesOf, how, lines, two ? `${hex(f.linear)}:` : undefined), lines };
}

/**
 * Two levels: each level-2 table's entry lines go right after the line that creates it. The kernel finds the
 * table of a new node by walking its list of tables, newest first (cls_u32.c u32_lookup_ht): right after its
 * creation the table is first in that list; after all 514 tables of two families, ~260 steps per entry on average.
 * `hashed` lists the hashed entries' (entry, handle) table after table, `perTable` how many each table has.
 */
function level2LineWriter(
  how: How, entries: readonly Draft[], hashed: { entry: readonly number[]; handle: readonly string[]; perTable: readonly number[] },
): (b: number, out: string[]) => void {
  let next = 0;
  const words: (string | number)[] = [];
  return (b, out) => {
    for (const end = next + (hashed.perTable[b] ?? 0); next < end; next++) {
      const e = entries[hashed.entry[next] ?? -1];
      if (e) out.push(entryLine(words, how, e, hashed.handle[next] ?? ''));
    }
  };
}

/** How many nodes each of a family's tables holds, and its layout. */
interface TableCounts {
  readonly layout: 'linear' | 'hash' | 'hash2';
  /** The family's tables in the live tree (a refresh): they all stay. */
  readonly liveTables: readonly Table[];
  readonly hashNodes: number;
  readonly level2Nodes: readonly number[];
  readonly linearNodes: number;
  /** Where the hash key (the address's last word) is: the destination's or (ingress) the source's. */
  readonly offset: number;
  /** Two levels: appends the entry lines of level-2 table b (its bucket number). */
  readonly level2Lines: (b: number, out: string[]) => void;
}

/** A family's tables and the lines that create and link them (the entries' lines follow). */
function familyTables(family: IpFamily, head: string, c: TableCounts): { tables: Table[]; lines: string[] } {
  const f = familyInfo[family];
  const two = c.layout === 'hash2';
  const has = (kind: Table['kind']): boolean => c.liveTables.some((t) => t.kind === kind);
  const tables: Table[] = [];
  const lines: string[] = [];
  const hashTable = c.layout !== 'linear' && (two || c.hashNodes > 0 || has('hash') || c.liveTables.length === 0);
  const linearTable = c.linearNodes > 0 || has('linear');
  if (hashTable && !two) {
    tables.push({ family, htid: `${hex(f.hash)}:`, kind: 'hash', divisor: 256, nodes: c.hashNodes });
    lines.push(`${head} handle ${hex(f.hash)}: u32 divisor 256`);
  }
  if (two) {
    // Every table exists from the start and stays for the run: a refresh only adds and deletes entries. Each
    // level-2 table with its entries, then the level-1 table and its 256 links (a table exists before a link to
    // it), and the root's link last: the family's traffic meets its filters once they are all in place.
    tables.push({ family, htid: `${hex(f.hash)}:`, kind: 'hash', divisor: 256, nodes: 256, level: 1 });
    for (let b = 0; b < 256; b++) {
      const htid = level2Htid(family, b);
      tables.push({ family, htid, kind: 'hash', divisor: 256, nodes: c.level2Nodes[b] ?? 0, level: 2 });
      lines.push(`${head} handle ${htid} u32 divisor 256`);
      c.level2Lines(b, lines);
    }
    lines.push(`${head} handle ${hex(f.hash)}: u32 divisor 256`);
    for (let b = 0; b < 256; b++) {
      lines.push(`${head} handle ${hex(f.hash)}:${hex(b)}:1 u32 ht ${hex(f.hash)}:${hex(b)}: match u32 0 0 hashkey mask 0x0000ff00 at ${c.offset} link ${level2Htid(family, b)}`);
    }
  }
  if (linearTable) {
    tables.push({ family, htid: `${hex(f.linear)}:`, kind: 'linear', divisor: 1, nodes: c.linearNodes });
    lines.push(`${head} handle ${hex(f.linear)}: u32 divisor 1`);
  }
  if (hashTable) lines.push(`${head} u32 match u32 0 0 hashkey mask 0x000000ff at ${c.offset} link ${hex(f.hash)}:`);
  if (linearTable) lines.push(`${head} u32 match u32 0 0 link ${hex(f.linear)}:`);
  return { tables, lines };
}

interface How {
  readonly head: string;
  readonly match: 'ip' | 'ip6';
  readonly side: Side;
}

/**
 * The entries with their handles; the filter line of each handle appended to `lines` (with `only`: of each handle
 * in that table; two hash levels place their hashed entries' lines with their tables).
 */
function placeEntries(entries: readonly Draft[], handlesOf: readonly (string[] | undefined)[], how: How, lines: string[], only?: string): Entry[] {
  const placed: Entry[] = [];
  const words: (string | number)[] = [];
  entries.forEach((e, i) => {
    const handles = handlesOf[i] ?? [];
    for (const handle of handles) if (only === undefined || handle.startsWith(only)) lines.push(entryLine(words, how, e, handle));
    e.handles = handles;
    placed.push(e);
  });
  return placed;
}

/**
 * The line that adds entry `e` at `handle`. One join per line (a flat string; a template would be a tree of
 * concatenations, twice the memory), of one array (`words`) used for every line: no array and no joined match text
 * per entry (10,000 entries in a cold process).
 */
function entryLine(words: (string | number)[], how: How, e: Draft, handle: string): string {
  words.length = 0;
  words.push(how.head, 'handle', handle, 'u32 ht', handle.slice(0, handle.lastIndexOf(':') + 1));
  matchWords(words, how.match, e, how.side);
  return words.join(' ');
}

/**
 * What follows `ht …`, appended to `words`: the match keys and the class. On the src side (ingress) the dependency
 * is the packet's source: dst→src, dport→sport, sport→dport.
 */
function matchWords(words: (string | number)[], match: 'ip' | 'ip6', e: Draft, side: Side): void {
  const start = words.length;
  const dst = side === 'dst';
  if (e.cidr && e.cidr.prefix > 0) words.push('match', match, dst ? 'dst' : 'src', `${e.cidr.address}/${e.cidr.prefix}`);
  if (e.dport !== undefined) words.push('match', match, dst ? 'dport' : 'sport', e.dport, '0xffff');
  if (e.sport !== undefined) words.push('match', match, dst ? 'sport' : 'dport', e.sport, '0xffff');
  if (words.length === start) words.push('match u32 0 0');
  words.push('flowid', classid(e.band));
}
