/**
 * `netchaos run`: one Litmus experiment. Report Running → select targets → health check → (in place, all
 * targets on this node) container → netns → dependencies → plan (all before any change) → inject every
 * target, or (targets on other nodes, HELPER_MODE) one helper pod per node that does the same there →
 * health check → verdict, with the ChaosEngine's resilience probes around the chaos (./probes.ts). Every path
 * after the ChaosResult is set Running ends it with a verdict and errorCode (the error table); a stop (the
 * operator deleting the pod: SIGTERM) reverts first, then reports Stopped within a short grace.
 *
 * The exit contract (as litmus-go's bin/experiment/experiment.go): once the verdict is in the ChaosResult the
 * process exits 0, whatever the verdict — the chaos-runner reads the verdict from there, and a Failed pod
 * would be started again by its Job (backoffLimit 6) and inject again. Non-zero, with a loud line on stderr,
 * only when the verdict could not be written. Without CHAOSENGINE (not run by Litmus) the exit codes are
 * those of the local commands.
 */
import { EffectNotVerifiedError, ExitCode, HealthCheckError, RevertError, exitCodeOf, litmusCodeOf, messageOf, verdictOf } from '../model/errors.js';
import type { KubeCache } from '../model/destinations.js';
import { type TargetPod, podText } from '../model/kube.js';
import type { LitmusSpec } from '../model/litmus.js';
import type { Spec } from '../model/spec.js';
import type { StopSignalName } from '../model/stop.js';
import type { Deps } from '../ports.js';
import { checkHealth, checkTargetsHealth, selectTargets } from '../kube/targets.js';
import { type Final, type Recorded, Reporter } from './report.js';
import { type ProbeKube, ProbeRunError, ProbeStop, RunProbes } from './probes.js';
import { refindPod } from './refind.js';
import { injectAll, prepareTargets } from './targets.js';
import { reportBlastRadius } from './blast-report.js';
import { helperGraceS } from './helper-pods.js';
import { meshNote } from '../kube/mesh.js';
import { type JobInputs, chaosViaHelpers } from './via-helpers.js';
import { RefreshHistory } from './refresh-report.js';
import type { RefreshEvent } from './targets.js';

/** The longest a stopped run waits for its closing ChaosResult/Event updates (an API that hangs must not hold the exit). */
const STOPPED_REPORT_MS = 2500;

export interface RunOptions {
  /** How long the closing ChaosResult/Event updates may take (the pod's termination grace is short). */
  readonly reportTimeoutMs?: number;
  readonly procRoot?: string;
  readonly watchIntervalMs?: number;
  /** Needed for helper pods. */
  readonly jobInputs?: JobInputs;
  /** How often a helper pod's status is read. */
  readonly helperPollMs?: number;
  /** The clients of the resilience probes (and of reading the ChaosEngine); needed with CHAOSENGINE. */
  readonly probeKube?: () => Promise<ProbeKube>;
  /** Where the run's final line goes (the process's stderr). */
  readonly stderr?: (text: string) => void;
}

export async function runLitmus(base: Deps, spec: Spec, l: LitmusSpec, opts: RunOptions = {}): Promise<number> {
  const deps = { ...base, log: base.log.child({ experiment: l.experimentName, engine: l.engine, node: l.nodeName }) };
  return new LitmusRun(deps, spec, l, opts).run();
}

/** How the experiment ended, before it is written. */
interface Ending {
  readonly final: Final;
  /** What went wrong (Error, Fail, or a revert that failed). */
  readonly error?: unknown;
  /** The exit code without a ChaosResult (not run by Litmus). */
  readonly code: number;
  /** At most this long for the closing ChaosResult updates (a stopped run must exit within its grace). */
  readonly reportWithinMs?: number;
}

