/**
 * The per-target code path of Litmus mode, shared by `netchaos run` (in place, on its own node) and
 * `netchaos helper` (in a helper pod on a target's node): prepare every target before the first change
 * (container → netns → dependencies → plan), then inject them in parallel or one after the other.
 */
import type { EffectReport } from '../effect/effect.js';
import { EventEmitter } from 'node:events';
import type { Deps, Signals, StopSignalName } from '../deps.js';
import { RevertError, RuntimeError } from '../errors.js';
import type { ErrorCode } from './report.js';
import type { Spec } from '../config/spec.js';
import { type Plan, plan } from '../tc/plan.js';
import { type Target, checkTarget, describeTarget } from '../netns/target.js';
import { inject } from '../lifecycle/inject.js';
import type { LifecycleEvent } from '../lifecycle/events.js';
import type { KubeApi } from '../kube/api.js';
import { type PodRef, type TargetPod, TargetSelectionError } from '../kube/targets.js';
import { DependencyError } from '../kube/dependencies.js';
import { type ContainerNetns, ContainerRuntimeError, findContainer } from '../runtime/container.js';
import { parseContainerId } from '../runtime/config.js';
import type { HostFs } from '../runtime/host.js';
import type { ResolverFactory } from '../resolve/dns.js';
import { type KubeCache, discover } from '../resolve/destinations.js';

export const podText = (p: PodRef): string => `${p.namespace}/${p.name}`;

/** The post-chaos health check failed: verdict Fail. */
export class HealthCheckError extends RuntimeError {
  override readonly name = 'HealthCheckError';
}

/** litmus-go's error type for a failure (errorOutput.errorCode). */
export function errorCodeOf(error: unknown, injected: boolean): ErrorCode {
  if (error instanceof TargetSelectionError) return 'TARGET_SELECTION_ERROR';
  if (error instanceof ContainerRuntimeError) return 'CONTAINER_RUNTIME_ERROR';
  if (error instanceof HealthCheckError) return 'STATUS_CHECKS_ERROR';
  if (error instanceof RevertError) return 'CHAOS_REVERT_ERROR';
  if (error instanceof DependencyError) return 'TARGET_SELECTION_ERROR';
  return injected ? 'CHAOS_INJECT_ERROR' : 'GENERIC_ERROR';
}

/** Forwards the process's stop signals, and lets the run stop the other targets when one fails. */
export class SignalHub implements Signals {
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

export interface Prepared {
  readonly pod: TargetPod;
  readonly netns: ContainerNetns;
  readonly plan: Plan;
}

export interface TargetDeps extends Deps {
  readonly fs: HostFs;
  readonly resolver: ResolverFactory;
  /** Called only when pods or Services are named and not already in the cache. */
  readonly kube: () => KubeApi;
}

/** Everything that can fail without changing anything, for every target, before the first change. */
export async function prepareTargets(
  deps: TargetDeps, spec: Spec, pods: readonly TargetPod[], opts: { readonly cache: KubeCache; readonly procRoot?: string | undefined },
): Promise<Prepared[]> {
  const prepared: Prepared[] = [];
  for (const pod of pods) {
    const netns = await findContainer({ exec: deps.exec, fs: deps.fs }, parseContainerId('containerID', pod.containerId), spec.runtime, opts.procRoot);
    await checkTarget(deps, netns.target);
    const found = await discover({ fs: deps.fs, resolver: deps.resolver, kube: deps.kube }, spec, { pid: netns.pid, cache: opts.cache });
    if (spec.groups.some((g, i) => g.named !== undefined && g.destinations.length === 0 && (found.facts.discovered?.[i]?.length ?? 0) === 0)) {
      throw new DependencyError('the named dependencies resolved to no address: refusing to delay all traffic');
    }
    const p = plan(spec, found.facts);
    deps.log.info({ pod: podText(pod), container: pod.container, pid: netns.pid, netns: netns.netnsPath, via: netns.via, ...(netns.note ? { note: netns.note } : {}) },
      `${podText(pod)} container ${pod.container}: pid ${netns.pid}, netns ${netns.netnsPath} (via ${netns.via})`);
    for (const r of found.resolved) deps.log.info({ pod: podText(pod), dependency: r.source, addresses: r.items.length, details: r.details }, `dependency ${r.source}: ${r.details.join('; ')}`);
    for (const w of p.warnings) deps.log.warn(w);
    prepared.push({ pod, netns, plan: p });
  }
  return prepared;
}

export type TargetStatus = 'targeted' | 'injected' | 'reverted';

export interface InjectAllOptions {
  readonly spec: Spec;
  readonly sequence: 'parallel' | 'serial';
  readonly hub: SignalHub;
  /** A target's status changed. */
  readonly onStatus: (pod: TargetPod, status: TargetStatus) => void;
  readonly watchIntervalMs?: number | undefined;
  /** ON_TARGET_RESTART: how to find a target pod again (litmus/refind.ts); absent = its first process only. */
  readonly refind?: ((pod: TargetPod) => () => Promise<Target | undefined>) | undefined;
  /** MEASURE_EFFECT: a target's measured effect (after its revert). */
  readonly onEffect?: ((pod: TargetPod, effect: EffectReport) => void) | undefined;
}

/**
 * Injects every prepared target (parallel: all at once; serial: one after the other). The first failure
 * stops the others (they revert at once); a revert failure is thrown before any other failure.
 */
export async function injectAll(deps: Deps, prepared: readonly Prepared[], o: InjectAllOptions): Promise<void> {
  const one = async (t: Prepared) => {
    const onEvent = (e: LifecycleEvent): void => {
      if (e.kind === 'injected') o.onStatus(t.pod, 'injected');
      if (e.kind === 'reverted' && e.removed) o.onStatus(t.pod, 'reverted');
    };
    const child = { ...deps, signals: o.hub, log: deps.log.child({ target: podText(t.pod), netns: describeTarget(t.netns.target) }) };
    try {
      const outcome = await inject(child, { spec: o.spec, plan: t.plan, target: t.netns.target, onEvent, ...(o.watchIntervalMs !== undefined ? { watchIntervalMs: o.watchIntervalMs } : {}), ...(o.refind ? { refind: o.refind(t.pod) } : {}) });
      if (outcome.effect) o.onEffect?.(t.pod, outcome.effect);
      return outcome;
    } catch (error) {
      o.hub.stopOthers();
      throw error;
    }
  };
  const results: PromiseSettledResult<Awaited<ReturnType<typeof one>>>[] = [];
  if (o.sequence === 'parallel') {
    results.push(...await Promise.allSettled(prepared.map(one)));
  } else {
    for (const t of prepared) {
      if (o.hub.received || o.hub.internal) break;
      results.push(...await Promise.allSettled([one(t)]));
    }
  }
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r): unknown => r.reason);
  const revertFailure = failures.find((f) => f instanceof RevertError);
  const firstFailure = revertFailure ?? failures[0];
  if (firstFailure instanceof Error) throw firstFailure;
  if (firstFailure !== undefined) throw new RuntimeError(`injection failed: ${JSON.stringify(firstFailure)}`);
}
