/**
 * Before the first change: the namespace must not be the node's own (PID 1's) or this runner's, nor hold a tree of ours (a second run must not stack) nor a
 * root qdisc that is not a kernel default (unless FORCE), and for DIRECTION=ingress|both neither our ifb nor
 * an ingress qdisc that is not ours (FORCE deletes a foreign one, in the same batch).
 */
import { RefusedError } from '../model/errors.js';
import { type NetnsRef, describeNetns, netnsFlags, netnsPath } from '../model/netns.js';
import type { Spec } from '../model/spec.js';
import type { Deps } from '../ports.js';
import { describeDeadline } from '../tc/marker.js';
import { INGRESS_PARENT, describeQdisc, isKernelDefault, isOurs, rootOf } from '../tc/parse.js';
import { ifbName } from '../tc/plan.js';
import type { LifecycleEvent } from './events.js';
import { sweep } from './sweep.js';

export interface PreflightOptions {
  readonly spec: Pick<Spec, 'interface' | 'force'>;
  readonly netns: NetnsRef;
  readonly emit: (e: LifecycleEvent) => void;
}

/** The root qdisc check; throws RefusedError (exit 5) saying whose tree is there and how to remove it. */
export async function preflight(deps: Pick<Deps, 'tc' | 'clock' | 'files'>, o: PreflightOptions): Promise<void> {
  const { spec, netns } = o;
  await refuseNodeNamespace(deps, netns);
  let root = rootOf(await deps.tc.qdiscs(netns, spec.interface));
  // A tree of ours whose deadline passed is a killed run's leftover (its dead-man died with it): removed first.
  if (isOurs(root) && await removeExpired(deps, netns, o.emit)) root = rootOf(await deps.tc.qdiscs(netns, spec.interface));
  if (isOurs(root)) {
    const owner = await deps.tc.readMarker(netns, spec.interface).catch(() => 'none' as const);
    const nowS = Math.floor(deps.clock.now() / 1000);
    const whose = typeof owner !== 'object'
      ? 'it has no readable owner marker (an older netchaos, or a prio 4e43: that is not ours)'
      : owner.deadlineS > nowS
        ? `it belongs to run ${owner.runId}, active until ${describeDeadline(owner.deadlineS, nowS)}: let it finish`
        : `it belongs to run ${owner.runId}, whose deadline passed (${describeDeadline(owner.deadlineS, nowS)}): its runner was killed; \`netchaos sweep\` removes it`;
    throw new RefusedError(`a netchaos tree (root qdisc ${describeQdisc(root)}) is already on ${spec.interface} in ${describeNetns(netns)}; ${whose}. Remove it by hand with: netchaos revert ${netnsFlags(netns)} --interface ${spec.interface}`);
  }
  if (!isKernelDefault(root) && !spec.force) {
    throw new RefusedError(`the root qdisc of ${spec.interface} in ${describeNetns(netns)} is ${describeQdisc(root)}, not a kernel default: it may belong to the CNI (bandwidth plugin) or another chaos tool. Nothing was changed. FORCE=true / --force replaces it (it is not restored afterwards).`);
  }
  o.emit({ kind: 'preflight-ok', root: describeQdisc(root) });
}

/**
 * The ingress side's preflight (DIRECTION=ingress|both). Returns the tc lines to put before the batch (FORCE
 * over a foreign ingress qdisc: delete it; it is not restored), or throws RefusedError.
 */
export async function preflightIngress(deps: Pick<Deps, 'tc' | 'clock' | 'files'>, o: PreflightOptions): Promise<string[]> {
  const { netns } = o;
  const dev = o.spec.interface;
  const ifb = ifbName(dev);
  let s = await deps.tc.readIngress(netns, dev);
  if ((s.ifbExists || s.owner === 'ours' || s.owner === 'mixed') && await removeExpired(deps, netns, o.emit)) s = await deps.tc.readIngress(netns, dev);
  const revert = `netchaos revert ${netnsFlags(netns)} --interface ${dev}`;
  if (s.ifbExists) {
    throw new RefusedError(`the ifb device ${ifb} already exists in ${describeNetns(netns)}: another run is active on ${dev}, or one was killed. Let it finish, or remove it with: ${revert}`);
  }
  if (s.owner === 'ours' || s.owner === 'mixed') {
    throw new RefusedError(`an ingress qdisc redirecting to ${ifb} is already on ${dev} in ${describeNetns(netns)}: another run is active, or one was killed. Remove it with: ${revert}`);
  }
  if (s.owner === 'foreign') {
    if (!o.spec.force) {
      throw new RefusedError(`${dev} in ${describeNetns(netns)} already has an ingress qdisc (${describeQdisc(s.slot)}) that is not ours (a CNI, or another tool). Nothing was changed. FORCE=true / --force replaces it (it is not restored afterwards).`);
    }
    return [`qdisc del dev ${dev} parent ${INGRESS_PARENT}`];
  }
  return [];
}

/**
 * Removes every expired tree of ours in the namespace (`sweep` of this namespace only: each delete guarded by the
 * tree's own marker in the same tc batch; a live tree or one without our marker is left alone, and preflight
 * then refuses as before). True when anything was removed or failed to be (the caller reads the state again).
 * This is how a run whose pod was SIGKILLed (its process dead-man with it) is cleaned up by the next run.
 */
async function removeExpired(deps: Pick<Deps, 'tc' | 'clock' | 'files'>, netns: NetnsRef, emit: (e: LifecycleEvent) => void): Promise<boolean> {
  const path = netnsPath(netns);
  const nsId = await deps.files.namespaceId(path);
  if (nsId === undefined) return false;
  const report = await sweep(deps, { namespace: { nsId, path, describe: describeNetns(netns) } });
  let acted = false;
  for (const t of report.trees) {
    if (t.status !== 'removed' && t.status !== 'failed') continue;
    acted = true;
    emit({ kind: 'leftover', action: t.status, interface: t.interface, runId: t.owner?.runId, detail: t.detail });
  }
  return acted;
}

/** The namespaces a fault must never go into: the node's (PID 1's: needs hostPID to be the node's) and this runner's own. */
export const HOST_NETNS = '/proc/1/ns/net';
export const OWN_NETNS = '/proc/self/ns/net';

/**
 * Refuses (exit 5, Error verdict) a target whose network namespace is the node's own or this runner's: a fault
 * there reaches the node's traffic (kubelet, every hostNetwork pod) or cuts the runner off from the API it
 * reports to. Compared by the namespace file's identity (`net:[inode]`); a reference that cannot be read is
 * left to checkNetns, and an unreadable PID 1 (no hostPID) is not a match.
 */
export async function refuseNodeNamespace(deps: Pick<Deps, 'files'>, netns: NetnsRef): Promise<void> {
  const target = await deps.files.namespaceId(netnsPath(netns));
  if (target === undefined) return;
  const [host, own] = await Promise.all([deps.files.namespaceId(HOST_NETNS), deps.files.namespaceId(OWN_NETNS)]);
  if (target === host) {
    throw new RefusedError(`${describeNetns(netns)} is the node's own network namespace (${target}, the same as PID 1's ${HOST_NETNS}): a fault there would reach the node's own traffic (kubelet, every hostNetwork pod on it). netchaos never touches the node's namespace; pick a pod without hostNetwork. Nothing was changed.`);
  }
  if (target === own) {
    throw new RefusedError(`${describeNetns(netns)} is this runner's own network namespace (${target}): a fault there would cut netchaos off from the API it reports to and the dead-man that reverts it. Nothing was changed.`);
  }
}
