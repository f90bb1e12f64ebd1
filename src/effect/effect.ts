/**
 * Proof of the effect, the pure part: which probes a plan calls for, what each should see, and the report
 * (baseline / during / after per dependency, band counters, verdict) with its table. No I/O.
 *
 * What a probe sees: a TCP connect (SYN out, SYN-ACK in) and a ping (echo out, reply in) each cross the target's
 * interface once in each direction, so the added time is the netem delay once for egress or ingress and twice
 * for both, and a sample is lost when either packet is (1 − (1 − p)^directions).
 */
import { formatCidr } from '../model/addresses.js';
import type { WorkerRequest, WorkerResult } from '../model/probe.js';
import type { Direction, Netem } from '../model/spec.js';
import type { QdiscCounter } from '../model/tc.js';
import { planDirection } from '../tc/describe.js';
import type { Plan } from '../tc/plan.js';

/** At most this many dependencies are probed (a plan may hold 10,000). */
export const MAX_PROBES = 16;
/** Samples per dependency: latency needs a few, loss needs more to say anything. */
export const LATENCY_SAMPLES = 5;
export const LOSS_SAMPLES = 20;
/** A phase takes at most this long, plus the largest expected added delay. */
export const PHASE_BASE_MS = 5000;
/** A TCP sample slower than expected by this much waited for a retransmission (Linux's initial RTO is 1 s): lost. */
const RETRANSMIT_MS = 700;
/** Tolerances (README "Proof of the effect"). */
export const TOLERANCE = { relative: 0.25, absoluteMs: 5, lossPoints: 15, lossSigmas: 2.5, untouchedMs: 10 } as const;

/** A dependency the effect probes measure, and what they should see. */
export interface ProbeDestination {
  readonly id: string;
  readonly kind: 'tcp' | 'icmp';
  readonly address: string;
  readonly port?: number;
  readonly group: string;
  /** fault: the plan sends it to a netem band; untouched: a port exclusion, must stay as it was. */
  readonly role: 'fault' | 'untouched';
  readonly band?: number;
  readonly expectedAddedMs: number;
  /** ± around expectedAddedMs (fault), or the bound on the added time (untouched). */
  readonly toleranceMs: number;
  readonly expectedLossPct: number;
  /**
   * After the revert the added time must stay under this. A ping is precise: TOLERANCE.untouchedMs. A TCP connect
   * from a node worker is not (8-28 ms medians on an idle port under emulation), so it gets the bound of an
   * untouched port of its address: half the smallest delay the address is given, at least TOLERANCE.untouchedMs.
   * A fault left in place shows its whole delay (half of it for one direction left of DIRECTION=both).
   */
  readonly afterToleranceMs: number;
  readonly samples: number;
  /** The fault has something a probe can verify (latency or loss); a rate limit alone has not. */
  readonly verifiable: boolean;
}

export interface ProbeSelection {
  readonly destinations: readonly ProbeDestination[];
  readonly notes: readonly string[];
}

const directions = (d: Direction): number => (d === 'both' ? 2 : 1);
const round = (x: number): number => Math.round(x * 100) / 100;