class LitmusRun {
  private readonly reporter: Reporter | undefined;
  /** MEASURE_EFFECT's verdict per target (measured here, or by a helper pod), for VERIFY_EFFECT. */
  private readonly effects: { pod: string; ok: boolean; reasons: readonly string[] }[] = [];
  /** The fault may have been applied (an injected target, or a helper that started). */
  private readonly progress = { injected: false, stopDetail: '' };
  private probes: RunProbes | undefined;
  /** DEPENDENCY_REFRESH: what every target's refresh loop did (here, or in helper pods): status.netchaosRefresh and Events. */
  private readonly refresh: RefreshHistory;

  constructor(private readonly deps: Deps, private readonly spec: Spec, private readonly l: LitmusSpec, private readonly opts: RunOptions) {
    this.reporter = l.engine !== undefined ? new Reporter({ api: deps.kube, litmus: l, log: deps.log, now: deps.clock.now, random: deps.random, signal: deps.stop.signal }) : undefined;
    this.refresh = new RefreshHistory(spec.refreshS);
  }

  /** One event of a target's refresh loop (already logged): an Event on the ChaosEngine and the ChaosResult's history. */
  private onRefresh(pod: TargetPod, e: RefreshEvent): void {
    const notice = this.refresh.record(podText(pod), e, this.deps.clock.now());
    if (e.kind === 'refresh-applied') return;
    if (notice) this.reporter?.event('engine', notice.reason, notice.message, notice.type);
    this.reporter?.setRefresh(this.refresh.status(), this.refresh.summary());
  }

  async run(): Promise<number> {
    const { reporter, deps } = this;
    if (!reporter) {
      const ending = await this.experiment();
      if (ending.error !== undefined) throw ending.error instanceof Error ? ending.error : new Error(messageOf(ending.error));
      return ending.code;
    }
    try {
      await reporter.start();
    } catch (error) {
      this.say(`netchaos: THE VERDICT CANNOT BE RECORDED: ChaosResult ${reporter.namespace}/${reporter.name} could not be created or set Running (${messageOf(error)}); nothing was changed`);
      throw error;
    }
    let ending: Ending;
    try {
      ending = await this.experiment();
    } finally {
      await this.probes?.close();
    }
    const recorded = await this.finish(ending.final, ending.reportWithinMs);
    if (ending.error !== undefined) {
      const message = messageOf(ending.error);
      deps.log.error({ err: ending.error instanceof RevertError ? { leftover: ending.error.leftover, command: ending.error.command } : undefined }, message);
      this.say(`netchaos: ${message}`);
    }
    if (recorded.written) {
      if (this.probes?.stopReason !== undefined) await this.probes.stopEngine();
      deps.log.info({ verdict: ending.final.verdict, phase: ending.final.phase, chaosResult: `${reporter.namespace}/${reporter.name}` },
        `verdict ${ending.final.verdict} (${ending.final.phase}) recorded in ChaosResult ${reporter.namespace}/${reporter.name}: exit 0, as litmus-go (the chaos-runner reads the verdict there)`);
      return ExitCode.ok;
    }
    this.say(`netchaos: THE VERDICT WAS NOT RECORDED: ChaosResult ${reporter.namespace}/${reporter.name} could not be updated (${recorded.failure}); it may still say Running/Awaited. This run's verdict: ${ending.final.verdict} (${ending.final.phase})${ending.final.error ? `: ${ending.final.error.reason}` : ''}`);
    if (ending.error !== undefined) return Math.max(exitCodeOf(ending.error), ExitCode.failure);
    return ending.code === ExitCode.ok ? ExitCode.failure : ending.code;
  }

