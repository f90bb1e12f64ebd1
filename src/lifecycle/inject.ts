/**
 * One injection into one namespace: ramp → preflight → apply → wait → revert → ramp.
 * Every path after the first change ends in a revert: normal end, SIGTERM, SIGINT, an error.
 */
import type { Deps, StopSignalName } from '../deps.js';
import { RefusedError, RevertError, RuntimeError, TargetGoneError } from '../errors.js';
import type { Spec } from '../config/spec.js';
import type { Plan } from '../tc/plan.js';
import { ROOT_HANDLE } from '../tc/plan.js';
import { applyBatch, describeQdisc, isKernelDefault, isOurs, revertOnce, rootOf, showQdiscs } from '../netns/tc.js';
import { type Target, checkTarget, describeTarget, namespacePath, nsenterArgs, targetFlags } from '../netns/target.js';
import { type LifecycleEvent, logEvent } from './events.js';

export interface InjectOptions {
  readonly spec: Spec;
  readonly plan: Plan;
  readonly target: Target;
  /** Called for every lifecycle event (after it is logged). */
  readonly onEvent?: (e: LifecycleEvent) => void;
  /** How often to check that the target's namespace still exists. */
  readonly watchIntervalMs?: number;
  readonly revertAttempts?: number;
}

export type Outcome =
  | { readonly status: 'completed' }
  | { readonly status: 'stopped'; readonly signal: StopSignalName; readonly injected: boolean };

const REVERT_RETRY_MS = 500;

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

    stop.phase = 'apply';
    const started = deps.clock.now();
    const failure = await applyBatch(deps, target, spec.force ? withReplace(plan.apply) : plan.apply);
    if (failure) {
      emit({ kind: 'apply-failed', ...failure });
      await revert(deps, spec, target, emit, opts.revertAttempts);
      throw new RuntimeError(`tc rejected line ${failure.line ?? '?'} of the batch in ${describeTarget(target)} (${failure.text ?? '?'}): ${failure.error}. Whatever it created was removed.`);
    }
    emit({ kind: 'injected', entries: plan.entries.length, bands: plan.bands.length, applyMs: deps.clock.now() - started });

    let gone: string | undefined;
    try {
      stop.phase = 'wait';
      gone = await waitOut(deps, spec.durationS, target, nsId, stop, emit, opts.watchIntervalMs ?? 1000);
    } finally {
      stop.phase = 'revert';
      if (gone === undefined && (await revert(deps, spec, target, emit, opts.revertAttempts)) === 'gone') {
        gone = `${namespacePath(target)} disappeared before the revert`;
      }
    }
    if (gone !== undefined) {
      throw new TargetGoneError(`the target's network namespace went away during the run (${gone}); its tc tree went with it, nothing is left to revert`);
    }
    if (stop.received) return { status: 'stopped', signal: stop.received, injected: true };
    if (spec.rampS > 0) {
      stop.phase = 'ramp time';
      emit({ kind: 'ramp', phase: 'after', seconds: spec.rampS });
      await countdown(deps, spec.rampS, stop, (remainingS) => { emit({ kind: 'progress', phase: 'ramp', remainingS }); });
    }
    return stop.received ? { status: 'stopped', signal: stop.received, injected: true } : { status: 'completed' };
  } finally {
    stop.dispose();
  }
}

function withReplace(lines: readonly string[]): string[] {
  return lines.map((l, i) => (i === 0 ? l.replace(/^qdisc add /, 'qdisc replace ') : l));
}

async function preflight(deps: Deps, spec: Spec, target: Target, emit: (e: LifecycleEvent) => void): Promise<void> {
  const root = rootOf(await showQdiscs(deps, target, spec.interface));
  if (isOurs(root)) {
    throw new RefusedError(`a netchaos tree (root qdisc ${describeQdisc(root)}) is already on ${spec.interface} in ${describeTarget(target)}: another run is active, or one was killed. Let it finish, or remove it with: netchaos revert ${targetFlags(target)} --interface ${spec.interface}`);
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
  check: () => Promise<string | undefined> = () => Promise.resolve(undefined), stepMs = 1000,
): Promise<string | undefined> {
  const end = deps.clock.now() + seconds * 1000;
  const every = progressInterval(seconds) * 1000;
  let nextProgress = deps.clock.now() + every;
  for (;;) {
    const now = deps.clock.now();
    if (now >= end || stop.received) return undefined;
    await deps.clock.sleep(Math.min(stepMs, end - now), stop.controller.signal);
    if (stop.received) return undefined;
    const reason = await check();
    if (reason !== undefined) return reason;
    if (deps.clock.now() >= nextProgress && deps.clock.now() < end) {
      onProgress(Math.ceil((end - deps.clock.now()) / 1000));
      nextProgress += every;
    }
  }
}

/** Waits out the duration; returns a description when the target's namespace disappeared. */
async function waitOut(
  deps: Deps, durationS: number, target: Target, nsId: string, stop: StopSignals,
  emit: (e: LifecycleEvent) => void, watchMs: number,
): Promise<string | undefined> {
  const check = async (): Promise<string | undefined> => {
    const id = await deps.files.namespaceId(namespacePath(target));
    if (id === nsId) return undefined;
    const detail = id === undefined ? `${namespacePath(target)} no longer exists` : `${namespacePath(target)} is now ${id}, was ${nsId}`;
    emit({ kind: 'target-gone', detail });
    return detail;
  };
  return countdown(deps, durationS, stop, (remainingS) => { emit({ kind: 'progress', phase: 'chaos', remainingS }); }, check, watchMs);
}

/** Seconds between "remaining" log lines: 10 s for a minute, up to 60 s for long runs. */
export function progressInterval(durationS: number): number {
  if (durationS <= 60) return 10;
  if (durationS <= 600) return 30;
  return 60;
}

/** Removes our tree, retrying; throws RevertError (exit 3) when it stays. Signals do not interrupt it. */
export async function revert(
  deps: Deps, spec: Pick<Spec, 'interface'>, target: Target, emit: (e: LifecycleEvent) => void, attempts = 3,
): Promise<'reverted' | 'gone'> {
  const started = deps.clock.now();
  let lastError = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let result;
    try {
      result = await revertOnce(deps, target, spec.interface);
    } catch (error) {
      result = { kind: 'still-there', error: error instanceof Error ? error.message : String(error) } as const;
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
