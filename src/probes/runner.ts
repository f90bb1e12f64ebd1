/**
 * Runs a ChaosEngine's probes around the chaos, as litmus-go does (pkg/probe/probe.go RunProbes and the
 * pre/onChaos/post functions of each type):
 *
 * - beforeChaos ("PreChaos"), in the engine's order: SOT and Edge probes run (initialDelay, then up to
 *   `attempts` tries `interval` apart, each bounded by probeTimeout); Continuous probes start in the
 *   background. A probe *error* ends the phase at once (the experiment ends Error, no chaos); a failed probe
 *   with stopOnFailure ends it too (no chaos; the run ends Stopped); other failures are recorded and the
 *   chaos goes on.
 * - chaosStarted ("DuringChaos"): OnChaos probes start in the background, for the chaos duration minus
 *   their initialDelay, or until chaosEnded (the revert).
 * - Continuous and OnChaos probes repeat their tries every probePollingInterval; the first failure (all
 *   attempts failed) fails the probe and ends its loop; with stopOnFailure it asks the runner to stop the
 *   run (`stopRequested`): revert, patch the ChaosEngine to `engineState: stop`, report Stopped.
 * - afterChaos ("PostChaos"): Continuous probes stop (a try under way finishes and counts), every Continuous
 *   and OnChaos probe is judged (Passed when no try failed), then EOT and Edge probes run. Edge passes only
 *   when both its runs pass.
 * - finalResult: probeStatuses, probeSuccessPercentage, and the phase/verdict litmus-go writes
 *   (pkg/result/chaosresult.go updateResultAttributes): any Failed probe → Completed_With_Probe_Failure/Fail,
 *   or Stopped/Stopped when it had stopOnFailure; probes never judged → N/A.
 *
 * Every wait races the run's AbortSignal and has a bound; close() ends every loop and deletes probe pods.
 * Where netchaos differs from litmus-go, on purpose, docs/probes.md says so.
 */
import type { Logger } from '../ports.js';
import type { DynamicKube, PodExec } from '../kube/dynamic.js';
import { type ProbePodContext, ProbePod, type Sleeper, inlineAttempt, runId, sourceAttempt } from './cmd.js';
import { formatDuration } from './duration.js';
import { httpAttempt } from './http.js';
import { k8sAttempt } from './k8s.js';
import { type Outcome, type ProbeErrorCode, fail, messageOf, probeError } from './outcome.js';
import { promAttempt } from './prom.js';
import { type ProbeMode, type ProbeSpec, type ProbeType, renderTemplate } from './spec.js';

export type ProbeVerdict = 'Awaited' | 'Passed' | 'Failed' | 'N/A';

/** One entry of the ChaosResult's status.probeStatuses (chaos-operator ProbeStatuses). */
export interface ProbeStatus {
  readonly name: string;
  readonly type: ProbeType;
  readonly mode: ProbeMode;
  readonly status: { readonly verdict: ProbeVerdict; readonly description?: string };
}

export type ProbePhase = 'PreChaos' | 'DuringChaos' | 'PostChaos';

/** How a phase of probes ended, and what the runner does next. */
export type PhaseResult =
  /** Go on with the run. */
  | { readonly kind: 'continue' }
  /** A probe with stopOnFailure failed: stop the run (no chaos / revert now), report Stopped. */
  | { readonly kind: 'stop'; readonly probe: string; readonly reason: string }
  /** A probe could not run as configured: the run ends Error/Error with this errorCode and reason. */
  | { readonly kind: 'error'; readonly probe: string; readonly errorCode: ProbeErrorCode | 'GENERIC_ERROR'; readonly reason: string }
  /** The run's signal aborted (SIGTERM…): the probes stopped where they were. */
  | { readonly kind: 'aborted' };

/** Why the probes asked the run to stop (the reason of `stopRequested`). */
export class ProbeStopRequest extends Error {
  override readonly name = 'ProbeStopRequest';
  constructor(readonly probe: string, readonly reason: string) {
    super(`probe ${JSON.stringify(probe)} failed and has stopOnFailure: ${reason}`);
  }
}

