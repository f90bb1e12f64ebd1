/**
 * Typed values parsed from raw strings at the edge. Every parser takes the name the user knows
 * the value by (ENV variable and/or flag) and throws a UsageError naming it and the bad value.
 */
import ipaddr from 'ipaddr.js';
import { UsageError } from '../errors.js';

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

export type Distribution = 'normal' | 'pareto' | 'paretonormal' | 'uniform';
export const distributions: readonly Distribution[] = ['normal', 'pareto', 'paretonormal', 'uniform'];

/** A netem rate such as `1mbit`; kept as the number and unit tc understands. */
export interface Rate {
  readonly value: number;
  readonly unit: string;
}

const show = (raw: string): string => JSON.stringify(raw);

/** Rejects characters that could end or split a tc batch line, or hide in a log. */
export function assertPrintable(variable: string, raw: string): void {
  // eslint-disable-next-line no-control-regex
  const bad = /[\u0000-\u001f\u007f;]/.exec(raw);
  if (bad) {
    const what = bad[0] === ';' ? '";"' : `control character U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0')}`;
    throw new UsageError(variable, `${what} is not allowed in a value (got ${show(raw)})`);
  }
}

const decimal = /^\d+(\.\d+)?$/;

/** A non-negative decimal number, at most `max`. */
export function parseNumber(variable: string, raw: string, opts: { max: number; unit: string; integer?: boolean }): number {
  const text = raw.trim();
  const pattern = opts.integer ? /^\d+$/ : decimal;
  if (!pattern.test(text)) {
    const kind = opts.integer ? 'a whole number' : 'a non-negative number';
    throw new UsageError(variable, `expected ${kind} of ${opts.unit}, got ${show(raw)}`);
  }
  const value = Number(text);
  if (!Number.isFinite(value) || value > opts.max) {
    throw new UsageError(variable, `must be at most ${opts.max} ${opts.unit}, got ${show(raw)}`);
  }
  return value;
}

export const parsePercent = (variable: string, raw: string): number =>
  parseNumber(variable, raw, { max: 100, unit: 'percent (0-100)' });

export const parseMilliseconds = (variable: string, raw: string): number =>
  parseNumber(variable, raw, { max: 3_600_000, unit: 'milliseconds' });

const durationUnits: Readonly<Record<string, number>> = { '': 1, s: 1, m: 60, h: 3600 };

/** Whole seconds; a plain number (Litmus style) or with a unit: `90`, `90s`, `5m`, `1h`. */
export function parseSeconds(variable: string, raw: string, opts: { min: number }): number {
  const match = /^(\d+)(s|m|h)?$/.exec(raw.trim());
  const unit = durationUnits[match?.[2] ?? ''];
  if (!match?.[1] || unit === undefined) {
    throw new UsageError(variable, `expected a duration in seconds (e.g. 60, 90s, 5m), got ${show(raw)}`);
  }
  const seconds = Number(match[1]) * unit;
  if (seconds < opts.min || seconds > 7 * 24 * 3600) {
    throw new UsageError(variable, `must be between ${opts.min} s and 7 days, got ${show(raw)}`);
  }
  return seconds;
}

export function parsePort(variable: string, raw: string): number {
  const text = raw.trim();
  const value = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(value >= 1 && value <= 65535)) {
    throw new UsageError(variable, `a port must be a whole number from 1 to 65535, got ${show(raw)}`);
  }
  return value;
}

/** Splits a comma list, rejecting empty items (`a,,b`, a trailing comma). */
export function splitList(variable: string, raw: string, separator = ','): string[] {
  const items = raw.split(separator).map((s) => s.trim());
  if (items.some((s) => s === '')) {
    throw new UsageError(variable, `empty item in list ${show(raw)}`);
  }
  return items;
}

/** `80,443` (only these), `!22,2379` (all except these) or empty (any port). */
export function parsePortFilter(variable: string, raw: string): PortFilter {
  const text = raw.trim();
  if (text === '') return { mode: 'any' };
  const except = text.startsWith('!');
  const ports = splitList(variable, except ? text.slice(1) : text).map((p) => parsePort(variable, p));
  const unique = [...new Set(ports)].sort((a, b) => a - b);
  return except ? { mode: 'except', ports: unique } : { mode: 'only', ports: unique };
}

