/**
 * A small model of how the kernel classifies a packet through the tree our batch builds
 * (prio root, u32 tables, links, hash keys, backtracking), so planner tests can assert which band
 * a packet to a given address and port lands in. It understands only the subset of tc that the
 * planner renders, and fails loudly on anything else.
 */
import ipaddr from 'ipaddr.js';

export interface Packet {
  readonly dst: string;
  /** The source address (ingress trees match on it); defaults to the target's own. */
  readonly src?: string;
  readonly dport?: number;
  readonly sport?: number;
}

interface AddrKey { kind: 'dst' | 'src'; bytes: number[]; prefix: number } // address match
interface PortKey { kind: 'dport' | 'sport'; port: number }
interface Node { matches: (AddrKey | PortKey)[]; flowid?: number; link?: number; hash?: { offset: number; mask: number }; all?: boolean; id?: number }

export class Tree {
  bands = 3;
  readonly netem = new Map<number, string>();
  private readonly tables = new Map<number, Map<number, Node[]>>();
  /** Root tables per (prio, protocol), in prio order. */
  private readonly roots = new Map<number, { protocol: string; nodes: Node[] }>();

  constructor(lines: readonly string[]) {
    this.apply(lines);
  }

  /** Runs more batch lines (adds and deletes) on the tree. */
  apply(lines: readonly string[]): void {
    for (const line of lines) this.add(line);
  }

  private add(line: string): void {
    let m = /^qdisc add dev \S+ root handle 4e43: prio bands (\d+)$/.exec(line);
    if (m) { this.bands = Number(m[1]); return; }
    m = /^qdisc add dev \S+ parent 4e43:([0-9a-f]+) handle [0-9a-f]+: netem (.+)$/.exec(line);
    if (m) { this.netem.set(parseInt(m[1]!, 16), m[2]!); return; }
    m = /^filter del dev \S+ parent 4e43: protocol \S+ prio \d+ handle ([0-9a-f]+):([0-9a-f]+):([0-9a-f]+) u32$/.exec(line);
    if (m) {
      const bucket = this.tables.get(parseInt(m[1]!, 16))?.get(parseInt(m[2]!, 16));
      const at = bucket?.findIndex((n) => n.id === parseInt(m![3]!, 16)) ?? -1;
      if (!bucket || at === -1) throw new Error(`u32sim: no filter to delete: ${line}`);
      bucket.splice(at, 1);
      return;
    }
    m = /^filter add dev \S+ parent 4e43: protocol (\S+) prio (\d+) (.*)$/.exec(line);
    if (!m) throw new Error(`u32sim: cannot read ${line}`);
    const protocol = m[1]!;
    const prio = Number(m[2]);
    let rest = m[3]!;
    const root = this.roots.get(prio) ?? { protocol, nodes: [] };
    if (root.protocol !== protocol) throw new Error(`u32sim: prio ${prio} has two protocols (the kernel rejects that)`);
    this.roots.set(prio, root);
    m = /^handle ([0-9a-f]+): u32 divisor (\d+)$/.exec(rest);
    if (m) { this.tables.set(parseInt(m[1]!, 16), new Map(Array.from({ length: Number(m[2]) }, (_, i) => [i, []]))); return; }
    let slot: { table: number; bucket: number; node: number } | undefined;
    m = /^handle ([0-9a-f]+):([0-9a-f]+):([0-9a-f]+) u32 ht ([0-9a-f]+):([0-9a-f]+): (.*)$/.exec(rest);
    if (m) {
      if (m[1] !== m[4] || m[2] !== m[5]) throw new Error(`u32sim: handle and ht disagree: ${line}`);
      slot = { table: parseInt(m[1]!, 16), bucket: parseInt(m[2]!, 16), node: parseInt(m[3]!, 16) };
      rest = m[6]!;
    } else if (rest.startsWith('u32 ')) {
      rest = rest.slice(4);
    } else throw new Error(`u32sim: cannot read ${line}`);
    const node: Node = { matches: [] };
    const words = rest.split(' ');
    for (let i = 0; i < words.length; i++) {
      const w = words[i];
      if (w === 'match' && words[i + 1] === 'u32') { node.all = true; i += 3; continue; }
      if (w === 'match' && (words[i + 1] === 'ip' || words[i + 1] === 'ip6')) {
        const what = words[i + 2];
        if (what === 'dst' || what === 'src') {
          const [addr, prefix] = words[i + 3]!.split('/');
          node.matches.push({ kind: what, bytes: ipaddr.parse(addr!).toByteArray(), prefix: Number(prefix) });
          i += 3;
        } else if (what === 'dport' || what === 'sport') {
          node.matches.push({ kind: what, port: Number(words[i + 3]) });
          i += 4;
        } else throw new Error(`u32sim: match ${what}`);
        continue;
      }
      if (w === 'hashkey') {
        if (words[i + 1] !== 'mask' || words[i + 3] !== 'at') throw new Error(`u32sim: hashkey ${words.slice(i, i + 5).join(' ')}`);
        node.hash = { offset: Number(words[i + 4]), mask: Number(words[i + 2]) };
        i += 4;
        continue;
      }
      if (w === 'link') { node.link = parseInt(words[i + 1]!, 16); i += 1; continue; }
      if (w === 'flowid') { node.flowid = parseInt(words[i + 1]!.split(':')[1]!, 16); i += 1; continue; }
      throw new Error(`u32sim: word ${w} in ${line}`);
    }
    if (node.link !== undefined && !this.tables.has(node.link)) throw new Error(`u32sim: link to missing table ${node.link.toString(16)}`);
    if (slot) {
      const bucket = this.tables.get(slot.table)?.get(slot.bucket);
      if (!bucket) throw new Error(`u32sim: no table ${slot.table.toString(16)} bucket ${slot.bucket} (created later?)`);
      if (bucket.length >= 0xfff) throw new Error('u32sim: Hash table node ID pool exhausted');
      if (bucket.some((n) => n.id === slot.node)) throw new Error(`u32sim: handle exists: ${line}`);
      // The kernel keeps a bucket sorted by node id (cls_u32.c u32_change): the first match in id order wins.
      node.id = slot.node;
      const at = bucket.findIndex((n) => (n.id ?? 0) > slot.node);
      bucket.splice(at === -1 ? bucket.length : at, 0, node);
    } else {
      root.nodes.push(node);
    }
  }

