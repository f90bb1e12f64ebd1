/**
 * Building one tree in one namespace: arm the dead-man, create the ifb (DIRECTION=ingress|both), apply the
 * plan and the owner marker in one `tc -batch`; on a failure, undo what this run created (and only that) before
 * the error.
 */
import { RuntimeError, TargetGoneError } from '../model/errors.js';
import { type NetnsRef, describeNetns, netnsPath } from '../model/netns.js';
import type { Spec } from '../model/spec.js';
import type { Owner } from '../model/tc.js';
import type { Deps } from '../ports.js';
import { markerLines } from '../tc/marker.js';
import { ROOT_HANDLE } from '../tc/plan.js';
import { oldestHolder } from '../netns/namespaces.js';
import type { Plan } from '../tc/plan.js';
import { type Armed, armDeadman, disarm, systemdIsInit } from './deadman.js';
import type { LifecycleEvent } from './events.js';
import { preflight, preflightIngress } from './preflight.js';
import { revert } from './revert.js';

/** One tree of this run, in one namespace, with its dead-man. */
export interface Tree {
  netns: NetnsRef;
  readonly nsId: string;
  readonly deadman: Armed;
  readonly generation: number;
}

export interface ApplyOptions {
  readonly spec: Spec;
  readonly plan: Plan;
  readonly owner: Owner;
  readonly netns: NetnsRef;
  readonly nsId: string;
  /** 1 for the first injection of a run, 2… for re-injections after the target restarted. */
  readonly generation: number;
  readonly emit: (e: LifecycleEvent) => void;
  readonly revertAttempts?: number | undefined;
  /**
   * The root qdisc was not read before (src/lifecycle/inject.ts): a refusal of the batch's first line (our root) is
   * the kernel saying the root is not a kernel default, with nothing changed. The preflight then reads it, to refuse
   * saying whose it is, or to remove an expired tree of ours and apply again.
   */
  readonly rootInBatch?: boolean | undefined;
}

type ApplyDeps = Pick<Deps, 'tc' | 'clock' | 'log' | 'exec' | 'processes' | 'files'>;

/**
 * Arms the dead-man (the process one alongside the first change), checks the namespace is still the one
 * preflight saw, then applies the plan and the owner marker in one batch (the marker right after the root it sits under, so the tree is marked from its second
 * line on); on a failure, undoes exactly what this run created and nothing of anyone else's.
 */
export async function applyTree(deps: ApplyDeps, o: ApplyOptions): Promise<{ tree: Tree; applyMs: number }> {
  const { spec, plan, netns } = o;
  // DIRECTION=ingress/both: the ingress slot and our ifb are checked here, before the first change (and again
  // before a re-injection); FORCE over a foreign ingress qdisc deletes it first, in the same batch.
  const ingress = plan.links !== undefined && plan.links.length > 0;
  const before = ingress ? await preflightIngress(deps, { spec, netns, emit: o.emit }) : [];
  const request = {
    runId: o.owner.runId, generation: o.generation, deadlineS: o.owner.deadlineS, nsId: o.nsId, path: await deadmanPath(deps, netns, o.nsId), interface: spec.interface,
    direction: spec.direction,
  };
  // The process dead-man (a second node process) is spawned while the first change runs, so its start does not
  // delay the apply; the systemd one is armed first (DEADMAN=systemd that cannot be armed is an error before any change).
  const alongside = spec.deadman === 'process' || (spec.deadman === 'auto' && !systemdIsInit(deps));
  let deadman: Armed | undefined = alongside ? undefined : await armDeadman(deps, spec.deadman, request, o.emit);
  // The reference may lead to another namespace by now (a --netns path bound again, a PID reused during
  // RAMP_TIME or the effect baseline): checked right before the first change.
  const now = await deps.files.namespaceId(netnsPath(netns));
  if (now !== o.nsId) {
    if (deadman) await disarm(deadman, o.emit);
    throw new TargetGoneError(`${netnsPath(netns)} ${now === undefined ? 'is gone' : `now leads to the network namespace ${now}`}, not to ${o.nsId} that preflight checked: nothing was changed`);
  }
  const markerDev = plan.direction === 'ingress' && plan.ifb !== undefined ? plan.ifb : spec.interface;
  const [root, ...rest] = spec.force ? withReplace(plan.apply) : plan.apply;
  if (root === undefined || !root.includes(` dev ${markerDev} root handle ${ROOT_HANDLE} `)) throw new Error(`unreachable: the batch does not start with our root on ${markerDev}`);
  const marker = markerLines(markerDev, o.owner);
  const lines = [...before, root, ...marker, ...rest];
  const created: Created = { ifb: undefined, rootLine: before.length + 1, markerLine: before.length + 2, ingressLine: lines.findIndex((l) => / handle ffff: ingress$/.test(l)) + 1 };
  const undoOwn = (failedAt: number | undefined): Promise<void> =>
    undoApply(deps, { netns, spec, runId: o.owner.runId, nsId: o.nsId, markerDev, emit: o.emit, attempts: o.revertAttempts }, created, failedAt);
  const undo = async (failedAt: number | undefined): Promise<void> => {
    await undoOwn(failedAt);
    if (deadman) await disarm(deadman, o.emit);
  };
  /** The first change runs while the dead-man is armed; if arming fails, what the change created is undone before the error. */
  const whileArming = async <T>(change: Promise<T>, failedAt: (result: T | undefined) => number | undefined): Promise<T> => {
    if (deadman === undefined) {
      try {
        // The change's exec is spawned after a chain of promise steps (the first exec of a run loads the exec
        // library first): the watchdog's spawn waits for them, so the fault's batch starts first (under emulation
        // the watchdog spawned first delayed the batch by ~1 s).
        await new Promise<void>((resolve) => { setImmediate(resolve); });
        deadman = await armDeadman(deps, spec.deadman, request, o.emit);
      } catch (error) {
        const result = await change.catch(() => undefined);
        await undoOwn(failedAt(result));
        throw error;
      }
    }
    return change;
  };
  const started = deps.clock.now();
  const linkError = ingress
    ? await whileArming(deps.tc.addLinks(netns, plan.links ?? []), (e) => { if (e === undefined) created.ifb = plan.ifb; return 0; })
    : undefined;
  if (linkError !== undefined) {
    o.emit({ kind: 'apply-failed', line: undefined, text: plan.links?.join('; '), error: linkError });
    await undo(0);
    throw new RuntimeError(`ip could not create the ifb device in ${describeNetns(netns)} (${plan.links?.join('; ') ?? ''}): ${linkError}. Whatever it created was removed.`);
  }
  if (ingress) created.ifb = plan.ifb;
  // A batch that went through whole: every line ran (failedAt past the last line).
  const failure = await whileArming(deps.tc.apply(netns, lines), (f) => (f ? f.line : lines.length + 1));
  if (failure && o.rootInBatch === true && failure.line === created.rootLine) {
    if (deadman) await disarm(deadman, o.emit);
    await preflight(deps, { spec, netns, emit: o.emit });
    return applyTree(deps, { ...o, rootInBatch: false });
  }
  if (failure) {
    o.emit({ kind: 'apply-failed', ...failure });
    await undo(failure.line);
    throw new RuntimeError(`tc rejected line ${failure.line ?? '?'} of the batch in ${describeNetns(netns)} (${failure.text ?? '?'}): ${failure.error}. Whatever it created was removed.`);
  }
  if (deadman === undefined) throw new Error('unreachable: the dead-man was armed with the first change');
  return { tree: { netns, nsId: o.nsId, deadman, generation: o.generation }, applyMs: deps.clock.now() - started };
}

