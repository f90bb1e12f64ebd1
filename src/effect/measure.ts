/**
 * MEASURE_EFFECT during one injection: baseline before the apply, a probe at the start of the chaos window (the
 * window is not extended, but its end waits for a probe still running, unless a signal came), the band counters
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

  private async run(phase: PhaseName): Promise<void> {
    if (this.selection.destinations.length === 0) return;
    const started = this.deps.clock.now();
    try {
      this.results[phase] = await this.prober.probe(this.o.netns, probeRequest(this.selection.destinations, phase), this.deps.stop.signal);
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
    this.during = this.run('during');
  }

  /** The end of the chaos window: waits for the probe (unless the run stops), then reads the counters. */
  async endDuring(): Promise<void> {
    const signal = this.deps.stop.signal;
    if (signal.aborted) {
      this.notes.push('stopped by a signal: the chaos-window figures may be incomplete');
      return;
    }
    const aborted = new Promise<void>((resolve) => { signal.addEventListener('abort', () => { resolve(); }, { once: true }); });
    await Promise.race([this.during, aborted]);
    if (signal.aborted) return;
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
