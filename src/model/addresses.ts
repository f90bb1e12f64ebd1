/**
 * Addresses, ports and destinations as values. The constructors take the name the user (or the source)
 * knows the value by and throw a UsageError naming it and the bad value.
 */
import { UsageError } from './errors.js';

export type IpFamily = 4 | 6;

/** A network in canonical form: address is the network address, never has host bits set. */
export interface Cidr {
  readonly family: IpFamily;
  readonly address: string;
  readonly prefix: number;
}

export type PortFilter =
  | { readonly mode: 'any' }
  | { readonly mode: 'only'; readonly ports: readonly number[] }
  | { readonly mode: 'except'; readonly ports: readonly number[] };

/** `192.0.2.10`, `2001:db8::/64`, `192.0.2.10|80|443` (destination ports for that item). */
export interface DestinationItem {
  readonly cidr: Cidr;
  readonly ports: readonly number[];
}

const show = (raw: string): string => JSON.stringify(raw);

export function parsePort(variable: string, raw: string): number {
  const text = raw.trim();
  const value = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(value >= 1 && value <= 65535)) {
    throw new UsageError(variable, `a port must be a whole number from 1 to 65535, got ${show(raw)}`);
  }
  return value;
}

/** An address as numbers: 16-bit units, most significant first (IPv4: 2 units, IPv6: 8). */
export type AddressUnits = readonly number[];

/** The units of a canonical address (a Cidr's `address`). */
export function addressUnits(c: Cidr): AddressUnits {
  const units = c.family === 4 ? parseIPv4(c.address, 0, c.address.length) : parseIPv6(c.address);
  if (!units) throw new Error(`unreachable: ${JSON.stringify(c.address)} is not an IPv${c.family} address`);
  return units;
}

/** Strict dotted-quad decimal (no leading zeros, each part 0-255) in text[start, end): two 16-bit units, or undefined. */
function parseIPv4(text: string, start: number, end: number): number[] | undefined {
  const word = parseIPv4Word(text, start, end);
  return word < 0 ? undefined : [Math.floor(word / 65536), word % 65536];
}

/** parseIPv4's address as one unsigned 32-bit number, or -1. */
function parseIPv4Word(text: string, start: number, end: number): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let word = 0;
  for (let i = start; i <= end; i++) {
    const c = i === end ? 46 : text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part === 4 || value > 255) return -1;
      word = word * 256 + value;
      part++;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && value === 0) return -1; // a leading zero
      value = value * 10 + (c - 48);
      if (++digits > 3) return -1;
    } else {
      return -1;
    }
  }
  return part === 4 ? word : -1;
}

/**
 * The address of a Cidr as unsigned 32-bit words, most significant first, into out[at…]: IPv4 in one word (the
 * other three 0), IPv6 in four. For code that keeps many addresses in one typed array (the planner) instead of
 * one AddressUnits array each.
 */
export function addressWords(c: Cidr, out: Uint32Array, at: number): void {
  if (c.family === 4) {
    const word = parseIPv4Word(c.address, 0, c.address.length);
    if (word < 0) throw new Error(`unreachable: ${JSON.stringify(c.address)} is not an IPv4 address`);
    putIPv4Word(out, at, word);
    return;
  }
  putIPv6Units(out, at, addressUnits(c));
}

/** An IPv4 address (one 32-bit word) as addressWords writes it: the word, then three zero words. */
function putIPv4Word(out: Uint32Array, at: number, word: number): void {
  out[at] = word;
  out[at + 1] = 0;
  out[at + 2] = 0;
  out[at + 3] = 0;
}

/** An IPv6 address's eight 16-bit units as addressWords writes them: four 32-bit words. */
function putIPv6Units(out: Uint32Array, at: number, u: AddressUnits): void {
  for (let k = 0; k < 4; k++) out[at + k] = (((u[2 * k] ?? 0) << 16) | (u[2 * k + 1] ?? 0)) >>> 0;
}

/**
 * Hex groups separated by `:` in text[start, end) into out[at…], at most `room` of them; the count, or -1 when
 * malformed (an empty group, more than 4 digits, a character that is not a hex digit, too many groups).
 */
function hexGroups(text: string, start: number, end: number, out: number[], at: number, room: number): number {
  if (start === end) return 0;
  let value = 0;
  let digits = 0;
  let count = 0;
  for (let i = start; i <= end; i++) {
    const c = i === end ? 58 : text.charCodeAt(i);
    if (c === 58) {
      if (digits === 0 || count === room) return -1;
      out[at + count++] = value;
      value = 0;
      digits = 0;
      continue;
    }
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d < 0 || ++digits > 4) return -1;
    value = (value << 4) | d;
  }
  return count;
}

