/**
 * The Litmus group's named dependencies (hostnames, pods, Services) → addresses, as Facts for plan().
 * Hostnames are resolved per target (each pod has its own resolv.conf); pods and Services once per run.
 */
import { RuntimeError, messageOf } from '../model/errors.js';
import { type DestinationItem, formatDestinationItem } from '../model/addresses.js';
import type { HostDestination, KubeCache, Resolved, ServiceDestination } from '../model/destinations.js';
import type { Spec } from '../model/spec.js';
import type { Deps } from '../ports.js';
import { resolvePods, resolveService } from '../kube/dependencies.js';
import { serviceOfHost } from '../kube/mesh.js';
import type { Facts } from '../tc/plan.js';
import { parseResolvConf, resolveHosts } from './dns.js';

export type DiscoveryDeps = Pick<Deps, 'files' | 'resolver' | 'kube'>;

export interface Discovery {
  readonly facts: Facts;
  readonly resolved: readonly Resolved[];
}

export interface DiscoverOptions {
  /** The target's process: its resolv.conf resolves the hostnames (undefined: this machine's). */
  readonly pid: number | undefined;
  /** Pods and Services already resolved for this run (shared by its targets, or handed to a helper pod). */
  readonly cache?: KubeCache | undefined;
  /** false: hostnames are left to each target's node (the runner of helper pods resolves only pods and Services). */
  readonly hostnames?: boolean;
  /** The target has a service-mesh sidecar (src/kube/mesh.ts): Service names in DESTINATION_HOSTS become their Service's endpoints. */
  readonly mesh?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** The named dependencies' addresses, as facts for the planner (in the order of spec.groups). */
export async function discover(d: DiscoveryDeps, spec: Spec, o: DiscoverOptions): Promise<Discovery> {
  const index = spec.groups.findIndex((g) => g.named !== undefined);
  const named = spec.groups[index]?.named;
  if (named === undefined) return { facts: {}, resolved: [] };
  const resolved: Resolved[] = [];
  const cache = o.cache ?? new Map<string, Promise<Resolved>>();
  const { dns, mesh } = splitHosts(named.hosts, o.mesh);
  if (o.hostnames !== false) resolved.push(...(await resolveHostDependencies(d, dns, o.pid, o.signal, named.skipUnresolved === true)));
  if (mesh.length > 0) resolved.push(...(await resolveMeshHosts(d, mesh, cache, o.signal)).map(([, r]) => r));
  resolved.push(...(await resolveInCluster(d, spec, cache, o.signal)).map(([, r]) => r));
  const items: DestinationItem[] = resolved.flatMap((r) => r.items);
  const discovered: DestinationItem[][] = spec.groups.map((_g, i) => (i === index ? items : []));
  return { facts: { discovered }, resolved };
}

/** The resolv.conf a target's names are resolved with. */
export const resolvConfPath = (pid: number | undefined): string => (pid === undefined ? '/etc/resolv.conf' : `/proc/${pid}/root/etc/resolv.conf`);

/**
 * Hostnames → addresses with the target's resolv.conf (read again on every call: DEPENDENCY_REFRESH calls it per
 * host, without `skipUnresolved`, so that a name that stops resolving keeps its last addresses). With
 * `skipUnresolved` (UNRESOLVED_HOSTS=skip) a name without records is one Resolved with no items and a detail
 * saying it was left out.
 */
export async function resolveHostDependencies(
  d: Pick<Deps, 'files' | 'resolver'>, hosts: readonly HostDestination[], pid: number | undefined, signal?: AbortSignal, skipUnresolved = false,
): Promise<Resolved[]> {
  if (hosts.length === 0) return [];
  const path = resolvConfPath(pid);
  let text: string;
  try {
    text = d.files.readText(path);
  } catch (error) {
    throw new RuntimeError(`cannot read ${path} to resolve DESTINATION_HOSTS the way the target does (${messageOf(error)}): the runner needs hostPID and root`);
  }
  const conf = parseResolvConf(text);
  return (await resolveHosts(hosts, d.resolver, { conf, where: path, signal, skipUnresolved })).map((h) => (h.skipped !== undefined ? { source: `host ${h.host}`, items: [], details: [h.skipped] } : {
    source: `host ${h.host}`,
    items: h.items,
    ttlS: h.ttlS,
    details: [`${h.name} → ${h.addresses.join(', ')}${h.items[0]?.ports.length ? ` ports ${h.items[0].ports.join(',')}` : ''} (nameserver ${conf.nameservers.join(', ')})`],
  }));
}

/** A DESTINATION_HOSTS Service name behind a mesh sidecar, and the Service it is resolved as. */
export interface MeshHost {
  readonly host: HostDestination;
  readonly service: ServiceDestination;
}

/** The hosts to ask DNS for, and (for a target in a mesh) the Service names to resolve as their Service's endpoints. */
export function splitHosts(hosts: readonly HostDestination[], mesh: string | undefined): { dns: HostDestination[]; mesh: MeshHost[] } {
  if (!mesh) return { dns: [...hosts], mesh: [] };
  const out: { dns: HostDestination[]; mesh: MeshHost[] } = { dns: [], mesh: [] };
  for (const host of hosts) {
    const service = serviceOfHost(host.host, host.ports);
    if (service) out.mesh.push({ host, service });
    else out.dns.push(host);
  }
  return out;
}

/** A mesh host as its Service (ClusterIP and endpoints, ports mapped), under the host's own source name. */
export async function resolveMeshHost(d: Pick<Deps, 'kube'>, m: MeshHost, signal?: AbortSignal): Promise<Resolved> {
  const r = await resolveService(d.kube, m.service, signal);
  return {
    source: `host ${m.host.host}`,
    items: r.items,
    details: [`behind a service-mesh sidecar: Service ${m.service.namespace}/${m.service.name}'s endpoints (the sidecar connects to pod IPs, never to the ClusterIP)`, ...r.details],
    ...(r.warning !== undefined ? { warning: r.warning } : {}),
  };
}

/** The mesh hosts, each resolved once into `cache` (the runner of helper pods fills it for them: a helper has no API access). */
export async function resolveMeshHosts(d: Pick<Deps, 'kube'>, hosts: readonly MeshHost[], cache: KubeCache, signal?: AbortSignal): Promise<[string, Resolved][]> {
  const out: [string, Resolved][] = [];
  for (const m of hosts) {
    const key = `mesh-host ${JSON.stringify(m.host)}`;
    let p = cache.get(key);
    if (!p) {
      p = resolveMeshHost(d, m, signal);
      cache.set(key, p);
    }
    out.push([key, await p]);
  }
  return out;
}

/**
 * The named pods and Services, each resolved once into `cache` (pods first, then Services), with their cache
 * keys: a helper pod gets these pairs from the runner and answers from them without calling the API.
 */
export async function resolveInCluster(d: Pick<Deps, 'kube'>, spec: Spec, cache: KubeCache, signal?: AbortSignal): Promise<[string, Resolved][]> {
  const named = spec.groups.find((g) => g.named !== undefined)?.named;
  if (named === undefined) return [];
  const once = async (key: string, fn: () => Promise<Resolved>): Promise<[string, Resolved]> => {
    let p = cache.get(key);
    if (!p) {
      p = fn();
      cache.set(key, p);
    }
    return [key, await p];
  };
  const out: [string, Resolved][] = [];
  for (const p of named.pods) out.push(await once(`pods ${JSON.stringify(p)}`, () => resolvePods(d.kube, p, signal)));
  for (const s of named.services) out.push(await once(`service ${JSON.stringify(s)}`, () => resolveService(d.kube, s, signal)));
  return out;
}

/** The resolved dependencies as text, for `plan` and the log. */
export function describeResolved(resolved: readonly Resolved[]): string {
  if (resolved.length === 0) return '';
  const out = ['Resolved dependencies:'];
  for (const r of resolved) {
    out.push(`  ${r.source}: ${r.items.length > 0 ? r.items.map(formatDestinationItem).join(', ') : 'no address'}`);
    for (const d of r.details) out.push(`    ${d}`);
    if (r.warning !== undefined) out.push(`    WARNING: ${r.warning}`);
  }
  return out.join('\n') + '\n';
}