/** The dependencies to probe: one per host entry (address/port), most specific first, at most MAX_PROBES. */
export function probeDestinations(p: Plan): ProbeSelection {
  const dirs = directions(planDirection(p));
  const notes: string[] = [];
  const destinations: ProbeDestination[] = [];
  const seen = new Set<string>();
  /** The addresses of the ids in `seen`. */
  const seenAddresses = new Set<string>();
  let skipped = 0;
  // An excluded port that the filters got wrong would show the whole delay of its address's fault; measurement
  // noise (a node worker's TCP connect times under load: 8-28 ms medians seen under emulation on an idle port)
  // must not be read as that. So "untouched" means less than half the smallest delay its address is given
  // elsewhere, and never less than TOLERANCE.untouchedMs. The same bound judges any TCP-probed destination after the revert.
  // Made once, at the first TCP destination probed (a plan of 10,000 addresses probed by ping needs none of it).
  let faultDelayMs: Map<string, number> | undefined;
  const delayOfBand = new Map(p.bands.map((b) => [b.band, b.netem.delayMs * dirs]));
  const smallestDelays = (): Map<string, number> => {
    const m = new Map<string, number>();
    for (const e of p.entries) {
      if (e.action !== 'fault' || e.cidr === undefined) continue;
      const d = delayOfBand.get(e.band) ?? 0;
      if (d > 0) m.set(e.cidr.address, Math.min(d, m.get(e.cidr.address) ?? d));
    }
    return m;
  };
  const untouchedToleranceMs = (address: string): number => Math.max(TOLERANCE.untouchedMs, round(((faultDelayMs ??= smallestDelays()).get(address) ?? 0) / 2));
  for (const e of p.entries) {
    const host = e.cidr !== undefined && e.cidr.prefix === (e.cidr.family === 4 ? 32 : 128);
    if (!host || e.cidr === undefined) {
      if (e.action === 'fault') notes.push(`${e.cidr ? formatCidr(e.cidr) : e.family === 'all' ? 'all traffic' : `any IPv${e.family} address`} (${e.group}) is not probed: not a single address`);
      continue;
    }
    if (e.sport !== undefined) {
      notes.push(`${e.cidr.address} sport ${e.sport} (${e.group}) is not probed: matched on the target's own port`);
      continue;
    }
    // Once MAX_PROBES are chosen, an entry whose address none of them has cannot repeat one: it is counted
    // without making its id (a plan of 10,000 addresses: 10,000 strings less).
    if (destinations.length >= MAX_PROBES && !seenAddresses.has(e.cidr.address)) {
      skipped++;
      continue;
    }
    const kind = e.dport !== undefined ? 'tcp' : 'icmp';
    const id = e.dport !== undefined ? (e.cidr.family === 6 ? `[${e.cidr.address}]:${e.dport}` : `${e.cidr.address}:${e.dport}`) : e.cidr.address;
    if (seen.has(id)) continue;
    if (destinations.length >= MAX_PROBES) {
      skipped++;
      continue;
    }
    seen.add(id);
    seenAddresses.add(e.cidr.address);
    const afterToleranceMs = kind === 'tcp' ? untouchedToleranceMs(e.cidr.address) : TOLERANCE.untouchedMs;
    const base = { id, kind, address: e.cidr.address, ...(e.dport !== undefined ? { port: e.dport } : {}), group: e.group, afterToleranceMs } as const;
    if (e.action === 'bypass') {
      destinations.push({ ...base, role: 'untouched', expectedAddedMs: 0, toleranceMs: untouchedToleranceMs(e.cidr.address), expectedLossPct: 0, samples: LATENCY_SAMPLES, verifiable: true });
      continue;
    }
    const netem = p.bands.find((b) => b.band === e.band)?.netem;
    if (!netem) continue;
    destinations.push({ ...base, role: 'fault', band: e.band, ...expectation(netem, dirs) });
  }
  if (skipped > 0) notes.push(`${skipped} more dependencies are not probed (at most ${MAX_PROBES})`);
  return { destinations, notes };
}

function expectation(n: Netem, dirs: number): Pick<ProbeDestination, 'expectedAddedMs' | 'toleranceMs' | 'expectedLossPct' | 'samples' | 'verifiable'> {
  const expectedAddedMs = n.delayMs * dirs;
  const perDirection = 1 - (1 - n.lossPct / 100) * (1 - n.corruptPct / 100);
  const expectedLossPct = round(100 * (1 - (1 - perDirection) ** dirs));
  return {
    expectedAddedMs,
    toleranceMs: round(TOLERANCE.relative * expectedAddedMs + TOLERANCE.absoluteMs + n.jitterMs * dirs),
    expectedLossPct,
    samples: expectedLossPct > 0 ? LOSS_SAMPLES : LATENCY_SAMPLES,
    verifiable: expectedAddedMs > 0 || expectedLossPct > 0,
  };
}

export type PhaseName = 'baseline' | 'during' | 'after';

/** The worker request for one phase: all destinations, samples spread over about 1 s, ending by the budget. */
export function probeRequest(destinations: readonly ProbeDestination[], phase: PhaseName): WorkerRequest {
  const extra = phase === 'during' ? Math.max(0, ...destinations.map((t) => t.expectedAddedMs + t.toleranceMs)) : 0;
  return {
    budgetMs: PHASE_BASE_MS + Math.round(extra),
    destinations: destinations.map((t) => ({ id: t.id, kind: t.kind, address: t.address, ...(t.port !== undefined ? { port: t.port } : {}), samples: t.samples, gapMs: Math.floor(1000 / t.samples) })),
  };
}

