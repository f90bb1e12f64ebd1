/**
 * Litmus mode, before the chaos: the blast radius of every target pod (src/connections/section.ts, from the
 * pod's /proc/<pid>/net tables; no API call, no DNS query), so that ChaosCenter users see what was going to
 * be hit:
 *   - ChaosResult status.netchaosBlastRadius.<pod> (the ChaosResult CRD keeps unknown status fields): totals,
 *     the rows (at most MAX_ROWS of each kind, faulted first, then by connection count) and the warnings, as
 *     short texts;
 *   - one Event `BlastRadius` on the ChaosEngine (Warning when there are warnings);
 *   - a log line per pod.
 * Targets on this node: read and reported before the first change. Targets in helper pods: each helper reads
 * its own before its first change (same code), logs it, and sends a summary back in its result (at most
 * HELPER_ROWS rows of each kind per pod, shrunk further to fit the 4096-byte termination message:
 * helper-job.ts); the runner reports it when that helper ends (reportHelperBlast): the helper has no API
 * access, and the termination message is the only way back.
 * Best effort: nothing here fails or delays the run by more than REPORT_TIMEOUT_MS.
 */
import { messageOf } from '../model/errors.js';
import type { Resolved } from '../model/destinations.js';
import { type TargetPod, podText } from '../model/kube.js';
import type { NetnsRef } from '../model/netns.js';
import type { Spec } from '../model/spec.js';
import type { Deps } from '../ports.js';
import type { Plan } from '../tc/plan.js';
import type { ClientRow, PeerRow, Tally } from '../connections/blast.js';
import { describeName } from '../connections/names.js';
import { type BlastSection, blastSection } from '../connections/section.js';

export const MAX_ROWS = 50;
/** Rows of each kind a helper sends back per pod (before shrinking to fit its result). */
export const HELPER_ROWS = 8;
const REPORT_TIMEOUT_MS = 5000;
/** Kubernetes shows Event messages of up to 1 kB. */
const MAX_EVENT_CHARS = 1000;

export interface BlastTarget {
  readonly pod: TargetPod;
  readonly netns: NetnsRef;
  readonly plan: Plan;
  readonly resolved?: readonly Resolved[];
}

/** What the Reporter offers (src/litmus/report.ts). */
export interface BlastReporter {
  readonly namespace: string;
  readonly name: string;
  event(on: 'engine' | 'result', reason: string, message: string, type?: 'Normal' | 'Warning'): void;
}

/** One pod's entry in status.netchaosBlastRadius. */
export interface BlastStatus {
  /** The node whose helper pod read it (targets in helper pods). */
  readonly node?: string;
  readonly source?: string;
  readonly error?: string;
  readonly interface?: string;
  readonly direction?: string;
  readonly totals?: { readonly connections: number; readonly faulted: number; readonly untouched: number };
  /** `tcp 192.0.2.11:8080 ×2 service shop/b (ClusterIP): FAULTED band 4 +100ms (DESTINATION_IPS)`. */
  readonly connections?: readonly string[];
  /** Clients on the pod's listening ports, the same way. */
  readonly clients?: readonly string[];
  /** Rows left out (the log has them all). */
  readonly omitted?: number;
  readonly warnings: readonly string[];
  /** Warnings left out (a helper's result is bounded; its log has them all). */
  readonly omittedWarnings?: number;
  readonly notes: readonly string[];
}

const verdictText = (t: Tally): string => (t.verdict.kind === 'faulted'
  ? `FAULTED band ${t.verdict.band} ${t.verdict.fault} (${t.verdict.groups.join(', ')})`
  : `untouched (${t.verdict.why})`);
