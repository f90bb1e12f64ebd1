/**
 * One injection into one namespace: ramp → preflight → apply → wait → revert → ramp.
 * Every path after the first change ends in a revert: normal end, SIGTERM, SIGINT, an error.
 */
import { type Deps, type StopSignalName, newRunId } from '../deps.js';
import { RefusedError, RevertError, RuntimeError, TargetGoneError } from '../errors.js';
import type { Spec } from '../config/spec.js';
import type { Plan } from '../tc/plan.js';
import { ROOT_HANDLE } from '../tc/plan.js';
import { applyBatch, describeQdisc, isKernelDefault, isOurs, readMarker, revertOnce, rootOf, showQdiscs } from '../netns/tc.js';
import { type Target, checkTarget, describeTarget, namespacePath, nsenterArgs, targetFlags } from '../netns/target.js';
import { asTarget, locateNamespace } from '../netns/namespaces.js';
import { type Owner, describeDeadline, markerLines } from '../tc/marker.js';
import { type LifecycleEvent, logEvent } from './events.js';
import { addIfb, ingressRemoveCommand, preflightIngress, revertIngressOnce } from '../netns/ingress.js';
import { EffectMeasure } from '../effect/measure.js';
import type { EffectReport } from '../effect/effect.js';
import { type Armed, armDeadman, disarm } from './deadman.js';
import type { Refresh } from './refresh.js';

export interface InjectOptions {
  readonly spec: Spec;
  readonly plan: Plan;
  readonly target: Target;
  /** This run's id (16 hex digits): the owner in the tree's marker and the dead-man's name. Default: a new one. */
  readonly runId?: string;
  /**
   * Finds the target again after its namespace changed or went away: the PID in a pid file, the
   * container by ID, the pod by name. Default: the same target (a --netns path that was re-bound,
   * a --pid whose process moved). Undefined: not (yet) there.
   */
  readonly refind?: () => Promise<Target | undefined>;
  /** Called for every lifecycle event (after it is logged). */
  readonly onEvent?: (e: LifecycleEvent) => void;
  /** How often to check that the target's namespace still exists. */
  readonly watchIntervalMs?: number;
  readonly revertAttempts?: number;
  /** DEPENDENCY_REFRESH: called after every step of the wait with the live plan; returns the plan live afterwards. */
  readonly refresh?: Refresh;
}

export type Outcome = (
  | { readonly status: 'completed'; readonly reinjected: number }
  | { readonly status: 'stopped'; readonly signal: StopSignalName; readonly injected: boolean }
) & {
  /** MEASURE_EFFECT: baseline/during/after per dependency, band counters, verdict. */
  readonly effect?: EffectReport;
};

const REVERT_RETRY_MS = 500;
const DEFAULT_GRACE_S = 30;

/** Tracks SIGTERM/SIGINT for the whole run; the first one aborts the wait, none aborts a revert. */
class StopSignals {
  readonly controller = new AbortController();
  received: StopSignalName | undefined;
  phase = 'start';
  private readonly handlers: [StopSignalName, () => void][];
  constructor(private readonly deps: Pick<Deps, 'signals'>, private readonly emit: (e: LifecycleEvent) => void) {
    this.handlers = (['SIGTERM', 'SIGINT'] as const).map((s) => [s, () => { this.receive(s); }]);
    for (const [s, h] of this.handlers) deps.signals.on(s, h);
  }
  private receive(signal: StopSignalName): void {
    this.emit({ kind: 'signal', signal, phase: this.phase });
    this.received ??= signal;
    this.controller.abort();
  }
  dispose(): void {
    for (const [s, h] of this.handlers) this.deps.signals.off(s, h);
  }
}

/** One tree of this run, in one namespace, with its dead-man. */
interface Tree {
  target: Target;
  readonly nsId: string;
  readonly deadman: Armed;
  readonly generation: number;
}

/**
 * Where the run stands during the wait: our tree is in place, or (ON_TARGET_RESTART=reinject) the
 * target is gone and we wait for it; `old` is the tree left in its namespace, which may live on.
 */
