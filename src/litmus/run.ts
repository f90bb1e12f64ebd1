/**
 * `netchaos run`: one Litmus experiment on this node. Report Running → select targets → health check →
 * container → netns → dependencies → plan (all before any change) → inject every target → health check →
 * verdict. SIGTERM (the operator deleting the pod) reverts first, then reports Stopped within a short grace.
 */
import { EventEmitter } from 'node:events';
import type { Deps, Signals, StopSignalName } from '../deps.js';
import { ExitCode, RevertError, RuntimeError, UsageError, UsageErrors } from '../errors.js';
import type { Spec } from '../config/spec.js';
import { type Plan, plan } from '../tc/plan.js';
import { checkTarget, describeTarget } from '../netns/target.js';
import { inject } from '../lifecycle/inject.js';
import type { LifecycleEvent } from '../lifecycle/events.js';
import type { KubeApi } from '../kube/api.js';
import { type PodRef, type TargetPod, TargetSelectionError, checkHealth, selectTargets } from '../kube/targets.js';
import { DependencyError } from '../kube/dependencies.js';
import { ContainerRuntimeError, type ContainerNetns, findContainer } from '../runtime/container.js';
import { parseContainerId } from '../runtime/config.js';
import type { HostFs } from '../runtime/host.js';
import type { ResolverFactory } from '../resolve/dns.js';
import { type KubeCache, discover } from '../resolve/destinations.js';
import type { LitmusSpec } from './env.js';
import { type ErrorCode, type Final, Reporter } from './report.js';

export interface LitmusDeps extends Deps {
  readonly kube: KubeApi;
  readonly fs: HostFs;
  readonly resolver: ResolverFactory;
  readonly random: () => number;
}

export interface RunOptions {
  /** How long the closing ChaosResult/Event updates may take (the pod's termination grace is short). */
  readonly reportTimeoutMs?: number;
  readonly procRoot?: string;
  readonly watchIntervalMs?: number;
}

/** The post-chaos health check failed: verdict Fail. */
export class HealthCheckError extends RuntimeError {
  override readonly name = 'HealthCheckError';
}

function errorCodeOf(error: unknown, injected: boolean): ErrorCode {
  if (error instanceof TargetSelectionError) return 'TARGET_SELECTION_ERROR';
  if (error instanceof ContainerRuntimeError) return 'CONTAINER_RUNTIME_ERROR';
  if (error instanceof HealthCheckError) return 'STATUS_CHECKS_ERROR';
  if (error instanceof RevertError) return 'CHAOS_REVERT_ERROR';
  if (error instanceof DependencyError) return 'TARGET_SELECTION_ERROR';
  return injected ? 'CHAOS_INJECT_ERROR' : 'GENERIC_ERROR';
}

/** Forwards the process's stop signals, and lets the run stop the other targets when one fails. */
class SignalHub implements Signals {
  private readonly emitter = new EventEmitter();
  received: StopSignalName | undefined;
  internal = false;
  private readonly forward: [StopSignalName, () => void][];
  constructor(private readonly outer: Signals) {
    this.forward = (['SIGTERM', 'SIGINT'] as const).map((s) => [s, () => { this.received ??= s; this.emitter.emit(s); }]);
    for (const [s, h] of this.forward) outer.on(s, h);
  }
  on = (s: StopSignalName, h: () => void): void => { this.emitter.on(s, h); };
  off = (s: StopSignalName, h: () => void): void => { this.emitter.off(s, h); };
  stopOthers(): void {
    this.internal = true;
    this.emitter.emit('SIGTERM');
  }
  dispose(): void {
    for (const [s, h] of this.forward) this.outer.off(s, h);
  }
}

interface Prepared {
  readonly pod: TargetPod;
  readonly netns: ContainerNetns;
  readonly plan: Plan;
}

const podText = (p: PodRef): string => `${p.namespace}/${p.name}`;