export interface VerdictEvent {
  readonly probe: string;
  readonly type: ProbeType;
  readonly mode: ProbeMode;
  readonly phase: ProbePhase;
  readonly verdict: 'Passed' | 'Failed' | 'Error';
  readonly description: string;
}

export type ProbeClock = Sleeper;

/** What the probes need from the run (ports; real ones by default where there is one). */
export interface ProbeEnvironment {
  readonly log: Logger;
  /** Resolves sleep early (without throwing) when the signal aborts. Default: real time. */
  readonly clock?: ProbeClock;
  /** k8sProbe and cmdProbe with `source` (and reading/patching the ChaosEngine). */
  readonly kube?: DynamicKube | undefined;
  /** cmdProbe with `source`. */
  readonly podExec?: PodExec | undefined;
  /** cmdProbe with `source`: the run's namespace, names, pull policy and STATUS_CHECK_DELAY/TIMEOUT. */
  readonly context?: Partial<ProbePodContext>;
  /** bodyPath / queryPath files. Default: read from this pod's filesystem. */
  readonly readFile?: (path: string) => string;
  /** The shell of inline cmdProbes. Default /bin/sh (as litmus-go). */
  readonly shell?: string;
  /** The environment of inline cmdProbe commands. Default: this process's (as litmus-go). */
  readonly env?: NodeJS.ProcessEnv;
  /** Each verdict as it is reached (for Events). */
  readonly onVerdict?: (e: VerdictEvent) => void;
  /** Called once when a Continuous/OnChaos probe with stopOnFailure fails (also signalled by stopRequested). */
  readonly onStop?: (request: ProbeStopRequest) => void;
}

export const realClock: ProbeClock = {
  now: () => Date.now(),
  sleep: (ms, signal) => new Promise<void>((resolve) => {
    if (signal?.aborted || ms <= 0) { resolve(); return; }
    const done = (): void => { clearTimeout(timer); signal?.removeEventListener('abort', done); resolve(); };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  }),
};

type Run = Outcome | { readonly kind: 'aborted' };

class ProbeState {
  verdict: ProbeVerdict = 'Awaited';
  description = '';
  /** Comparisons made (litmus-go RunCount: drives verbosity). */
  evaluations = 0;
  /** Successful tries of a Continuous/OnChaos loop. */
  passes = 0;
  counted = false;
  stopped = false;
  loop: Promise<void> | undefined;
  /** The failure or error a Continuous/OnChaos loop ended with. */
  loopOutcome: Outcome | undefined;
  lastPass: Outcome | undefined;
  /** Stops the loop from starting another try (afterChaos; for OnChaos also chaosEnded and its window). */
  readonly cancel = new AbortController();
  /** Aborts a try under way (the run's signal, close(), the PostChaos wait running out). */
  readonly abort = new AbortController();
  pod: ProbePod | undefined;
  constructor(readonly spec: ProbeSpec) {}
}

const isLoopMode = (m: ProbeMode): boolean => m === 'Continuous' || m === 'OnChaos';

export interface FinalResultInput {
  readonly phase: 'Completed' | 'Error' | 'Stopped' | 'Running';
  readonly verdict: 'Pass' | 'Fail' | 'Error' | 'Stopped' | 'Awaited';
}

export interface FinalResult {
  readonly phase: 'Completed' | 'Completed_With_Probe_Failure' | 'Error' | 'Stopped' | 'Running';
  readonly verdict: 'Pass' | 'Fail' | 'Error' | 'Stopped' | 'Awaited';
  /** "0".."100", or "Awaited" while running. */
  readonly probeSuccessPercentage: string;
  readonly probeStatuses: readonly ProbeStatus[];
  readonly passed: number;
  readonly total: number;
}

const NOT_RUN = 'Either probe is not executed or not evaluated';

export class ProbeSet {
  private readonly states: ProbeState[];
  private readonly artifacts = new Map<string, string>();
  private readonly stop = new AbortController();
  private readonly closing = new AbortController();
  private runSignal: AbortSignal = new AbortController().signal;
  private readonly clock: ProbeClock;
  private readonly log: Logger;
  private readonly podCtx: ProbePodContext;
  private closed = false;