type State = { kind: 'live'; tree: Tree } | { kind: 'waiting'; old: Tree | undefined };

export async function inject(deps: Deps, opts: InjectOptions): Promise<Outcome> {
  const { spec, plan, target } = opts;
  const emit = (e: LifecycleEvent): void => {
    logEvent(deps.log, e);
    opts.onEvent?.(e);
  };
  const stop = new StopSignals(deps, emit);
  try {
    const nsId = await checkTarget(deps, target);
    if (spec.rampS > 0) {
      stop.phase = 'ramp time';
      emit({ kind: 'ramp', phase: 'before', seconds: spec.rampS });
      await countdown(deps, spec.rampS, stop, (remainingS) => { emit({ kind: 'progress', phase: 'ramp', remainingS }); });
      if (stop.received) return { status: 'stopped', signal: stop.received, injected: false };
    }
    stop.phase = 'preflight';
    await preflight(deps, spec, target, emit);
    if (stop.received) return { status: 'stopped', signal: stop.received, injected: false };
    const effect = EffectMeasure.create(deps, spec, plan, target, stop.controller.signal);
    const withEffect = <T extends object>(o: T): T & { effect?: EffectReport } => (effect ? { ...o, effect: effect.report() } : o);
    if (effect) {
      stop.phase = 'effect baseline';
      await effect.baseline();
      if (stop.received) return { status: 'stopped', signal: stop.received, injected: false };
    }

    stop.phase = 'apply';
    const owner: Owner = { runId: opts.runId ?? newRunId(), deadlineS: Math.ceil(deps.clock.now() / 1000) + spec.durationS + (spec.deadmanGraceS ?? DEFAULT_GRACE_S) };
    const first = await build(deps, opts, owner, { target, nsId }, 1, emit);
    emit({ kind: 'injected', entries: plan.entries.length, bands: plan.bands.length, applyMs: first.applyMs });
    effect?.startDuring();

    const run = new Restarts(deps, opts, owner, first.tree, emit);
    // The refreshed plan applies to the live tree; a re-injected tree starts again from opts.plan.
    let live = { plan, reinjected: 0 };
    const refresh = async (): Promise<void> => {
      const target = run.state.kind === 'live' ? run.state.tree.target : undefined;
      if (!opts.refresh || target === undefined) return;
      const from = live.reinjected === run.reinjected ? live.plan : plan;
      live = { plan: await opts.refresh(from, target, emit), reinjected: run.reinjected };
    };
    let gone: string | undefined;
    try {
      stop.phase = 'wait';
      gone = await countdown(deps, spec.durationS, stop, (remainingS) => { emit({ kind: 'progress', phase: 'chaos', remainingS }); },
        async (remainingS) => {
          const reason = await run.check(remainingS);
          if (reason === undefined) await refresh();
          return reason;
        }, opts.watchIntervalMs ?? 1000);
      if (effect && gone === undefined) await effect.endDuring(stop.controller.signal);
    } finally {
      stop.phase = 'revert';
      const end = await run.finish();
      gone ??= end;
    }
    if (gone !== undefined) throw new TargetGoneError(gone);
    if (stop.received) return withEffect({ status: 'stopped', signal: stop.received, injected: true });
    if (effect) {
      stop.phase = 'effect after';
      await effect.after();
    }
    if (spec.rampS > 0) {
      stop.phase = 'ramp time';
      emit({ kind: 'ramp', phase: 'after', seconds: spec.rampS });
      await countdown(deps, spec.rampS, stop, (remainingS) => { emit({ kind: 'progress', phase: 'ramp', remainingS }); });
    }
    return withEffect(stop.received ? { status: 'stopped', signal: stop.received, injected: true } : { status: 'completed', reinjected: run.reinjected });
  } finally {
    stop.dispose();
  }
}

