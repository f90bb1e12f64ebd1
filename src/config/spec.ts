/**
 * Raw inputs (flags over ENV over defaults) → a typed Spec, or every problem at once as UsageErrors (exit 2,
 * nothing changed). Every default is applied here, once, and every rule that the input alone decides is
 * checked here, the planner's included (at most 13 fault profiles, duplication on its own, one fault per
 * destination). Nothing here touches the system except `readFile`, which the caller passes in.
 */
import { UsageError, messageOf } from '../model/errors.js';
import { DestinationListBuilder, type ParsedDestinations, concatDestinations } from '../model/addresses.js';
import { type NamedDestinations, hasNamedDestinations } from '../model/destinations.js';
import { type Direction, type FaultGroup, type OutputFormat, type Spec, deadmanModes } from '../model/spec.js';
import { specProblems } from '../tc/plan.js';
import { buildNetem, isNoop, parseFaultGroup } from './faults.js';
import { type RawInput, type RawValue, Reader, defined } from './reader.js';
import { parseHostDestinations, parseNamespace, parsePodDestinations, parseServiceDestinations } from './selectors.js';
import {
  UNPRINTABLE_BUT_LINE_ENDS, assertPrintable, parseBoolean, parseChoice, parseDestinationList, parseInterfaceName, parseLogLevel, parsePortFilter, parseRuntimeName,
  parseSeconds, parseSocketPath, splitList,
} from './values.js';

export interface SpecInput extends RawInput {
  readonly readFile: (path: string) => string;
}

export function buildSpec(input: SpecInput): Spec {
  const r = new Reader(input);
  const iface = r.value('NETWORK_INTERFACE', parseInterfaceName);
  const durationS = r.value('TOTAL_CHAOS_DURATION', (l, t) => parseSeconds(l, t, { min: 1 }));
  const rampS = r.value('RAMP_TIME', (l, t) => (t.trim() === '' ? 0 : parseSeconds(l, t, { min: 0 })));
  const refreshOn = r.value('DEPENDENCY_REFRESH', parseBoolean);
  const refreshInterval = r.value('DEPENDENCY_REFRESH_INTERVAL', (l, t) => parseSeconds(l, t, { min: 0 }));
  const force = r.value('FORCE', parseBoolean);
  const logLevel = r.value('LOG_LEVEL', parseLogLevel);
  const output = r.value('OUTPUT', parseOutput);
  const runtimeName = r.value('CONTAINER_RUNTIME', parseRuntimeName);
  const socketPath = r.value('SOCKET_PATH', parseSocketPath);
  const deadman = r.value('DEADMAN', (l, t) => parseChoice(l, t, deadmanModes));
  const deadmanGraceS = r.value('DEADMAN_GRACE', (l, t) => parseSeconds(l, t, { min: 0 }));
  const onTargetRestart = r.value('ON_TARGET_RESTART', (l, t) => parseChoice(l, t, ['end', 'reinject'] as const));
  const direction = r.value('DIRECTION', parseDirection);
  const measureEffect = r.value('MEASURE_EFFECT', parseBoolean);
  const verifyEffect = r.value('VERIFY_EFFECT', parseBoolean);
  const blastRadius = r.value('BLAST_RADIUS', parseBoolean);
  const peerNamespaces = r.value('PEER_NAMESPACES', (l, t) => (t.trim() === '' ? [] : [...new Set(splitList(l, t).map((n) => parseNamespace(l, n)))]));
  if (verifyEffect === true && measureEffect === false) {
    r.problem(r.labelOf('VERIFY_EFFECT'), 'verifying the effect needs MEASURE_EFFECT=true (the measurement is what is verified)');
  }
  const groups = readGroups(r, input.readFile);
  for (const p of groups.length > 0 && r.problems.length === 0 ? specProblems(groups) : []) r.problems.push(new UsageError(p.variable, p.detail));
  r.done();
  return {
    interface: defined(iface), durationS: defined(durationS), rampS: defined(rampS), force: defined(force), groups,
    logLevel: defined(logLevel), output: defined(output), runtime: { runtime: defined(runtimeName), socketPath },
    refreshS: refreshOn === false ? 0 : defined(refreshInterval),
    direction: defined(direction), measureEffect: defined(measureEffect), verifyEffect: defined(verifyEffect),
    deadman: defined(deadman), deadmanGraceS: defined(deadmanGraceS), onTargetRestart: defined(onTargetRestart),
    blastRadius: defined(blastRadius), peerNamespaces: defined(peerNamespaces),
  };
}