/** What this run's apply created, by the 1-based lines of its batch (0: not in it). */
interface Created {
  /** The ifb this run's `ip link add` created (it did not exist: preflight saw none, and `link add` fails on one). */
  ifb: string | undefined;
  readonly rootLine: number;
  readonly markerLine: number;
  readonly ingressLine: number;
}

/**
 * Undoes a failed apply: the run's own revert (only what carries its marker: a second run whose batch failed
 * because the first run's tree is there removes nothing of it), then what its batch created before the marker
 * could say so: a root whose marker line failed, an ingress qdisc whose redirect line failed, the ifb it created.
 * `failedAt`: the batch line that failed (undefined: tc did not say; 0: the batch never ran).
 */
async function undoApply(
  deps: ApplyDeps,
  o: { netns: NetnsRef; spec: Spec; runId: string; nsId: string; markerDev: string; emit: (e: LifecycleEvent) => void; attempts: number | undefined },
  created: Created, failedAt: number | undefined,
): Promise<void> {
  const { netns, spec } = o;
  // A batch that failed without saying where: nothing of it is assumed ours beyond what carries our marker.
  const ran = (line: number): boolean => failedAt !== undefined && line > 0 && line < failedAt;
  await revert(deps, { netns, interface: spec.interface, direction: spec.direction, emit: o.emit, attempts: o.attempts, runId: o.runId, nsId: o.nsId });
  if (ran(created.rootLine) && !ran(created.markerLine) && failedAt === created.markerLine) {
    // Our root went in, its marker did not (no u32 in this kernel?): ours by the batch, if still unmarked.
    const owner = await deps.tc.readMarker(netns, o.markerDev);
    if (owner === 'none') await deps.tc.revertOnce(netns, o.markerDev);
  }
  if (ran(created.ingressLine) && failedAt === created.ingressLine + 1) {
    // Our ingress qdisc went in, its redirect did not: ours, if it still holds no filter.
    const s = await deps.tc.readIngress(netns, spec.interface);
    if (s.slot?.kind === 'ingress' && s.owner === 'foreign' && s.redirect === undefined) await deps.tc.readIngress(netns, spec.interface, [`qdisc del dev ${spec.interface} ingress`]);
  }
  if (created.ifb !== undefined) {
    const s = await deps.tc.readIngress(netns, spec.interface);
    if (s.ifbExists && s.redirect === undefined) await deps.tc.deleteLink(netns, created.ifb);
  }
}

/**
 * The path the dead-man enters the namespace by: one that outlives the target's container process when there is
 * one (the oldest process in the namespace: a pod's pause process, which holds it for the pod's life).
 */
async function deadmanPath(deps: Pick<Deps, 'files'>, netns: NetnsRef, nsId: string): Promise<string> {
  const path = netnsPath(netns);
  if (netns.kind !== 'pid') return path;
  const holder = await oldestHolder(deps, nsId);
  return holder ?? path;
}

/** FORCE: the root is replaced rather than added (over a foreign root qdisc). */
function withReplace(lines: readonly string[]): string[] {
  return lines.map((l, i) => (i === 0 ? l.replace(/^qdisc add /, 'qdisc replace ') : l));
}