  /** The experiment from target selection to the verdict; never throws. */
  private async experiment(): Promise<Ending> {
    const { deps, l } = this;
    try {
      await this.prepareProbes();
      const targets = await this.select();
      await this.healthCheck('pre', targets.all);
      deps.stop.phase = 'chaos';
      if (targets.viaHelpers) {
        this.probes?.chaosStarted(this.spec.durationS * 1000);
        await chaosViaHelpers(deps, { spec: this.spec, l, targets: targets.all, reporter: this.reporter, progress: this.progress, refresh: this.refresh,
          onEffect: (node, e) => {
            this.effects.push({ pod: e.pod, ok: e.ok, reasons: e.ok ? [] : [e.summary] });
            this.reporter?.setHelperEffect(e.pod.split('/').pop() ?? e.pod, { node, ok: e.ok, summary: e.summary });
          },
          ...this.opts });
      } else {
        await this.inPlace(targets.here);
      }
      this.probes?.chaosEnded();
      const off = this.effects.filter((x) => !x.ok);
      if (this.spec.verifyEffect && off.length > 0 && !deps.stop.received) {
        throw new EffectNotVerifiedError(`VERIFY_EFFECT: the measured effect is not the configured one: ${off.map((x) => `${x.pod}: ${x.reasons.join('; ')}`).join(' | ')}`);
      }
      if (deps.stop.received) return this.stopped(deps.stop.received);
      await this.healthCheck('post', targets.all);
      deps.log.info({ verdict: 'Pass' }, `${l.experimentName}: chaos injected and reverted on ${targets.all.length} pod(s)`);
      return { final: this.withProbes({ phase: 'Completed', verdict: 'Pass' }), code: ExitCode.ok };
    } catch (error) {
      return this.failed(error);
    }
  }

  private failed(error: unknown): Ending {
    const { deps } = this;
    if (error instanceof ProbeStop || (this.probes?.stopReason !== undefined && !(error instanceof RevertError))) {
      return this.probeStopped(this.probes?.stopReason ?? messageOf(error));
    }
    if (deps.stop.received && !(error instanceof RevertError)) {
      deps.log.warn({ err: messageOf(error) }, 'error while stopping');
      return this.stopped(deps.stop.received);
    }
    const verdict = verdictOf(error);
    const errorCode = error instanceof ProbeRunError ? error.errorCode : litmusCodeOf(error, this.progress.injected);
    const final = this.withProbes({ phase: verdict === 'Fail' ? 'Completed' : 'Error', verdict, error: { errorCode, reason: messageOf(error) } });
    return { final, error, code: exitCodeOf(error) };
  }

  /** The probes' part of the verdict (Completed_With_Probe_Failure, probeSuccessPercentage, probeStatuses). */
  private withProbes(f: Final): Final {
    if (!this.probes || this.probes.size === 0) return f;
    const r = this.probes.final({ phase: f.phase === 'Completed_With_Probe_Failure' ? 'Completed' : f.phase, verdict: f.verdict });
    if (r.phase === 'Running' || r.verdict === 'Awaited') return f;
    const failedProbes = r.phase === 'Completed_With_Probe_Failure' && f.verdict === 'Pass';
    return {
      ...f, phase: r.phase, verdict: r.verdict,
      ...(failedProbes ? { error: { errorCode: 'GENERIC_ERROR' as const, reason: `resilience probe(s) failed: ${r.probeStatuses.filter((p) => p.status.verdict === 'Failed').map((p) => `${p.name}: ${p.status.description ?? ''}`).join('; ')}` } } : {}),
      probes: { probeSuccessPercentage: r.probeSuccessPercentage, probeStatuses: r.probeStatuses, summary: r.summary },
    };
  }

