/**
 * Removing our tree: the egress root (by our handle; a run's own revert only with its marker, checked in the same
 * tc batch), then the ingress side (our redirect, the ifb it points to), each read back; the namespace's identity
 * is checked before every attempt. One retry loop around both; a revert that stays failed is loud (RevertError, exit 3: what is left and
 * the command that removes it). The run's Stop never interrupts it.
 */
import { RevertError, messageOf } from '../model/errors.js';
import { type NetnsRef, describeNetns, netnsFlags, netnsPath, nsenterArgs } from '../model/netns.js';
import type { Direction } from '../model/spec.js';
import type { IngressState, Qdisc } from '../model/tc.js';
import type { Deps } from '../ports.js';
import { locateNamespace, netnsOf } from '../netns/namespaces.js';
import { ORPHANED, describeQdisc } from '../tc/parse.js';
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
  /**
   * This run's id: only what carries its owner marker is removed (the tree's root is deleted in the same tc batch
   * that finds the marker), so a second run's failed apply never removes the first run's tree. Absent
   * (`netchaos revert`): whatever of ours is there.
   */
  readonly runId?: string | undefined;
  /**
   * The identity (`net:[inode]`) of the namespace the tree was put in, checked right before every attempt: when
   * the reference now leads to another namespace or to none (the target process left while its pod's pause
   * process holds the namespace), the namespace is looked for by its inode and the tree removed there.
   */
  readonly nsId?: string | undefined;
}

/** One attempt's result. */
type Attempt =
  | { readonly kind: 'reverted'; readonly removed: boolean; readonly root: Qdisc | undefined; readonly left: readonly string[] }
  | { readonly kind: 'gone'; readonly error: string }
  | { readonly kind: 'failed'; readonly error: string; readonly leftover: string; readonly command: string };

type RevertDeps = Pick<Deps, 'tc' | 'clock' | 'log' | 'files'>;

