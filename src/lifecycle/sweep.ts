/**
 * `netchaos sweep`: remove every tree of ours whose deadline has passed, in every network namespace
 * reachable on this node, on every interface. Safe at any time: a tree whose deadline is in the
 * future is left alone, and so is a prio 4e43: without a readable marker (reported, not touched).
 * The process dead-man (`netchaos watchdog`) runs the same code for one namespace and one run.
 */
import { messageOf } from '../model/errors.js';
import type { NetnsRef } from '../model/netns.js';
import type { Owner } from '../model/tc.js';
import type { Deps } from '../ports.js';
import { type NamespaceDirs, type ReachableNamespace, defaultDirs, listNamespaces, locateNamespace, netnsOf } from '../netns/namespaces.js';
import { describeDeadline } from '../tc/marker.js';
import { isOurs } from '../tc/parse.js';
import { ROOT_HANDLE, ifbName, isIfbName, legacyIfbName } from '../tc/plan.js';
import { type IngressRevert, revertIngressOnce } from './revert.js';

export type TreeStatus =
  /** Expired and removed. */
  | 'removed'
  /** Its deadline is in the future: a run is (or may be) active. Left alone. */
  | 'live'
  /** A prio 4e43: without a readable marker: not provably ours. Left alone. */
  | 'unmarked'
  /** Expired, but the delete failed: still there. */
  | 'failed'
  /** It went away while we looked (its namespace or interface, or someone else removed it). */
  | 'gone';

export interface SweptTree {
  readonly namespace: string;
  readonly nsId: string;
  readonly path: string;
  readonly interface: string;
  readonly status: TreeStatus;
  readonly owner?: Owner;
  readonly detail: string;
}

export interface SweepReport {
  readonly nowS: number;
  readonly namespaces: number;
  /** Namespaces that could not be read (entered or listed), with why. */
  readonly skipped: readonly { readonly namespace: string; readonly error: string }[];
  readonly trees: readonly SweptTree[];
}

export interface SweepOptions {
  /** Only this interface and its ifb (default: all). */
  readonly interface?: string;
  /** Only this run's tree in this namespace (the watchdog); `hint` is tried first. */
  readonly only?: { readonly nsId: string; readonly runId: string; readonly hint?: string };
  /** Only this namespace, every run's expired tree in it (a run's preflight: the target's namespace). */
  readonly namespace?: ReachableNamespace;
  readonly dirs?: NamespaceDirs;
}

type SweepDeps = Pick<Deps, 'tc' | 'files' | 'clock'>;

export async function sweep(deps: SweepDeps, opts: SweepOptions = {}): Promise<SweepReport> {
  const dirs = opts.dirs ?? defaultDirs;
  let namespaces: ReachableNamespace[];
  if (opts.namespace) {
    namespaces = [opts.namespace];
  } else if (opts.only) {
    const found = await locateNamespace(deps, opts.only.nsId, opts.only.hint, dirs);
    namespaces = found ? [found] : [];
  } else {
    namespaces = await listNamespaces(deps, dirs);
  }
  const skipped: { namespace: string; error: string }[] = [];
  const trees: SweptTree[] = [];
  for (const ns of namespaces) {
    const netns = netnsOf(ns);
    let devs: string[];
    let allDevs: string[];
    try {
      const qdiscs = await deps.tc.allQdiscs(netns);
      devs = qdiscs.filter((q) => q.root === true && isOurs(q) && q.dev !== undefined).map((q) => q.dev ?? '');
      allDevs = [...new Set(qdiscs.map((q) => q.dev ?? '').filter((d) => d !== ''))];
    } catch (error) {
      skipped.push({ namespace: ns.describe, error: messageOf(error) });
      continue;
    }
    /** ifb devices removed with the ingress side of an expired run: not looked at again. */
    const handled = new Set<string>();
    for (const dev of devs) {
      if (handled.has(dev) || (opts.interface !== undefined && !ofInterface(dev, opts.interface))) continue;
      const tree = await sweepTree(deps, { ns, netns, dev, allDevs, handled, only: opts.only });
      if (tree) trees.push(tree);
    }
  }
  return { nowS: Math.floor(deps.clock.now() / 1000), namespaces: namespaces.length, skipped, trees };
}

/** The interface itself, or its ifb (DIRECTION=ingress puts the tree and its marker there), either name form. */
const ofInterface = (dev: string, iface: string): boolean => dev === iface || dev === ifbName(iface) || dev === legacyIfbName(iface);

interface TreeAt {
  readonly ns: ReachableNamespace;
  readonly netns: NetnsRef;
  readonly dev: string;
  /** Every interface of the namespace (to find the interface an ifb belongs to). */
  readonly allDevs: readonly string[];
  /** ifbs swept with their interface's ingress side: filled in here. */
  readonly handled: Set<string>;
  readonly only: SweepOptions['only'];
}