export interface PhaseStats {
  readonly samples: number;
  /** Samples answered without a loss (no retransmission, no timeout). */
  readonly answered: number;
  readonly medianMs: number | null;
  readonly lossPct: number | null;
  readonly error?: string;
}

export interface DependencyEffect {
  readonly id: string;
  readonly probe: 'tcp' | 'icmp';
  readonly group: string;
  readonly role: 'fault' | 'untouched';
  readonly band?: number;
  readonly baseline?: PhaseStats;
  readonly during?: PhaseStats;
  readonly after?: PhaseStats;
  readonly addedMs: number | null;
  readonly afterAddedMs: number | null;
  readonly expectedAddedMs: number;
  readonly toleranceMs: number;
  /** The bound on afterAddedMs (ProbeDestination.afterToleranceMs). */
  readonly afterToleranceMs: number;
  readonly lossPct: number | null;
  readonly expectedLossPct: number;
  readonly check: 'ok' | 'failed' | 'not verified';
  readonly reasons: readonly string[];
}

export interface BandEffect {
  readonly band: number;
  readonly side: 'egress' | 'ingress';
  readonly device: string;
  readonly netemHandle: string;
  readonly description: string;
  readonly packets: number | null;
  readonly bytes: number | null;
  readonly drops: number | null;
}

export interface EffectReport {
  readonly direction: Direction;
  readonly dependencies: readonly DependencyEffect[];
  readonly bands: readonly BandEffect[];
  readonly notes: readonly string[];
  /** VERIFY_EFFECT's view: ok when every check passed and at least one faulted dependency was verified. */
  readonly verdict: { readonly ok: boolean; readonly verified: number; readonly reasons: readonly string[] };
}

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return round(s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2);
}

/** Samples of one phase → median of the answered ones and the share lost (null, or a TCP sample over `lostAboveMs`). */
export function phaseStats(r: WorkerResult | undefined, kind: 'tcp' | 'icmp', lostAboveMs: number | undefined): PhaseStats | undefined {
  if (r === undefined) return undefined;
  const refused = Object.entries(r.errors).filter(([, n]) => n > 0).map(([code, n]) => `${code} ×${n}`);
  const done = r.samples.filter((x): x is number => x !== null);
  const answered = kind === 'tcp' && lostAboveMs !== undefined ? done.filter((x) => x <= lostAboveMs) : done;
  const errorCount = Object.values(r.errors).reduce((a, b) => a + b, 0);
  const counted = r.samples.length - errorCount;
  const error = r.error ?? (refused.length > 0 && done.length === 0 ? refused.join(', ') : undefined);
  return {
    samples: r.samples.length,
    answered: answered.length,
    medianMs: median(answered),
    lossPct: counted > 0 && error === undefined ? round((100 * (counted - answered.length)) / counted) : null,
    ...(error !== undefined ? { error } : {}),
  };
}

export interface EffectInput {
  readonly plan: Plan;
  readonly selection: ProbeSelection;
  readonly baseline?: Record<string, WorkerResult>;
  readonly during?: Record<string, WorkerResult>;
  readonly after?: Record<string, WorkerResult>;
  readonly counters?: readonly QdiscCounter[];
  /** Why a phase is missing (probe failed, run stopped). */
  readonly notes?: readonly string[];
}

export function effectReport(input: EffectInput): EffectReport {
  const { plan: p, selection } = input;
  const direction = planDirection(p);
  const dependencies = selection.destinations.map((t) => dependencyEffect(t, input));
  const bands = bandEffects(p, input.counters);
  const reasons = dependencies.flatMap((d) => d.reasons.map((r) => `${d.id}: ${r}`));
  const verified = dependencies.filter((d) => d.role === 'fault' && d.check !== 'not verified').length;
  if (verified === 0) reasons.push('no faulted dependency could be verified (no probeable address with a latency or loss fault, or no samples)');
  return {
    direction,
    dependencies,
    bands,
    notes: [...selection.notes, ...(input.notes ?? [])],
    verdict: { ok: reasons.length === 0, verified, reasons },
  };
}

