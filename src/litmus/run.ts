/**
 * `netchaos run`: one Litmus experiment. Report Running → select targets → health check → (in place, all
 * targets on this node) container → netns → dependencies → plan (all before any change) → inject every
 * target, or (targets on other nodes, HELPER_MODE) one helper pod per node that does the same there →
 * health check → verdict. SIGTERM (the operator deleting the pod) reverts first (helper pods: deletes them
 * with a short grace, so they revert), then reports Stopped within a short grace.
 */
import type { EffectReport } from '../effect/effect.js';
import type { Deps, StopSignalName } from '../deps.js';
import { EffectNotVerifiedError, ExitCode, RevertError, RuntimeError, UsageError, UsageErrors } from '../errors.js';
import type { Spec } from '../config/spec.js';
import { plan } from '../tc/plan.js';
import type { KubeApi } from '../kube/api.js';
import { type TargetPod, TargetSelectionError, checkHealth, selectTargets } from '../kube/targets.js';
import type { HostFs } from '../runtime/host.js';
import type { ResolverFactory } from '../resolve/dns.js';
import { type KubeCache, resolveInCluster } from '../resolve/destinations.js';
import type { LitmusSpec } from './env.js';
import { type ErrorCode, type Final, Reporter } from './report.js';
import { HealthCheckError, SignalHub, errorCodeOf, injectAll, podText, prepareTargets } from './inplace.js';
import { refindPod } from './refind.js';
import { encodeJob, wireDependencies, wireTarget } from './helper-job.js';
import { HELPER_GRACE_S, HelperError, type NodeJob, type NodeOutcome, STOP_GRACE_S, helperName, helperPod, readRunnerPod, runHelpers } from './helper-pods.js';

export { HealthCheckError } from './inplace.js';

export interface LitmusDeps extends Deps {
  readonly kube: KubeApi;
  readonly fs: HostFs;
  readonly resolver: ResolverFactory;
  readonly random: () => number;
}

/** What a helper job carries of this run's input: the fault variables as given (flag or env) and the files they name. */
export interface JobInputs {
  readonly variables: Readonly<Record<string, string>>;
  readonly files: Readonly<Record<string, string>>;
}

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

/** One or more helper pods failed; `code` is the ChaosResult's errorCode. */
export class HelperFailure extends RuntimeError {
  override readonly name = 'HelperFailure';
  constructor(message: string, readonly code: ErrorCode) {
    super(message);
  }
}