/** Removes our tree, retrying; throws RevertError (exit 3) when it stays. Stop signals do not interrupt it. */
export async function revert(deps: RevertDeps, o: RevertOptions): Promise<'reverted' | 'gone'> {
  const attempts = o.attempts ?? 3;
  const started = deps.clock.now();
  let failure: Extract<Attempt, { kind: 'failed' }> | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const at = await whereNow(deps, o);
    const r: Attempt = at === undefined
      ? { kind: 'gone', error: `no process or mount on this node holds the network namespace ${o.nsId ?? ''} any more (${netnsPath(o.netns)} is gone or leads elsewhere)` }
      : await revertAttempt(deps, { ...o, netns: at });
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

/**
 * The reference to revert through: the run's own while it still leads to the tree's namespace, else the
 * namespace found by its inode (said so), else undefined (nothing reachable holds it: it is gone, with the tree).
 */
async function whereNow(deps: RevertDeps, o: RevertOptions): Promise<NetnsRef | undefined> {
  if (o.nsId === undefined) return o.netns;
  const path = netnsPath(o.netns);
  const id = await deps.files.namespaceId(path);
  if (id === o.nsId) return o.netns;
  const found = await locateNamespace(deps, o.nsId);
  if (found === undefined) return undefined;
  o.emit({ kind: 'target-followed', detail: `${path} ${id === undefined ? 'is gone' : `now leads to ${id}`}; the tree's namespace ${o.nsId} lives on in ${found.describe}: reverting there` });
  return netnsOf(found);
}

async function revertAttempt(deps: Pick<Deps, 'tc'>, o: RevertOptions): Promise<Attempt> {
  const dev = o.interface;
  const retry = `netchaos revert ${netnsFlags(o.netns)} --interface ${dev}`;
  // Without a run and a direction (`netchaos revert`), the ingress side is read in the egress batch: one exec
  // when there is nothing of ours on the ingress side.
  const both = o.runId === undefined && o.direction === undefined;
  const read = both
    ? deps.tc.revertWithIngress(o.netns, dev)
    : deps.tc.revertOnce(o.netns, dev, o.runId).then((egress) => ({ egress, ingress: undefined }));
  const { egress, ingress: seen } = await read.catch((error: unknown) => ({ egress: { kind: 'still-there', error: messageOf(error) } as const, ingress: undefined }));
  if (egress.kind === 'gone') return egress;
  if (egress.kind === 'still-there') {
    return {
      kind: 'failed', error: egress.error,
      leftover: `root qdisc prio ${ROOT_HANDLE} on ${dev} in ${describeNetns(o.netns)}`,
      command: `${retry}  (or: nsenter ${nsenterArgs(o.netns).join(' ')} -- tc qdisc del dev ${dev} root handle ${ROOT_HANDLE})`,
    };
  }
  const left = egress.otherRun === true ? [`a netchaos tree (prio ${ROOT_HANDLE}) on ${dev} that does not carry the marker of run ${o.runId ?? '?'}: another run's, or unmarked`] : [];
  // The ingress side is looked for unless the run is known to be egress only.
  if (o.direction === 'egress') return { kind: 'reverted', removed: egress.removed, root: egress.root, left };
  const guard = o.runId === undefined ? undefined : { runId: o.runId, proven: egress.removed };
  const ingress = await revertIngressOnce(deps, o.netns, dev, guard, seen).catch((error: unknown): IngressRevert =>
    ({ kind: 'still-there', error: messageOf(error), leftover: `the ingress side (ingress qdisc, ifb) on ${dev}` }));
  if (ingress.kind === 'still-there') {
    return { kind: 'failed', error: ingress.error, leftover: `${ingress.leftover} in ${describeNetns(o.netns)}`, command: `${retry}  (or: ${ingressRemoveCommand(o.netns, dev)})` };
  }
  return { kind: 'reverted', removed: egress.removed || ingress.removed.length > 0, root: egress.root, left: [...left, ...ingress.left] };
}

export type IngressRevert =
  | { readonly kind: 'clean'; readonly removed: string[]; readonly left: string[] }
  | { readonly kind: 'still-there'; readonly error: string; readonly leftover: string };

/** Whose ingress side may be removed: a run's (its marker proves it) rather than whatever of ours is there. */
export interface IngressGuard {
  readonly runId: string;
  /** This run's marker was just found (and its tree removed) on the interface itself (DIRECTION=both). */
  readonly proven: boolean;
  /** Only a redirect to this ifb counts (the sweep of an ifb's expired tree). */
  readonly ifb?: string;
}

/**
 * Removes our ingress side: our redirect (the whole ingress qdisc when it holds only ours; a redirect whose ifb
 * is gone is ours too), then the ifb it points to (or, without a redirect, the ifb named after this interface);
 * reads back that neither is left. A foreign ingress qdisc is left alone (and said so). With a guard, only what
 * the run's marker proves its own: on the interface (`proven`), or on the ifb's tree (removed first, in one
 * batch with the marker check). `seen`: the state already read (in the egress revert's batch), else it is read here.
 */
export async function revertIngressOnce(deps: Pick<Deps, 'tc'>, netns: NetnsRef, dev: string, guard?: IngressGuard, seen?: IngressState): Promise<IngressRevert> {
  const removed: string[] = [];
  const left: string[] = [];
  const before = seen ?? await deps.tc.readIngress(netns, dev);
  const target = before.redirect !== undefined && before.redirect !== ORPHANED ? before.redirect : undefined;
  if (guard?.ifb !== undefined && target !== undefined && target !== guard.ifb) {
    return { kind: 'clean', removed, left: [`the redirect on ${dev} points to ${target}, not to ${guard.ifb}`] };
  }
  const ifb = guard?.ifb ?? target ?? (before.ifbExists ? ifbName(dev) : undefined);
  if (guard !== undefined && !guard.proven) {
    if (ifb === undefined) {
      if (before.owner === 'ours' || before.owner === 'mixed') left.push(`a netchaos redirect on the ingress of ${dev} whose ifb is gone: it carries no marker of run ${guard.runId}`);
      return { kind: 'clean', removed, left };
    }
    const tree = await deps.tc.revertOnce(netns, ifb, guard.runId);
    if (tree.kind === 'still-there') return { kind: 'still-there', error: tree.error, leftover: `root qdisc prio ${ROOT_HANDLE} on ${ifb}` };
    if (tree.kind === 'gone' || !tree.removed) {
      if (before.owner !== 'none' || before.ifbExists) left.push(`the ingress side of ${dev} (${ifb}): it carries no marker of run ${guard.runId} (another run's)`);
      return { kind: 'clean', removed, left };
    }
    removed.push(`the tree on ${ifb}`);
  }
  if (before.owner === 'ours' || before.owner === 'mixed') {
    const del = before.owner === 'ours' ? `qdisc del dev ${dev} ingress` : `filter del dev ${dev} parent ffff: prio ${INGRESS_FILTER_PRIO}`;
    const after = await deps.tc.readIngress(netns, dev, [del]);
    if (after.owner === 'ours' || after.owner === 'mixed') {
      return { kind: 'still-there', error: `${del} did not remove it`, leftover: `ingress qdisc on ${dev} redirecting to ${before.redirect ?? '?'}` };
    }
    removed.push(before.owner === 'ours' ? `ingress qdisc on ${dev}` : `our redirect filter (prio ${INGRESS_FILTER_PRIO}) on the ingress qdisc of ${dev}`);
  } else if (before.owner === 'foreign') {
    left.push(`a foreign ingress qdisc (${describeQdisc(before.slot)}) on ${dev}, not ours`);
  }
  if (ifb !== undefined) {
    const r = await deps.tc.deleteLink(netns, ifb);
    if (r.left === undefined) return { kind: 'still-there', error: r.error || 'ip printed no link list', leftover: `ifb device ${ifb}` };
    if (r.left.includes(ifb)) return { kind: 'still-there', error: r.error || `${ifb} is still there`, leftover: `ifb device ${ifb}` };
    if (r.error === '') removed.push(`ifb device ${ifb}`);
  }
  return { kind: 'clean', removed, left };
}

/** The manual commands that remove our ingress side (for a failed revert's message). */
export function ingressRemoveCommand(netns: NetnsRef, dev: string): string {
  const ns = `nsenter ${nsenterArgs(netns).join(' ')} --`;
  return `${ns} tc qdisc del dev ${dev} ingress; ${ns} ip link del ${ifbName(dev)}`;
}