/** Arms the dead-man, then applies the plan and the owner marker in one batch; undoes both on failure. */
async function build(
  deps: Deps, opts: InjectOptions, owner: Owner, at: { target: Target; nsId: string }, generation: number, emit: (e: LifecycleEvent) => void,
): Promise<{ tree: Tree; applyMs: number }> {
  const { spec, plan } = opts;
  // DIRECTION=ingress/both: the ingress slot and our ifb are checked here, before the first change (and again
  // before a re-injection); FORCE over a foreign ingress qdisc deletes it first, in the same batch.
  const ingress = plan.links !== undefined && plan.links.length > 0;
  const before = ingress ? await preflightIngress(deps, at.target, spec.interface, spec.force) : [];
  const deadman = await armDeadman(deps, spec.deadman ?? 'auto', {
    runId: owner.runId, generation, deadlineS: owner.deadlineS, nsId: at.nsId, path: namespacePath(at.target), interface: spec.interface,
  }, emit);
  const started = deps.clock.now();
  const linkError = ingress ? await addIfb(deps, at.target, plan.links ?? []) : undefined;
  if (linkError !== undefined) {
    emit({ kind: 'apply-failed', line: undefined, text: plan.links?.join('; '), error: linkError });
    await revert(deps, spec, at.target, emit, opts.revertAttempts);
    await disarm(deadman, emit);
    throw new RuntimeError(`ip could not create the ifb device in ${describeTarget(at.target)} (${plan.links?.join('; ') ?? ''}): ${linkError}. Whatever it created was removed.`);
  }
  // The owner marker sits under our root: on the interface, or on the ifb when only ingress is shaped.
  const markerDev = plan.direction === 'ingress' && plan.ifb !== undefined ? plan.ifb : spec.interface;
  const failure = await applyBatch(deps, at.target, [...before, ...(spec.force ? withReplace(plan.apply) : plan.apply), ...markerLines(markerDev, owner)]);
  if (failure) {
    emit({ kind: 'apply-failed', ...failure });
    await revert(deps, spec, at.target, emit, opts.revertAttempts);
    await disarm(deadman, emit);
    throw new RuntimeError(`tc rejected line ${failure.line ?? '?'} of the batch in ${describeTarget(at.target)} (${failure.text ?? '?'}): ${failure.error}. Whatever it created was removed.`);
  }
  return { tree: { target: at.target, nsId: at.nsId, deadman, generation }, applyMs: deps.clock.now() - started };
}

const RESTART_HINT = 'ON_TARGET_RESTART=reinject follows a restarted target (locally with --pid-file, --netns, --container-id or --pid)';

/** The wait's watch on the target: same namespace, followed, gone, restarted elsewhere (ON_TARGET_RESTART). */
class Restarts {
  state: State;
  reinjected = 0;
  private generation = 1;
  /** The namespace last announced as the restarted target's (a not-ready target is retried every check, announced once). */
  private announced: string | undefined;
  constructor(
    private readonly deps: Deps, private readonly opts: InjectOptions, private readonly owner: Owner,
    tree: Tree, private readonly emit: (e: LifecycleEvent) => void,
  ) {
    this.state = { kind: 'live', tree };
  }

  private get mode(): 'end' | 'reinject' {
    return this.opts.spec.onTargetRestart ?? 'end';
  }

  /** The target found again, with its namespace; undefined when it is not there. */
  private async refind(): Promise<{ target: Target; nsId: string } | undefined> {
    let t: Target | undefined;
    try {
      t = this.opts.refind ? await this.opts.refind() : this.opts.target;
    } catch (error) {
      this.deps.log.debug({ err: error instanceof Error ? error.message : String(error) }, 'looking for the target again failed');
      return undefined;
    }
    if (t === undefined) return undefined;
    const id = await this.deps.files.namespaceId(namespacePath(t));
    return id?.startsWith('net:[') ? { target: t, nsId: id } : undefined;
  }