  constructor(readonly specs: readonly ProbeSpec[], private readonly env: ProbeEnvironment) {
    this.states = specs.map((s) => new ProbeState(s));
    this.clock = env.clock ?? realClock;
    this.log = env.log;
    const c = env.context ?? {};
    this.podCtx = {
      chaosNamespace: c.chaosNamespace ?? '',
      experimentName: c.experimentName ?? 'netchaos',
      chaosUid: c.chaosUid ?? '',
      podName: c.podName ?? '',
      imagePullPolicy: c.imagePullPolicy ?? 'Always',
      statusCheckDelayMs: c.statusCheckDelayMs ?? 2000,
      statusCheckTimeoutMs: c.statusCheckTimeoutMs ?? 180_000,
    };
  }

  /** Aborts (with a ProbeStopRequest as reason) when a Continuous/OnChaos probe with stopOnFailure fails. */
  get stopRequested(): AbortSignal {
    return this.stop.signal;
  }

  get size(): number {
    return this.states.length;
  }

  /** PreChaos: SOT and Edge probes run, Continuous probes start. */
  async beforeChaos(signal: AbortSignal): Promise<PhaseResult> {
    this.runSignal = signal;
    for (const s of this.states) {
      if (signal.aborted) return { kind: 'aborted' };
      const mode = s.spec.mode;
      if (mode === 'SOT' || mode === 'Edge') {
        const r = await this.oneShot(s, 'PreChaos');
        if (r.kind !== 'continue') return r;
      } else if (mode === 'Continuous') {
        const r = await this.startLoop(s, 'PreChaos', undefined);
        if (r.kind !== 'continue') return r;
      }
    }
    return { kind: 'continue' };
  }

  /**
   * DuringChaos, right after the fault is in place: OnChaos probes start (their probe pods first, when
   * they have a source) and run for `durationMs` minus their initialDelay, or until chaosEnded().
   */
  async chaosStarted(o: { readonly durationMs: number }): Promise<PhaseResult> {
    for (const s of this.states) {
      if (s.spec.mode !== 'OnChaos') continue;
      if (this.runSignal.aborted) return { kind: 'aborted' };
      const r = await this.startLoop(s, 'DuringChaos', o.durationMs);
      if (r.kind !== 'continue') return r;
    }
    return { kind: 'continue' };
  }

  /** The fault is reverted: OnChaos probes start no new try (a try under way finishes and counts). */
  chaosEnded(): void {
    for (const s of this.states) if (s.spec.mode === 'OnChaos') s.cancel.abort();
  }