/**
 * RFC 4291 text: eight groups of 1-4 hex digits, at most one `::` standing for one or more zero groups, and
 * optionally a dotted quad as the last 32 bits (`::ffff:192.0.2.1`). No zone index. Eight 16-bit units, or undefined.
 * One array, filled in place (a 10,000-address list is parsed in a cold process: every allocation shows).
 */
function parseIPv6(text: string): number[] | undefined {
  const gap = text.indexOf('::');
  if (gap !== -1 && text.indexOf('::', gap + 1) !== -1) return undefined;
  // A trailing dotted quad is the last two groups.
  let end = text.length;
  let tail: number[] | undefined;
  const lastColon = text.lastIndexOf(':');
  if (lastColon !== -1 && text.indexOf('.', lastColon) !== -1) {
    tail = parseIPv4(text, lastColon + 1, text.length);
    if (!tail) return undefined;
    end = gap !== -1 && lastColon === gap + 1 ? lastColon + 1 : lastColon;
  }
  const units = [0, 0, 0, 0, 0, 0, 0, 0];
  const tailCount = tail ? 2 : 0;
  if (gap === -1) {
    if (hexGroups(text, 0, end, units, 0, 8 - tailCount) !== 8 - tailCount) return undefined;
  } else {
    const head = hexGroups(text, 0, gap, units, 0, 7 - tailCount);
    if (head < 0) return undefined;
    // The groups after `::` are read into the end of the array, then moved right after the zeros.
    const restEnd = Math.max(end, gap + 2);
    const rest = hexGroups(text, gap + 2, restEnd, units, head, 7 - tailCount - head);
    if (rest < 0) return undefined;
    const to = 8 - tailCount - rest;
    for (let k = rest - 1; k >= 0; k--) units[to + k] = units[head + k] ?? 0;
    for (let k = head; k < to; k++) units[k] = 0;
  }
  if (tail) {
    units[6] = tail[0] ?? 0;
    units[7] = tail[1] ?? 0;
  }
  return units;
}

/** Canonical text: dotted quad; IPv6 as RFC 5952 (lowercase, no leading zeros, the longest run of 2+ zero groups as `::`, the first on a tie). */
export function formatAddress(family: IpFamily, units: AddressUnits): string {
  const u = (i: number): number => units[i] ?? 0;
  if (family === 4) return `${u(0) >> 8}.${u(0) & 255}.${u(1) >> 8}.${u(1) & 255}`;
  return formatIPv6(units, longestZeroRun(units));
}

/** formatAddress of IPv6 units whose longest zero run is known. */
function formatIPv6(units: AddressUnits, { at, length }: { at: number; length: number }): string {
  const u = (i: number): number => units[i] ?? 0;
  // `a:b::c`, `::c`, `a::`, `::` as one join (one flat string): the groups, with the run of zeros as one empty
  // part (and one more at either end, for the `::` there).
  const parts: string[] = [];
  for (let i = 0; i < 8; i++) {
    if (i === at) {
      if (i === 0) parts.push('');
      parts.push('');
      if (i + length === 8) parts.push('');
      i += length - 1;
    } else {
      parts.push(u(i).toString(16));
    }
  }
  return parts.join(':');
}

/** RFC 5952's `::`: the longest run of two or more zero groups, the first on a tie; at -1 when there is none. */
function longestZeroRun(units: AddressUnits): { at: number; length: number } {
  let at = -1;
  let length = 1;
  for (let i = 0; i < 8;) {
    if ((units[i] ?? 0) !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && (units[j] ?? 0) === 0) j++;
    if (j - i > length) { at = i; length = j - i; }
    i = j;
  }
  return at === -1 ? { at, length: 0 } : { at, length };
}

/**
 * True when `text` (a valid IPv6 address whose units have this longest zero run) is already in RFC 5952 form: lowercase, no
 * leading zeros, no dotted quad, `::` exactly where formatAddress puts it. Most input is (DNS answers,
 * pod IPs, lists written by tools), and then it is used as it is instead of being formatted again.
 */
