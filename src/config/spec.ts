/**
 * Raw inputs (flags over ENV over defaults) → a typed Spec, or every problem at once as UsageErrors.
 * Nothing here touches the system except `readFile`, which the caller passes in.
 */
import { UsageError, UsageErrors } from '../errors.js';
import { type VariableName, variable } from './vars.js';
import {
  type DestinationItem,
  type Distribution,
  type PortFilter,
  type Rate,
  assertPrintable,
  parseBoolean,
  parseDestinationItem,
  parseDestinationList,
  parseDistribution,
  parseInterfaceName,
  parseMilliseconds,
  parsePercent,
  parsePortFilter,
  parseRate,
  parseSeconds,
  splitList,
} from './values.js';
import {
  type NamedDestinations,
  hasNamedDestinations,
  parseHostDestinations,
  parsePodDestinations,
  parseServiceDestinations,
} from '../kube/selectors.js';
import { type RuntimeOptions, parseRuntimeName, parseSocketPath } from '../runtime/config.js';

/** What removes the tree after its deadline if the runner dies (lifecycle/deadman.ts). */
export type DeadmanMode = 'auto' | 'systemd' | 'process' | 'off';
export const deadmanModes: readonly DeadmanMode[] = ['auto', 'systemd', 'process', 'off'];
export type RestartMode = 'end' | 'reinject';

/** What netem does to the packets of one band. */
export interface Netem {
  readonly delayMs: number;
  readonly jitterMs: number;
  readonly correlationPct: number;
  readonly distribution: Distribution | undefined;
  readonly lossPct: number;
  readonly duplicatePct: number;
  readonly corruptPct: number;
  readonly reorderPct: number;
  readonly rate: Rate | undefined;
}

export interface FaultGroup {
  /** How the user named it: `DESTINATION_IPS` for the Litmus form, `FAULTS #2` for the second group. */
  readonly name: string;
  readonly netem: Netem;
  /** Empty = every destination (only the Litmus form allows that). */
  readonly destinations: readonly DestinationItem[];
  readonly destinationPorts: PortFilter;
  readonly sourcePorts: PortFilter;
  /** Hostnames, pods and Services whose addresses are found at run time (the Litmus form only). */
  readonly named?: NamedDestinations;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
/** Which packets get the fault: sent by the target (egress), arriving at it (ingress, through an ifb), or both. */
export type Direction = 'egress' | 'ingress' | 'both';
export type OutputFormat = 'text' | 'json';

export interface Spec {
  readonly interface: string;
  readonly durationS: number;
  readonly rampS: number;
  /** Seconds between re-resolutions of named dependencies during the run (an upper bound for DNS TTLs); 0 = resolve once. */
  readonly refreshS?: number;
  readonly force: boolean;
  readonly groups: readonly FaultGroup[];
  readonly logLevel: LogLevel;
  readonly output: OutputFormat;
  /** How a container ID is mapped to its network namespace (Litmus mode, --container-id). */
  readonly runtime: RuntimeOptions;
  /** Absent = egress (specs built before DIRECTION existed). */
  readonly direction?: Direction;
  /** Probe the dependencies before/during/after and read the band counters (MEASURE_EFFECT). */
  readonly measureEffect?: boolean;
  /** Fail (exit 6) when the measured effect is far from the configured one (VERIFY_EFFECT). */
  readonly verifyEffect?: boolean;
  /** What removes the tree after its deadline if the runner dies (DEADMAN; absent = auto). */
  readonly deadman?: DeadmanMode;
  /** Seconds after the end of the duration until the tree's deadline (DEADMAN_GRACE; absent = 30). */
  readonly deadmanGraceS?: number;
  /** What a restart of the target into a new namespace does (ON_TARGET_RESTART; absent = end). */
  readonly onTargetRestart?: RestartMode;
}

/** A raw value and the name the user gave it under (`--latency` or `NETWORK_LATENCY`). */
export interface RawValue {
  readonly value: string;
  readonly label: string;
}

export interface SpecInput {
  /** The raw value for a variable (already merged: flag over ENV), or undefined when unset/empty. */
  readonly get: (name: VariableName) => RawValue | undefined;
  readonly readFile: (path: string) => string;
}

/** Collects UsageErrors so the user sees all of them in one run. */
class Problems {
  readonly list: UsageError[] = [];
  try<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (error) {
      if (error instanceof UsageError) {
        this.list.push(error);
        return undefined;
      }
      throw error;
    }
  }
}

