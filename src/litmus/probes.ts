/**
 * The ChaosEngine's resilience probes in a `netchaos run` (src/probes does the probing; docs/probes.md):
 * read from the engine before any change (invalid → the run ends Error, nothing changed), their statuses in
 * the ChaosResult from the start (Awaited), PreChaos/DuringChaos/PostChaos around the fault, a failed
 * stopOnFailure probe stopping the run (the fault is reverted through the run's Stop), and their share of the
 * final verdict. They run from this runner's own network namespace, never the target's (litmus-go does the same).
 */
import { RuntimeError } from '../model/errors.js';
import type { Deps } from '../ports.js';
import type { DynamicKube, PodExec } from '../kube/dynamic.js';
import {
  type FinalResult, type FinalResultInput, type PhaseResult, type ProbeErrorCode, type ProbeSet, checkMessage, prepareProbes, readChaosEngine, stopChaosEngine,
} from '../probes/index.js';
import type { LitmusSpec } from '../model/litmus.js';
import type { Reporter } from './report.js';

/** The Kubernetes clients the probes use (k8sProbe, cmdProbe with source, the engine itself). */
export interface ProbeKube {
  readonly kube: DynamicKube;
  readonly podExec: PodExec;
}

/** A probe could not run as configured (litmus-go's *_PROBE_ERROR): the run ends Error with that errorCode. */
export class ProbeRunError extends RuntimeError {
  override readonly name = 'ProbeRunError';
  constructor(message: string, readonly errorCode: ProbeErrorCode | 'GENERIC_ERROR') {
    super(message);
  }
}

/** A stopOnFailure probe failed: the run ends Stopped and the ChaosEngine is set to stop. */
export class ProbeStop extends Error {
  override readonly name = 'ProbeStop';
}

export interface RunProbesOptions {
  readonly deps: Deps;
  readonly l: LitmusSpec;
  readonly reporter: Reporter;
  readonly kube: ProbeKube;
  /** STATUS_CHECK_DELAY / STATUS_CHECK_TIMEOUT (a cmdProbe's probe pod start). */
  readonly statusCheck?: { readonly delayMs: number; readonly timeoutMs: number };
  readonly imagePullPolicy?: string;
}

export class RunProbes {
  /** Why a probe stopped the run (stopOnFailure), once it did. */
  stopReason: string | undefined;
  /** A DuringChaos probe error, once there was one. */
  private chaosError: ProbeRunError | undefined;
  private started = false;

  private constructor(private readonly o: RunProbesOptions, readonly set: ProbeSet) {
    set.stopRequested.addEventListener('abort', () => {
      const reason: unknown = set.stopRequested.reason;
      this.stop(reason instanceof Error ? reason.message : 'a resilience probe with stopOnFailure failed');
    }, { once: true });
  }

  /** Reads the engine's probes and checks them all; throws ProbeRunError (nothing changed) when they are not valid. */
  static async prepare(o: RunProbesOptions): Promise<RunProbes> {
    const { deps, l } = o;
    const engine = await readChaosEngine(o.kube.kube, l.chaosNamespace, l.engine ?? '', deps.stop.signal);
    const prepared = prepareProbes(engine, l.experimentName, {
      log: deps.log, kube: o.kube.kube, podExec: o.kube.podExec,
      context: {
        chaosNamespace: l.chaosNamespace, experimentName: l.experimentName, chaosUid: l.chaosUid, podName: l.podName,
        ...(o.imagePullPolicy !== undefined ? { imagePullPolicy: o.imagePullPolicy } : {}),
        ...(o.statusCheck ? { statusCheckDelayMs: o.statusCheck.delayMs, statusCheckTimeoutMs: o.statusCheck.timeoutMs } : {}),
      },
      onVerdict: (e) => {
        const level = e.verdict === 'Passed' ? 'info' : 'warn';
        deps.log[level]({ probe: e.probe, type: e.type, mode: e.mode, phase: e.phase, verdict: e.verdict }, `[Probe]: ${e.probe} (${e.type}, ${e.mode}) ${e.phase}: ${e.verdict}: ${e.description}`);
      },
    });
    if (!prepared.ok) throw new ProbeRunError(`${prepared.message}\nNothing was changed.`, 'GENERIC_ERROR');
    const probes = new RunProbes(o, prepared.probes);
    if (probes.set.size > 0) o.reporter.setProbeStatuses(probes.set.statuses());
    return probes;
  }