function dependencyEffect(t: ProbeDestination, input: EffectInput): DependencyEffect {
  const base0 = phaseStats(input.baseline?.[t.id], t.kind, undefined);
  const slack = t.toleranceMs + RETRANSMIT_MS;
  const baseMedian = base0?.medianMs ?? null;
  const bound = (added: number): number | undefined => (baseMedian === null ? undefined : baseMedian + added + slack);
  const baseline = phaseStats(input.baseline?.[t.id], t.kind, bound(0));
  const during = phaseStats(input.during?.[t.id], t.kind, bound(t.expectedAddedMs));
  const after = phaseStats(input.after?.[t.id], t.kind, bound(0));
  const diff = (x: PhaseStats | undefined): number | null =>
    x?.medianMs === null || x?.medianMs === undefined || baseline?.medianMs === null || baseline?.medianMs === undefined ? null : round(x.medianMs - baseline.medianMs);
  const addedMs = diff(during);
  const afterAddedMs = diff(after);
  const lossPct = during?.lossPct ?? null;
  const reasons: string[] = [];
  let checked = false;
  if (baseline?.medianMs !== null && baseline?.medianMs !== undefined && during !== undefined && during.error === undefined) {
    if (t.role === 'untouched') {
      checked = true;
      if (addedMs !== null && addedMs >= t.toleranceMs) reasons.push(`untouched (port exclusion) but slowed by ${addedMs} ms (limit < ${t.toleranceMs} ms)`);
      if (lossPct !== null && lossPct > TOLERANCE.lossPoints) reasons.push(`untouched (port exclusion) but ${lossPct} % of the samples were lost`);
    } else if (t.verifiable) {
      checked = true;
      if (t.expectedAddedMs > 0) {
        if (addedMs === null) reasons.push(`no sample answered during the fault (expected +${t.expectedAddedMs} ms)`);
        else if (Math.abs(addedMs - t.expectedAddedMs) > t.toleranceMs) reasons.push(`added ${addedMs} ms, expected ${t.expectedAddedMs} ± ${t.toleranceMs} ms`);
      }
      if (t.expectedLossPct > 0 && lossPct !== null) {
        const p = t.expectedLossPct / 100;
        const allowed = Math.max(TOLERANCE.lossPoints, TOLERANCE.lossSigmas * 100 * Math.sqrt((p * (1 - p)) / Math.max(1, during.samples)));
        if (Math.abs(lossPct - t.expectedLossPct) > allowed) reasons.push(`lost ${lossPct} % of the samples, expected ${t.expectedLossPct} ± ${round(allowed)} %`);
      }
    }
    if (checked && afterAddedMs !== null && afterAddedMs >= t.afterToleranceMs) reasons.push(`still slowed by ${afterAddedMs} ms after the revert (limit < ${t.afterToleranceMs} ms)`);
  }
  return {
    id: t.id, probe: t.kind, group: t.group, role: t.role, ...(t.band !== undefined ? { band: t.band } : {}),
    ...(baseline ? { baseline } : {}), ...(during ? { during } : {}), ...(after ? { after } : {}),
    addedMs, afterAddedMs, expectedAddedMs: t.expectedAddedMs, toleranceMs: t.toleranceMs, afterToleranceMs: t.afterToleranceMs, lossPct, expectedLossPct: t.expectedLossPct,
    check: !checked ? 'not verified' : reasons.length > 0 ? 'failed' : 'ok',
    reasons,
  };
}

/** The devices whose netem counters belong to the plan (eth0 for egress, the ifb for ingress). */
export function counterDevices(p: Plan): { device: string; side: 'egress' | 'ingress' }[] {
  const d = planDirection(p);
  return [
    ...(d !== 'ingress' ? [{ device: p.interface, side: 'egress' as const }] : []),
    ...(d !== 'egress' && p.ifb !== undefined ? [{ device: p.ifb, side: 'ingress' as const }] : []),
  ];
}

function bandEffects(p: Plan, counters: readonly QdiscCounter[] | undefined): BandEffect[] {
  return counterDevices(p).flatMap(({ device, side }) => p.bands.map((b) => {
    const c = counters?.find((x) => x.device === device && x.handle === b.netemHandle);
    return { band: b.band, side, device, netemHandle: b.netemHandle, description: b.description, packets: c?.packets ?? null, bytes: c?.bytes ?? null, drops: c?.drops ?? null };
  }));
}