  /** PostChaos: Continuous probes stop; Continuous and OnChaos probes are judged; EOT and Edge probes run. */
  async afterChaos(signal: AbortSignal): Promise<PhaseResult> {
    this.runSignal = signal;
    for (const s of this.states) if (isLoopMode(s.spec.mode)) s.cancel.abort();
    const problems: { s: ProbeState; kind: 'stop' | 'error'; code: ProbeErrorCode | 'GENERIC_ERROR'; reason: string }[] = [];
    for (const s of this.states) {
      if (!isLoopMode(s.spec.mode) || !s.loop) continue;
      const ended = await this.waitLoop(s, signal);
      if (ended === 'aborted') return { kind: 'aborted' };
      const podError = await this.deletePod(s);
      if (podError) problems.push({ s, kind: 'error', code: 'CMD_PROBE_ERROR', reason: podError });
      if (s.stopped) {
        problems.push({ s, kind: 'stop', code: 'GENERIC_ERROR', reason: s.description });
        continue;
      }
      let outcome: Outcome;
      if (ended === 'timeout') {
        outcome = { kind: 'fail', code: 'PROBE_TIMEOUT', description: `Probe is failed due to timeout: its try did not end within ${formatDuration(this.podCtx.statusCheckTimeoutMs)} (STATUS_CHECK_TIMEOUT) after the chaos` };
      } else if (s.loopOutcome) {
        outcome = s.loopOutcome;
      } else if (s.passes > 0 && s.lastPass) {
        outcome = s.lastPass;
      } else {
        const delay = s.spec.run.initialDelayMs > 0 ? ` before its initialDelay (${formatDuration(s.spec.run.initialDelayMs)}) was over` : ' before its first try ended';
        outcome = fail(s.spec.type, `the probe never completed a try: the ${s.spec.mode === 'OnChaos' ? 'chaos' : 'run'} ended${delay}`);
      }
      if (outcome.kind === 'error') {
        this.reportError(s, outcome, 'PostChaos');
        problems.push({ s, kind: 'error', code: outcome.code, reason: outcome.description });
        continue;
      }
      if (this.mark(s, outcome, 'PostChaos')) problems.push({ s, kind: 'stop', code: 'GENERIC_ERROR', reason: outcome.description });
    }
    if (problems.length > 0) {
      const stop = problems.find((p) => p.kind === 'stop');
      if (stop) return { kind: 'stop', probe: stop.s.spec.name, reason: stop.reason };
      const first = problems[0];
      const reason = problems.map((p) => `${p.s.spec.name}: ${p.reason}`).join('; ');
      return { kind: 'error', probe: first?.s.spec.name ?? '', errorCode: problems.length === 1 && first ? first.code : 'GENERIC_ERROR', reason };
    }
    for (const s of this.states) {
      if (signal.aborted) return { kind: 'aborted' };
      if (s.spec.mode === 'EOT' || s.spec.mode === 'Edge') {
        const r = await this.oneShot(s, 'PostChaos');
        if (r.kind !== 'continue') return r;
      }
    }
    return { kind: 'continue' };
  }

  /** Ends every loop and try, and deletes the probe pods still there. Safe to call more than once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    for (const s of this.states) { s.cancel.abort(); s.abort.abort(); }
    const loops = this.states.map((s) => s.loop).filter((l): l is Promise<void> => l !== undefined);
    const bound = new AbortController();
    await Promise.race([Promise.allSettled(loops), this.clock.sleep(10_000, bound.signal)]);
    bound.abort();
    for (const s of this.states) {
      const problem = await this.deletePod(s);
      if (problem) this.log.error({ probe: s.spec.name }, problem);
    }
  }

  /** The probes' statuses now (Awaited before they are judged). */
  statuses(): ProbeStatus[] {
    return this.states.map((s) => ({
      name: s.spec.name, type: s.spec.type, mode: s.spec.mode,
      status: { verdict: s.verdict, ...(s.description !== '' ? { description: s.description } : {}) },
    }));
  }

  /** Probes passed so far (litmus-go PassedProbeCount). */
  get passed(): number {
    return this.states.filter((s) => s.counted).length;
  }

  /**
   * The ChaosResult fields once the run is over, from the verdict the run reached without the probes
   * (litmus-go pkg/result/chaosresult.go updateResultAttributes and probe.SetProbeVerdictAfterFailure).
   */
  finalResult(base: FinalResultInput): FinalResult {
    const total = this.states.length;
    const passed = this.passed;
    let { phase, verdict }: { phase: FinalResult['phase']; verdict: FinalResult['verdict'] } = base;
    const failed = this.states.filter((s) => s.verdict === 'Failed');
    const percent = (): string => (total > 0 ? String(Math.floor((passed * 100) / total)) : '0');
    if (phase === 'Running') return { phase, verdict, probeSuccessPercentage: 'Awaited', probeStatuses: this.statuses(), passed, total };
    if (failed.length > 0) {
      phase = 'Completed_With_Probe_Failure';
      verdict = 'Fail';
      if (failed.some((s) => s.stopped)) { phase = 'Stopped'; verdict = 'Stopped'; }
    }
    const probeStatuses = this.statuses().map((st) => (st.status.verdict === 'Awaited'
      ? { ...st, status: { verdict: 'N/A' as const, description: st.status.description ? `${NOT_RUN}: ${st.status.description}` : NOT_RUN } }
      : st));
    let probeSuccessPercentage: string;
    if (verdict === 'Pass') probeSuccessPercentage = total > 0 ? percent() : '100';
    else if (verdict === 'Fail') probeSuccessPercentage = percent();
    else if (verdict === 'Stopped') probeSuccessPercentage = percent();
    else probeSuccessPercentage = '0';
    return { phase, verdict, probeSuccessPercentage, probeStatuses, passed, total };
  }

