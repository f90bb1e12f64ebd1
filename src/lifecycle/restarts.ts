/**
 * The wait's watch on the target (ON_TARGET_RESTART): same namespace, followed (a new process in it),
 * gone, or restarted in a new namespace (end the run with exit 4, or re-inject there for the time left).
 */
import { RefusedError, messageOf } from '../model/errors.js';
import { type NetnsRef, describeNetns, netnsPath } from '../model/netns.js';
import type { RestartMode, Spec } from '../model/spec.js';
import type { Owner } from '../model/tc.js';
import type { Deps } from '../ports.js';
import { type Plan, ifbName } from '../tc/plan.js';
import { type Tree, applyTree } from './apply.js';
import { disarm } from './deadman.js';
import type { LifecycleEvent } from './events.js';
import { preflight } from './preflight.js';
import { revert } from './revert.js';

const RESTART_HINT = 'ON_TARGET_RESTART=reinject follows a restarted target (locally with --pid-file, --netns, --container-id or --pid)';

/**
 * Where the run stands during the wait: our tree is in place, or (ON_TARGET_RESTART=reinject) the
 * target is gone and we wait for it; `old` is the tree left in its namespace, which may live on.
 */
type State = { kind: 'live'; tree: Tree } | { kind: 'waiting'; old: Tree | undefined };

type Found = { readonly netns: NetnsRef; readonly nsId: string };

export interface RestartOptions {
  readonly spec: Spec;
  readonly plan: Plan;
  readonly netns: NetnsRef;
  /** Finds the target again (see InjectOptions.refind); absent: the same reference. */
  readonly refind?: (() => Promise<NetnsRef | undefined>) | undefined;
  readonly owner: Owner;
  readonly emit: (e: LifecycleEvent) => void;
  readonly revertAttempts?: number | undefined;
}

type RestartDeps = Pick<Deps, 'tc' | 'clock' | 'log' | 'exec' | 'processes' | 'files'>;

export class Restarts {
  state: State;
  reinjected = 0;
  private generation = 1;
  /** The namespace last announced as the restarted target's (a not-ready target is retried every check, announced once). */
  private announced: string | undefined;

  constructor(private readonly deps: RestartDeps, private readonly o: RestartOptions, tree: Tree) {
    this.state = { kind: 'live', tree };
  }

  private get mode(): RestartMode {
    return this.o.spec.onTargetRestart;
  }

  /** The target found again, with its namespace; undefined when it is not there. */
  private async refind(): Promise<Found | undefined> {
    let n: NetnsRef | undefined;
    try {
      n = this.o.refind ? await this.o.refind() : this.o.netns;
    } catch (error) {
      this.deps.log.debug({ err: messageOf(error) }, 'looking for the target again failed');
      return undefined;
    }
    if (n === undefined) return undefined;
    const id = await this.deps.files.namespaceId(netnsPath(n));
    return id?.startsWith('net:[') ? { netns: n, nsId: id } : undefined;
  }

  /** Called after every step of the wait; a string ends the run with exit 4. */
  async check(remainingS: number): Promise<string | undefined> {
    if (this.state.kind === 'waiting') return this.comeBack(await this.refind(), remainingS);
    const tree = this.state.tree;
    const path = netnsPath(tree.netns);
    const id = await this.deps.files.namespaceId(path);
    if (id === tree.nsId) return undefined;
    const what = id === undefined ? `${path} no longer exists` : `${path} is now ${id}, was ${tree.nsId}`;
    const found = await this.refind();
    if (found !== undefined && await this.holdsOurTree(found, tree)) {
      tree.netns = found.netns;
      this.o.emit({ kind: 'target-followed', detail: `${what}; ${describeNetns(found.netns)} is in ${tree.nsId}` });
      return undefined;
    }
    if (this.mode === 'reinject' && found === undefined) {
      this.o.emit({ kind: 'target-waiting', detail: what });
      this.state = { kind: 'waiting', old: tree };
      return undefined;
    }
    if (this.mode === 'end') {
      const retired = await this.retire(tree, what);
      this.state = { kind: 'waiting', old: undefined };
      if (found !== undefined) this.o.emit({ kind: 'target-restarted', action: 'end', detail: `${what}; ${describeNetns(found.netns)} is in ${found.nsId}` });
      return `the target's network namespace changed during the run (${what}): ${retired}. ${RESTART_HINT}`;
    }
    this.state = { kind: 'waiting', old: tree };
    return this.comeBack(found, remainingS, true);
  }