/** One tree of ours: left alone (live, unmarked, another run's), or removed with its ingress side (expired). */
async function sweepTree(deps: SweepDeps, at: TreeAt): Promise<SweptTree | undefined> {
  const { ns, netns, dev } = at;
  const base = { namespace: ns.describe, nsId: ns.nsId, path: ns.path, interface: dev };
  const owner = await deps.tc.readMarker(netns, dev).catch((error: unknown) => messageOf(error));
  const nowS = Math.floor(deps.clock.now() / 1000);
  if (owner === 'gone') return { ...base, status: 'gone', detail: 'went away while sweeping' };
  if (typeof owner === 'string') {
    return { ...base, status: 'unmarked', detail: owner === 'none'
      ? `prio ${ROOT_HANDLE} without a readable netchaos marker: not provably ours (an older netchaos, or another tool), left alone; if it is ours: netchaos revert --netns ${ns.path} --interface ${dev}`
      : `its marker could not be read (${owner}): left alone` };
  }
  if (at.only && owner.runId !== at.only.runId) return undefined;
  if (owner.deadlineS > nowS) return { ...base, status: 'live', owner, detail: `run ${owner.runId} is active until ${describeDeadline(owner.deadlineS, nowS)}: left alone` };
  // The delete is guarded by this run's marker in the same tc batch: a tree replaced meanwhile is not touched.
  const r = await deps.tc.revertOnce(netns, dev, owner.runId, owner.node).catch((error: unknown) => ({ kind: 'still-there', error: messageOf(error) } as const));
  const expired = `run ${owner.runId}, deadline ${describeDeadline(owner.deadlineS, nowS)}`;
  if (r.kind === 'gone') return { ...base, status: 'gone', owner, detail: `expired (${expired}); went away before the delete: ${r.error}` };
  if (r.kind === 'still-there') {
    return { ...base, status: 'failed', owner, detail: `expired (${expired}), but the delete FAILED: ${r.error}. Remove it with: netchaos revert --netns ${ns.path} --interface ${dev}` };
  }
  if (!r.removed) return { ...base, status: 'gone', owner, detail: `expired (${expired}), but replaced or removed before the delete: left alone` };
  // DIRECTION=ingress|both: the redirect on the interface and the ifb it points to go too. The marker sits on
  // the interface (egress, both: the redirect there is this run's) or on the ifb (ingress only: the redirect
  // of the interface whose ifb it is, only when it points to this ifb).
  const ifbTree = isIfbName(dev);
  const parent = ifbTree ? await ifbParent(deps, at) : dev;
  const guard = { runId: owner.runId, proven: true, ...(ifbTree ? { ifb: dev } : {}) };
  let ingress: IngressRevert | undefined;
  if (parent !== undefined) {
    ingress = await revertIngressOnce(deps, netns, parent, guard).catch((error: unknown) => ({ kind: 'still-there', error: messageOf(error), leftover: `the ingress side of ${parent}` } as const));
  } else if (ifbTree) {
    // No interface of this namespace is named for it: the expired tree's ifb, without a redirect to keep.
    const del = await deps.tc.deleteLink(netns, dev);
    ingress = del.left?.includes(dev) === false ? { kind: 'clean', removed: [`ifb device ${dev}`], left: [] } : { kind: 'still-there', error: del.error || `${dev} is still there`, leftover: `ifb device ${dev}` };
  }
  // The ifb removed with it is not looked at again (its tree went with it); a tree of the first format has the older name.
  for (const ifb of ifbTree ? [dev] : [ifbName(dev), legacyIfbName(dev)]) at.handled.add(ifb);
  if (ingress?.kind === 'still-there') {
    return { ...base, status: 'failed', owner, detail: `expired (${expired}): the tree was removed, but ${ingress.leftover} is still there (${ingress.error}). Remove it with: netchaos revert --netns ${ns.path} --interface ${parent ?? dev}` };
  }
  const also = ingress?.kind === 'clean' && ingress.removed.length > 0 ? `; also removed ${ingress.removed.join(' and ')}` : '';
  return { ...base, status: 'removed', owner, detail: `expired (${expired}): removed${also}` };
}

/**
 * The interface whose ingress redirect leads to the ifb `at.dev`: the one our redirect points to it from, else
 * the one it is named after (`ifbName`, or the older `legacyIfbName`, which two interfaces may share); undefined
 * when no interface of the namespace is named for it.
 */
async function ifbParent(deps: SweepDeps, at: TreeAt): Promise<string | undefined> {
  const named = at.allDevs.filter((d) => d !== at.dev && !isIfbName(d) && (ifbName(d) === at.dev || legacyIfbName(d) === at.dev));
  if (named.length <= 1) return named[0];
  for (const d of named) {
    const s = await deps.tc.readIngress(at.netns, d).catch(() => undefined);
    if (s?.redirect === at.dev) return d;
  }
  return named.find((d) => ifbName(d) === at.dev) ?? named[0];
}

/** The text `netchaos sweep` prints. */
export function describeSweep(r: SweepReport): string {
  const out = r.trees.map((t) => `${t.status.toUpperCase().padEnd(8)} ${t.interface} in ${t.namespace} (${t.nsId}): ${t.detail}`);
  for (const s of r.skipped) out.push(`SKIPPED  ${s.namespace}: ${s.error}`);
  const count = (s: TreeStatus): number => r.trees.filter((t) => t.status === s).length;
  out.push(`${r.namespaces} network namespace(s) looked at, ${r.trees.length} netchaos tree(s) found: ${count('removed')} removed, ${count('live')} live (left alone), ${count('unmarked')} unmarked (left alone), ${count('failed')} failed, ${count('gone')} gone meanwhile${r.skipped.length > 0 ? `; ${r.skipped.length} namespace(s) could not be read` : ''}`);
  return out.join('\n') + '\n';
}