  /** The band (1-based) a packet lands in, or 'priomap' when no filter matched. */
  classify(p: Packet): number | 'priomap' {
    const family = ipaddr.parse(p.dst).kind() === 'ipv4' ? 'ip' : 'ipv6';
    for (const prio of [...this.roots.keys()].sort((a, b) => a - b)) {
      const root = this.roots.get(prio)!;
      if (root.protocol !== family && root.protocol !== 'all') continue;
      const band = this.walk(root.nodes, p);
      if (band !== undefined) return band;
    }
    return 'priomap';
  }

  private walk(nodes: readonly Node[], p: Packet): number | undefined {
    const dst = ipaddr.parse(p.dst).toByteArray();
    const src = ipaddr.parse(p.src ?? (dst.length === 4 ? '192.0.2.10' : '2001:db8::10')).toByteArray();
    for (const n of nodes) {
      if (!n.all && !n.matches.every((k) => matches(k, k.kind === 'src' ? src : dst, p))) continue;
      if (n.link !== undefined) {
        const table = this.tables.get(n.link)!;
        const keyed = !n.hash ? dst : n.hash.offset === (dst.length === 4 ? 16 : 36) ? dst : n.hash.offset === (dst.length === 4 ? 12 : 20) ? src : undefined;
        if (!keyed) throw new Error(`u32sim: hash key at ${n.hash?.offset} is not the last word of the destination or source address`);
        // The key is the masked word shifted down to its lowest set bit (cls_u32.c u32_hash_fold), folded into
        // the divisor: mask 0x000000ff is the word's (the address's) last byte, 0x0000ff00 the byte before.
        if (n.hash && n.hash.mask !== 0xff && n.hash.mask !== 0xff00) throw new Error(`u32sim: hashkey mask ${n.hash.mask.toString(16)}`);
        const bucket = !n.hash ? 0 : n.hash.mask === 0xff ? keyed[keyed.length - 1]! : keyed[keyed.length - 2]!;
        const found = this.walk(table.get(bucket) ?? [], p);
        if (found !== undefined) return found;
        continue; // backtrack to the next node of the parent table
      }
      if (n.flowid !== undefined) return n.flowid;
    }
    return undefined;
  }

  /** How many entries each table holds (for asserting the limits). */
  sizes(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [id, buckets] of this.tables) for (const [b, nodes] of buckets) if (nodes.length) out.set(`${id.toString(16)}:${b.toString(16)}`, nodes.length);
    return out;
  }
}

function matches(k: AddrKey | PortKey, dst: number[], p: Packet): boolean {
  if ('port' in k) return (k.kind === 'dport' ? p.dport : p.sport) === k.port;
  if (k.bytes.length !== dst.length) return false;
  for (let bit = 0; bit < k.prefix; bit++) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if (((k.bytes[byte] ?? 0) & mask) !== ((dst[byte] ?? 0) & mask)) return false;
  }
  return true;
}