  /** Waiting, and the target may be back: the same namespace (follow) or a new one (re-inject). */
  private async comeBack(found: Found | undefined, remainingS: number, knownNew = false): Promise<string | undefined> {
    if (found === undefined || this.state.kind !== 'waiting') return undefined;
    const old = this.state.old;
    if (old !== undefined && !knownNew && await this.holdsOurTree(found, old)) {
      old.netns = found.netns;
      this.state = { kind: 'live', tree: old };
      this.o.emit({ kind: 'target-followed', detail: `${describeNetns(found.netns)} is back in ${old.nsId}` });
      return undefined;
    }
    if (old !== undefined) {
      await this.retire(old, `the target restarted in ${found.nsId}`);
      this.state = { kind: 'waiting', old: undefined };
    }
    if (this.announced !== found.nsId) this.o.emit({ kind: 'target-restarted', action: 'reinject', detail: `${describeNetns(found.netns)} is in ${found.nsId}` });
    this.announced = found.nsId;
    try {
      await preflight(this.deps, { spec: this.o.spec, netns: found.netns, emit: this.o.emit });
    } catch (error) {
      if (error instanceof RefusedError) throw error;
      // Not ready yet (e.g. its interface is not there yet): try again at the next check.
      this.deps.log.warn({ err: messageOf(error) }, 'the restarted target is not ready for the injection yet; trying again');
      return undefined;
    }
    this.generation += 1;
    const { tree, applyMs } = await applyTree(this.deps, { ...this.o, netns: found.netns, nsId: found.nsId, generation: this.generation });
    this.state = { kind: 'live', tree };
    this.reinjected += 1;
    this.o.emit({ kind: 'reinjected', generation: tree.generation, target: describeNetns(found.netns), entries: this.o.plan.entries.length, applyMs, remainingS });
    return undefined;
  }

  /**
   * True when `at` is the namespace that holds `tree`: the same inode AND our owner marker in it.
   * The inode alone is not an identity over time: the kernel hands a freed namespace's inode
   * number to the next new namespace at once (measured in the lab: a target restarted with
   * `unshare -n` got the inode of the one just killed).
   */
  private async holdsOurTree(at: Found, tree: Tree): Promise<boolean> {
    if (at.nsId !== tree.nsId) return false;
    const owner = await this.deps.tc.readMarker(at.netns, markerDevice(this.o.spec)).catch(() => 'none' as const);
    return typeof owner === 'object' && owner.runId === this.o.owner.runId;
  }

  /**
   * A tree whose target left: if its namespace lives on somewhere reachable (a pod's pause process, a bind
   * mount), the revert finds it by its inode and removes the tree there; the dead-man is cancelled once the tree
   * is removed or nothing on the node holds its namespace any more.
   */
  private async retire(tree: Tree, why: string): Promise<string> {
    const r = await this.revertKeeping(tree, tree.netns);
    this.deps.log.debug({ why }, 'retiring the tree of a target that left');
    return r === 'gone'
      ? `the old namespace ${tree.nsId} is gone, and its tc tree with it`
      : `the old namespace ${tree.nsId} lived on: the tree was removed from it`;
  }

  /**
   * revert() of this run's tree (only with its marker; the namespace checked by its inode, and looked for by
   * it), then the dead-man is cancelled; it is kept armed (and said so) when the revert throws.
   */
  private async revertKeeping(tree: Tree, at: NetnsRef): Promise<'reverted' | 'gone'> {
    const keep = (): void => {
      if (tree.deadman.mode !== 'off') this.o.emit({ kind: 'deadman', action: 'kept', mode: tree.deadman.mode, detail: tree.deadman.detail, deadlineS: this.o.owner.deadlineS });
    };
    let r: 'reverted' | 'gone';
    try {
      r = await revert(this.deps, {
        netns: at, interface: this.o.spec.interface, direction: this.o.spec.direction, emit: this.o.emit, attempts: this.o.revertAttempts,
        runId: this.o.owner.runId, nsId: tree.nsId,
      });
    } catch (error) {
      keep();
      throw error;
    }
    // 'gone': the namespace was looked for by its inode too and nothing holds it: the tree went with it.
    await disarm(tree.deadman, this.o.emit);
    return r;
  }

  /** The end of the wait (duration, signal, error): revert what is in place; a reason when the target is gone. */
  async finish(): Promise<string | undefined> {
    const state = this.state;
    if (state.kind === 'live') {
      const r = await this.revertKeeping(state.tree, state.tree.netns);
      if (r === 'gone') {
        return `the target's network namespace went away during the run (${netnsPath(state.tree.netns)} disappeared before the revert, and no process or mount on this node holds ${state.tree.nsId} any more); its tc tree went with it, nothing is left to revert`;
      }
      return undefined;
    }
    if (state.old === undefined) return 'the target went away during the run and was not injected again before its end (ON_TARGET_RESTART=reinject)';
    const retired = await this.retire(state.old, 'the target did not come back');
    this.state = { kind: 'waiting', old: undefined };
    return `the target went away during the run and did not come back (ON_TARGET_RESTART=reinject): ${retired}`;
  }
}

/** Where a run's owner marker sits: on the interface, or on the ifb when only ingress is shaped. */
export function markerDevice(spec: Pick<Spec, 'direction' | 'interface'>): string {
  return spec.direction === 'ingress' ? ifbName(spec.interface) : spec.interface;
}