function isCanonicalIPv6(text: string, { at, length }: { at: number; length: number }): boolean {
  let groups = 0;
  let digits = 0;
  let leading = -1;
  let before = -1;
  for (let i = 0; i <= text.length; i++) {
    const c = i === text.length ? 58 : text.charCodeAt(i);
    if (c === 58) {
      if (digits > 0) groups++;
      else if (i > 0 && i < text.length && before === -1) before = groups; // the second colon of `::`
      if (digits > 1 && leading === 48) return false;
      digits = 0;
      continue;
    }
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
    if (digits === 0) leading = c;
    digits++;
  }
  if (at === -1) return before === -1;
  return before === at && groups === 8 - length;
}

/** True when the first `bits` bits of a and b are equal. */
export function samePrefix(a: AddressUnits, b: AddressUnits, bits: number): boolean {
  const whole = bits >> 4;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = bits & 15;
  if (rest === 0) return true;
  const mask = (0xffff << (16 - rest)) & 0xffff;
  return ((a[whole] ?? 0) & mask) === ((b[whole] ?? 0) & mask);
}

/** True when every bit after the first `prefix` is 0 (the address is the network's). */
function hostBitsClear(units: AddressUnits, prefix: number): boolean {
  for (let i = prefix >> 4; i < units.length; i++) {
    const keep = Math.max(0, prefix - i * 16);
    if (((units[i] ?? 0) & (0xffff >> keep)) !== 0) return false;
  }
  return true;
}

/**
 * An IPv4/IPv6 address or CIDR, strictly: four-part decimal IPv4, no zone index, no host bits. One IPv4-mapped
 * IPv6 host (`::ffff:a.b.c.d`) is that IPv4 host; a deprecated IPv4-compatible one (`::a.b.c.d`) is refused.
 * With `words`, the address is also written there as addressWords writes it (words[at…at+3]): read once, here,
 * for code that keeps many addresses in one typed array (the planner), instead of parsed again from the text.
 */
export function parseCidr(variable: string, raw: string, words?: Uint32Array, at = 0): Cidr {
  const text = raw.trim();
  const slash = text.indexOf('/');
  const addressEnd = slash === -1 ? text.length : slash;
  const prefixText = slash === -1 ? undefined : text.slice(slash + 1);
  // A dotted quad as one 32-bit word: no units array (most lists are mostly IPv4).
  const word = parseIPv4Word(text, 0, addressEnd);
  if (word >= 0) {
    const prefix = prefixText === undefined ? 32 : prefixOf(variable, raw, prefixText, 4);
    const hostBits = prefix === 32 ? 0 : (word & (0xffffffff >>> prefix)) >>> 0;
    if (hostBits !== 0) {
      const network = (word - hostBits) >>> 0;
      throw new UsageError(variable, `${show(raw)} has host bits set; did you mean ${formatAddress(4, [network >>> 16, network & 0xffff])}/${prefix}?`);
    }
    if (words) putIPv4Word(words, at, word);
    // A dotted quad that passed the strict parse is canonical.
    return { family: 4, address: text.slice(0, addressEnd), prefix };
  }
  const units = parseIPv6(text.slice(0, addressEnd));
  if (!units) throw new UsageError(variable, `${show(raw)} is not an IPv4 or IPv6 address or CIDR`);
  const prefix = prefixText === undefined ? 128 : prefixOf(variable, raw, prefixText, 6);
  if (prefix === 128 && units[0] === 0 && units[1] === 0 && units[2] === 0 && units[3] === 0 && units[4] === 0) {
    const v4 = `${(units[6] ?? 0) >> 8}.${(units[6] ?? 0) & 255}.${(units[7] ?? 0) >> 8}.${(units[7] ?? 0) & 255}`;
    // `::ffff:a.b.c.d` is the IPv4 host the packets really go to (as IPv4): a u32 match on the IPv6 form never matches.
    if (units[5] === 0xffff) {
      if (words) putIPv4Word(words, at, (((units[6] ?? 0) << 16) | (units[7] ?? 0)) >>> 0);
      return { family: 4, address: v4, prefix: 32 };
    }
    // RFC 4291 2.5.5.1: `::a.b.c.d` (IPv4-compatible, deprecated) names no host a packet goes to. `::` and `::1` are not that.
    if (units[5] === 0 && !(units[6] === 0 && ((units[7] ?? 0) === 0 || units[7] === 1))) {
      throw new UsageError(variable, `${show(raw)} is a deprecated IPv4-compatible IPv6 address (::a.b.c.d): it is neither the IPv4 host ${v4} nor a routable IPv6 address. Refused: give the IPv4 address ${v4}, or ::ffff:${v4}`);
    }
  }
  if (!hostBitsClear(units, prefix)) {
    const network = units.map((u, i) => u & ((0xffff << (16 - Math.max(0, Math.min(16, prefix - i * 16)))) & 0xffff));
    throw new UsageError(variable, `${show(raw)} has host bits set; did you mean ${formatAddress(6, network)}/${prefix}?`);
  }
  if (words) putIPv6Units(words, at, units);
  // IPv6 text often is canonical already (then used as it is).
  const addressText = text.slice(0, addressEnd);
  const run = longestZeroRun(units);
  return { family: 6, address: isCanonicalIPv6(addressText, run) ? addressText : formatIPv6(units, run), prefix };
}

