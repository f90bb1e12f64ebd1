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

  if (named.hosts.length > 0) {
    const path = opts.pid === undefined ? '/etc/resolv.conf' : `/proc/${opts.pid}/root/etc/resolv.conf`;
    let text: string;
    try {
      text = d.fs.readText(path);
    } catch (error) {
      throw new ResolveError(`cannot read ${path} to resolve DESTINATION_HOSTS the way the target does (${error instanceof Error ? error.message : String(error)}): the runner needs hostPID and root`);
    }
    const conf = parseResolvConf(text);
    for (const h of await resolveHosts(named.hosts, conf, d.resolver, path)) {
      resolved.push({
        source: `host ${h.host}`,
        items: h.items,
        details: [`${h.name} → ${h.addresses.join(', ')}${h.items[0]?.ports.length ? ` ports ${h.items[0].ports.join(',')}` : ''} (nameserver ${conf.nameservers.join(', ')})`],
      });
    }
  }
  const once = (key: string, fn: () => Promise<Resolved>): Promise<Resolved> => {
    let p = cache.get(key);
    if (!p) {
      p = fn();
      cache.set(key, p);
    }
    return p;
  };
  for (const p of named.pods) resolved.push(await once(`pods ${JSON.stringify(p)}`, () => resolvePods(d.kube(), p)));
  for (const s of named.services) resolved.push(await once(`service ${JSON.stringify(s)}`, () => resolveService(d.kube(), s)));

  const items: DestinationItem[] = resolved.flatMap((r) => r.items);
  const discovered: DestinationItem[][] = spec.groups.map((_g, i) => (i === index ? items : []));
  return { facts: { discovered }, resolved };
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
