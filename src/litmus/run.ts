/**
 * `netchaos run`: one Litmus experiment. Report Running → select targets → health check → (in place, all
 * targets on this node) container → netns → dependencies → plan (all before any change) → inject every
 * target, or (targets on other nodes, HELPER_MODE) one helper pod per node that does the same there →
 * health check → verdict. Every failure ends the ChaosResult with its verdict and errorCode (the error table);
 * a stop (the operator deleting the pod: SIGTERM) reverts first, then reports Stopped within a short grace.
 */
import { EffectNotVerifiedError, ExitCode, HealthCheckError, RevertError, TargetSelectionError, litmusCodeOf, messageOf, verdictOf } from '../model/errors.js';
import type { KubeCache } from '../model/destinations.js';
import { type TargetPod, podText } from '../model/kube.js';
import type { LitmusSpec } from '../model/litmus.js';
import type { Spec } from '../model/spec.js';
import type { StopSignalName } from '../model/stop.js';
import type { Deps } from '../ports.js';
import type { EffectReport } from '../effect/effect.js';
import { checkHealth, selectTargets } from '../kube/targets.js';
import { type Final, Reporter } from './report.js';
import { refindPod } from './refind.js';
import { injectAll, prepareTargets } from './targets.js';
import { reportBlastRadius } from './blast-report.js';
import { STOP_GRACE_S } from './helper-pods.js';
import { type JobInputs, chaosViaHelpers } from './via-helpers.js';

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
}

export async function runLitmus(base: Deps, spec: Spec, l: LitmusSpec, opts: RunOptions = {}): Promise<number> {
  const deps = { ...base, log: base.log.child({ experiment: l.experimentName, engine: l.engine, node: l.nodeName }) };
  return new LitmusRun(deps, spec, l, opts).run();
}

class LitmusRun {
  private readonly reporter: Reporter | undefined;
  private readonly effects: { pod: string; effect: EffectReport }[] = [];
  /** The fault may have been applied (an injected target, or a helper that started). */
  private readonly progress = { injected: false, stopDetail: '' };

  constructor(private readonly deps: Deps, private readonly spec: Spec, private readonly l: LitmusSpec, private readonly opts: RunOptions) {
    this.reporter = l.engine !== undefined ? new Reporter({ api: deps.kube, litmus: l, log: deps.log, now: deps.clock.now, random: deps.random, signal: deps.stop.signal }) : undefined;
  }

  async run(): Promise<number> {
    const { deps, l, reporter } = this;
    try {
      if (reporter) await reporter.start();
      const targets = await this.select();
      await this.healthCheck('pre', targets.all);
      deps.stop.phase = 'chaos';
      if (targets.viaHelpers) await chaosViaHelpers(deps, { spec: this.spec, l, targets: targets.all, reporter, progress: this.progress, ...this.opts });
      else await this.inPlace(targets.here);
      const off = this.effects.filter((x) => !x.effect.verdict.ok);
      if (this.spec.verifyEffect && off.length > 0 && !deps.stop.received) {
        throw new EffectNotVerifiedError(`VERIFY_EFFECT: the measured effect is not the configured one: ${off.map((x) => `${x.pod}: ${x.effect.verdict.reasons.join('; ')}`).join(' | ')}`);
      }
      if (deps.stop.received) return await this.stopped(deps.stop.received);
      await this.healthCheck('post', targets.all);
      await this.finish({ phase: 'Completed', verdict: 'Pass' });
      deps.log.info({ verdict: 'Pass' }, `${l.experimentName}: chaos injected and reverted on ${targets.all.length} pod(s); verdict Pass`);
      return ExitCode.ok;
    } catch (error) {
      if (deps.stop.received && !(error instanceof RevertError)) {
        deps.log.warn({ err: messageOf(error) }, 'error while stopping');
        return await this.stopped(deps.stop.received);
      }
      const verdict = verdictOf(error);
      await this.finish({ phase: verdict === 'Fail' ? 'Completed' : 'Error', verdict, error: { errorCode: litmusCodeOf(error, this.progress.injected), reason: messageOf(error) } });
      throw error;
    }
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
    for (const p of selection.skipped) reporter?.event('engine', 'TargetSelection', `pod ${podText(p)} was selected but runs on node ${p.node}, not ${l.nodeName}: not injected (HELPER_MODE=never)`, 'Warning');
    return { all, here: selection.here, viaHelpers };
  }

  /** DEFAULT_HEALTH_CHECK before (TARGET_SELECTION_ERROR) and after the chaos (verdict Fail). */
  private async healthCheck(when: 'pre' | 'post', targets: readonly TargetPod[]): Promise<void> {
    if (!this.l.healthCheck) return;
    const problems = await checkHealth(this.deps.kube, targets, this.deps.stop.signal);
    const event = when === 'pre' ? 'PreChaosCheck' : 'PostChaosCheck';
    if (problems.length > 0) {
      if (when === 'pre') throw new TargetSelectionError(`pre-chaos health check failed: ${problems.join('; ')}`);
      this.reporter?.event('engine', event, `AUT: not healthy: ${problems.join('; ')}`, 'Warning');
      throw new HealthCheckError(`post-chaos health check failed: ${problems.join('; ')}`);
    }
    this.reporter?.event('engine', event, 'AUT: Running');
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
        if (status === 'injected') this.progress.injected = true;
        reporter?.setTarget({ name: p.name, kind: 'pod', chaosStatus: status });
      },
      onEffect: (p, effect) => {
        this.effects.push({ pod: podText(p), effect });
        reporter?.setEffect(p.name, effect);
      },
    });
  }

  private async finish(f: Final, atMostMs = Infinity): Promise<void> {
    if (this.reporter) await this.reporter.finish(f, Math.min(this.opts.reportTimeoutMs ?? 5000, atMostMs));
  }

  private async stopped(signal: StopSignalName): Promise<number> {
    const { stopDetail, injected } = this.progress;
    const how = stopDetail !== '' ? `; helper pods were deleted with a ${STOP_GRACE_S} s grace period so they revert first: ${stopDetail}` : injected ? '; the fault was reverted first' : ' before any change';
    const reason = `experiment stopped by ${signal} (the ChaosEngine was stopped or the runner pod deleted)${how}`;
    this.deps.log.warn({ verdict: 'Stopped' }, reason);
    // A stopped run has 5 s from the signal to exit (the revert came first): the last updates get what is left of it.
    await this.finish({ phase: 'Stopped', verdict: 'Stopped', error: { errorCode: 'EXPERIMENT_ABORTED', reason } }, STOPPED_REPORT_MS);
    return signal === 'SIGINT' ? ExitCode.interrupted : ExitCode.terminated;
  }
}
