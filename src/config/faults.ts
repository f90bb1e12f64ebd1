/** One fault (netem settings) from its raw values, and the FAULTS groups `<fault>@<destinations>`. */
import { UsageError } from '../model/errors.js';
import type { FaultGroup, Netem } from '../model/spec.js';
import type { RawValue } from './reader.js';
import { parseDestinationList, parseDistribution, parseMilliseconds, parsePercent, parseRate, splitList } from './values.js';

/** A delay as tc gets it (src/tc/netem.ts: whole microseconds): 0 below half a microsecond. */
const asTcMs = (ms: number): number => Math.round(ms * 1000) / 1000;
/** A percentage as tc gets it (4 decimals): 0 below 0.00005 %. */
const asTcPct = (p: number): number => Number(p.toFixed(4));

/** True when the fault changes nothing (no delay, loss, duplication, corruption or rate), as tc will be given it. */
export function isNoop(n: Netem): boolean {
  return asTcMs(n.delayMs) === 0 && asTcPct(n.lossPct) === 0 && asTcPct(n.duplicatePct) === 0 && asTcPct(n.corruptPct) === 0 && n.rate === undefined;
}

/** A value above 0 that tc would be given as 0 (`delay 0us`, `loss 0%`) is refused, naming the variable. */
function refuseBelowResolution(r: NetemRaw, n: Netem): void {
  const ms = [['delay', n.delayMs], ['jitter', n.jitterMs]] as const;
  for (const [key, v] of ms) {
    if (v > 0 && asTcMs(v) === 0) throw new UsageError(r[key]?.label ?? key, `${v} ms is below tc's resolution (1 µs = 0.001 ms): it would be applied as 0us`);
  }
  const pct = [['correlation', n.correlationPct], ['loss', n.lossPct], ['duplicate', n.duplicatePct], ['corrupt', n.corruptPct], ['reorder', n.reorderPct]] as const;
  for (const [key, v] of pct) {
    if (v > 0 && asTcPct(v) === 0) throw new UsageError(r[key]?.label ?? key, `${v} % is below the resolution netchaos gives tc (0.0001 %): it would be applied as 0%`);
  }
}

export interface NetemRaw {
  delay?: RawValue; jitter?: RawValue; correlation?: RawValue; distribution?: RawValue; loss?: RawValue;
  duplicate?: RawValue; corrupt?: RawValue; reorder?: RawValue; rate?: RawValue;
}

/** Parses and cross-checks one fault; throws the first problem. */
export function buildNetem(r: NetemRaw): Netem {
  const num = (v: RawValue | undefined, parse: (l: string, t: string) => number): number =>
    v === undefined || v.value.trim() === '' ? 0 : parse(v.label, v.value);
  const netem: Netem = {
    delayMs: num(r.delay, parseMilliseconds),
    jitterMs: num(r.jitter, parseMilliseconds),
    correlationPct: num(r.correlation, parsePercent),
    distribution: r.distribution ? parseDistribution(r.distribution.label, r.distribution.value) : undefined,
    lossPct: num(r.loss, parsePercent),
    duplicatePct: num(r.duplicate, parsePercent),
    corruptPct: num(r.corrupt, parsePercent),
    reorderPct: num(r.reorder, parsePercent),
    rate: r.rate ? parseRate(r.rate.label, r.rate.value) : undefined,
  };
  refuseBelowResolution(r, netem);
  if (netem.distribution !== undefined && netem.distribution !== 'uniform' && netem.jitterMs === 0) {
    throw new UsageError(r.distribution?.label ?? 'distribution', `a ${netem.distribution} distribution needs a jitter above 0`);
  }
  if (netem.jitterMs > 0 && netem.delayMs === 0) {
    throw new UsageError(r.jitter?.label ?? 'jitter', 'jitter needs a latency above 0');
  }
  if (netem.correlationPct > 0 && netem.jitterMs === 0) {
    throw new UsageError(r.correlation?.label ?? 'correlation', 'a delay correlation needs a jitter above 0');
  }
  if (netem.reorderPct > 0 && netem.delayMs === 0) {
    throw new UsageError(r.reorder?.label ?? 'reorder', 'reordering needs a latency above 0 (netem sends the reordered packets without the delay)');
  }
  return netem;
}

const faultKeys = {
  latency: 'delay', jitter: 'jitter', correlation: 'correlation', distribution: 'distribution', loss: 'loss',
  duplication: 'duplicate', corruption: 'corrupt', reorder: 'reorder', bandwidth: 'rate',
} as const satisfies Record<string, keyof NetemRaw>;

/** One FAULTS group: `latency=100,jitter=10@192.0.2.11|8080,2001:db8::11`. */
export function parseFaultGroup(label: string, text: string, index: number): FaultGroup {
  const name = `FAULTS #${index}`;
  const where = `${label} group ${index} (${JSON.stringify(text)})`;
  const at = text.indexOf('@');
  if (at === -1) throw new UsageError(where, 'expected <fault>@<destinations>, e.g. latency=100@192.0.2.11');
  const faultText = text.slice(0, at);
  const destText = text.slice(at + 1);
  if (destText.includes('@')) throw new UsageError(where, 'one "@" per group; separate groups with spaces');
  const r: NetemRaw = {};
  for (const item of splitList(where, faultText)) {
    const eq = item.indexOf('=');
    const key = eq === -1 ? item : item.slice(0, eq);
    const field = Object.entries(faultKeys).find(([k]) => k === key)?.[1];
    if (eq === -1 || field === undefined) {
      throw new UsageError(where, `unknown fault setting ${JSON.stringify(item)}; use key=value with keys ${Object.keys(faultKeys).join(', ')}`);
    }
    if (r[field] !== undefined) throw new UsageError(where, `${key} is given twice`);
    r[field] = { value: item.slice(eq + 1), label: `${where} ${key}` };
  }
  const netem = buildNetem(r);
  if (isNoop(netem)) throw new UsageError(where, 'the fault does nothing: give latency, loss, duplication, corruption or bandwidth');
  if (destText.trim() === '') throw new UsageError(where, 'no destinations after "@"');
  const { items, words } = parseDestinationList(where, destText);
  return { name, netem, destinations: items, destinationWords: words, destinationPorts: { mode: 'any' }, sourcePorts: { mode: 'any' } };
}
