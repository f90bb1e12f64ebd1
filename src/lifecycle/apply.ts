/**
 * Building one tree in one namespace: arm the dead-man (the process one alongside the first change), create the ifb (DIRECTION=ingress|both), apply the
 * plan and the owner marker in one `tc -batch`; on a failure, undo all of it before the error.
 */
import { RuntimeError } from '../model/errors.js';
import { type NetnsRef, describeNetns, netnsPath } from '../model/netns.js';
import type { Spec } from '../model/spec.js';
import type { Owner } from '../model/tc.js';
import type { Deps } from '../ports.js';
import { markerLines } from '../tc/marker.js';
import type { Plan } from '../tc/plan.js';
import { type Armed, armDeadman, disarm, systemdIsInit } from './deadman.js';
import type { LifecycleEvent } from './events.js';
import { preflightIngress } from './preflight.js';
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
}

type ApplyDeps = Pick<Deps, 'tc' | 'clock' | 'log' | 'exec' | 'processes' | 'files'>;

/**
 * Applies the plan and the owner marker in one batch with the dead-man armed; undoes both on failure.
 * The process dead-man (a second node process) is spawned while the first change runs, so its start does
 * not delay the apply; the systemd one is armed first (DEADMAN=systemd that cannot be armed is an error
 * before any change).
 */
export async function applyTree(deps: ApplyDeps, o: ApplyOptions): Promise<{ tree: Tree; applyMs: number }> {
  const { spec, plan, netns } = o;
  // DIRECTION=ingress/both: the ingress slot and our ifb are checked here, before the first change (and again
  // before a re-injection); FORCE over a foreign ingress qdisc deletes it first, in the same batch.
  const ingress = plan.links !== undefined && plan.links.length > 0;
  const before = ingress ? await preflightIngress(deps, { spec, netns }) : [];
  const request = {
    runId: o.owner.runId, generation: o.generation, deadlineS: o.owner.deadlineS, nsId: o.nsId, path: netnsPath(netns), interface: spec.interface,
  };
  const alongside = spec.deadman === 'process' || (spec.deadman === 'auto' && !systemdIsInit(deps));
  let deadman: Armed | undefined = alongside ? undefined : await armDeadman(deps, spec.deadman, request, o.emit);
  const revertChange = (): Promise<unknown> => revert(deps, { netns, interface: spec.interface, direction: spec.direction, emit: o.emit, attempts: o.revertAttempts });
  /** The first change runs while the dead-man is armed; if arming fails, the change is undone before the error. */
  const whileArming = async <T>(change: Promise<T>): Promise<T> => {
    if (deadman === undefined) {
      try {
        deadman = await armDeadman(deps, spec.deadman, request, o.emit);
      } catch (error) {
        await change.catch(() => undefined);
        await revertChange();
        throw error;
      }
    }
    return change;
  };
  const undo = async (): Promise<void> => {
    await revertChange();
    if (deadman) await disarm(deadman, o.emit);
  };
  const started = deps.clock.now();
  const linkError = ingress ? await whileArming(deps.tc.addLinks(netns, plan.links ?? [])) : undefined;
  if (linkError !== undefined) {
    o.emit({ kind: 'apply-failed', line: undefined, text: plan.links?.join('; '), error: linkError });
    await undo();
    throw new RuntimeError(`ip could not create the ifb device in ${describeNetns(netns)} (${plan.links?.join('; ') ?? ''}): ${linkError}. Whatever it created was removed.`);
  }
  // The owner marker sits under our root: on the interface, or on the ifb when only ingress is shaped.
  const markerDev = plan.direction === 'ingress' && plan.ifb !== undefined ? plan.ifb : spec.interface;
  const failure = await whileArming(deps.tc.apply(netns, [...before, ...(spec.force ? withReplace(plan.apply) : plan.apply), ...markerLines(markerDev, o.owner)]));
  if (failure) {
    o.emit({ kind: 'apply-failed', ...failure });
    await undo();
    throw new RuntimeError(`tc rejected line ${failure.line ?? '?'} of the batch in ${describeNetns(netns)} (${failure.text ?? '?'}): ${failure.error}. Whatever it created was removed.`);
  }
  if (deadman === undefined) throw new Error('unreachable: the dead-man was armed with the first change');
  return { tree: { netns, nsId: o.nsId, deadman, generation: o.generation }, applyMs: deps.clock.now() - started };
}

/** FORCE: the root is replaced rather than added (over a foreign root qdisc). */
function withReplace(lines: readonly string[]): string[] {
  return lines.map((l, i) => (i === 0 ? l.replace(/^qdisc add /, 'qdisc replace ') : l));
}