  get size(): number {
    return this.set.size;
  }

  /** PreChaos: SOT/Edge probes, Continuous ones start. A stop or an error ends the run before any change. */
  async beforeChaos(): Promise<void> {
    this.check(await this.set.beforeChaos(this.o.deps.stop.signal));
  }

  /** The fault is in place (first target injected): OnChaos probes start. */
  chaosStarted(durationMs: number): void {
    if (this.started || this.set.size === 0) return;
    this.started = true;
    void this.set.chaosStarted({ durationMs }).then((r) => {
      if (r.kind !== 'error') return;
      this.chaosError = new ProbeRunError(`resilience probe ${r.probe}: ${r.reason}`, r.errorCode);
      this.o.deps.stop.stopInternally(`resilience probe ${r.probe} could not run: ${r.reason}`);
    });
  }

  /** The fault is reverted (OnChaos probes start no new try); a DuringChaos error or stop is thrown here. */
  chaosEnded(): void {
    this.set.chaosEnded();
    if (this.stopReason !== undefined) throw new ProbeStop(this.stopReason);
    if (this.chaosError) throw this.chaosError;
  }

  /** PostChaos: Continuous/OnChaos probes judged, EOT/Edge probes run. */
  async afterChaos(): Promise<void> {
    this.check(await this.set.afterChaos(this.o.deps.stop.signal));
  }

  /** "Probes: Successful/Unsuccessful" of the PreChaosCheck/PostChaosCheck Event (litmus-go GetStatusMessage). */
  checkMessage(healthCheck: boolean): string {
    if (this.set.size === 0) return checkMessage(healthCheck, undefined);
    return checkMessage(healthCheck, this.set.statuses().some((s) => s.status.verdict === 'Failed') ? 'Unsuccessful' : 'Successful');
  }

  final(base: FinalResultInput): FinalResult & { readonly summary: string } {
    return { ...this.set.finalResult(base), summary: this.set.summary() };
  }

  /** After a stopOnFailure stop is recorded: `engineState: stop`, as litmus-go's stopChaosEngine. */
  async stopEngine(): Promise<void> {
    const { deps, l } = this.o;
    try {
      await stopChaosEngine(this.o.kube.kube, l.chaosNamespace, l.engine ?? '');
      deps.log.warn(`ChaosEngine ${l.chaosNamespace}/${l.engine ?? ''} set to engineState: stop (a resilience probe with stopOnFailure failed)`);
    } catch (error) {
      deps.log.error({ err: error instanceof Error ? error.message : String(error) }, `could not set ChaosEngine ${l.chaosNamespace}/${l.engine ?? ''} to engineState: stop`);
    }
  }

  async close(): Promise<void> {
    await this.set.close();
  }

  private stop(reason: string): void {
    if (this.stopReason !== undefined) return;
    this.stopReason = reason;
    this.o.deps.log.warn({ probe: true }, `${reason}: stopping the run (the fault is reverted first)`);
    this.o.deps.stop.stopInternally(reason);
  }

  private check(r: PhaseResult): void {
    if (r.kind === 'stop') {
      this.stopReason ??= `resilience probe ${r.probe} failed and has stopOnFailure: ${r.reason}`;
      throw new ProbeStop(this.stopReason);
    }
    if (r.kind === 'error') throw new ProbeRunError(`resilience probe ${r.probe}: ${r.reason}`, r.errorCode);
  }
}