  /** One line for the Summary: "probes: 1 of 2 passed (a: Passed; b: Failed, …)". */
  summary(): string {
    if (this.states.length === 0) return 'no resilience probes';
    const parts = this.states.map((s) => `${s.spec.name} (${s.spec.type}, ${s.spec.mode}): ${s.verdict === 'Awaited' ? 'N/A' : s.verdict}${s.verdict === 'Failed' && s.description ? ` — ${s.description.slice(0, 200)}` : ''}`);
    return `resilience probes: ${this.passed} of ${this.states.length} passed (${parts.join('; ')})`;
  }

  // ---- phases --------------------------------------------------------------------------------------

  private info(s: ProbeState, phase: ProbePhase): void {
    const p = s.spec;
    const inputs = p.type === 'httpProbe' ? { url: p.url.text, method: p.method.kind, criteria: p.method.comparator.criteria, responseCode: p.method.comparator.value }
      : p.type === 'cmdProbe' ? { command: p.command.text, comparator: `${p.comparator.type} ${p.comparator.criteria} ${p.comparator.value}`, source: p.source?.image ?? 'inline' }
      : p.type === 'k8sProbe' ? { resource: `${p.resource}${p.group ? `.${p.group}` : ''}/${p.version}`, namespace: p.namespace, operation: p.operation, resourceNames: p.resourceNames.text, labelSelector: p.labelSelector.text, fieldSelector: p.fieldSelector.text }
      : { endpoint: p.endpoint, query: p.query, comparator: `${p.comparator.criteria} ${p.comparator.value}` };
    const r = p.run;
    this.log.info({ probe: p.name, type: p.type, mode: p.mode, phase, ...inputs, probeTimeout: formatDuration(r.probeTimeoutMs), interval: formatDuration(r.intervalMs), attempts: r.attempts, pollingInterval: formatDuration(r.pollingIntervalMs), initialDelay: formatDuration(r.initialDelayMs), stopOnFailure: r.stopOnFailure },
      `[Probe]: ${p.name} (${p.type}, ${p.mode}) in ${phase}`);
  }

  private async oneShot(s: ProbeState, phase: 'PreChaos' | 'PostChaos'): Promise<PhaseResult> {
    this.info(s, phase);
    const signal = AbortSignal.any([this.runSignal, this.closing.signal]);
    if (s.spec.run.initialDelayMs > 0) {
      this.log.info({ probe: s.spec.name }, `[Wait]: waiting ${formatDuration(s.spec.run.initialDelayMs)} (initialDelay) before probe ${s.spec.name}`);
      await this.clock.sleep(s.spec.run.initialDelayMs, signal);
      if (signal.aborted) return { kind: 'aborted' };
    }
    const started = await this.startPod(s, signal);
    if (started.kind !== 'continue') return started;
    let r: Run;
    try {
      r = await this.attempts(s, AbortSignal.any([signal, s.abort.signal]));
    } finally {
      const problem = await this.deletePod(s);
      if (problem) r = { kind: 'error', code: 'CMD_PROBE_ERROR', description: problem };
    }
    if (r.kind === 'aborted') return { kind: 'aborted' };
    if (r.kind === 'error') {
      this.reportError(s, r, phase);
      return { kind: 'error', probe: s.spec.name, errorCode: r.code, reason: r.description };
    }
    if (this.mark(s, r, phase)) return { kind: 'stop', probe: s.spec.name, reason: r.description };
    return { kind: 'continue' };
  }