/** The prefix length after the `/` of `raw`: 0-32 (IPv4) or 0-128 (IPv6). */
function prefixOf(variable: string, raw: string, prefixText: string, family: IpFamily): number {
  const bits = family === 4 ? 32 : 128;
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= bits)) {
    throw new UsageError(variable, `${show(raw)}: an IPv${family} prefix length must be 0-${bits}`);
  }
  return prefix;
}

/**
 * One host address handed to us by the API (a pod or endpoint IP) or by DNS: never a CIDR (a `0.0.0.0/0`
 * podIP would mean "all destinations"). As with every address (parseCidr), `::ffff:10.244.1.9` becomes the IPv4
 * host the packets really go to and a deprecated IPv4-compatible `::192.0.2.11` is refused.
 */
export function parseHostAddress(source: string, raw: string): Cidr {
  const text = raw.trim();
  if (text.includes('/')) throw new UsageError(source, `${show(raw)} is a network (CIDR), not one host address: refused (it would fault every destination in it)`);
  return parseCidr(source, text);
}

export const formatCidr = (c: Cidr): string => `${c.address}/${c.prefix}`;

const noPorts: readonly number[] = Object.freeze([]);

export function parseDestinationItem(variable: string, raw: string, words?: Uint32Array, at = 0): DestinationItem {
  if (!raw.includes('|')) return { cidr: parseCidr(variable, raw, words, at), ports: noPorts };
  const [address = '', ...portTexts] = raw.split('|').map((s) => s.trim());
  const cidr = parseCidr(variable, address, words, at);
  if (portTexts.some((p) => p === '')) throw new UsageError(variable, `empty port in ${show(raw)}`);
  const ports = [...new Set(portTexts.map((p) => parsePort(variable, p)))].sort((a, b) => a - b);
  return { cidr, ports };
}

/**
 * Destination items and their addresses as the parser read them: `words[4i…4i+3]` is items[i]'s address as
 * addressWords writes it. The planner orders and merges a list by these words: each address is read once, by the
 * parser (a list of 10,000 addresses was parsed a second time, from the Cidr's text, by the planner).
 */
export interface ParsedDestinations {
  readonly items: readonly DestinationItem[];
  readonly words: Uint32Array;
}

/** a's items, then b's, with their words. */
export function concatDestinations(a: ParsedDestinations, b: ParsedDestinations): ParsedDestinations {
  if (b.items.length === 0) return a;
  if (a.items.length === 0) return b;
  const words = new Uint32Array(a.words.length + b.words.length);
  words.set(a.words);
  words.set(b.words, a.words.length);
  return { items: [...a.items, ...b.items], words };
}

/** Builds a ParsedDestinations item by item (parseDestinationItem with the words kept). */
export class DestinationListBuilder {
  private readonly items: DestinationItem[] = [];
  private words: Uint32Array;

  /**
   * `most`: at most how many items will come, when known (a file's size says it): their room is made at once and
   * what is not filled is never touched (a typed array that doubles as it fills makes ~twice the memory, each page
   * of it touched fresh).
   */
  constructor(most = 16) {
    this.words = new Uint32Array(4 * Math.max(16, most));
  }

  /** Parses one item (as parseDestinationItem, which throws for a bad one) and keeps it with its words. */
  add(variable: string, raw: string): void {
    const at = this.room();
    this.items.push(parseDestinationItem(variable, raw, this.words, at));
  }

  done(): ParsedDestinations {
    return { items: this.items, words: this.words.subarray(0, 4 * this.items.length) };
  }

  /** Where the next item's words go (the array grown when full). */
  private room(): number {
    const at = 4 * this.items.length;
    if (at + 4 > this.words.length) {
      const grown = new Uint32Array(this.words.length * 2);
      grown.set(this.words);
      this.words = grown;
    }
    return at;
  }
}

/** `address/prefix|port|port`: what parseDestinationItem reads back. */
export const formatDestinationItem = (i: DestinationItem): string => [formatCidr(i.cidr), ...i.ports.map(String)].join('|');
