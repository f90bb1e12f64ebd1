/**
 * The per-target path of Litmus mode, shared by `netchaos run` (in place, on its own node) and `netchaos helper`
 * (in a helper pod on a target's node): prepare every target before the first change (lifecycle/prepare.ts),
 * then inject them in parallel or one after the other, each in its own scope of the run's Stop.
 */
import { RevertError, RuntimeError } from '../model/errors.js';
import type { KubeCache, Resolved } from '../model/destinations.js';
import { type TargetPod, type TargetStatus, podText } from '../model/kube.js';
import type { Sequence } from '../model/litmus.js';
import { describeNetns, type NetnsRef } from '../model/netns.js';
import { parseContainerId } from '../model/runtime.js';
import type { Spec } from '../model/spec.js';
import type { Deps } from '../ports.js';
import type { Plan } from '../tc/plan.js';
import type { EffectReport } from '../effect/effect.js';
import type { ContainerNetns } from '../runtime/container.js';
import { newRunId } from '../host/processes.js';
import { type Outcome, inject } from '../lifecycle/inject.js';
import { type LifecycleEvent, formatEvent } from '../lifecycle/events.js';
import { prepare } from '../lifecycle/prepare.js';
import { liveRefresh } from '../lifecycle/refresh.js';
import type { LiveSource } from '../resolve/live.js';
import { meshNote } from '../kube/mesh.js';

export interface PreparedTarget {
  readonly pod: TargetPod;
  readonly container: ContainerNetns;
  readonly netns: NetnsRef;
  readonly plan: Plan;
  /** The named dependencies as resolved before the run (for the blast radius's warnings). */
  readonly resolved: readonly Resolved[];
  /** The named dependencies, asked again during the wait (DEPENDENCY_REFRESH), as local `inject` does. */
  readonly sources: readonly LiveSource[];
}

/** Everything that can fail without changing anything, for every target, before the first change. */
export async function prepareTargets(
  deps: Deps, spec: Spec, pods: readonly TargetPod[], opts: { readonly cache: KubeCache; readonly procRoot?: string | undefined },
): Promise<PreparedTarget[]> {
  const prepared: PreparedTarget[] = [];
  for (const pod of pods) {
    if (pod.mesh) deps.log.info({ pod: podText(pod), mesh: pod.mesh }, `${podText(pod)}: ${meshNote(pod.mesh)}`);
    const p = await prepare(deps, { spec, container: parseContainerId('containerID', pod.containerId), cache: opts.cache, procRoot: opts.procRoot, mesh: pod.mesh });
    const { container, netns } = p;
    if (container === undefined || netns === undefined) throw new Error('unreachable: prepare without its container');
    deps.log.info({ pod: podText(pod), container: pod.container, pid: container.pid, netns: container.netnsPath, via: container.via, ...(container.note ? { note: container.note } : {}) },
      `${podText(pod)} container ${pod.container}: pid ${container.pid}, netns ${container.netnsPath} (via ${container.via})`);
    for (const r of p.resolved) {
      // No address: a DESTINATION_HOSTS name left out (UNRESOLVED_HOSTS=skip).
      deps.log[r.items.length === 0 ? 'warn' : 'info']({ pod: podText(pod), dependency: r.source, addresses: r.items.length, details: r.details }, `dependency ${r.source}: ${r.details.join('; ')}`);
      if (r.warning !== undefined) deps.log.warn({ pod: podText(pod), dependency: r.source }, r.warning);
    }
    for (const w of p.plan.warnings) deps.log.warn(w);
    prepared.push({ pod, container, netns, plan: p.plan, resolved: p.resolved, sources: p.sources });
  }
  return prepared;
}

export interface InjectAllOptions {
  readonly spec: Spec;
  readonly sequence: Sequence;
  /** A target's status changed. */
  readonly onStatus: (pod: TargetPod, status: TargetStatus) => void;
  readonly watchIntervalMs?: number | undefined;
  /** ON_TARGET_RESTART: how to find a target pod again (litmus/refind.ts); absent = its first process only. */
  readonly refind?: ((pod: TargetPod) => () => Promise<NetnsRef | undefined>) | undefined;
  /** MEASURE_EFFECT: a target's measured effect (after its revert). */
  readonly onEffect?: ((pod: TargetPod, effect: EffectReport) => void) | undefined;
  /** An expired tree of a killed run was removed (or could not be) from a target's namespace before the injection. */
  readonly onLeftover?: ((pod: TargetPod, message: string) => void) | undefined;
  /** DEPENDENCY_REFRESH: what the refresh of a target did (a dependency moved or did not resolve, a diff applied or refused). */
  readonly onRefresh?: ((pod: TargetPod, event: RefreshEvent) => void) | undefined;
}

/** The lifecycle events of the dependency refresh. */
export type RefreshEvent = Extract<LifecycleEvent, { kind: 'dependency-changed' | 'dependency-stale' | 'refresh-applied' | 'refresh-failed' }>;

const isRefreshEvent = (e: LifecycleEvent): e is RefreshEvent =>
  e.kind === 'dependency-changed' || e.kind === 'dependency-stale' || e.kind === 'refresh-applied' || e.kind === 'refresh-failed';

/**
 * Injects every prepared target (parallel: all at once; serial: one after the other). The first failure
 * stops the others (they revert at once); a revert failure is thrown before any other failure.
 */
export async function injectAll(deps: Deps, prepared: readonly PreparedTarget[], o: InjectAllOptions): Promise<void> {
  const one = async (t: PreparedTarget): Promise<Outcome> => {
    const onEvent = (e: LifecycleEvent): void => {
      if (e.kind === 'injected') o.onStatus(t.pod, 'injected');
      if (e.kind === 'reverted' && e.removed) o.onStatus(t.pod, 'reverted');
      if (e.kind === 'leftover') o.onLeftover?.(t.pod, formatEvent(e)[1]);
      if (isRefreshEvent(e)) o.onRefresh?.(t.pod, e);
    };
    const child = { ...deps, stop: deps.stop.child(), log: deps.log.child({ target: podText(t.pod), netns: describeNetns(t.netns) }) };
    try {
      // One refresh loop per target, the same as local `inject`; its waits end with this target's scope of the run's Stop.
      const refresh = liveRefresh(child, { spec: o.spec, sources: t.sources, initial: t.resolved });
      const outcome = await inject(child, {
        spec: o.spec, plan: t.plan, netns: t.netns, runId: newRunId(), onEvent, watchIntervalMs: o.watchIntervalMs, refind: o.refind?.(t.pod), refresh,
      });
      if (outcome.effect) o.onEffect?.(t.pod, outcome.effect);
      return outcome;
    } catch (error) {
      deps.stop.stopInternally('another target failed');
      throw error;
    }
  };
  const results: PromiseSettledResult<Outcome>[] = [];
  if (o.sequence === 'parallel') {
    results.push(...await Promise.allSettled(prepared.map(one)));
  } else {
    for (const t of prepared) {
      if (deps.stop.stopped) break;
      results.push(...await Promise.allSettled([one(t)]));
    }
  }
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r): unknown => r.reason);
  const revertFailure = failures.find((f) => f instanceof RevertError);
  const firstFailure = revertFailure ?? failures[0];
  if (firstFailure instanceof Error) throw firstFailure;
  if (firstFailure !== undefined) throw new RuntimeError(`injection failed: ${JSON.stringify(firstFailure)}`);
}