  private async startPod(s: ProbeState, signal: AbortSignal): Promise<PhaseResult> {
    const p = s.spec;
    if (p.type !== 'cmdProbe' || !p.source) return { kind: 'continue' };
    if (!this.env.kube || !this.env.podExec) {
      return { kind: 'error', probe: p.name, errorCode: 'CMD_PROBE_ERROR', reason: 'a cmdProbe with source needs the Kubernetes API (probe pod and exec)' };
    }
    s.pod = new ProbePod(this.env.kube, this.env.podExec, this.podCtx, this.clock, runId());
    this.log.info({ probe: p.name, pod: s.pod.name, image: p.source.image }, `[Probe]: creating probe pod ${this.podCtx.chaosNamespace}/${s.pod.name} for ${p.name}`);
    try {
      await s.pod.start(p.source, AbortSignal.any([signal, this.closing.signal]));
    } catch (error) {
      if (signal.aborted) return { kind: 'aborted' };
      const reason = `probe pod for ${p.name}: ${messageOf(error)}`;
      this.reportError(s, { kind: 'error', code: 'CMD_PROBE_ERROR', description: reason }, 'PreChaos');
      return { kind: 'error', probe: p.name, errorCode: 'CMD_PROBE_ERROR', reason };
    }
    return { kind: 'continue' };
  }

  /** Deletes the probe's pod if it has one; the problem as a sentence, or undefined. */
  private async deletePod(s: ProbeState): Promise<string | undefined> {
    const pod = s.pod;
    if (!pod) return undefined;
    s.pod = undefined;
    try {
      await pod.delete();
      this.log.info({ probe: s.spec.name, pod: pod.name }, `[Probe]: deleted probe pod ${pod.name}`);
      return undefined;
    } catch (error) {
      return `could not delete probe pod ${this.podCtx.chaosNamespace}/${pod.name}: ${messageOf(error)} (delete it with: kubectl delete pod -n ${this.podCtx.chaosNamespace} ${pod.name})`;
    }
  }

  private async startLoop(s: ProbeState, phase: ProbePhase, chaosDurationMs: number | undefined): Promise<PhaseResult> {
    this.info(s, phase);
    const run = this.runSignal;
    const started = await this.startPod(s, run);
    if (started.kind !== 'continue') return started;
    const stopLoop = AbortSignal.any([run, s.cancel.signal, this.closing.signal]);
    const tries = AbortSignal.any([run, s.abort.signal, this.closing.signal]);
    const p = s.spec;
    s.loop = (async () => {
      if (p.run.initialDelayMs > 0) {
        this.log.info({ probe: p.name }, `[Wait]: waiting ${formatDuration(p.run.initialDelayMs)} (initialDelay) before probe ${p.name}`);
        await this.clock.sleep(p.run.initialDelayMs, stopLoop);
      }
      if (chaosDurationMs !== undefined) {
        // pkg/probe/*probe.go triggerOnChaos*: the window is the chaos duration minus the initial delay
        const windowMs = Math.max(0, chaosDurationMs - p.run.initialDelayMs);
        void this.clock.sleep(windowMs, stopLoop).then(() => {
          if (!stopLoop.aborted) this.log.info({ probe: p.name }, `[Chaos]: time is up for the ${p.name} probe`);
          s.cancel.abort();
        });
      }
      for (;;) {
        if (stopLoop.aborted) break;
        const r = await this.attempts(s, tries);
        if (r.kind === 'aborted') break;
        if (r.kind !== 'pass') {
          s.loopOutcome = r;
          s.description = r.description;
          this.log.error({ probe: p.name, type: p.type, mode: p.mode, code: r.code }, `[Probe]: the ${p.name} ${p.type} has failed: ${r.description}`);
          if (p.run.stopOnFailure) this.requestStop(s, r);
          break;
        }
        s.passes++;
        s.lastPass = r;
        if (stopLoop.aborted) break;
        await this.clock.sleep(p.run.pollingIntervalMs, stopLoop);
      }
      if (!run.aborted) this.log.info({ probe: p.name }, `[Probe]: stopping the ${p.mode} probe ${p.name} after ${s.passes} successful tr${s.passes === 1 ? 'y' : 'ies'}`);
    })().catch((error: unknown) => {
      s.loopOutcome = probeError(p.type, `internal error in the probe loop: ${messageOf(error)}`);
    });
    return { kind: 'continue' };
  }

