/**
 * MEASURE_EFFECT during one injection: baseline before the apply, a probe at the start of the chaos window (the
 * window is not extended; its end waits for a probe still running at most DURING_OVERRUN_MS, and not at all once
 * a signal came: the revert never waits on a probe of a huge latency), the band counters
 * just before the revert, and a probe after the revert. Never throws: a probe that fails becomes a note in the report.
 */
import { messageOf } from '../model/errors.js';
import type { NetnsRef } from '../model/netns.js';
import type { WorkerResult } from '../model/probe.js';
import type { Spec } from '../model/spec.js';
import type { QdiscCounter } from '../model/tc.js';
import type { Deps, EffectProber } from '../ports.js';
import type { Plan } from '../tc/plan.js';
import { type EffectReport, type PhaseName, type ProbeSelection, counterDevices, effectReport, probeDestinations, probeRequest } from './effect.js';

/** The longest the end of the chaos window (and so the revert) waits for the `during` probe; it is ended then. */
export const DURING_OVERRUN_MS = 10_000;

type MeasureDeps = Pick<Deps, 'clock' | 'log' | 'prober' | 'stop'>;

export interface MeasureOptions {
  readonly spec: Pick<Spec, 'measureEffect'>;
  readonly plan: Plan;
  readonly netns: NetnsRef;
}

export class EffectMeasure {
  private readonly selection: ProbeSelection;
  private readonly results: Partial<Record<PhaseName, Record<string, WorkerResult>>> = {};
  private counters: QdiscCounter[] | undefined;
  private readonly notes: string[] = [];
  private during: Promise<void> | undefined;
  /** Ends the `during` probe early (its figures become a note). */
  private readonly duringCut = new AbortController();

  private constructor(private readonly deps: MeasureDeps, private readonly prober: EffectProber, private readonly o: MeasureOptions) {
    this.selection = probeDestinations(o.plan);
  }

  /**
   * Undefined when MEASURE_EFFECT is off or no prober was passed in. The run's stop kills a probe still
   * running, so a SIGTERM's revert and exit never wait for one.
   */
  static create(deps: MeasureDeps, o: MeasureOptions): EffectMeasure | undefined {
    if (!o.spec.measureEffect || deps.prober === undefined) return undefined;
    return new EffectMeasure(deps, deps.prober, o);
  }

  private async run(phase: PhaseName, cut?: AbortSignal): Promise<void> {
    if (this.selection.destinations.length === 0) return;
    const started = this.deps.clock.now();
    try {
      const signal = cut ? AbortSignal.any([this.deps.stop.signal, cut]) : this.deps.stop.signal;
      this.results[phase] = await this.prober.probe(this.o.netns, probeRequest(this.selection.destinations, phase), signal);
      this.deps.log.info({ event: 'effect-probe', phase, ms: this.deps.clock.now() - started }, `effect probe (${phase}) done`);
    } catch (error) {
      this.notes.push(`the ${phase} probe failed: ${messageOf(error)}`);
      this.deps.log.warn({ event: 'effect-probe', phase, err: messageOf(error) }, `effect probe (${phase}) failed`);
    }
  }

  baseline(): Promise<void> {
    return this.run('baseline');
  }

  /** Starts the probe of the chaos window (right after the apply). */
  startDuring(): void {
    this.during = this.run('during', this.duringCut.signal);
  }

  /** The end of the chaos window: waits for the probe (unless the run stops; at most DURING_OVERRUN_MS), then reads the counters. */
  async endDuring(): Promise<void> {
    const signal = this.deps.stop.signal;
    if (signal.aborted) {
      this.notes.push('stopped by a signal: the chaos-window figures may be incomplete');
      return;
    }
    const aborted = new Promise<void>((resolve) => { signal.addEventListener('abort', () => { resolve(); }, { once: true }); });
    const waited = new AbortController();
    const late = this.deps.clock.sleep(DURING_OVERRUN_MS, AbortSignal.any([signal, waited.signal])).then(() => 'late' as const);
    const how = await Promise.race([this.during?.then(() => 'done' as const), aborted.then(() => 'stopped' as const), late]);
    waited.abort();
    if (signal.aborted) return;
    if (how === 'late') {
      this.duringCut.abort();
      this.notes.push(`the chaos-window probe was still running ${DURING_OVERRUN_MS / 1000} s after the window ended: it was ended so that the revert does not wait for it`);
    }
    try {
      this.counters = await this.prober.counters(this.o.netns, counterDevices(this.o.plan).map((d) => d.device));
    } catch (error) {
      this.notes.push(`the band counters could not be read: ${messageOf(error)}`);
    }
  }

  after(): Promise<void> {
    return this.run('after');
  }

  report(): EffectReport {
    return effectReport({
      plan: this.o.plan, selection: this.selection, notes: this.notes,
      ...(this.results.baseline ? { baseline: this.results.baseline } : {}),
      ...(this.results.during ? { during: this.results.during } : {}),
      ...(this.results.after ? { after: this.results.after } : {}),
      ...(this.counters ? { counters: this.counters } : {}),
    });
  }
}