/** An IPv4/IPv6 address or CIDR, strictly: four-part decimal IPv4, no zone index, no host bits. */
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
  const address = ipaddr.parse(addressText);
  const network = ipaddr.parse(networkAddress(address.toNormalizedString(), prefix));
  const canonical = network.toString();
  if (network.toNormalizedString() !== address.toNormalizedString()) {
    throw new UsageError(variable, `${show(raw)} has host bits set; did you mean ${canonical}/${prefix}?`);
  }
  return { family, address: canonical, prefix };
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

/** `192.0.2.10`, `2001:db8::/64`, `192.0.2.10|80|443` (destination ports for that item). */
export interface DestinationItem {
  readonly cidr: Cidr;
  readonly ports: readonly number[];
}

export function parseDestinationItem(variable: string, raw: string): DestinationItem {
  const [address = '', ...portTexts] = raw.split('|').map((s) => s.trim());
  const cidr = parseCidr(variable, address);
  if (portTexts.some((p) => p === '')) throw new UsageError(variable, `empty port in ${show(raw)}`);
  const ports = [...new Set(portTexts.map((p) => parsePort(variable, p)))].sort((a, b) => a - b);
  return { cidr, ports };
}

export function parseDestinationList(variable: string, raw: string): DestinationItem[] {
  const text = raw.trim();
  if (text === '') return [];
  return splitList(variable, text).map((item) => parseDestinationItem(variable, item));
}

export function parseDistribution(variable: string, raw: string): Distribution | undefined {
  const text = raw.trim().toLowerCase();
  if (text === '') return undefined;
  const found = distributions.find((d) => d === text);
  if (!found) throw new UsageError(variable, `unknown distribution ${show(raw)}; use one of ${distributions.join(', ')}`);
  return found;
}

const rateUnits = ['bit', 'kbit', 'mbit', 'gbit', 'tbit', 'bps', 'kbps', 'mbps', 'gbps', 'tbps'] as const;

/** A bandwidth limit: a number and a tc unit (`bit`, `kbit`, `mbit`, `gbit`, or `…bps` for bytes). */
export function parseRate(variable: string, raw: string): Rate | undefined {
  const text = raw.trim().toLowerCase();
  if (text === '') return undefined;
  const match = /^(\d+(?:\.\d+)?)([a-z]+)$/.exec(text);
  const unit = rateUnits.find((u) => u === match?.[2]);
  const value = Number(match?.[1]);
  if (!match || !unit || !(value > 0)) {
    throw new UsageError(variable, `expected a rate like 1mbit, 500kbit or 10mbps (units: ${rateUnits.join(', ')}), got ${show(raw)}`);
  }
  return { value, unit };
}

export function parseBoolean(variable: string, raw: string): boolean {
  const text = raw.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(text)) return true;
  if (['false', '0', 'no', ''].includes(text)) return false;
  throw new UsageError(variable, `expected true or false, got ${show(raw)}`);
}

/** A Linux interface name (IFNAMSIZ: at most 15 bytes, no '/', no whitespace). */
export function parseInterfaceName(variable: string, raw: string): string {
  const text = raw.trim();
  if (!/^[A-Za-z0-9_.@:+-]{1,15}$/.test(text) || text === '.' || text === '..') {
    throw new UsageError(variable, `${show(raw)} is not a valid interface name (1-15 of A-Z a-z 0-9 _ . @ : + -)`);
  }
  return text;
}

export function parsePid(variable: string, raw: string): number {
  const text = raw.trim();
  const value = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (!(value >= 1 && value <= 4_194_304)) throw new UsageError(variable, `expected a process id, got ${show(raw)}`);
  return value;
}

export function parseAbsolutePath(variable: string, raw: string): string {
  const text = raw.trim();
  if (!text.startsWith('/')) throw new UsageError(variable, `expected an absolute path, got ${show(raw)}`);
  return text;
}