export function buildSpec(input: SpecInput): Spec {
  const problems = new Problems();
  const raw = (name: VariableName): RawValue => {
    const given = input.get(name);
    if (given !== undefined && given.value !== '') {
      problems.try(() => { assertPrintable(given.label, variable(name).semicolonList ? given.value.replaceAll(';', ',') : given.value); });
      return given;
    }
    return { value: variable(name).default, label: name };
  };
  const value = <T>(name: VariableName, parse: (label: string, text: string) => T): T | undefined => {
    const r = raw(name);
    return problems.try(() => parse(r.label, r.value));
  };

  const iface = value('NETWORK_INTERFACE', parseInterfaceName);
  const durationS = value('TOTAL_CHAOS_DURATION', (l, t) => parseSeconds(l, t, { min: 1 }));
  const rampS = value('RAMP_TIME', (l, t) => (t.trim() === '' ? 0 : parseSeconds(l, t, { min: 0 })));
  const refreshOn = value('DEPENDENCY_REFRESH', parseBoolean);
  const refreshInterval = value('DEPENDENCY_REFRESH_INTERVAL', (l, t) => parseSeconds(l, t, { min: 0 }));
  const force = value('FORCE', parseBoolean);
  const logLevel = value('LOG_LEVEL', parseLogLevel);
  const output = value('OUTPUT', parseOutput);
  const runtimeName = value('CONTAINER_RUNTIME', parseRuntimeName);
  const socketPath = value('SOCKET_PATH', parseSocketPath);
  const deadman = value('DEADMAN', (l, t) => parseChoice(l, t, deadmanModes));
  const deadmanGraceS = value('DEADMAN_GRACE', (l, t) => parseSeconds(l, t, { min: 0 }));
  const onTargetRestart = value('ON_TARGET_RESTART', (l, t) => parseChoice(l, t, ['end', 'reinject'] as const));
  const direction = value('DIRECTION', parseDirection);
  const measureEffect = value('MEASURE_EFFECT', parseBoolean);
  const verifyEffect = value('VERIFY_EFFECT', parseBoolean);
  if (verifyEffect === true && measureEffect === false) {
    problems.list.push(new UsageError(raw('VERIFY_EFFECT').label, 'verifying the effect needs MEASURE_EFFECT=true (the measurement is what is verified)'));
  }

  const litmusNetem = problems.try(() => buildNetem({
    delay: raw('NETWORK_LATENCY'),
    jitter: raw('JITTER'),
    correlation: raw('CORRELATION'),
    distribution: raw('DELAY_DISTRIBUTION'),
    loss: raw('NETWORK_PACKET_LOSS_PERCENTAGE'),
    duplicate: raw('NETWORK_PACKET_DUPLICATION_PERCENTAGE'),
    corrupt: raw('NETWORK_PACKET_CORRUPTION_PERCENTAGE'),
    reorder: raw('NETWORK_PACKET_REORDER_PERCENTAGE'),
    rate: raw('NETWORK_BANDWIDTH'),
  }));
  const ips = value('DESTINATION_IPS', parseDestinationList) ?? [];
  const fileRaw = raw('DESTINATION_IPS_FILE');
  const fromFile = fileRaw.value === '' ? [] : problems.try(() => readDestinationFile(fileRaw, input.readFile)) ?? [];
  const named: NamedDestinations = {
    hosts: value('DESTINATION_HOSTS', parseHostDestinations) ?? [],
    pods: value('DESTINATION_PODS', parsePodDestinations) ?? [],
    services: value('DESTINATION_SERVICES', parseServiceDestinations) ?? [],
  };
  const destinationPorts = value('DESTINATION_PORTS', parsePortFilter) ?? { mode: 'any' };
  const sourcePorts = value('SOURCE_PORTS', parsePortFilter) ?? { mode: 'any' };
  const faultsRaw = raw('FAULTS');
  const faultGroups = faultsRaw.value.trim() === ''
    ? []
    : faultsRaw.value.trim().split(/\s+/).map((text, i) => problems.try(() => parseFaultGroup(faultsRaw.label, text, i + 1)));

  const groups: FaultGroup[] = [];
  const destinations = [...ips, ...fromFile];
  const litmusNamesSomething = destinations.length > 0 || hasNamedDestinations(named) || destinationPorts.mode !== 'any' || sourcePorts.mode !== 'any';
  if (litmusNetem && (faultGroups.length === 0 || litmusNamesSomething)) {
    const name = destinations.length > 0 || hasNamedDestinations(named) ? 'DESTINATION_IPS' : 'all traffic';
    if (isNoop(litmusNetem)) {
      problems.list.push(new UsageError(raw('NETWORK_LATENCY').label,
        'the fault does nothing: latency, loss, duplication, corruption and bandwidth are all zero/empty'));
    }
    groups.push({ name, netem: litmusNetem, destinations, destinationPorts, sourcePorts, ...(hasNamedDestinations(named) ? { named } : {}) });
  }
  for (const g of faultGroups) if (g) groups.push(g);

  if (problems.list.length > 0) throw new UsageErrors(problems.list);
  if (iface === undefined || durationS === undefined || rampS === undefined || force === undefined ||
      logLevel === undefined || output === undefined || runtimeName === undefined) {
    throw new Error('unreachable: a value failed without a usage error');
  }
  return {
    interface: iface, durationS, rampS, force, groups, logLevel, output, runtime: { runtime: runtimeName, socketPath },
    refreshS: refreshOn === false ? 0 : refreshInterval ?? 0,
    direction: direction ?? 'egress', measureEffect: measureEffect ?? true, verifyEffect: verifyEffect ?? false,
    ...(deadman !== undefined ? { deadman } : {}), ...(deadmanGraceS !== undefined ? { deadmanGraceS } : {}),
    ...(onTargetRestart !== undefined ? { onTargetRestart } : {}),
  };
}