  /** Waits for a loop to end after its cancel, at most STATUS_CHECK_TIMEOUT (pkg/probe/probe.go checkForErrorInContinuousProbe). */
  private async waitLoop(s: ProbeState, signal: AbortSignal): Promise<'ended' | 'timeout' | 'aborted'> {
    const loop = s.loop;
    if (!loop) return 'ended';
    const bound = new AbortController();
    const wait = AbortSignal.any([signal, bound.signal]);
    let ended = false;
    void loop.then(() => { ended = true; bound.abort(); });
    const started = this.clock.now();
    if (!ended) {
      this.log.info({ probe: s.spec.name }, `[Probe]: waiting for the ${s.spec.name} probe to finish its try`);
      await this.clock.sleep(this.podCtx.statusCheckTimeoutMs, wait);
    }
    await Promise.resolve();
    if (ended) return 'ended';
    if (signal.aborted) { s.abort.abort(); return 'aborted'; }
    this.log.warn({ probe: s.spec.name, waitedMs: this.clock.now() - started }, `[Probe]: the ${s.spec.name} probe did not finish in time; its try is abandoned`);
    s.abort.abort();
    return 'timeout';
  }

  private requestStop(s: ProbeState, r: Exclude<Outcome, { kind: 'pass' }>): void {
    this.mark(s, { kind: 'fail', code: r.kind === 'fail' ? r.code : 'PROBE_TIMEOUT', description: r.description }, 'PostChaos');
    if (this.stop.signal.aborted) return;
    const request = new ProbeStopRequest(s.spec.name, r.description);
    this.log.warn({ probe: s.spec.name }, `[Probe]: ${request.message}; asking the run to stop (revert, ChaosEngine engineState: stop)`);
    this.stop.abort(request);
    try {
      this.env.onStop?.(request);
    } catch (error) {
      this.log.error({ err: messageOf(error) }, 'the onStop handler failed');
    }
  }

  /** Records a verdict (pkg/probe/probe.go markedVerdictInEnd + setProbeVerdict); true when the run must stop. */
  private mark(s: ProbeState, r: Exclude<Outcome, { kind: 'error' }>, phase: 'PreChaos' | 'PostChaos'): boolean {
    const p = s.spec;
    const edge = p.mode === 'Edge';
    if (r.kind === 'pass') {
      this.log.info({ probe: p.name, type: p.type, mode: p.mode, phase, verdict: 'Passed' }, `[Probe]: ${p.name} probe has been Passed: ${r.description}`);
      // Edge counts once, in PostChaos, and only when PreChaos did not fail it
      if (!s.counted && (!edge || (phase === 'PostChaos' && s.verdict !== 'Failed'))) s.counted = true;
      if (!(edge && ((phase === 'PreChaos') || s.verdict === 'Failed'))) { s.verdict = 'Passed'; s.description = r.description; }
      this.emit(s, phase, 'Passed', r.description);
      return false;
    }
    this.log.error({ probe: p.name, type: p.type, mode: p.mode, phase, verdict: 'Failed', code: r.code }, `[Probe]: ${p.name} probe has been Failed: ${r.description}`);
    if (!(edge && phase === 'PostChaos' && s.verdict === 'Failed')) { s.verdict = 'Failed'; s.description = r.description; }
    this.emit(s, phase, 'Failed', r.description);
    if (p.run.stopOnFailure) { s.stopped = true; return true; }
    return false;
  }

  private reportError(s: ProbeState, r: Extract<Outcome, { kind: 'error' }>, phase: ProbePhase): void {
    s.description = r.description;
    this.log.error({ probe: s.spec.name, type: s.spec.type, mode: s.spec.mode, phase, code: r.code }, `[Probe]: ${s.spec.name} could not run: ${r.description}`);
    this.emit(s, phase, 'Error', r.description);
  }