const ms = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : `${x} ms`);
const pct = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : `${x} %`);
const signed = (x: number | null): string => (x === null ? '—' : `${x >= 0 ? '+' : ''}${x} ms`);

function table(rows: readonly string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
}

/** The table `inject` prints at the end (stdout). */
export function formatEffect(r: EffectReport, verify: boolean): string {
  const out: string[] = [`Effect (measured inside the target's namespace; direction ${r.direction}):`, ''];
  if (r.dependencies.length === 0) out.push('  no dependency was probed');
  else {
    const rows = [['dependency', 'probe', 'baseline', 'during', 'after', 'added (expected)', 'loss (expected)', 'band', 'check']];
    for (const d of r.dependencies) {
      const expected = d.role === 'untouched' ? `< ${d.toleranceMs} ms` : `${d.expectedAddedMs} ± ${d.toleranceMs} ms`;
      rows.push([
        d.id, d.probe, ms(d.baseline?.medianMs), ms(d.during?.medianMs), ms(d.after?.medianMs),
        `${signed(d.addedMs)} (${expected})`, `${pct(d.lossPct)} (${d.expectedLossPct} %)`,
        d.role === 'untouched' ? 'excluded' : d.band !== undefined ? String(d.band) : '—', d.check,
      ]);
    }
    out.push(...table(rows).map((l) => `  ${l}`));
  }
  if (r.bands.length > 0) {
    out.push('', 'Band counters (netem, during the fault):');
    const rows = [['band', 'side', 'netem', 'fault', 'packets', 'bytes', 'dropped']];
    for (const b of r.bands) rows.push([String(b.band), `${b.side} (${b.device})`, b.netemHandle, b.description, String(b.packets ?? '—'), String(b.bytes ?? '—'), String(b.drops ?? '—')]);
    out.push(...table(rows).map((l) => `  ${l}`));
  }
  for (const d of r.dependencies) for (const [phase, s] of [['baseline', d.baseline], ['during', d.during], ['after', d.after]] as const) {
    if (s?.error !== undefined) out.push(`  note: ${d.id} ${phase}: ${s.error}`);
  }
  for (const n of r.notes) out.push(`  note: ${n}`);
  out.push('', verify
    ? (r.verdict.ok ? `VERIFY_EFFECT: ok (${r.verdict.verified} faulted dependencies within tolerance)` : `VERIFY_EFFECT: FAILED: ${r.verdict.reasons.join('; ')}`)
    : `checks: ${r.verdict.ok ? 'all within tolerance' : r.verdict.reasons.join('; ')} (VERIFY_EFFECT=true makes a miss fail the run)`);
  return out.join('\n') + '\n';
}

/** One line for the Litmus Summary Event. */
export function summarizeEffect(r: EffectReport): string {
  const parts = r.dependencies.map((d) => `${d.id} ${signed(d.addedMs)}${d.role === 'fault' ? ` (expected +${d.expectedAddedMs})` : ' (excluded)'}${d.expectedLossPct > 0 ? `, loss ${pct(d.lossPct)} (expected ${d.expectedLossPct} %)` : ''}`);
  return `effect (${r.direction}): ${parts.join('; ') || 'nothing probed'}; ${r.verdict.ok ? 'within tolerance' : `off: ${r.verdict.reasons.join('; ')}`}`;
}

/** The probes `plan` says would run. */
export function describeProbes(sel: ProbeSelection): string[] {
  const out = [`Effect probes (MEASURE_EFFECT; before, during and after, from inside the target's namespace):`];
  if (sel.destinations.length === 0) out.push('  none: no dependency with a single address');
  for (const t of sel.destinations) {
    const what = t.kind === 'tcp' ? `TCP connect ×${t.samples}` : `ping ×${t.samples}`;
    const expect = t.role === 'untouched' ? `must stay under +${t.toleranceMs} ms (port exclusion)` : `expect +${t.expectedAddedMs} ± ${t.toleranceMs} ms${t.expectedLossPct > 0 ? `, ${t.expectedLossPct} % lost` : ''}${t.verifiable ? '' : ' (nothing a probe can verify)'}`;
    out.push(`  ${t.id}: ${what}, ${expect}`);
  }
  for (const n of sel.notes) out.push(`  note: ${n}`);
  return out;
}
