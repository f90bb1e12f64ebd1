/**
 * One injection into one namespace: ramp → preflight → apply → wait → revert → ramp.
 * Every path after the first change ends in a revert: normal end, SIGTERM, SIGINT, an error.
 */
import { TargetGoneError } from '../model/errors.js';
import type { NetnsRef } from '../model/netns.js';
import type { Spec } from '../model/spec.js';
import type { StopSignalName } from '../model/stop.js';
import type { Owner } from '../model/tc.js';
import type { Deps } from '../ports.js';
import type { Plan } from '../tc/plan.js';
import { checkNetns } from '../netns/namespaces.js';
import { EffectMeasure } from '../effect/measure.js';
import type { EffectReport } from '../effect/effect.js';
import { applyTree } from './apply.js';
import { type LifecycleEvent, emitter } from './events.js';
import { preflight, refuseNodeNamespace } from './preflight.js';
import type { Refresh } from './refresh.js';
import { Restarts } from './restarts.js';
import { countdown } from './wait.js';

export interface InjectOptions {
  readonly spec: Spec;
  readonly plan: Plan;
  readonly netns: NetnsRef;
  /** This run's id (16 hex digits): the owner in the tree's marker and the dead-man's name. */
  readonly runId: string;
  /**
   * Finds the target again after its namespace changed or went away: the PID in a pid file, the
   * container by ID, the pod by name. Default: the same reference (a --netns path that was re-bound,
   * a --pid whose process moved). Undefined: not (yet) there.
   */
  readonly refind?: (() => Promise<NetnsRef | undefined>) | undefined;
  /** Called for every lifecycle event (after it is logged). */
  readonly onEvent?: ((e: LifecycleEvent) => void) | undefined;
  /** How often to check that the target's namespace still exists. */
  readonly watchIntervalMs?: number | undefined;
  readonly revertAttempts?: number | undefined;
  /** DEPENDENCY_REFRESH: called after every step of the wait with the live plan; returns the plan live afterwards. */
  readonly refresh?: Refresh | undefined;
}

export type Outcome = (
  | { readonly status: 'completed'; readonly reinjected: number }
  | { readonly status: 'stopped'; readonly signal: StopSignalName; readonly injected: boolean }
) & {
  /** MEASURE_EFFECT: baseline/during/after per dependency, band counters, verdict. */
  readonly effect?: EffectReport;
};

/**
 * The injection. `deps.stop` is this target's scope of the run's Stop: its phase is kept up to date here, and a
 * stop aborts the waits (never the revert); the outcome is then `stopped`.
 */
export async function inject(deps: Deps, opts: InjectOptions): Promise<Outcome> {
  const { spec } = opts;
  const { stop } = deps;
  const emit = emitter(deps.log, opts.onEvent);
  const stopped = (injected: boolean): Outcome => ({ status: 'stopped', signal: stop.reason?.signal ?? 'SIGTERM', injected });
  if (stop.stopped) return stopped(false);
  const unlisten = stop.onStop((r) => { emit({ kind: 'signal', signal: r.signal, phase: r.phase, ...(r.cause !== undefined ? { cause: r.cause } : {}) }); });
  try {
    const nsId = await checkNetns(deps, opts.netns);
    if (!(await ramp(deps, spec, emit, 'before'))) return stopped(false);
    stop.phase = 'preflight';
    const effect = EffectMeasure.create(deps, { spec, plan: opts.plan, netns: opts.netns });
    // The root qdisc is read before the apply only when something runs in between (the effect baseline), when the
    // batch does not start on it (DIRECTION=ingress|both) or replaces it (FORCE). Otherwise the batch's first line
    // is the check: the kernel refuses `qdisc add … root` over any root but a kernel default, before any change,
    // and only then is the root read, to say whose it is (one exec less per inject: ~0.5 s under emulation).
    const rootInBatch = effect === undefined && spec.direction === 'egress' && !spec.force;
    if (rootInBatch) await refuseNodeNamespace(deps, opts.netns);
    else await preflight(deps, { spec, netns: opts.netns, emit });
    if (stop.stopped) return stopped(false);
    if (effect) {
      stop.phase = 'effect baseline';
      await effect.baseline();
      if (stop.stopped) return stopped(false);
    }
    const result = await chaos(deps, opts, { nsId, emit, effect, rootInBatch });
    const withEffect = (o: Outcome): Outcome => (effect ? { ...o, effect: effect.report() } : o);
    if (stop.stopped) return withEffect(stopped(true));
    if (effect) {
      stop.phase = 'effect after';
      await effect.after();
    }
    await ramp(deps, spec, emit, 'after');
    return withEffect(stop.stopped ? stopped(true) : { status: 'completed', reinjected: result.reinjected });
  } finally {
    unlisten();
  }
}

/** The ramp time before the injection and after the revert; false when the run stopped during it. */
async function ramp(deps: Pick<Deps, 'clock' | 'stop'>, spec: Spec, emit: (e: LifecycleEvent) => void, phase: 'before' | 'after'): Promise<boolean> {
  if (spec.rampS === 0) return true;
  deps.stop.phase = 'ramp time';
  emit({ kind: 'ramp', phase, seconds: spec.rampS });
  await countdown(deps, { seconds: spec.rampS, onProgress: (remainingS) => { emit({ kind: 'progress', phase: 'ramp', remainingS }); } });
  return !deps.stop.stopped;
}

/** Apply, wait the duration (watching the target, refreshing the dependencies), revert. Throws TargetGoneError (exit 4). */
async function chaos(
  deps: Deps, opts: InjectOptions, at: { nsId: string; emit: (e: LifecycleEvent) => void; effect: EffectMeasure | undefined; rootInBatch: boolean },
): Promise<{ reinjected: number }> {
  const { spec, plan, netns } = opts;
  const { stop } = deps;
  stop.phase = 'apply';
  const owner: Owner = { runId: opts.runId, deadlineS: Math.ceil(deps.clock.now() / 1000) + spec.durationS + spec.deadmanGraceS };
  const { tree, applyMs } = await applyTree(deps, { spec, plan, owner, netns, nsId: at.nsId, generation: 1, emit: at.emit, revertAttempts: opts.revertAttempts, rootInBatch: at.rootInBatch });
  at.emit({ kind: 'injected', entries: plan.entries.length, bands: plan.bands.length, applyMs });
  at.effect?.startDuring();
  const run = new Restarts(deps, { ...opts, owner, emit: at.emit }, tree);
  // The refreshed plan applies to the live tree; a re-injected tree starts again from opts.plan.
  let live = { plan, reinjected: 0 };
  const refresh = async (): Promise<void> => {
    const where = run.state.kind === 'live' ? run.state.tree.netns : undefined;
    if (!opts.refresh || where === undefined) return;
    const from = live.reinjected === run.reinjected ? live.plan : plan;
    live = { plan: await opts.refresh(from, where, at.emit), reinjected: run.reinjected };
  };
  let gone: string | undefined;
  try {
    stop.phase = 'wait';
    gone = await countdown(deps, {
      seconds: spec.durationS,
      onProgress: (remainingS) => { at.emit({ kind: 'progress', phase: 'chaos', remainingS }); },
      check: async (remainingS) => {
        const reason = await run.check(remainingS);
        if (reason === undefined) await refresh();
        return reason;
      },
      stepMs: opts.watchIntervalMs ?? 1000,
    });
    if (at.effect && gone === undefined) await at.effect.endDuring();
  } finally {
    stop.phase = 'revert';
    const end = await run.finish();
    gone ??= end;
  }
  if (gone !== undefined) throw new TargetGoneError(gone);
  return { reinjected: run.reinjected };
}