export async function runLitmus(deps: LitmusDeps, spec: Spec, l: LitmusSpec, opts: RunOptions = {}): Promise<number> {
  const log = deps.log.child({ experiment: l.experimentName, engine: l.engine, node: l.nodeName });
  const reporter = l.engine !== undefined ? new Reporter({ api: deps.kube, litmus: l, log, now: deps.clock.now, random: deps.random }) : undefined;
  const hub = new SignalHub(deps.signals);
  const reportTimeoutMs = opts.reportTimeoutMs ?? 5000;
  let injected = false;
  const stoppedBeforeChaos = (): boolean => hub.received !== undefined;
  try {
    if (reporter) await reporter.start();
    const selection = await selectTargets(deps.kube, l, deps.random);
    log.info({ targets: selection.here.map(podText), elsewhere: selection.elsewhere.map((p) => `${podText(p)} on ${p.node}`), matched: selection.matched },
      `target pods on this node: ${selection.here.map(podText).join(', ')}`);
    if (selection.elsewhere.length > 0) {
      log.warn({ elsewhere: selection.elsewhere }, `selected pod(s) on other nodes are NOT touched by this runner: ${selection.elsewhere.map((p) => `${podText(p)} (${p.node})`).join(', ')}`);
    }
    for (const p of selection.here) reporter?.setTarget({ name: p.name, kind: 'pod', chaosStatus: 'targeted' });
    for (const p of selection.elsewhere) reporter?.event('engine', 'TargetSelection', `pod ${podText(p)} was selected but runs on node ${p.node}, not ${l.nodeName}: not injected`, 'Warning');

    if (l.healthCheck) {
      const problems = await checkHealth(deps.kube, selection.here);
      if (problems.length > 0) throw new TargetSelectionError(`pre-chaos health check failed: ${problems.join('; ')}`);
      reporter?.event('engine', 'PreChaosCheck', 'AUT: Running');
    }

    // Everything that can fail without changing anything happens here, for every target, before the first change.
    const cache: KubeCache = new Map();
    const prepared: Prepared[] = [];
    for (const pod of selection.here) {
      const netns = await findContainer({ exec: deps.exec, fs: deps.fs }, parseContainerId('containerID', pod.containerId), spec.runtime, opts.procRoot);
      await checkTarget(deps, netns.target);
      const found = await discover({ fs: deps.fs, resolver: deps.resolver, kube: () => deps.kube }, spec, { pid: netns.pid, cache });
      if (spec.groups.some((g, i) => g.named !== undefined && g.destinations.length === 0 && (found.facts.discovered?.[i]?.length ?? 0) === 0)) {
        throw new DependencyError('the named dependencies resolved to no address: refusing to delay all traffic');
      }
      const p = plan(spec, found.facts);
      log.info({ pod: podText(pod), container: pod.container, pid: netns.pid, netns: netns.netnsPath, via: netns.via, ...(netns.note ? { note: netns.note } : {}) },
        `${podText(pod)} container ${pod.container}: pid ${netns.pid}, netns ${netns.netnsPath} (via ${netns.via})`);
      for (const r of found.resolved) log.info({ pod: podText(pod), dependency: r.source, addresses: r.items.length, details: r.details }, `dependency ${r.source}: ${r.details.join('; ')}`);
      for (const w of p.warnings) log.warn(w);
      prepared.push({ pod, netns, plan: p });
    }
    if (stoppedBeforeChaos()) return await stopped(undefined);

    reporter?.event('engine', 'ChaosInject', `Injecting ${l.experimentName} chaos on application pod(s) ${prepared.map((x) => podText(x.pod)).join(', ')} (${prepared.map((x) => x.plan.bands.map((b) => b.description).join(', ')).join('; ')})`);
    const one = async (t: Prepared) => {
      const onEvent = (e: LifecycleEvent): void => {
        if (e.kind === 'injected') { injected = true; reporter?.setTarget({ name: t.pod.name, kind: 'pod', chaosStatus: 'injected' }); }
        if (e.kind === 'reverted' && e.removed) reporter?.setTarget({ name: t.pod.name, kind: 'pod', chaosStatus: 'reverted' });
      };
      const child = { ...deps, signals: hub, log: deps.log.child({ target: podText(t.pod), netns: describeTarget(t.netns.target) }) };
      try {
        return await inject(child, { spec, plan: t.plan, target: t.netns.target, onEvent, ...(opts.watchIntervalMs !== undefined ? { watchIntervalMs: opts.watchIntervalMs } : {}) });
      } catch (error) {
        hub.stopOthers();
        throw error;
      }
    };
    const results: PromiseSettledResult<Awaited<ReturnType<typeof one>>>[] = [];
    if (l.sequence === 'parallel') {
      results.push(...await Promise.allSettled(prepared.map(one)));
    } else {
      for (const t of prepared) {
        if (hub.received || hub.internal) break;
        results.push(...await Promise.allSettled([one(t)]));
      }
    }
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r): unknown => r.reason);
    const revertFailure = failures.find((f) => f instanceof RevertError);
    const firstFailure = revertFailure ?? failures[0];
    if (firstFailure instanceof Error) throw firstFailure;
    if (firstFailure !== undefined) throw new RuntimeError(`injection failed: ${JSON.stringify(firstFailure)}`);
    if (hub.received) return await stopped(hub.received);

    if (l.healthCheck) {
      const problems = await checkHealth(deps.kube, selection.here);
      if (problems.length > 0) {
        reporter?.event('engine', 'PostChaosCheck', `AUT: not healthy: ${problems.join('; ')}`, 'Warning');
        throw new HealthCheckError(`post-chaos health check failed: ${problems.join('; ')}`);
      }
      reporter?.event('engine', 'PostChaosCheck', 'AUT: Running');
    }
    await finish({ phase: 'Completed', verdict: 'Pass' });
    log.info({ verdict: 'Pass' }, `${l.experimentName}: chaos injected and reverted on ${prepared.length} pod(s); verdict Pass`);
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
      : { phase: 'Error', verdict: 'Error', error: { errorCode: errorCodeOf(error, injected), reason } };
    await finish(verdict);
    throw error;
  } finally {
    hub.dispose();
  }

  async function finish(f: Final): Promise<void> {
    if (reporter) await reporter.finish(f, reportTimeoutMs);
  }

  async function stopped(signal: StopSignalName | undefined): Promise<number> {
    const sig = signal ?? hub.received ?? 'SIGTERM';
    const reason = `experiment stopped by ${sig} (the ChaosEngine was stopped or the runner pod deleted)${injected ? '; the fault was reverted first' : ' before any change'}`;
    log.warn({ verdict: 'Stopped' }, reason);
    await finish({ phase: 'Stopped', verdict: 'Stopped', error: { errorCode: 'EXPERIMENT_ABORTED', reason } });
    return sig === 'SIGINT' ? ExitCode.interrupted : ExitCode.terminated;
  }
}
