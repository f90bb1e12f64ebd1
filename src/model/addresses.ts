/**
 * Addresses, ports and destinations as values. The constructors take the name the user (or the source)
 * knows the value by and throw a UsageError naming it and the bad value.
 */
import ipaddr from 'ipaddr.js';
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

/**
 * An IPv4/IPv6 address or CIDR, strictly: four-part decimal IPv4, no zone index, no host bits. One IPv4-mapped
 * IPv6 host (`::ffff:a.b.c.d`) is that IPv4 host; a deprecated IPv4-compatible one (`::a.b.c.d`) is refused.
 */
export function parseCidr(variable: string, raw: string): Cidr {
  const text = raw.trim();
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const prefixText = slash === -1 ? undefined : text.slice(slash + 1);
  let family: IpFamily;
  if (ipaddr.IPv4.isValidFourPartDecimal(addressText)) family = 4;
  else if (ipaddr.IPv6.isValid(addressText) && !addressText.includes('%')) family = 6;
  else throw new UsageError(variable, `${show(raw)} is not an IPv4 or IPv6 address or CIDR`);
  const bits = family === 4 ? 32 : 128;
  let prefix = bits;
  if (prefixText !== undefined) {
    prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (!(prefix >= 0 && prefix <= bits)) {
      throw new UsageError(variable, `${show(raw)}: an IPv${family} prefix length must be 0-${bits}`);
    }
  }
  const address = ipaddr.parse(family === 6 ? withoutDottedQuad(addressText) : addressText);
  if (address instanceof ipaddr.IPv6 && prefix === 128) {
    refuseV4Compatible(variable, raw, address);
    // `::ffff:a.b.c.d` is the IPv4 host the packets really go to (as IPv4): a u32 match on the IPv6 form never matches.
    if (address.isIPv4MappedAddress()) return { family: 4, address: address.toIPv4Address().toString(), prefix: 32 };
  }
  const network = ipaddr.parse(networkAddress(address.toNormalizedString(), prefix));
  const canonical = network.toString();
  if (network.toNormalizedString() !== address.toNormalizedString()) {
    throw new UsageError(variable, `${show(raw)} has host bits set; did you mean ${canonical}/${prefix}?`);
  }
  return { family, address: canonical, prefix };
}

/**
 * An IPv6 text whose last 32 bits are written as a dotted quad, with those bits as two hex groups: ipaddr.js
 * reads `::192.0.2.11` as `::ffff:192.0.2.11`, another address.
 */
function withoutDottedQuad(text: string): string {
  const m = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return text;
  const n = (i: number): number => Number(m[i]);
  return `${m[1] ?? ''}${((n(2) << 8) | n(3)).toString(16)}:${((n(4) << 8) | n(5)).toString(16)}`;
}

/** A deprecated IPv4-compatible IPv6 address (`::192.0.2.11`, RFC 4291 2.5.5.1) names no host a packet goes to: refused. */
function refuseV4Compatible(variable: string, raw: string, a: ipaddr.IPv6): void {
  const parts = a.parts;
  if (parts.slice(0, 6).every((x) => x === 0) && !(parts[6] === 0 && (parts[7] === 0 || parts[7] === 1))) {
    const v4 = [(parts[6] ?? 0) >> 8, (parts[6] ?? 0) & 255, (parts[7] ?? 0) >> 8, (parts[7] ?? 0) & 255].join('.');
    throw new UsageError(variable, `${show(raw)} is a deprecated IPv4-compatible IPv6 address (::a.b.c.d): it is neither the IPv4 host ${v4} nor a routable IPv6 address. Refused: give the IPv4 address ${v4}, or ::ffff:${v4}`);
  }
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

/** The network address of `address/prefix`, as text. */
function networkAddress(address: string, prefix: number): string {
  const bytes = ipaddr.parse(address).toByteArray();
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    bytes[i] = (bytes[i] ?? 0) & ((0xff << (8 - keep)) & 0xff);
  }
  return ipaddr.fromByteArray(bytes).toString();
}

export const formatCidr = (c: Cidr): string => `${c.address}/${c.prefix}`;

export function parseDestinationItem(variable: string, raw: string): DestinationItem {
  const [address = '', ...portTexts] = raw.split('|').map((s) => s.trim());
  const cidr = parseCidr(variable, address);
  if (portTexts.some((p) => p === '')) throw new UsageError(variable, `empty port in ${show(raw)}`);
  const ports = [...new Set(portTexts.map((p) => parsePort(variable, p)))].sort((a, b) => a - b);
  return { cidr, ports };
}

/** `address/prefix|port|port`: what parseDestinationItem reads back. */
export const formatDestinationItem = (i: DestinationItem): string => [formatCidr(i.cidr), ...i.ports.map(String)].join('|');