const verdicts = (r: PeerRow | ClientRow): string => r.verdicts.map((t) => (r.verdicts.length > 1 ? `${verdictText(t)} ×${t.sockets}` : verdictText(t))).join('; ');
const isFaulted = (r: PeerRow | ClientRow): boolean => r.verdicts.some((t) => t.verdict.kind === 'faulted');
/** Faulted rows first, then by connection count (stable: the table's order among equals). */
const faultedFirst = <T extends PeerRow | ClientRow>(rows: readonly T[]): T[] => [...rows].sort((a, b) => Number(isFaulted(b)) - Number(isFaulted(a)) || b.sockets - a.sockets);
const hp = (family: 4 | 6, address: string, port: number): string => `${family === 6 ? `[${address}]` : address}:${port}`;
const named = (r: PeerRow | ClientRow): string => (r.name ? ` ${describeName(r.name)}` : '');

export function blastStatus(s: BlastSection, maxRows = MAX_ROWS): BlastStatus {
  const r = s.radius;
  if (!r) return { error: s.error ?? 'unknown error', warnings: [], notes: [...s.notes] };
  const out = faultedFirst(r.outbound).map((g) => `${g.proto} ${hp(g.family, g.address, g.port)} ×${g.sockets}${named(g)}: ${verdicts(g)}`);
  const clients = faultedFirst(r.listeners.flatMap((l) => l.clients.map((c) => ({ ...c, local: `${l.proto} ${hp(l.family, l.address, l.port)}` }))))
    .map((c) => `${c.local} ← ${c.family === 6 ? `[${c.address}]` : c.address} ×${c.sockets}${named(c)}: ${verdicts(c)}`);
  return {
    ...(s.source ? { source: s.source } : {}),
    interface: r.interface, direction: r.direction,
    totals: { connections: r.totals.sockets, faulted: r.totals.faulted, untouched: r.totals.untouched },
    connections: out.slice(0, maxRows), clients: clients.slice(0, maxRows),
    omitted: Math.max(0, out.length - maxRows) + Math.max(0, clients.length - maxRows),
    warnings: r.warnings.map((w) => w.message), notes: [...s.notes],
  };
}

/** One line per pod for the Event: the totals, the faulted peers, the first warning. */
export function blastEventLine(pod: string, st: BlastStatus): string {
  if (!st.totals) return `${pod}: blast radius not available: ${st.error ?? ''}`;
  const hit = (st.connections ?? []).filter((c) => c.includes(': FAULTED')).map((c) => c.split(' ')[1]).slice(0, 5);
  const count = st.warnings.length + (st.omittedWarnings ?? 0);
  const w = count > 0 ? `; ${count} warning(s): ${st.warnings[0] ?? ''}` : '';
  return `${pod}: ${st.totals.faulted} of ${st.totals.connections} live connections will be faulted${hit.length > 0 ? ` (${hit.join(', ')}${(st.connections ?? []).filter((c) => c.includes(': FAULTED')).length > hit.length ? ', …' : ''})` : ''}, ${st.totals.untouched} untouched${w}`;
}

export interface ReadStatuses {
  /** In the targets' order. */
  readonly statuses: readonly { readonly pod: TargetPod; readonly status: BlastStatus }[];
  /** One Event line per pod. */
  readonly lines: readonly string[];
  /** Some pod has warnings or no table. */
  readonly warn: boolean;
}

/** Reads and logs the blast radius of every target; never throws (except when the run is stopped). */
export async function readBlastStatuses(deps: Deps, spec: Spec, targets: readonly BlastTarget[], maxRows = MAX_ROWS): Promise<ReadStatuses> {
  const statuses: { pod: TargetPod; status: BlastStatus }[] = [];
  const lines: string[] = [];
  let warn = false;
  for (const t of targets) {
    const pod = podText(t.pod);
    const section = await blastSection(deps, {
      target: t.netns, label: `pod ${pod}`, spec, plan: t.plan, targetNamespaces: [t.pod.namespace], signal: deps.stop.signal,
      ...(t.resolved ? { resolved: t.resolved } : {}),
    });
    const st = blastStatus(section, maxRows);
    statuses.push({ pod: t.pod, status: st });
    warn ||= hasWarnings(st);
    lines.push(blastEventLine(pod, st));
    deps.log.info({ event: 'blast-radius', pod, blastRadius: section.radius ?? null, error: section.error, notes: section.notes }, `blast radius: ${blastEventLine(pod, st)}`);
    for (const w of st.warnings) deps.log.warn({ pod }, w);
  }
  return { statuses, lines, warn };
}