  /** Called after every step of the wait; a string ends the run with exit 4. */
  async check(remainingS: number): Promise<string | undefined> {
    if (this.state.kind === 'live') {
      const tree = this.state.tree;
      const path = namespacePath(tree.target);
      const id = await this.deps.files.namespaceId(path);
      if (id === tree.nsId) return undefined;
      const what = id === undefined ? `${path} no longer exists` : `${path} is now ${id}, was ${tree.nsId}`;
      const found = await this.refind();
      if (found !== undefined && await this.holdsOurTree(found, tree)) {
        tree.target = found.target;
        this.emit({ kind: 'target-followed', detail: `${what}; ${describeTarget(found.target)} is in ${tree.nsId}` });
        return undefined;
      }
      if (this.mode === 'reinject' && found === undefined) {
        this.emit({ kind: 'target-waiting', detail: what });
        this.state = { kind: 'waiting', old: tree };
        return undefined;
      }
      if (this.mode === 'end') {
        const retired = await this.retire(tree, what);
        this.state = { kind: 'waiting', old: undefined };
        if (found !== undefined) this.emit({ kind: 'target-restarted', action: 'end', detail: `${what}; ${describeTarget(found.target)} is in ${found.nsId}` });
        return `the target's network namespace changed during the run (${what}): ${retired}. ${RESTART_HINT}`;
      }
      this.state = { kind: 'waiting', old: tree };
      return this.comeBack(found, remainingS, true);
    }
    return this.comeBack(await this.refind(), remainingS);
  }

  /** Waiting, and the target may be back: the same namespace (follow) or a new one (re-inject). */
  private async comeBack(found: { target: Target; nsId: string } | undefined, remainingS: number, knownNew = false): Promise<string | undefined> {
    if (found === undefined || this.state.kind !== 'waiting') return undefined;
    const old = this.state.old;
    if (old !== undefined && !knownNew && await this.holdsOurTree(found, old)) {
      old.target = found.target;
      this.state = { kind: 'live', tree: old };
      this.emit({ kind: 'target-followed', detail: `${describeTarget(found.target)} is back in ${old.nsId}` });
      return undefined;
    }
    if (old !== undefined) {
      await this.retire(old, `the target restarted in ${found.nsId}`);
      this.state = { kind: 'waiting', old: undefined };
    }
    if (this.announced !== found.nsId) this.emit({ kind: 'target-restarted', action: 'reinject', detail: `${describeTarget(found.target)} is in ${found.nsId}` });
    this.announced = found.nsId;
    try {
      await preflight(this.deps, this.opts.spec, found.target, this.emit);
    } catch (error) {
      if (error instanceof RefusedError) throw error;
      // Not ready yet (e.g. its interface is not there yet): try again at the next check.
      this.deps.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'the restarted target is not ready for the injection yet; trying again');
      return undefined;
    }
    this.generation += 1;
    const { tree, applyMs } = await build(this.deps, this.opts, this.owner, found, this.generation, this.emit);
    this.state = { kind: 'live', tree };
    this.reinjected += 1;
    this.emit({ kind: 'reinjected', generation: tree.generation, target: describeTarget(found.target), entries: this.opts.plan.entries.length, applyMs, remainingS });
    return undefined;
  }

  /**
   * True when `at` is the namespace that holds `tree`: the same inode AND our owner marker in it.
   * The inode alone is not an identity over time: the kernel hands a freed namespace's inode
   * number to the next new namespace at once (measured in the lab: a target restarted with
   * `unshare -n` got the inode of the one just killed).
   */
  private async holdsOurTree(at: { target: Target; nsId: string }, tree: Tree): Promise<boolean> {
    if (at.nsId !== tree.nsId) return false;
    const owner = await readMarker(this.deps, at.target, this.opts.spec.interface).catch(() => 'none' as const);
    return typeof owner === 'object' && owner.runId === this.owner.runId;
  }

  /**
   * A tree whose target left: if its namespace lives on somewhere reachable (a pod's pause
   * process, a bind mount), remove the tree there; then the dead-man has nothing left to do.
   */
  private async retire(tree: Tree, why: string): Promise<string> {
    const found = await locateNamespace(this.deps, tree.nsId, namespacePath(tree.target));
    const where = found !== undefined && await this.holdsOurTree({ target: asTarget(found), nsId: found.nsId }, tree) ? found : undefined;
    let result: string;
    if (where === undefined) {
      this.emit({ kind: 'target-gone', detail: why });
      result = `the old namespace ${tree.nsId} is gone, and its tc tree with it`;
    } else {
      const r = await this.revertKeeping(tree, asTarget(where));
      result = r === 'gone'
        ? `the old namespace ${tree.nsId} is gone, and its tc tree with it`
        : `the old namespace ${tree.nsId} lives on (${where.describe}): the tree was removed from it`;
    }
    await disarm(tree.deadman, this.emit);
    return result;
  }

  /** revert(), keeping the dead-man armed (and saying so) when it throws. */
  private async revertKeeping(tree: Tree, at: Target): Promise<'reverted' | 'gone'> {
    try {
      return await revert(this.deps, this.opts.spec, at, this.emit, this.opts.revertAttempts);
    } catch (error) {
      if (tree.deadman.mode !== 'off') this.emit({ kind: 'deadman', action: 'kept', mode: tree.deadman.mode, detail: tree.deadman.detail, deadlineS: this.owner.deadlineS });
      throw error;
    }
  }

  /** The end of the wait (duration, signal, error): revert what is in place; a reason when the target is gone. */
  async finish(): Promise<string | undefined> {
    const state = this.state;
    if (state.kind === 'live') {
      const r = await this.revertKeeping(state.tree, state.tree.target);
      if (r === 'gone') {
        await disarm(state.tree.deadman, this.emit);
        return `the target's network namespace went away during the run (${namespacePath(state.tree.target)} disappeared before the revert); its tc tree went with it, nothing is left to revert`;
      }
      await disarm(state.tree.deadman, this.emit);
      return undefined;
    }
    if (state.old === undefined) return 'the target went away during the run and was not injected again before its end (ON_TARGET_RESTART=reinject)';
    const retired = await this.retire(state.old, 'the target did not come back');
    this.state = { kind: 'waiting', old: undefined };
    return `the target went away during the run and did not come back (ON_TARGET_RESTART=reinject): ${retired}`;
  }
}

