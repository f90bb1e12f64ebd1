/**
 * The kernel's socket tables of one network namespace, /proc/<pid>/net/{tcp,tcp6,udp,udp6}, parsed into
 * typed sockets. Pure: the text comes in, sockets and the lines that could not be read come out.
 *
 * Format (net/ipv4/tcp_ipv4.c get_tcp4_sock, net/ipv6/tcp_ipv6.c get_tcp6_sock, udp.c udp4_format_sock):
 *   sl  local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode …
 *   0: 0A0200C0:9332 0B0200C0:1F90 01 00000000:00000000 00:00000000 00000000 0 0 25666 1 …
 * An address is the raw in-memory address printed as 32-bit words with %08X, so each word is in the
 * HOST's byte order (0A0200C0 is 192.0.2.10 on a little-endian machine); the port is %04X of the port
 * number. IPv6 addresses are four such words. TIME_WAIT and request sockets have inode 0 (no owner).
 */
import ipaddr from 'ipaddr.js';
import type { IpFamily } from '../model/addresses.js';
import type { ProcNetFile } from './raw.js';

export { type ProcNetFile, procNetFiles } from './raw.js';
export type Proto = 'tcp' | 'udp';
export type Endianness = 'LE' | 'BE';

/** Socket states by ss's names (TCP_* in include/net/tcp_states.h); a UDP socket is ESTAB when connect()ed, else UNCONN. */
export type SocketState =
  | 'ESTAB' | 'SYN-SENT' | 'SYN-RECV' | 'FIN-WAIT-1' | 'FIN-WAIT-2' | 'TIME-WAIT' | 'UNCONN'
  | 'CLOSE-WAIT' | 'LAST-ACK' | 'LISTEN' | 'CLOSING' | 'NEW-SYN-RECV' | 'BOUND-INACTIVE';

const tcpStates: readonly (SocketState | undefined)[] = [
  undefined, 'ESTAB', 'SYN-SENT', 'SYN-RECV', 'FIN-WAIT-1', 'FIN-WAIT-2', 'TIME-WAIT', 'UNCONN',
  'CLOSE-WAIT', 'LAST-ACK', 'LISTEN', 'CLOSING', 'NEW-SYN-RECV', 'BOUND-INACTIVE',
];

export interface Endpoint {
  /**
   * The address as it is on the wire: dotted IPv4 (also for the v4-mapped `::ffff:a.b.c.d` of an IPv6
   * socket, whose packets are IPv4), compressed lower-case IPv6; `0.0.0.0` / `::` for "any".
   */
  readonly address: string;
  readonly port: number;
}

export interface Socket {
  readonly proto: Proto;
  /** The IP version of its packets: 4 for an IPv4 socket and for an IPv6 socket with v4-mapped addresses. */
  readonly family: IpFamily;
  /** The socket is an AF_INET6 socket (read from tcp6/udp6), even when its addresses are v4-mapped. */
  readonly v6Socket: boolean;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  readonly state: SocketState;
  /** 0 for sockets no process owns (TIME-WAIT, SYN-RECV request sockets). */
  readonly inode: number;
}

export interface SocketTable {
  readonly sockets: readonly Socket[];
  /** Lines that could not be read, with where they came from (the rest of the table is still used). */
  readonly problems: readonly string[];
}

const fileInfo = {
  tcp: { proto: 'tcp', hexLength: 8 },
  tcp6: { proto: 'tcp', hexLength: 32 },
  udp: { proto: 'udp', hexLength: 8 },
  udp6: { proto: 'udp', hexLength: 32 },
} as const satisfies Record<ProcNetFile, { proto: Proto; hexLength: number }>;

const headerStart = /^\s*sl\s/;
/** A line with something on it (a test, where `line.trim() !== ''` would copy each of thousands of lines). */
const notBlank = /\S/;

/** Which table a header line starts: UDP headers end in `ref pointer drops`, IPv6 ones say `remote_address`. */
export function headerKind(line: string): ProcNetFile | undefined {
  // Every socket line comes here too (splitTables): those are turned away before any string is made.
  if (!headerStart.test(line)) return undefined;
  const words = line.trim().split(/\s+/);
  if (words[0] !== 'sl' || words[1] !== 'local_address') return undefined;
  const v6 = words[2] === 'remote_address';
  if (!v6 && words[2] !== 'rem_address') return undefined;
  const udp = words.slice(-3).join(' ') === 'ref pointer drops';
  return udp ? (v6 ? 'udp6' : 'udp') : (v6 ? 'tcp6' : 'tcp');
}

/**
 * Splits the concatenation of several tables (`cat /proc/self/net/tcp /proc/self/net/tcp6 …` in one exec)
 * at their header lines. A file that was missing (no IPv6 in the kernel) simply has no section.
 */
export function splitTables(text: string): { kind: ProcNetFile; text: string }[] {
  const out: { kind: ProcNetFile; lines: string[] }[] = [];
  const stray: string[] = [];
  for (const line of text.split('\n')) {
    const kind = headerKind(line);
    if (kind) out.push({ kind, lines: [line] });
    else if (!notBlank.test(line)) continue;
    else if (out.length > 0) out[out.length - 1]?.lines.push(line);
    else stray.push(line);
  }
  if (stray.length > 0) throw new Error(`socket table output does not start with a /proc/net header line: ${JSON.stringify(stray[0]?.slice(0, 120))}`);
  return out.map((s) => ({ kind: s.kind, text: s.lines.join('\n') + '\n' }));
}

