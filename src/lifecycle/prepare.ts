/**
 * Everything that can fail without changing anything, in one path for every mode (local `plan` and `inject`,
 * Litmus mode in place, helper pods, the runner of helper pods): container → network namespace → named
 * dependencies → plan. A plan that cannot be made with what was found is a PlanError; a named dependency that
 * resolved to no address is refused here (it would mean "all traffic").
 */
import { DependencyError } from '../model/errors.js';
import type { KubeCache, Resolved } from '../model/destinations.js';
import type { NetnsRef } from '../model/netns.js';
import type { ContainerRef } from '../model/runtime.js';
import type { Spec } from '../model/spec.js';
import type { Deps } from '../ports.js';
import { type Facts, type Plan, plan } from '../tc/plan.js';
import { checkNetns } from '../netns/namespaces.js';
import type { ContainerNetns } from '../runtime/container.js';
import { discover } from '../resolve/destinations.js';
import { type LiveSource, liveSources } from '../resolve/live.js';

export interface PrepareOptions {
  readonly spec: Spec;
  /** The namespace as given (--pid, --netns, --pid-file); none: plan only. */
  readonly netns?: NetnsRef | undefined;
  /** Or a container (--container-id, a target pod), found through the runtime. */
  readonly container?: ContainerRef | undefined;
  /** Pods and Services already resolved in this run (shared by its targets, or handed to a helper pod). */
  readonly cache?: KubeCache | undefined;
  /** Where the runtime's cgroup fallback looks (tests point it elsewhere). */
  readonly procRoot?: string | undefined;
  /** false: hostnames are left to each target's node (the runner of helper pods plans what it can see). */
  readonly hostnames?: boolean;
  /** The target pod's service-mesh sidecar (src/kube/mesh.ts), when it has one. */
  readonly mesh?: string | undefined;
}

export interface Prepared {
  readonly netns: NetnsRef | undefined;
  /** The namespace's identity (`net:[inode]`), when there is one. */
  readonly nsId: string | undefined;
  readonly container: ContainerNetns | undefined;
  readonly resolved: readonly Resolved[];
  /** The named dependencies, to be asked again during the run (DEPENDENCY_REFRESH). */
  readonly sources: readonly LiveSource[];
  readonly plan: Plan;
}

export type PrepareDeps = Pick<Deps, 'exec' | 'files' | 'resolver' | 'kube' | 'log' | 'stop'>;

export async function prepare(deps: PrepareDeps, o: PrepareOptions): Promise<Prepared> {
  const { spec } = o;
  const signal = deps.stop.signal;
  // The container code (and its JSON schemas) is loaded only for runs that name a container.
  const container = o.container ? await (await import('../runtime/container.js')).findContainer(deps, { ref: o.container, runtime: spec.runtime, procRoot: o.procRoot, signal }) : undefined;
  if (container?.note) deps.log.warn(container.note);
  const netns = container?.netns ?? o.netns;
  const nsId = netns ? await checkNetns(deps, netns) : undefined;
  const pid = netns?.kind === 'pid' ? netns.pid : undefined;
  const found = await discover(deps, spec, { pid, cache: o.cache, hostnames: o.hostnames ?? true, mesh: o.mesh, signal });
  if (o.hostnames !== false) refuseAllTraffic(spec, found.facts);
  return { netns, nsId, container, resolved: found.resolved, sources: liveSources(deps, spec, pid, o.mesh), plan: plan(spec, found.facts) };
}

/** A group whose destinations are all named and that resolved to nothing would match every packet: refused. */
function refuseAllTraffic(spec: Spec, facts: Facts): void {
  if (spec.groups.some((g, i) => g.named !== undefined && g.destinations.length === 0 && (facts.discovered?.[i]?.length ?? 0) === 0)) {
    throw new DependencyError('the named dependencies resolved to no address: refusing to delay all traffic');
  }
}
