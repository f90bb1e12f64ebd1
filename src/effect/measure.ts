/**
 * MEASURE_EFFECT during one injection: baseline before the apply, a probe at the start of the chaos window (the
 * window is not extended, but its end waits for a probe still running, unless a signal came), the band counters
 * just before the revert, and a probe after the revert. Never throws: a probe that fails becomes a note in the report.
 */
import type { Deps } from '../deps.js';
import type { Spec } from '../config/spec.js';
import type { Plan } from '../tc/plan.js';
import type { Target } from '../netns/target.js';
import type { EffectProber, QdiscCounter, WorkerResult } from './probe.js';
import { type EffectReport, type PhaseName, type ProbeSelection, counterDevices, effectReport, probeRequest, probeTargets } from './effect.js';

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export class EffectMeasure {
  private readonly selection: ProbeSelection;
  private readonly results: Partial<Record<PhaseName, Record<string, WorkerResult>>> = {};
  private counters: QdiscCounter[] | undefined;
  private readonly notes: string[] = [];
  private during: Promise<void> | undefined;

  private constructor(
    private readonly deps: Deps, private readonly prober: EffectProber, private readonly plan: Plan, private readonly target: Target,
    private readonly stop: AbortSignal | undefined,
  ) {
    this.selection = probeTargets(plan);
  }

  /**
   * Undefined when MEASURE_EFFECT is off or no prober was passed in. `stop` (the run's stop signal) kills a
   * probe still running, so a SIGTERM's revert and exit never wait for one.
   */
  static create(deps: Deps, spec: Spec, plan: Plan, target: Target, stop?: AbortSignal): EffectMeasure | undefined {
    if (spec.measureEffect !== true || deps.prober === undefined) return undefined;
    return new EffectMeasure(deps, deps.prober, plan, target, stop);
  }

  private async run(phase: PhaseName): Promise<void> {
    if (this.selection.targets.length === 0) return;
    const started = this.deps.clock.now();
    try {
      this.results[phase] = await this.prober.probe(this.target, probeRequest(this.selection.targets, phase), this.stop);
      this.deps.log.info({ event: 'effect-probe', phase, ms: this.deps.clock.now() - started }, `effect probe (${phase}) done`);
    } catch (error) {
      this.notes.push(`the ${phase} probe failed: ${message(error)}`);
      this.deps.log.warn({ event: 'effect-probe', phase, err: message(error) }, `effect probe (${phase}) failed`);
    }
  }

  baseline(): Promise<void> {
    return this.run('baseline');
  }

  /** Starts the probe of the chaos window (right after the apply). */
  startDuring(): void {
    this.during = this.run('during');
  }

  /** The end of the chaos window: waits for the probe (unless `signal` aborts), then reads the counters. */
  async endDuring(signal: AbortSignal): Promise<void> {
    if (signal.aborted) {
      this.notes.push('stopped by a signal: the chaos-window figures may be incomplete');
      return;
    }
    const aborted = new Promise<void>((resolve) => { signal.addEventListener('abort', () => { resolve(); }, { once: true }); });
    await Promise.race([this.during, aborted]);
    if (signal.aborted) return;
    try {
      this.counters = await this.prober.counters(this.target, counterDevices(this.plan).map((d) => d.device));
    } catch (error) {
      this.notes.push(`the band counters could not be read: ${message(error)}`);
    }
  }

  after(): Promise<void> {
    return this.run('after');
  }

  report(): EffectReport {
    return effectReport({
      plan: this.plan, selection: this.selection, notes: this.notes,
      ...(this.results.baseline ? { baseline: this.results.baseline } : {}),
      ...(this.results.during ? { during: this.results.during } : {}),
      ...(this.results.after ? { after: this.results.after } : {}),
      ...(this.counters ? { counters: this.counters } : {}),
    });
  }
}
