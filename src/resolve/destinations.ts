/**
 * The Litmus group's named dependencies (hostnames, pods, Services) → addresses, as Facts for plan().
 * Hostnames are resolved per target (each pod has its own resolv.conf); pods and Services once per run.
 */
import type { Spec } from '../config/spec.js';
import type { DestinationItem } from '../config/values.js';
import { formatCidr } from '../config/values.js';
import type { KubeApi } from '../kube/api.js';
import { type Resolved, resolvePods, resolveService } from '../kube/dependencies.js';
import type { Facts } from '../tc/plan.js';
import type { HostFs } from '../runtime/host.js';
import type { HostDestination } from '../kube/selectors.js';
import { type ResolverFactory, ResolveError, parseResolvConf, resolveHosts } from './dns.js';

export interface DiscoveryDeps {
  readonly fs: HostFs;
  readonly resolver: ResolverFactory;
  /** Called only when pods or Services are named. */
  readonly kube: () => KubeApi;
}

export interface Discovery {
  readonly facts: Facts;
  readonly resolved: readonly Resolved[];
}

/** Pod and Service lookups shared by all targets of one run. */
export type KubeCache = Map<string, Promise<Resolved>>;

export async function discover(
  d: DiscoveryDeps, spec: Spec, opts: { readonly pid: number | undefined; readonly cache?: KubeCache },
): Promise<Discovery> {
  const index = spec.groups.findIndex((g) => g.named !== undefined);
  const named = spec.groups[index]?.named;
  if (named === undefined) return { facts: {}, resolved: [] };
  const cache = opts.cache ?? new Map<string, Promise<Resolved>>();
  const resolved: Resolved[] = [];

  resolved.push(...(await resolveHostDependencies(d, named.hosts, opts.pid)));
  resolved.push(...(await resolveInCluster(d.kube, spec, cache)).map(([, r]) => r));

  const items: DestinationItem[] = resolved.flatMap((r) => r.items);
  const discovered: DestinationItem[][] = spec.groups.map((_g, i) => (i === index ? items : []));
  return { facts: { discovered }, resolved };
}

/** Hostnames → addresses with the target's resolv.conf (read again on every call: DEPENDENCY_REFRESH calls it per host). */
export async function resolveHostDependencies(
  d: Pick<DiscoveryDeps, 'fs' | 'resolver'>, hosts: readonly HostDestination[], pid: number | undefined,
): Promise<Resolved[]> {
  if (hosts.length === 0) return [];
  const path = pid === undefined ? '/etc/resolv.conf' : `/proc/${pid}/root/etc/resolv.conf`;
  let text: string;
  try {
    text = d.fs.readText(path);
  } catch (error) {
    throw new ResolveError(`cannot read ${path} to resolve DESTINATION_HOSTS the way the target does (${error instanceof Error ? error.message : String(error)}): the runner needs hostPID and root`);
  }
  const conf = parseResolvConf(text);
  return (await resolveHosts(hosts, conf, d.resolver, path)).map((h) => ({
    source: `host ${h.host}`,
    items: h.items,
    ttlS: h.ttlS,
    details: [`${h.name} → ${h.addresses.join(', ')}${h.items[0]?.ports.length ? ` ports ${h.items[0].ports.join(',')}` : ''} (nameserver ${conf.nameservers.join(', ')})`],
  }));
}

/**
 * The named pods and Services, each resolved once into `cache` (pods first, then Services), with their cache
 * keys: a helper pod gets these pairs from the runner and answers from them without calling the API.
 */
export async function resolveInCluster(kube: () => KubeApi, spec: Spec, cache: KubeCache): Promise<[string, Resolved][]> {
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
  for (const p of named.pods) out.push(await once(`pods ${JSON.stringify(p)}`, () => resolvePods(kube(), p)));
  for (const s of named.services) out.push(await once(`service ${JSON.stringify(s)}`, () => resolveService(kube(), s)));
  return out;
}

/** The resolved dependencies as text, for `plan` and the log. */
export function describeResolved(resolved: readonly Resolved[]): string {
  if (resolved.length === 0) return '';
  const out = ['Resolved dependencies:'];
  for (const r of resolved) {
    out.push(`  ${r.source}: ${r.items.map((i) => formatCidr(i.cidr) + (i.ports.length ? `|${i.ports.join('|')}` : '')).join(', ')}`);
    for (const d of r.details) out.push(`    ${d}`);
  }
  return out.join('\n') + '\n';
}