function withReplace(lines: readonly string[]): string[] {
  return lines.map((l, i) => (i === 0 ? l.replace(/^qdisc add /, 'qdisc replace ') : l));
}

async function preflight(deps: Deps, spec: Spec, target: Target, emit: (e: LifecycleEvent) => void): Promise<void> {
  const root = rootOf(await showQdiscs(deps, target, spec.interface));
  if (isOurs(root)) {
    const owner = await readMarker(deps, target, spec.interface).catch(() => 'none' as const);
    const nowS = Math.floor(deps.clock.now() / 1000);
    const whose = typeof owner !== 'object'
      ? 'it has no readable owner marker (an older netchaos, or a prio 4e43: that is not ours)'
      : owner.deadlineS > nowS
        ? `it belongs to run ${owner.runId}, active until ${describeDeadline(owner.deadlineS, nowS)}: let it finish`
        : `it belongs to run ${owner.runId}, whose deadline passed (${describeDeadline(owner.deadlineS, nowS)}): its runner was killed; \`netchaos sweep\` removes it`;
    throw new RefusedError(`a netchaos tree (root qdisc ${describeQdisc(root)}) is already on ${spec.interface} in ${describeTarget(target)}; ${whose}. Remove it by hand with: netchaos revert ${targetFlags(target)} --interface ${spec.interface}`);
  }
  if (!isKernelDefault(root) && !spec.force) {
    throw new RefusedError(`the root qdisc of ${spec.interface} in ${describeTarget(target)} is ${describeQdisc(root)}, not a kernel default: it may belong to the CNI (bandwidth plugin) or another chaos tool. Nothing was changed. FORCE=true / --force replaces it (it is not restored afterwards).`);
  }
  emit({ kind: 'preflight-ok', root: describeQdisc(root) });
}

/**
 * Sleeps `seconds` in steps of at most `stepMs`, calling `onProgress` at the progress interval and
 * `check` after each step; stops early on a signal or when `check` returns a reason.
 */
