/**
 * Which band a Plan's tree puts a packet in, computed from the Plan (not from tc): the same walk the kernel
 * does through the filters the planner renders. Pure.
 *
 * Per IP family one filter priority (IPv4 first, then IPv6, then the all-traffic entry): its hash table first
 * (the bucket is the last byte of the peer's address; with two levels that bucket's link leads to a level-2
 * table whose bucket is the byte before), then its linear table; inside a bucket the nodes are
 * tried in node-id order and the first match wins. An entry matches when the peer's address is in its cidr,
 * its `dport` is the peer's port and its `sport` the target's own port. Egress packets carry the peer as
 * destination, ingress packets (the ifb tree, dst↔src swapped) as source: the same entry matches both, so one
 * question covers either direction. test/unit/classify.test.ts checks every answer against the u32 model.
 */
import ipaddr from 'ipaddr.js';
import type { IpFamily } from '../model/addresses.js';
import { BYPASS_BAND, type Band, type Entry, type Plan, level2Htid } from './plan.js';

/** One direction of a conversation as the tree sees it: the peer's address and port, the target's port. */
export interface Flow {
  readonly family: IpFamily;
  /** The peer's address (on the wire: IPv4 for a v4-mapped peer). */
  readonly peer: string;
  readonly peerPort: number;
  readonly ownPort: number;
}

export type Classification =
  /** A netem band: the packets get this fault. */
  | { readonly kind: 'fault'; readonly band: Band; readonly entry: Entry }
  /** A port exclusion sent it to band 2, the priomap's band for normal traffic. */
  | { readonly kind: 'bypass'; readonly band: typeof BYPASS_BAND; readonly entry: Entry }
  /** No filter matched: the default priomap (bands 1-3), never a netem band. */
  | { readonly kind: 'none' };

interface Node {
  readonly entry: Entry;
  readonly node: number;
  readonly bytes: readonly number[] | undefined;
}

interface FamilyTables {
  /** The hash table's htid (level 1 with two levels), or undefined. */
  readonly hashHtid: string | undefined;
  readonly twoLevel: boolean;
  /** Hash buckets (`htid:bucket:` → nodes in node-id order): the hash table's, or with two levels the level-2 tables'. */
  readonly hash: ReadonlyMap<string, readonly Node[]>;
  readonly linear: readonly Node[];
}

const parseHandle = (h: string): { htid: string; bucket: string; node: number } | undefined => {
  const m = /^([0-9a-f]+):([0-9a-f]+):([0-9a-f]+)$/.exec(h);
  return m?.[1] && m[2] && m[3] ? { htid: `${m[1]}:`, bucket: `${m[1]}:${m[2]}:`, node: parseInt(m[3], 16) } : undefined;
};

function inCidr(nodeBytes: readonly number[] | undefined, prefix: number, peer: readonly number[]): boolean {
  if (nodeBytes === undefined) return true;
  if (nodeBytes.length !== peer.length) return false;
  for (let bit = 0; bit < prefix; bit++) {
    const mask = 0x80 >> (bit & 7);
    if (((nodeBytes[bit >> 3] ?? 0) & mask) !== ((peer[bit >> 3] ?? 0) & mask)) return false;
  }
  return true;
}

function matches(n: Node, flow: Flow, peer: readonly number[]): boolean {
  const e = n.entry;
  if (e.dport !== undefined && e.dport !== flow.peerPort) return false;
  if (e.sport !== undefined && e.sport !== flow.ownPort) return false;
  return inCidr(n.bytes, e.cidr?.prefix ?? 0, peer);
}

/** A classifier for many flows: the plan's tables are indexed once. */
export function makeClassifier(plan: Plan): (flow: Flow) => Classification {
  const bandOf = new Map(plan.bands.map((b) => [b.band, b]));
  const hashTables = new Set(plan.tables.filter((t) => t.kind === 'hash').map((t) => t.htid));
  const tablesOf = (family: IpFamily): { hashHtid: string | undefined; twoLevel: boolean; hash: Map<string, Node[]>; linear: Node[] } => {
    // The table the root links to: the one-level hash table, or level 1 of two.
    const top = plan.tables.find((t) => t.family === family && t.kind === 'hash' && t.level !== 2);
    return { hashHtid: top?.htid, twoLevel: top?.level === 1, hash: new Map(), linear: [] };
  };
  const families = new Map([[4, tablesOf(4)], [6, tablesOf(6)]] as const);
  const all: Node[] = [];
  for (const entry of plan.entries) {
    const bytes = entry.cidr ? ipaddr.parse(entry.cidr.address).toByteArray() : undefined;
    if (entry.family === 'all') {
      all.push({ entry, node: all.length, bytes });
      continue;
    }
    const tables = families.get(entry.family);
    if (!tables) continue;
    for (const h of entry.handles) {
      const at = parseHandle(h);
      if (!at) continue;
      const node = { entry, node: at.node, bytes };
      const bucket = hashTables.has(at.htid) ? tables.hash.get(at.bucket) : undefined;
      if (bucket) bucket.push(node);
      else if (hashTables.has(at.htid)) tables.hash.set(at.bucket, [node]);
      else tables.linear.push(node);
    }
  }
  const byNode = (a: Node, b: Node): number => a.node - b.node;
  for (const t of families.values()) {
    t.linear.sort(byNode);
    for (const nodes of t.hash.values()) nodes.sort(byNode);
  }
  const frozen: ReadonlyMap<IpFamily, FamilyTables> = families;

  const verdict = (n: Node): Classification => {
    if (n.entry.action === 'bypass') return { kind: 'bypass', band: BYPASS_BAND, entry: n.entry };
    const band = bandOf.get(n.entry.band);
    if (!band) throw new Error(`unreachable: entry for band ${n.entry.band} without its band`);
    return { kind: 'fault', band, entry: n.entry };
  };
  // Many flows share a peer: parse each address once.
  const parsed = new Map<string, number[]>();
  return (flow) => {
    let peer = parsed.get(flow.peer);
    if (peer === undefined) {
      peer = ipaddr.parse(flow.peer).toByteArray();
      parsed.set(flow.peer, peer);
    }
    const t = frozen.get(flow.family);
    if (t) {
      const last = peer[peer.length - 1] ?? 0;
      const key = t.twoLevel ? `${level2Htid(flow.family, last)}${(peer[peer.length - 2] ?? 0).toString(16)}:` : `${t.hashHtid ?? ''}${last.toString(16)}:`;
      const bucket = t.hash.get(key) ?? [];
      for (const n of bucket) if (matches(n, flow, peer)) return verdict(n);
      for (const n of t.linear) if (matches(n, flow, peer)) return verdict(n);
    }
    for (const n of all) if (matches(n, flow, peer)) return verdict(n);
    return { kind: 'none' };
  };
}

/** One flow (for many, build the classifier once with makeClassifier). */
export function classifyFlow(plan: Plan, flow: Flow): Classification {
  return makeClassifier(plan)(flow);
}