/** The Litmus form (NETWORK_LATENCY… with DESTINATION_*) as one group, then the FAULTS groups. */
function readGroups(r: Reader, readFile: (path: string) => string): FaultGroup[] {
  const litmusNetem = r.attempt(() => buildNetem({
    delay: r.raw('NETWORK_LATENCY'),
    jitter: r.raw('JITTER'),
    correlation: r.raw('CORRELATION'),
    distribution: r.raw('DELAY_DISTRIBUTION'),
    loss: r.raw('NETWORK_PACKET_LOSS_PERCENTAGE'),
    duplicate: r.raw('NETWORK_PACKET_DUPLICATION_PERCENTAGE'),
    corrupt: r.raw('NETWORK_PACKET_CORRUPTION_PERCENTAGE'),
    reorder: r.raw('NETWORK_PACKET_REORDER_PERCENTAGE'),
    rate: r.raw('NETWORK_BANDWIDTH'),
  }));
  const none: ParsedDestinations = { items: [], words: new Uint32Array(0) };
  const ips = r.value('DESTINATION_IPS', parseDestinationList) ?? none;
  const fileRaw = r.raw('DESTINATION_IPS_FILE');
  const fromFile = fileRaw.value === '' ? none : r.attempt(() => readDestinationFile(fileRaw, readFile)) ?? none;
  const named: NamedDestinations = {
    hosts: r.value('DESTINATION_HOSTS', parseHostDestinations) ?? [],
    pods: r.value('DESTINATION_PODS', parsePodDestinations) ?? [],
    services: r.value('DESTINATION_SERVICES', parseServiceDestinations) ?? [],
    ...(r.value('UNRESOLVED_HOSTS', (l, t) => parseChoice(l, t, ['fail', 'skip'] as const)) === 'skip' ? { skipUnresolved: true } : {}),
  };
  const destinationPorts = r.value('DESTINATION_PORTS', parsePortFilter) ?? { mode: 'any' };
  const sourcePorts = r.value('SOURCE_PORTS', parsePortFilter) ?? { mode: 'any' };
  const faultsRaw = r.raw('FAULTS');
  const faultGroups = faultsRaw.value.trim() === ''
    ? []
    : faultsRaw.value.trim().split(/\s+/).map((text, i) => r.attempt(() => parseFaultGroup(faultsRaw.label, text, i + 1)));

  const groups: FaultGroup[] = [];
  const { items: destinations, words: destinationWords } = concatDestinations(ips, fromFile);
  const litmusNamesSomething = destinations.length > 0 || hasNamedDestinations(named) || destinationPorts.mode !== 'any' || sourcePorts.mode !== 'any';
  if (litmusNetem && (faultGroups.length === 0 || litmusNamesSomething)) {
    const name = destinations.length > 0 || hasNamedDestinations(named) ? 'DESTINATION_IPS' : 'all traffic';
    if (isNoop(litmusNetem)) {
      r.problem(r.labelOf('NETWORK_LATENCY'), 'the fault does nothing: latency, loss, duplication, corruption and bandwidth are all zero/empty');
    }
    groups.push({ name, netem: litmusNetem, destinations, destinationWords, destinationPorts, sourcePorts, ...(hasNamedDestinations(named) ? { named } : {}) });
  }
  for (const g of faultGroups) if (g) groups.push(g);
  return groups;
}

function readDestinationFile(raw: RawValue, readFile: (path: string) => string): ParsedDestinations {
  let text: string;
  try {
    text = readFile(raw.value);
  } catch (error) {
    throw new UsageError(raw.label, `cannot read ${JSON.stringify(raw.value)}: ${messageOf(error)}`);
  }
  // One look at the whole text (10,000 lines: ~5 ms) instead of one per line (~35 ms); a file that has such a
  // character anywhere, even in a comment or as whitespace that trim() takes off, is checked line by line.
  // The line ends (LF, CRLF) are not such characters: assertPrintable's characters anywhere else.
  const checkLines = UNPRINTABLE_BUT_LINE_ENDS.test(text);
  // An item takes 3 characters at least (`::1`, or `::` and a separator); room for 262,144 at most made at once
  // (4 MB of words; a longer list grows it as it fills).
  const items = new DestinationListBuilder(Math.min(Math.ceil(text.length / 3), 1 << 18));
  /** Where a problem is: the variable (or flag), the file and the line; made only for a line that has one. */
  const where = (i: number): string => `${raw.label} ${raw.value}:${i + 1}`;
  // Line by line with indexOf, not split: an array of 10,000 line strings would live through the whole loop, and
  // every young-generation collection during it copied them (a line is garbage once its item is made).
  for (let start = 0, i = 0; start < text.length; i++) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 ? text.length : newline;
    const line = text.slice(start, end);
    start = end + 1;
    const content = (line.includes('#') ? line.replace(/#.*/, '') : line).trim();
    if (content === '') continue;
    if (checkLines) assertPrintable(where(i), content);
    if (content.includes(',')) {
      for (const item of splitList(where(i), content)) items.add(where(i), item);
      continue;
    }
    // One address per line is the common case (10,000 lines): the label with the line number is made only
    // when the line is refused (the same call again, with it).
    try {
      items.add(raw.label, content);
    } catch {
      items.add(where(i), content);
    }
  }
  return items.done();
}

function parseDirection(label: string, text: string): Direction {
  const t = text.trim().toLowerCase();
  if (t === 'egress' || t === 'ingress' || t === 'both') return t;
  throw new UsageError(label, `expected egress, ingress or both, got ${JSON.stringify(text)}`);
}

function parseOutput(label: string, text: string): OutputFormat {
  const t = text.trim().toLowerCase();
  if (t === 'text' || t === 'json') return t;
  throw new UsageError(label, `expected text or json, got ${JSON.stringify(text)}`);
}
