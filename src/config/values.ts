/**
 * Typed values parsed from raw strings at the edge. Every parser takes the name the user knows
 * the value by (ENV variable and/or flag) and throws a UsageError naming it and the bad value.
 */
import { UsageError } from '../model/errors.js';
import { DestinationListBuilder, type ParsedDestinations, type PortFilter, parsePort } from '../model/addresses.js';
import { type Distribution, type LogLevel, type Rate, distributions } from '../model/spec.js';
import { type RuntimeName, runtimes } from '../model/runtime.js';

const show = (raw: string): string => JSON.stringify(raw);

/** Characters that could end or split a tc batch line, or hide in a log. */
// eslint-disable-next-line no-control-regex
export const UNPRINTABLE = /[\u0000-\u001f\u007f;]/;
/**
 * UNPRINTABLE but LF and the CR of a CRLF (a lone CR is still one): what `UNPRINTABLE.test(text.replace(/\r?\n/g, ''))`
 * finds in a file's text, without a copy of the whole text.
 */
// eslint-disable-next-line no-control-regex
export const UNPRINTABLE_BUT_LINE_ENDS = /[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f;]|\r(?!\n)/;

/** Rejects the UNPRINTABLE characters. */
export function assertPrintable(variable: string, raw: string): void {
  const bad = UNPRINTABLE.exec(raw);
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

export function parseDestinationList(variable: string, raw: string): ParsedDestinations {
  const list = new DestinationListBuilder();
  const text = raw.trim();
  if (text !== '') for (const item of splitList(variable, text)) list.add(variable, item);
  return list.done();
}

export function parseDistribution(variable: string, raw: string): Distribution | undefined {
  const text = raw.trim().toLowerCase();
  if (text === '') return undefined;
  const found = distributions.find((d) => d === text);
  if (!found) throw new UsageError(variable, `unknown distribution ${show(raw)}; use one of ${distributions.join(', ')}`);
  return found;
}

const rateUnits = ['bit', 'kbit', 'mbit', 'gbit', 'tbit', 'bps', 'kbps', 'mbps', 'gbps', 'tbps'] as const;
/** Bits per second of one of each unit (tc: `bps` is bytes per second). */
const rateBits: Readonly<Record<(typeof rateUnits)[number], number>> = {
  bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9, tbit: 1e12, bps: 8, kbps: 8e3, mbps: 8e6, gbps: 8e9, tbps: 8e12,
};

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
  // tc keeps a rate in whole bytes per second: below 1 byte/s it becomes 0, which netem reads as "no limit".
  if (value * rateBits[unit] < 8) throw new UsageError(variable, `${show(raw)} is below tc's resolution (1 byte/s = 8bit): it would be applied as no limit at all`);
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

/** One of `choices` (case-insensitive). */
export function parseChoice<T extends string>(label: string, text: string, choices: readonly T[]): T {
  const found = choices.find((c) => c === text.trim().toLowerCase());
  if (!found) throw new UsageError(label, `expected one of ${choices.join(', ')}, got ${JSON.stringify(text)}`);
  return found;
}

export function parseRuntimeName(variable: string, raw: string): RuntimeName | 'auto' {
  const text = raw.trim().toLowerCase();
  if (text === '' || text === 'auto') return 'auto';
  if (text === 'cri-o') return 'crio';
  const found = runtimes.find((r) => r === text);
  if (!found) throw new UsageError(variable, `unknown container runtime ${JSON.stringify(raw)}; use crio, containerd, docker or auto`);
  return found;
}

export function parseSocketPath(variable: string, raw: string): string | undefined {
  const text = raw.trim().replace(/^unix:\/\//, '');
  return text === '' ? undefined : parseAbsolutePath(variable, text);
}

export const parseLogLevel = (label: string, text: string): LogLevel => parseChoice(label, text, ['debug', 'info', 'warn', 'error'] as const);
