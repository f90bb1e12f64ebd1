/**
 * Building one tree in one namespace: arm the dead-man, create the ifb (DIRECTION=ingress|both), apply the
 * plan and the owner marker in one `tc -batch`; on a failure, undo all of it before the error.
 */
import { RuntimeError } from '../model/errors.js';
import { type NetnsRef, describeNetns, netnsPath } from '../model/netns.js';
import type { Spec } from '../model/spec.js';
import type { Owner } from '../model/tc.js';
import type { Deps } from '../ports.js';
import { markerLines } from '../tc/marker.js';
import type { Plan } from '../tc/plan.js';
import { type Armed, armDeadman, disarm } from './deadman.js';
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

/** Arms the dead-man, then applies the plan and the owner marker in one batch; undoes both on failure. */
export async function applyTree(deps: ApplyDeps, o: ApplyOptions): Promise<{ tree: Tree; applyMs: number }> {
  const { spec, plan, netns } = o;
  // DIRECTION=ingress/both: the ingress slot and our ifb are checked here, before the first change (and again
  // before a re-injection); FORCE over a foreign ingress qdisc deletes it first, in the same batch.
  const ingress = plan.links !== undefined && plan.links.length > 0;
  const before = ingress ? await preflightIngress(deps, { spec, netns }) : [];
  const deadman = await armDeadman(deps, spec.deadman, {
    runId: o.owner.runId, generation: o.generation, deadlineS: o.owner.deadlineS, nsId: o.nsId, path: netnsPath(netns), interface: spec.interface,
  }, o.emit);
  const undo = async (): Promise<void> => {
    await revert(deps, { netns, interface: spec.interface, direction: spec.direction, emit: o.emit, attempts: o.revertAttempts });
    await disarm(deadman, o.emit);
  };
  const started = deps.clock.now();
  const linkError = ingress ? await deps.tc.addLinks(netns, plan.links ?? []) : undefined;
  if (linkError !== undefined) {
    o.emit({ kind: 'apply-failed', line: undefined, text: plan.links?.join('; '), error: linkError });
    await undo();
    throw new RuntimeError(`ip could not create the ifb device in ${describeNetns(netns)} (${plan.links?.join('; ') ?? ''}): ${linkError}. Whatever it created was removed.`);
  }
  // The owner marker sits under our root: on the interface, or on the ifb when only ingress is shaped.
  const markerDev = plan.direction === 'ingress' && plan.ifb !== undefined ? plan.ifb : spec.interface;
  const failure = await deps.tc.apply(netns, [...before, ...(spec.force ? withReplace(plan.apply) : plan.apply), ...markerLines(markerDev, o.owner)]);
  if (failure) {
    o.emit({ kind: 'apply-failed', ...failure });
    await undo();
    throw new RuntimeError(`tc rejected line ${failure.line ?? '?'} of the batch in ${describeNetns(netns)} (${failure.text ?? '?'}): ${failure.error}. Whatever it created was removed.`);
  }
  return { tree: { netns, nsId: o.nsId, deadman, generation: o.generation }, applyMs: deps.clock.now() - started };
}

/** FORCE: the root is replaced rather than added (over a foreign root qdisc). */
function withReplace(lines: readonly string[]): string[] {
  return lines.map((l, i) => (i === 0 ? l.replace(/^qdisc add /, 'qdisc replace ') : l));
}