  private emit(s: ProbeState, phase: ProbePhase, verdict: VerdictEvent['verdict'], description: string): void {
    try {
      this.env.onVerdict?.({ probe: s.spec.name, type: s.spec.type, mode: s.spec.mode, phase, verdict, description });
    } catch (error) {
      this.log.error({ err: messageOf(error) }, 'the onVerdict handler failed');
    }
  }

  // ---- tries ---------------------------------------------------------------------------------------

  /** Up to `attempts` tries, `interval` apart, until one passes (litmus-go retry.Times(..).Wait(interval)). */
  private async attempts(s: ProbeState, signal: AbortSignal): Promise<Run> {
    const { attempts, intervalMs } = s.spec.run;
    let last: Run = { kind: 'aborted' };
    for (let i = 1; i <= attempts; i++) {
      if (signal.aborted) return { kind: 'aborted' };
      last = await this.attempt(s, signal);
      if (last.kind === 'pass' || last.kind === 'aborted') return last;
      if (i < attempts) {
        this.log.info({ probe: s.spec.name, attempt: i, attempts }, `[Probe]: ${s.spec.name} try ${i} of ${attempts} did not pass: ${last.description}; next in ${formatDuration(intervalMs)}`);
        await this.clock.sleep(intervalMs, signal);
      }
    }
    return last;
  }

  /** One try, bounded by probeTimeout. */
  private async attempt(s: ProbeState, signal: AbortSignal): Promise<Run> {
    const p = s.spec;
    const deadline = new AbortController();
    const timer = setTimeout(() => { deadline.abort(); }, Math.max(1, p.run.probeTimeoutMs));
    const trySignal = AbortSignal.any([signal, deadline.signal]);
    let outcome: Outcome;
    try {
      outcome = await this.execute(s, trySignal);
      if (deadline.signal.aborted && outcome.kind === 'pass') throw new Error('deadline');
    } catch (error) {
      if (signal.aborted) return { kind: 'aborted' };
      if (deadline.signal.aborted) {
        const what = p.type === 'httpProbe' ? `no answer from ${renderTemplate(p.url, (n) => this.artifacts.get(n) ?? '')}` : 'no result';
        return fail(p.type, `${what} within probeTimeout ${formatDuration(p.run.probeTimeoutMs)} (probe failed due to timeout)`);
      }
      return probeError(p.type, messageOf(error));
    } finally {
      clearTimeout(timer);
    }
    if (outcome.kind !== 'error' && outcome.evaluation) {
      s.evaluations++;
      // pkg/probe/comparator: with verbosity "info" only the first comparison is logged
      if (p.run.verbosity !== 'info' || s.evaluations === 1) {
        const e = outcome.evaluation;
        this.log.info({ probe: p.name, actual: e.actual, expected: e.expected, criteria: e.criteria }, `[Probe]: {Actual value: ${e.actual}}, {Expected value: ${e.expected}}, {Operator: ${e.criteria}}`);
      }
    }
    return outcome;
  }

  private async execute(s: ProbeState, signal: AbortSignal): Promise<Outcome> {
    const p = s.spec;
    const value = (name: string): string => this.artifacts.get(name) ?? '';
    switch (p.type) {
      case 'httpProbe':
        return httpAttempt(p, renderTemplate(p.url, value), signal);
      case 'promProbe':
        return promAttempt(p, signal);
      case 'k8sProbe':
        if (!this.env.kube) return probeError('k8sProbe', 'a k8sProbe needs the Kubernetes API, which this run does not have');
        return k8sAttempt(p, this.env.kube, this.artifacts, signal);
      case 'cmdProbe': {
        const r = p.source
          ? s.pod ? await sourceAttempt(p, s.pod, this.artifacts, signal) : { outcome: probeError('cmdProbe', 'its probe pod is not running') }
          : await inlineAttempt(p, this.artifacts, signal, { shell: this.env.shell ?? '/bin/sh', env: this.env.env ?? process.env });
        if (r.register !== undefined) this.artifacts.set(p.name, r.register);
        return r.outcome;
      }
    }
  }
}