async function countdown(
  deps: Deps, seconds: number, stop: StopSignals, onProgress: (remainingS: number) => void,
  check: (remainingS: number) => Promise<string | undefined> = () => Promise.resolve(undefined), stepMs = 1000,
): Promise<string | undefined> {
  const end = deps.clock.now() + seconds * 1000;
  const every = progressInterval(seconds) * 1000;
  let nextProgress = deps.clock.now() + every;
  for (;;) {
    const now = deps.clock.now();
    if (now >= end || stop.received) return undefined;
    await deps.clock.sleep(Math.min(stepMs, end - now), stop.controller.signal);
    if (stop.received) return undefined;
    const reason = await check(Math.max(0, Math.ceil((end - deps.clock.now()) / 1000)));
    if (reason !== undefined) return reason;
    if (deps.clock.now() >= nextProgress && deps.clock.now() < end) {
      onProgress(Math.ceil((end - deps.clock.now()) / 1000));
      nextProgress += every;
    }
  }
}

/** Seconds between "remaining" log lines: 10 s for a minute, up to 60 s for long runs. */
export function progressInterval(durationS: number): number {
  if (durationS <= 60) return 10;
  if (durationS <= 600) return 30;
  return 60;
}

/** Removes our tree, retrying; throws RevertError (exit 3) when it stays. Signals do not interrupt it. */
export async function revert(
  deps: Deps, spec: Pick<Spec, 'interface'> & { readonly direction?: Spec['direction'] }, target: Target, emit: (e: LifecycleEvent) => void, attempts = 3,
): Promise<'reverted' | 'gone'> {
  // The ingress side (ingress qdisc + ifb) is looked for unless the run is known to be egress only
  // (`netchaos revert` passes no direction: it removes whatever of ours is there).
  const ingress = spec.direction !== 'egress';
  const started = deps.clock.now();
  let lastError = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let result;
    try {
      result = await revertOnce(deps, target, spec.interface);
    } catch (error) {
      result = { kind: 'still-there', error: error instanceof Error ? error.message : String(error) } as const;
    }
    if (result.kind === 'clean' && ingress) {
      let side;
      try {
        side = await revertIngressOnce(deps, target, spec.interface);
      } catch (error) {
        side = { kind: 'still-there', error: error instanceof Error ? error.message : String(error), leftover: `the ingress side (ingress qdisc, ifb) on ${spec.interface}` } as const;
      }
      if (side.kind === 'still-there') {
        lastError = side.error;
        if (attempt < attempts) {
          emit({ kind: 'revert-retry', attempt, error: lastError });
          await deps.clock.sleep(REVERT_RETRY_MS * attempt);
          continue;
        }
        const leftover = `${side.leftover} in ${describeTarget(target)}`;
        const command = `netchaos revert ${targetFlags(target)} --interface ${spec.interface}  (or: ${ingressRemoveCommand(target, spec.interface)})`;
        emit({ kind: 'revert-failed', leftover, command, error: lastError });
        throw new RevertError(`revert failed after ${attempts} attempts: ${lastError}`, leftover, command);
      }
      for (const l of side.left) deps.log.warn(`left alone: ${l}`);
      emit({ kind: 'reverted', removed: result.removed || side.removed.length > 0, root: describeQdisc(result.root), revertMs: deps.clock.now() - started });
      return 'reverted';
    }
    if (result.kind === 'clean') {
      emit({ kind: 'reverted', removed: result.removed, root: describeQdisc(result.root), revertMs: deps.clock.now() - started });
      return 'reverted';
    }
    if (result.kind === 'gone') {
      emit({ kind: 'target-gone', detail: result.error });
      return 'gone';
    }
    lastError = result.error;
    if (attempt < attempts) {
      emit({ kind: 'revert-retry', attempt, error: lastError });
      await deps.clock.sleep(REVERT_RETRY_MS * attempt);
    }
  }
  const leftover = `root qdisc prio ${ROOT_HANDLE} on ${spec.interface} in ${describeTarget(target)}`;
  const command = `netchaos revert ${targetFlags(target)} --interface ${spec.interface}  (or: nsenter ${nsenterArgs(target).join(' ')} -- tc qdisc del dev ${spec.interface} root handle ${ROOT_HANDLE})`;
  emit({ kind: 'revert-failed', leftover, command, error: lastError });
  throw new RevertError(`revert failed after ${attempts} attempts: ${lastError}`, leftover, command);
}