const hasWarnings = (st: BlastStatus): boolean => st.warnings.length > 0 || (st.omittedWarnings ?? 0) > 0 || st.error !== undefined;
const eventText = (message: string): string => (message.length > MAX_EVENT_CHARS ? `${message.slice(0, MAX_EVENT_CHARS - 50)}… (all of it in ChaosResult status.netchaosBlastRadius)` : message);

/** Reads, logs and reports the blast radius of every target; never throws (except when the run is stopped). */
export async function reportBlastRadius(deps: Deps, spec: Spec, targets: readonly BlastTarget[], reporter: BlastReporter | undefined): Promise<void> {
  if (!spec.blastRadius || targets.length === 0) return;
  const { statuses, lines, warn } = await readBlastStatuses(deps, spec, targets);
  if (!reporter) return;
  reporter.event('engine', 'BlastRadius', eventText(lines.join(' | ')), warn ? 'Warning' : 'Normal');
  const deadline = AbortSignal.timeout(REPORT_TIMEOUT_MS);
  try {
    const netchaosBlastRadius = Object.fromEntries(statuses.map((x) => [x.pod.name, x.status]));
    await deps.kube.patchChaosResult(reporter.namespace, reporter.name, { status: { netchaosBlastRadius } }, { signal: AbortSignal.any([deps.stop.signal, deadline]) });
  } catch (error) {
    if (deps.stop.stopped) return;
    deps.log.warn({ err: messageOf(error) }, 'could not write the blast radius to the ChaosResult');
  }
}

/** What the runner's Reporter offers for a helper's blast radius (queued with its other ChaosResult updates). */
export interface HelperBlastReporter {
  event(on: 'engine' | 'result', reason: string, message: string, type?: 'Normal' | 'Warning'): void;
  setBlastRadius(statuses: Readonly<Record<string, BlastStatus>>): void;
}

/**
 * A helper's blast radius, as its result carried it (`blast`, by `namespace/name`), into the ChaosResult
 * (status.netchaosBlastRadius.<pod>, with `node`), a BlastRadius Event for that node, and the runner's log.
 * Only the node's own targets are taken: anything else in the result is logged and dropped.
 */
export function reportHelperBlast(log: Deps['log'], node: string, targets: readonly TargetPod[], blast: Readonly<Record<string, BlastStatus>>, reporter: HelperBlastReporter | undefined): void {
  const statuses: Record<string, BlastStatus> = {};
  const lines: string[] = [];
  let warn = false;
  for (const [pod, st] of Object.entries(blast)) {
    const t = targets.find((x) => podText(x) === pod);
    if (!t) { log.warn({ node, pod }, `helper on node ${node} sent a blast radius for ${pod}, which is not one of its targets: ignored`); continue; }
    statuses[t.name] = { ...st, node };
    warn ||= hasWarnings(st);
    const line = blastEventLine(pod, st);
    lines.push(line);
    log.info({ event: 'blast-radius', pod, node, blastRadius: st }, `blast radius (read on node ${node} before the chaos): ${line}`);
  }
  const missing = targets.filter((t) => blast[podText(t)] === undefined).map(podText);
  if (missing.length > 0) log.info({ node, pods: missing }, `blast radius of ${missing.join(', ')}: left out of the helper's result (4096 bytes at most); the helper's log has it`);
  if (lines.length === 0 || !reporter) return;
  reporter.event('engine', 'BlastRadius', eventText(`read on node ${node} before the chaos: ${lines.join(' | ')}`), warn ? 'Warning' : 'Normal');
  reporter.setBlastRadius(statuses);
}