  /** The ChaosEngine's probes, read and checked before any change (no CHAOSENGINE: none). */
  private async prepareProbes(): Promise<void> {
    const { deps, l, reporter, opts } = this;
    if (!reporter || !opts.probeKube) return;
    deps.stop.phase = 'probes';
    this.probes = await RunProbes.prepare({ deps, l, reporter, kube: await opts.probeKube() });
  }
  /** The target pods (TARGETS…), logged and listed in the ChaosResult; whether helper pods inject them. */
  private async select(): Promise<{ all: TargetPod[]; here: readonly TargetPod[]; viaHelpers: boolean }> {
    const { deps, l, reporter } = this;
    deps.stop.phase = 'target selection';
    const selection = await selectTargets(deps, l);
    const all = [...selection.here, ...selection.elsewhere];
    const viaHelpers = l.helperMode === 'always' || (l.helperMode === 'auto' && selection.elsewhere.length > 0);
    deps.log.info({ targets: selection.here.map(podText), elsewhere: [...selection.elsewhere, ...selection.skipped].map((p) => `${podText(p)} on ${p.node}`), matched: selection.matched, helpers: viaHelpers },
      viaHelpers ? `target pods (through helper pods): ${all.map((p) => `${podText(p)} on ${p.node}`).join(', ')}` : `target pods on this node: ${selection.here.map(podText).join(', ')}`);
    if (selection.skipped.length > 0) {
      deps.log.warn({ elsewhere: selection.skipped }, `selected pod(s) on other nodes are NOT touched by this runner (HELPER_MODE=never): ${selection.skipped.map((p) => `${podText(p)} (${p.node})`).join(', ')}`);
    }
    for (const p of all) reporter?.setTarget({ name: p.name, kind: 'pod', chaosStatus: 'targeted' });
    for (const p of all) if (p.mesh) reporter?.event('engine', 'ServiceMesh', `${podText(p)}: ${meshNote(p.mesh)}`);
    for (const p of selection.skipped) reporter?.event('engine', 'TargetSelection', `pod ${podText(p)} was selected but runs on node ${p.node}, not ${l.nodeName}: not injected (HELPER_MODE=never)`, 'Warning');
    return { all, here: selection.here, viaHelpers };
  }

  /**
   * DEFAULT_HEALTH_CHECK before and after the chaos, as litmus-go: every pod of each TARGETS entry, retried every
   * STATUS_CHECK_DELAY up to STATUS_CHECK_TIMEOUT (STATUS_CHECKS_ERROR, Warning "AUT: Not Running"); then the
   * probes of that phase (PreChaos / PostChaos); the PreChaosCheck/PostChaosCheck Event also when the check is off.
   */
  private async healthCheck(when: 'pre' | 'post', targets: readonly TargetPod[]): Promise<void> {
    const event = when === 'pre' ? 'PreChaosCheck' : 'PostChaosCheck';
    if (this.l.healthCheck) {
      const problems = await this.statusCheck(targets);
      if (problems.length > 0) {
        // litmus-go: reason PreChaosCheck/PostChaosCheck, message "AUT: Not Running", Warning (experiments/generic/pod-network-latency/experiment/pod-network-latency.go).
        this.reporter?.event('engine', event, `AUT: Not Running: ${problems.join('; ')}`, 'Warning');
        if (when === 'pre') throw new HealthCheckError(`pre-chaos status check failed after ${this.l.statusCheck.timeoutMs / 1000} s (STATUS_CHECK_TIMEOUT): ${problems.join('; ')}`);
        throw new HealthCheckError(`post-chaos status check failed after ${this.l.statusCheck.timeoutMs / 1000} s (STATUS_CHECK_TIMEOUT): ${problems.join('; ')}`);
      }
    }
    if (this.probes) {
      this.deps.stop.phase = when === 'pre' ? 'probes before the chaos' : 'probes after the chaos';
      await (when === 'pre' ? this.probes.beforeChaos() : this.probes.afterChaos());
    }
    this.reporter?.event('engine', event, this.probes ? this.probes.checkMessage(this.l.healthCheck) : this.l.healthCheck ? 'AUT: Running' : 'Skipped the default checks');
  }

  /** The status check, retried every STATUS_CHECK_DELAY until it passes or STATUS_CHECK_TIMEOUT is over: what is still wrong. */
  private async statusCheck(targets: readonly TargetPod[]): Promise<string[]> {
    const { deps, l } = this;
    const selectors = l.targetPods.length > 0 ? [] : l.targets;
    const deadline = deps.clock.now() + l.statusCheck.timeoutMs;
    for (;;) {
      const problems = selectors.length > 0
        ? await checkTargetsHealth(deps.kube, selectors, deps.stop.signal)
        : await checkHealth(deps.kube, targets, deps.stop.signal);
      if (problems.length === 0 || deps.clock.now() >= deadline || deps.stop.stopped) return problems;
      deps.log.info({ problems }, `status check: ${problems.join('; ')}; trying again in ${l.statusCheck.delayMs / 1000} s`);
      await deps.clock.sleep(Math.max(l.statusCheck.delayMs, 100), deps.stop.signal);
    }
  }