export async function runLitmus(deps: LitmusDeps, spec: Spec, l: LitmusSpec, opts: RunOptions = {}): Promise<number> {
  const log = deps.log.child({ experiment: l.experimentName, engine: l.engine, node: l.nodeName });
  const reporter = l.engine !== undefined ? new Reporter({ api: deps.kube, litmus: l, log, now: deps.clock.now, random: deps.random }) : undefined;
  const hub = new SignalHub(deps.signals);
  const reportTimeoutMs = opts.reportTimeoutMs ?? 5000;
  const effects: { pod: string; effect: EffectReport }[] = [];
  let injected = false;
  let stopDetail = '';
  const stoppedBeforeChaos = (): boolean => hub.received !== undefined;
  try {
    if (reporter) await reporter.start();
    const selection = await selectTargets(deps.kube, l, deps.random);
    const targets = [...selection.here, ...selection.elsewhere];
    const viaHelpers = l.helperMode === 'always' || (l.helperMode === 'auto' && selection.elsewhere.length > 0);
    log.info({ targets: selection.here.map(podText), elsewhere: [...selection.elsewhere, ...selection.skipped].map((p) => `${podText(p)} on ${p.node}`), matched: selection.matched, helpers: viaHelpers },
      viaHelpers ? `target pods (through helper pods): ${targets.map((p) => `${podText(p)} on ${p.node}`).join(', ')}` : `target pods on this node: ${selection.here.map(podText).join(', ')}`);
    if (selection.skipped.length > 0) {
      log.warn({ elsewhere: selection.skipped }, `selected pod(s) on other nodes are NOT touched by this runner (HELPER_MODE=never): ${selection.skipped.map((p) => `${podText(p)} (${p.node})`).join(', ')}`);
    }
    for (const p of targets) reporter?.setTarget({ name: p.name, kind: 'pod', chaosStatus: 'targeted' });
    for (const p of selection.skipped) reporter?.event('engine', 'TargetSelection', `pod ${podText(p)} was selected but runs on node ${p.node}, not ${l.nodeName}: not injected (HELPER_MODE=never)`, 'Warning');

    if (l.healthCheck) {
      const problems = await checkHealth(deps.kube, targets);
      if (problems.length > 0) throw new TargetSelectionError(`pre-chaos health check failed: ${problems.join('; ')}`);
      reporter?.event('engine', 'PreChaosCheck', 'AUT: Running');
    }

    const cache: KubeCache = new Map();
    if (viaHelpers) {
      await chaosViaHelpers(targets, cache);
    } else {
      // Everything that can fail without changing anything happens here, for every target, before the first change.
      const prepared = await prepareTargets({ ...deps, kube: () => deps.kube }, spec, selection.here, { cache, procRoot: opts.procRoot });
      if (stoppedBeforeChaos()) return await stopped(undefined);
      reporter?.event('engine', 'ChaosInject', `Injecting ${l.experimentName} chaos on application pod(s) ${prepared.map((x) => podText(x.pod)).join(', ')} (${prepared.map((x) => x.plan.bands.map((b) => b.description).join(', ')).join('; ')})`);
      await injectAll(deps, prepared, {
        spec, sequence: l.sequence, hub, watchIntervalMs: opts.watchIntervalMs,
        refind: (pod) => refindPod({ kube: deps.kube, exec: deps.exec, fs: deps.fs }, spec, pod, opts.procRoot),
        onStatus: (p, status) => {
          if (status === 'injected') injected = true;
          reporter?.setTarget({ name: p.name, kind: 'pod', chaosStatus: status });
        },
        onEffect: (p, effect) => {
          effects.push({ pod: podText(p), effect });
          reporter?.setEffect(p.name, effect);
        },
      });
    }
    const offEffects = effects.filter((x) => !x.effect.verdict.ok);
    if (spec.verifyEffect === true && offEffects.length > 0 && !hub.received) {
      throw new EffectNotVerifiedError(`VERIFY_EFFECT: the measured effect is not the configured one: ${offEffects.map((x) => `${x.pod}: ${x.effect.verdict.reasons.join('; ')}`).join(' | ')}`);
    }
    if (hub.received) return await stopped(hub.received);

    if (l.healthCheck) {
      const problems = await checkHealth(deps.kube, targets);
      if (problems.length > 0) {
        reporter?.event('engine', 'PostChaosCheck', `AUT: not healthy: ${problems.join('; ')}`, 'Warning');
        throw new HealthCheckError(`post-chaos health check failed: ${problems.join('; ')}`);
      }
      reporter?.event('engine', 'PostChaosCheck', 'AUT: Running');
    }
    await finish({ phase: 'Completed', verdict: 'Pass' });
    log.info({ verdict: 'Pass' }, `${l.experimentName}: chaos injected and reverted on ${targets.length} pod(s); verdict Pass`);
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof UsageError || error instanceof UsageErrors) throw error;
    if (hub.received && !(error instanceof RevertError)) {
      log.warn({ err: error instanceof Error ? error.message : String(error) }, 'error while stopping');
      return await stopped(hub.received);
    }
    const reason = error instanceof Error ? error.message : String(error);
    const verdict: Final = error instanceof HealthCheckError
      ? { phase: 'Completed', verdict: 'Fail', error: { errorCode: 'STATUS_CHECKS_ERROR', reason } }
      : error instanceof EffectNotVerifiedError
      ? { phase: 'Completed', verdict: 'Fail', error: { errorCode: 'EFFECT_CHECK_ERROR', reason } }
      : { phase: 'Error', verdict: 'Error', error: { errorCode: error instanceof HelperFailure ? error.code : errorCodeOf(error, injected), reason } };
    await finish(verdict);
    throw error;
  } finally {
    hub.dispose();
  }

  /**
   * One helper pod per node with targets: every job and pod spec is built before the first pod is created
   * (a job too large, no runner pod: nothing was changed); then they run (SEQUENCE), and each node's outcome
   * goes to the ChaosResult's targets and an Event. Any node that did not complete fails the run, by node.
   */
  async function chaosViaHelpers(targets: readonly TargetPod[], cache: KubeCache): Promise<void> {
    if (l.podName === '') throw new HelperError('target pods run on other nodes, and helper pods need POD_NAME (this runner\'s pod, set by the chaos-runner) to copy its image, service account, tolerations and pull secrets; or set HELPER_MODE=never and schedule the runner onto the targets\' node');
    if (!opts.jobInputs) throw new HelperError('internal: no job inputs for helper pods');
    const dependencies = await resolveInCluster(() => deps.kube, spec, cache);
    // The plan without the hostnames (resolved per target on its node): planner errors surface here, before any pod exists.
    const k8sItems = dependencies.flatMap(([, r]) => r.items);
    const preview = plan(spec, { discovered: spec.groups.map((g) => (g.named !== undefined ? k8sItems : [])) });
    const runnerPod = await deps.kube.getPod(l.chaosNamespace, l.podName);
    if (!runnerPod) throw new HelperError(`this runner's pod ${l.chaosNamespace}/${l.podName} was not found (POD_NAME, CHAOS_NAMESPACE): helper pods copy its image`);
    const runner = readRunnerPod(runnerPod, l.experimentName);
    const nodes = [...new Set(targets.map((t) => t.node))];
    const perNode = (node: string): TargetPod[] => targets.filter((t) => t.node === node);
    const onNodeS = (n: number): number => (spec.rampS * 2 + spec.durationS) * (l.sequence === 'serial' ? n : 1);
    const jobs: NodeJob[] = nodes.map((node, i) => {
      const mine = perNode(node);
      const job = encodeJob({
        version: 1, node, sequence: l.sequence, variables: opts.jobInputs?.variables ?? {}, files: opts.jobInputs?.files ?? {},
        dependencies: wireDependencies(dependencies), targets: mine.map(wireTarget),
      });
      const deadline = l.helperStartTimeoutS + onNodeS(mine.length) + 60 + HELPER_GRACE_S;
      return { node, targets: mine, pod: helperPod({ name: helperName(runner.name, i + 1), namespace: l.chaosNamespace, node, runner, job, chaosUid: l.chaosUid, runtime: spec.runtime, targets: mine, activeDeadlineSeconds: deadline }) };
    });
    if (stoppedBeforeChaos()) return;
    reporter?.event('engine', 'ChaosInject', `Injecting ${l.experimentName} chaos on application pod(s) ${targets.map(podText).join(', ')} through helper pods on node(s) ${nodes.join(', ')} (${preview.bands.map((b) => b.description).join(', ')})`);
    const outcomes = await runHelpers({
      api: deps.kube, clock: deps.clock, log, hub, namespace: l.chaosNamespace, jobs, sequence: l.sequence,
      startTimeoutS: l.helperStartTimeoutS, runTimeoutS: Math.max(...jobs.map((j) => onNodeS(j.targets.length))) + 60,
      ...(opts.helperPollMs !== undefined ? { pollMs: opts.helperPollMs } : {}),
      onOutcome: (out) => {
        if (out.started) injected = true;
        for (const t of out.targets) {
          const status = out.status.get(podText(t)) ?? 'targeted';
          if (status !== 'targeted') reporter?.setTarget({ name: t.name, kind: 'pod', chaosStatus: status });
        }
        const text = describeOutcome(out);
        if (out.kind === 'completed') log.info({ node: out.node, pod: out.pod }, text);
        else log.warn({ node: out.node, pod: out.pod, outcome: out.kind }, text);
        reporter?.event('engine', 'ChaosHelper', text, out.kind === 'completed' ? 'Normal' : 'Warning');
      },
    });
    const bad = outcomes.filter((o) => o.kind !== 'completed');
    if (hub.received) {
      stopDetail = outcomes.map(describeOutcome).join('; ');
      return;
    }
    if (bad.length === 0) return;
    const reason = `helper pod(s) failed on ${bad.length} of ${outcomes.length} node(s): ${bad.map(describeOutcome).join('; ')}`;
    const revertFailed = bad.filter((o) => o.result?.error?.code === 'CHAOS_REVERT_ERROR');
    if (revertFailed.length > 0) {
      throw new RevertError(reason, revertFailed.map((o) => `on node ${o.node}: ${o.result?.error?.message ?? ''}`).join('; '), `netchaos revert --pid <pid> on each of node(s) ${revertFailed.map((o) => o.node).join(', ')} (the pid and command are in the message)`);
    }
    const codes = [...new Set(bad.map((o) => o.result?.error?.code).filter((c): c is ErrorCode => c !== undefined))];
    throw new HelperFailure(reason, codes.length === 1 && codes[0] !== undefined ? codes[0] : injected ? 'CHAOS_INJECT_ERROR' : 'GENERIC_ERROR');
  }

  async function finish(f: Final): Promise<void> {
    if (reporter) await reporter.finish(f, reportTimeoutMs);
  }

  async function stopped(signal: StopSignalName | undefined): Promise<number> {
    const sig = signal ?? hub.received ?? 'SIGTERM';
    const how = stopDetail !== '' ? `; helper pods were deleted with a ${STOP_GRACE_S} s grace period so they revert first: ${stopDetail}` : injected ? '; the fault was reverted first' : ' before any change';
    const reason = `experiment stopped by ${sig} (the ChaosEngine was stopped or the runner pod deleted)${how}`;
    log.warn({ verdict: 'Stopped' }, reason);
    await finish({ phase: 'Stopped', verdict: 'Stopped', error: { errorCode: 'EXPERIMENT_ABORTED', reason } });
    return sig === 'SIGINT' ? ExitCode.interrupted : ExitCode.terminated;
  }
}

/** One node's outcome in a sentence, for the log, its Event and the ChaosResult's reason. */
export function describeOutcome(o: NodeOutcome): string {
  const counts = new Map<string, number>();
  for (const s of o.status.values()) counts.set(s, (counts.get(s) ?? 0) + 1);
  const pods = [...counts].map(([s, n]) => `${n} ${s}`).join(', ');
  return o.kind === 'completed'
    ? `node ${o.node}: helper ${o.pod} completed (${pods})`
    : `node ${o.node}: ${o.message} (targets: ${pods})`;
}
