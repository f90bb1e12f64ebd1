/**
 * Before the first change: the namespace must not hold a tree of ours (a second run must not stack) nor a
 * root qdisc that is not a kernel default (unless FORCE), and for DIRECTION=ingress|both neither our ifb nor
 * an ingress qdisc that is not ours (FORCE deletes a foreign one, in the same batch).
 */
import { RefusedError } from '../model/errors.js';
import { type NetnsRef, describeNetns, netnsFlags } from '../model/netns.js';
import type { Spec } from '../model/spec.js';
import type { Deps } from '../ports.js';
import { describeDeadline } from '../tc/marker.js';
import { INGRESS_PARENT, describeQdisc, isKernelDefault, isOurs, rootOf } from '../tc/parse.js';
import { ifbName } from '../tc/plan.js';
import type { LifecycleEvent } from './events.js';

export interface PreflightOptions {
  readonly spec: Pick<Spec, 'interface' | 'force'>;
  readonly netns: NetnsRef;
  readonly emit: (e: LifecycleEvent) => void;
}

/** The root qdisc check; throws RefusedError (exit 5) saying whose tree is there and how to remove it. */
export async function preflight(deps: Pick<Deps, 'tc' | 'clock'>, o: PreflightOptions): Promise<void> {
  const { spec, netns } = o;
  const root = rootOf(await deps.tc.qdiscs(netns, spec.interface));
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
export async function preflightIngress(deps: Pick<Deps, 'tc'>, o: Omit<PreflightOptions, 'emit'>): Promise<string[]> {
  const { netns } = o;
  const dev = o.spec.interface;
  const ifb = ifbName(dev);
  const s = await deps.tc.readIngress(netns, dev);
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
