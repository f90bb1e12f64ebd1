/**
 * Removing our tree: the egress root (by our handle), then the ingress side (our redirect, our ifb), each read
 * back. One retry loop around both; a revert that stays failed is loud (RevertError, exit 3: what is left and
 * the command that removes it). The run's Stop never interrupts it.
 */
import { RevertError, messageOf } from '../model/errors.js';
import { type NetnsRef, describeNetns, netnsFlags, nsenterArgs } from '../model/netns.js';
import type { Direction } from '../model/spec.js';
import type { Qdisc } from '../model/tc.js';
import type { Deps } from '../ports.js';
import { describeQdisc } from '../tc/parse.js';
import { INGRESS_FILTER_PRIO, ROOT_HANDLE, ifbName } from '../tc/plan.js';
import type { LifecycleEvent } from './events.js';

const REVERT_RETRY_MS = 500;

export interface RevertOptions {
  readonly netns: NetnsRef;
  readonly interface: string;
  /** The run's direction; absent (`netchaos revert`): whatever of ours is there, the ingress side included. */
  readonly direction?: Direction | undefined;
  readonly emit: (e: LifecycleEvent) => void;
  readonly attempts?: number | undefined;
}

/** One attempt's result. */
type Attempt =
  | { readonly kind: 'reverted'; readonly removed: boolean; readonly root: Qdisc | undefined; readonly left: readonly string[] }
  | { readonly kind: 'gone'; readonly error: string }
  | { readonly kind: 'failed'; readonly error: string; readonly leftover: string; readonly command: string };

/** Removes our tree, retrying; throws RevertError (exit 3) when it stays. Stop signals do not interrupt it. */
export async function revert(deps: Pick<Deps, 'tc' | 'clock' | 'log'>, o: RevertOptions): Promise<'reverted' | 'gone'> {
  const attempts = o.attempts ?? 3;
  const started = deps.clock.now();
  let failure: Extract<Attempt, { kind: 'failed' }> | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const r = await revertAttempt(deps, o);
    if (r.kind === 'reverted') {
      for (const l of r.left) deps.log.warn(`left alone: ${l}`);
      o.emit({ kind: 'reverted', removed: r.removed, root: describeQdisc(r.root), revertMs: deps.clock.now() - started });
      return 'reverted';
    }
    if (r.kind === 'gone') {
      o.emit({ kind: 'target-gone', detail: r.error });
      return 'gone';
    }
    failure = r;
    if (attempt < attempts) {
      o.emit({ kind: 'revert-retry', attempt, error: r.error });
      await deps.clock.sleep(REVERT_RETRY_MS * attempt);
    }
  }
  const { leftover, command, error } = failure ?? { leftover: 'unknown', command: `netchaos revert ${netnsFlags(o.netns)}`, error: 'no attempt' };
  o.emit({ kind: 'revert-failed', leftover, command, error });
  throw new RevertError(`revert failed after ${attempts} attempts: ${error}`, leftover, command);
}

async function revertAttempt(deps: Pick<Deps, 'tc'>, o: RevertOptions): Promise<Attempt> {
  const dev = o.interface;
  const retry = `netchaos revert ${netnsFlags(o.netns)} --interface ${dev}`;
  const egress = await deps.tc.revertOnce(o.netns, dev).catch((error: unknown) => ({ kind: 'still-there', error: messageOf(error) } as const));
  if (egress.kind === 'gone') return egress;
  if (egress.kind === 'still-there') {
    return {
      kind: 'failed', error: egress.error,
      leftover: `root qdisc prio ${ROOT_HANDLE} on ${dev} in ${describeNetns(o.netns)}`,
      command: `${retry}  (or: nsenter ${nsenterArgs(o.netns).join(' ')} -- tc qdisc del dev ${dev} root handle ${ROOT_HANDLE})`,
    };
  }
  // The ingress side is looked for unless the run is known to be egress only.
  if (o.direction === 'egress') return { kind: 'reverted', removed: egress.removed, root: egress.root, left: [] };
  const ingress = await revertIngressOnce(deps, o.netns, dev).catch((error: unknown): IngressRevert =>
    ({ kind: 'still-there', error: messageOf(error), leftover: `the ingress side (ingress qdisc, ifb) on ${dev}` }));
  if (ingress.kind === 'still-there') {
    return { kind: 'failed', error: ingress.error, leftover: `${ingress.leftover} in ${describeNetns(o.netns)}`, command: `${retry}  (or: ${ingressRemoveCommand(o.netns, dev)})` };
  }
  return { kind: 'reverted', removed: egress.removed || ingress.removed.length > 0, root: egress.root, left: ingress.left };
}

export type IngressRevert =
  | { readonly kind: 'clean'; readonly removed: string[]; readonly left: string[] }
  | { readonly kind: 'still-there'; readonly error: string; readonly leftover: string };

/**
 * Removes our ingress side: our redirect (the whole ingress qdisc when it holds only ours), then our ifb; reads
 * back that neither is left. A foreign ingress qdisc is left alone (and said so).
 */
export async function revertIngressOnce(deps: Pick<Deps, 'tc'>, netns: NetnsRef, dev: string): Promise<IngressRevert> {
  const ifb = ifbName(dev);
  const removed: string[] = [];
  const left: string[] = [];
  const before = await deps.tc.readIngress(netns, dev);
  if (before.owner === 'ours' || before.owner === 'mixed') {
    const del = before.owner === 'ours' ? `qdisc del dev ${dev} ingress` : `filter del dev ${dev} parent ffff: prio ${INGRESS_FILTER_PRIO}`;
    const after = await deps.tc.readIngress(netns, dev, [del]);
    if (after.owner === 'ours' || after.owner === 'mixed') {
      return { kind: 'still-there', error: `${del} did not remove it`, leftover: `ingress qdisc on ${dev} redirecting to ${ifb}` };
    }
    removed.push(before.owner === 'ours' ? `ingress qdisc on ${dev}` : `our redirect filter (prio ${INGRESS_FILTER_PRIO}) on the ingress qdisc of ${dev}`);
  } else if (before.owner === 'foreign') {
    left.push(`a foreign ingress qdisc (${describeQdisc(before.slot)}) on ${dev}, not ours`);
  }
  if (before.ifbExists || removed.length > 0) {
    const r = await deps.tc.deleteLink(netns, ifb);
    if (r.left === undefined) return { kind: 'still-there', error: r.error || 'ip printed no link list', leftover: `ifb device ${ifb}` };
    if (r.left.includes(ifb)) return { kind: 'still-there', error: r.error || `${ifb} is still there`, leftover: `ifb device ${ifb}` };
    if (before.ifbExists) removed.push(`ifb device ${ifb}`);
  }
  return { kind: 'clean', removed, left };
}

/** The manual commands that remove our ingress side (for a failed revert's message). */
export function ingressRemoveCommand(netns: NetnsRef, dev: string): string {
  const ns = `nsenter ${nsenterArgs(netns).join(' ')} --`;
  return `${ns} tc qdisc del dev ${dev} ingress; ${ns} ip link del ${ifbName(dev)}`;
}