/** Bytes of an address printed as host-order 32-bit words (8 hex digits each). */
function addressBytes(hex: string, endianness: Endianness): number[] | undefined {
  if (!/^[0-9A-Fa-f]+$/.test(hex) || hex.length % 8 !== 0) return undefined;
  const bytes: number[] = [];
  for (let w = 0; w < hex.length; w += 8) {
    const word = [0, 2, 4, 6].map((i) => parseInt(hex.slice(w + i, w + i + 2), 16));
    bytes.push(...(endianness === 'LE' ? word.reverse() : word));
  }
  return bytes;
}

/** An address from its bytes; a v4-mapped IPv6 address (::ffff:a.b.c.d) becomes the IPv4 address it carries. */
function decodeAddress(bytes: number[]): { address: string; family: IpFamily } {
  if (bytes.length === 4) return { address: bytes.join('.'), family: 4 };
  const v6 = new ipaddr.IPv6(bytes);
  if (v6.isIPv4MappedAddress()) return { address: v6.toIPv4Address().toString(), family: 4 };
  return { address: v6.toString(), family: 6 };
}

/** One socket line: sl, local, remote, st, tx:rx, tr:when, retrnsmt, uid, timeout, inode (the rest is ignored). */
const lineRe = /^\s*\d+: ([0-9A-Fa-f]+):([0-9A-Fa-f]{4}) ([0-9A-Fa-f]+):([0-9A-Fa-f]{4}) ([0-9A-Fa-f]{2}) [0-9A-Fa-f]+:[0-9A-Fa-f]+ [0-9A-Fa-f]+:[0-9A-Fa-f]+ [0-9A-Fa-f]+ +\d+ +\d+ (\d+)(?: |$)/;

/** Parses one table (its header line first). `where` names it in problems, e.g. `/proc/4242/net/tcp6`. */
export function parseProcNet(kind: ProcNetFile, text: string, opts: { endianness: Endianness; where: string }): SocketTable {
  const { proto, hexLength } = fileInfo[kind];
  const v6Socket = hexLength === 32;
  const sockets: Socket[] = [];
  const problems: string[] = [];
  const lines = text.split('\n');
  const header = lines[0] ?? '';
  if (headerKind(header) !== kind) {
    return { sockets, problems: [`${opts.where}: the first line is not the ${kind} header: ${JSON.stringify(header.trim().slice(0, 120))}`] };
  }
  // Most sockets share a few addresses (the target's own, its peers): decode each one once.
  const decoded = new Map<string, { address: string; family: IpFamily } | undefined>();
  const decode = (hex: string): { address: string; family: IpFamily } | undefined => {
    if (decoded.has(hex)) return decoded.get(hex);
    const bytes = hex.length === hexLength ? addressBytes(hex, opts.endianness) : undefined;
    const value = bytes ? decodeAddress(bytes) : undefined;
    decoded.set(hex, value);
    return value;
  };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (!notBlank.test(line)) continue;
    const m = lineRe.exec(line);
    const local = m?.[1] ? decode(m[1]) : undefined;
    const remote = m?.[3] ? decode(m[3]) : undefined;
    const stateCode = parseInt(m?.[5] ?? '', 16);
    const state = proto === 'udp'
      ? (stateCode === 1 ? 'ESTAB' : stateCode === 7 ? 'UNCONN' : undefined)
      : tcpStates[stateCode];
    if (!m || !local || !remote || !state) {
      problems.push(`${opts.where} line ${i + 1}: cannot read ${JSON.stringify(line.trim().slice(0, 120))}`);
      continue;
    }
    // An IPv6 socket talking IPv4 has v4-mapped addresses (decoded as IPv4); a wildcard `::` then means 0.0.0.0.
    const family: IpFamily = isUnspecified(remote.address) ? local.family : remote.family;
    sockets.push({
      proto, family, v6Socket,
      local: { address: wire(family, local.address), port: parseInt(m[2] ?? '', 16) },
      remote: { address: wire(family, remote.address), port: parseInt(m[4] ?? '', 16) },
      state, inode: Number(m[6]),
    });
  }
  return { sockets, problems };
}

/** An address as it is on the wire for a socket of this family: an IPv6 socket's `::` talking IPv4 is 0.0.0.0. */
const wire = (family: IpFamily, address: string): string => (family === 4 && address === '::' ? '0.0.0.0' : address);

export const isUnspecified = (address: string): boolean => address === '0.0.0.0' || address === '::';

/**
 * Several tables read at one moment → one list. The kernel prints a table in page-sized chunks, so a
 * socket that moves between two reads may be printed twice: repeats (same table, addresses and inode)
 * are dropped.
 */
export function mergeTables(tables: readonly SocketTable[]): SocketTable {
  const seen = new Set<string>();
  const sockets: Socket[] = [];
  for (const t of tables) {
    for (const s of t.sockets) {
      const key = `${s.proto}${s.v6Socket ? 6 : 4}|${s.local.address}|${s.local.port}|${s.remote.address}|${s.remote.port}|${s.inode}|${s.state}`;
      if (seen.has(key)) continue;
      seen.add(key);
      sockets.push(s);
    }
  }
  return { sockets, problems: tables.flatMap((t) => t.problems) };
}