  /** Every target on this node: prepare all before the first change, then inject (SEQUENCE). */
  private async inPlace(here: readonly TargetPod[]): Promise<void> {
    const { deps, spec, l, reporter, opts } = this;
    const cache: KubeCache = new Map();
    const prepared = await prepareTargets(deps, spec, here, { cache, procRoot: opts.procRoot });
    if (deps.stop.stopped) return;
    await reportBlastRadius(deps, spec, prepared, reporter);
    if (deps.stop.stopped) return;
    reporter?.event('engine', 'ChaosInject', `Injecting ${l.experimentName} chaos on application pod(s) ${prepared.map((x) => podText(x.pod)).join(', ')} (${prepared.map((x) => x.plan.bands.map((b) => b.description).join(', ')).join('; ')})`);
    await injectAll(deps, prepared, {
      spec, sequence: l.sequence, watchIntervalMs: opts.watchIntervalMs,
      refind: (pod) => refindPod(deps, { spec, pod, procRoot: opts.procRoot }),
      onStatus: (p, status) => {
        if (status === 'injected') {
          this.progress.injected = true;
          this.probes?.chaosStarted(spec.durationS * 1000);
        }
        reporter?.setTarget({ name: p.name, kind: 'pod', chaosStatus: status });
      },
      onLeftover: (p, message) => { reporter?.event('engine', 'ChaosLeftover', `${podText(p)}: ${message}`, 'Warning'); },
      onEffect: (p, effect) => {
        this.effects.push({ pod: podText(p), ok: effect.verdict.ok, reasons: effect.verdict.reasons });
        reporter?.setEffect(p.name, effect);
      },
      onRefresh: (p, e) => { this.onRefresh(p, e); },
    });
  }

  private async finish(f: Final, atMostMs = Infinity): Promise<Recorded> {
    if (!this.reporter) return { written: false, failure: 'no ChaosResult (not run by Litmus)' };
    return this.reporter.finish(f, Math.min(this.opts.reportTimeoutMs ?? 5000, atMostMs));
  }

  private say(line: string): void {
    (this.opts.stderr ?? ((t: string) => { process.stderr.write(t); }))(`${line}\n`);
  }

  private stopped(signal: StopSignalName): Ending {
    const { stopDetail, injected } = this.progress;
    const how = stopDetail !== '' ? `; helper pods were deleted with a ${helperGraceS(this.l.helperPod)} s grace period so they revert first: ${stopDetail}` : injected ? '; the fault was reverted first' : ' before any change';
    const reason = `experiment stopped by ${signal} (the ChaosEngine was stopped or the runner pod deleted)${how}`;
    this.deps.log.warn({ verdict: 'Stopped' }, reason);
    const final = this.withProbes({ phase: 'Stopped', verdict: 'Stopped', error: { errorCode: 'EXPERIMENT_ABORTED', reason } });
    // A stopped run has 5 s from the signal to exit (the revert came first): the last updates get what is left of it.
    return { final: { ...final, phase: 'Stopped', verdict: 'Stopped' }, code: signal === 'SIGINT' ? ExitCode.interrupted : ExitCode.terminated, reportWithinMs: STOPPED_REPORT_MS };
  }

  /** A stopOnFailure probe failed: the fault was reverted (or never applied); Stopped, and the engine set to stop after. */
  private probeStopped(reason: string): Ending {
    const how = this.progress.injected ? '; the fault was reverted first' : ' before any change';
    const text = `${reason}${how}`;
    this.deps.log.warn({ verdict: 'Stopped' }, text);
    const final = this.withProbes({ phase: 'Stopped', verdict: 'Stopped', error: { errorCode: 'EXPERIMENT_ABORTED', reason: text } });
    return { final: { ...final, phase: 'Stopped', verdict: 'Stopped' }, code: ExitCode.terminated };
  }
}