function isNoop(n: Netem): boolean {
  return n.delayMs === 0 && n.lossPct === 0 && n.duplicatePct === 0 && n.corruptPct === 0 && n.rate === undefined;
}

interface NetemRaw {
  delay?: RawValue; jitter?: RawValue; correlation?: RawValue; distribution?: RawValue; loss?: RawValue;
  duplicate?: RawValue; corrupt?: RawValue; reorder?: RawValue; rate?: RawValue;
}

/** Parses and cross-checks one fault; throws the first problem. */
function buildNetem(r: NetemRaw): Netem {
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
  const destinations = parseDestinationList(where, destText);
  return { name, netem, destinations, destinationPorts: { mode: 'any' }, sourcePorts: { mode: 'any' } };
}

function readDestinationFile(raw: RawValue, readFile: (path: string) => string): DestinationItem[] {
  let text: string;
  try {
    text = readFile(raw.value);
  } catch (error) {
    throw new UsageError(raw.label, `cannot read ${JSON.stringify(raw.value)}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const items: DestinationItem[] = [];
  text.split('\n').forEach((line, i) => {
    const content = line.replace(/#.*/, '').trim();
    if (content === '') return;
    const where = `${raw.label} ${raw.value}:${i + 1}`;
    assertPrintable(where, content);
    for (const item of splitList(where, content)) items.push(parseDestinationItem(where, item));
  });
  return items;
}

function parseLogLevel(label: string, text: string): LogLevel {
  const levels: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
  const found = levels.find((l) => l === text.trim().toLowerCase());
  if (!found) throw new UsageError(label, `expected one of ${levels.join(', ')}, got ${JSON.stringify(text)}`);
  return found;
}

function parseDirection(label: string, text: string): Direction {
  const t = text.trim().toLowerCase();
  if (t === 'egress' || t === 'ingress' || t === 'both') return t;
  throw new UsageError(label, `expected egress, ingress or both, got ${JSON.stringify(text)}`);
}

function parseChoice<T extends string>(label: string, text: string, choices: readonly T[]): T {
  const found = choices.find((c) => c === text.trim().toLowerCase());
  if (!found) throw new UsageError(label, `expected one of ${choices.join(', ')}, got ${JSON.stringify(text)}`);
  return found;
}

function parseOutput(label: string, text: string): OutputFormat {
  const t = text.trim().toLowerCase();
  if (t === 'text' || t === 'json') return t;
  throw new UsageError(label, `expected text or json, got ${JSON.stringify(text)}`);
}

