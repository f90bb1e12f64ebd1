/**
 * A name for each peer address, from the cheapest source that knows it. Pure.
 *   1. loopback, or one of the target's own addresses (that traffic never leaves through the interface);
 *   2. Kubernetes (catalog.ts): a Service by its ClusterIP, a Service and its pod by an endpoint address,
 *      a pod by its IP;
 *   3. what the run resolved itself: the addresses of DESTINATION_HOSTS names;
 *   4. reverse DNS through the target's resolver (reverse.ts); cluster names (`<svc>.<ns>.svc.<zone>`) are
 *      read back as Services and their endpoints;
 *   5. otherwise unknown, with the reason.
 */
import type { Catalog } from './catalog.js';
import type { ReverseAnswer } from './reverse.js';
import { isLoopback } from './group.js';

export type PeerName =
  | { readonly kind: 'service'; readonly namespace: string; readonly name: string; readonly via: 'ClusterIP' | 'endpoint' | 'reverse DNS'; readonly pod?: string }
  | { readonly kind: 'pod'; readonly namespace: string; readonly name: string }
  | { readonly kind: 'host'; readonly name: string; readonly via: 'reverse DNS' | 'DESTINATION_HOSTS' }
  | { readonly kind: 'loopback' }
  /** One of the target's own addresses: the packets stay on loopback. */
  | { readonly kind: 'self' }
  | { readonly kind: 'unknown'; readonly why: string };

export interface NameSources {
  readonly catalog?: Catalog;
  /** Address → the DESTINATION_HOSTS name it was resolved from. */
  readonly hosts?: ReadonlyMap<string, string>;
  readonly reverse?: ReadonlyMap<string, ReverseAnswer>;
  readonly ownAddresses?: readonly string[];
  /** DNS zones of the cluster (`cluster.local`), from the target's resolv.conf search list. */
  readonly clusterZones?: readonly string[];
}

/** An address → name index of a catalog (built once for many addresses). */
export function catalogIndex(c: Catalog): Map<string, PeerName> {
  const index = new Map<string, PeerName>();
  const shared = new Set<string>();
  for (const p of c.pods) {
    if (p.hostNetwork) continue;
    for (const ip of p.ips) {
      if (index.has(ip)) shared.add(ip);
      index.set(ip, { kind: 'pod', namespace: p.namespace, name: p.name });
    }
  }
  for (const ip of shared) index.delete(ip);
  // Endpoints over pods (they add the Service), ClusterIPs over everything.
  for (const s of c.services) {
    for (const e of s.endpoints) index.set(e.address, { kind: 'service', namespace: s.namespace, name: s.name, via: 'endpoint', ...(e.pod ? { pod: e.pod } : {}) });
  }
  for (const s of c.services) for (const ip of s.clusterIPs) index.set(ip, { kind: 'service', namespace: s.namespace, name: s.name, via: 'ClusterIP' });
  return index;
}

/** The cluster zones of a resolv.conf search list: `svc.cluster.local` → `cluster.local`. */
export function clusterZones(search: readonly string[]): string[] {
  const zones = search.filter((d) => d.startsWith('svc.')).map((d) => d.slice(4));
  return zones.length > 0 ? zones : ['cluster.local'];
}

/**
 * A PTR name in a cluster zone read back: `b.shop.svc.cluster.local` is Service shop/b,
 * `10-244-1-5.b.shop.svc.cluster.local` (a headless Service's endpoint) is that Service too.
 */
export function parseClusterName(name: string, zones: readonly string[]): PeerName | undefined {
  for (const zone of zones) {
    const suffix = `.svc.${zone}`;
    if (!name.endsWith(suffix)) continue;
    const labels = name.slice(0, -suffix.length).split('.');
    const [ns, svc, endpoint] = [labels[labels.length - 1], labels[labels.length - 2], labels[labels.length - 3]];
    if (!ns || !svc || labels.length > 3) return undefined;
    return { kind: 'service', namespace: ns, name: svc, via: 'reverse DNS', ...(endpoint ? { pod: endpoint } : {}) };
  }
  return undefined;
}

/** Names for the addresses (each once), from the sources in the order above. */
export function namePeers(addresses: Iterable<string>, sources: NameSources): Map<string, PeerName> {
  const index = sources.catalog ? catalogIndex(sources.catalog) : new Map<string, PeerName>();
  const own = new Set(sources.ownAddresses ?? []);
  const zones = sources.clusterZones ?? ['cluster.local'];
  const out = new Map<string, PeerName>();
  for (const address of addresses) {
    if (out.has(address)) continue;
    out.set(address, nameOne(address));
  }
  return out;

  function nameOne(address: string): PeerName {
    if (isLoopback(address)) return { kind: 'loopback' };
    if (own.has(address)) return { kind: 'self' };
    const fromApi = index.get(address);
    if (fromApi) return fromApi;
    const host = sources.hosts?.get(address);
    if (host !== undefined) return { kind: 'host', name: host, via: 'DESTINATION_HOSTS' };
    const answer = sources.reverse?.get(address);
    if (answer === undefined) return { kind: 'unknown', why: 'not looked up' };
    if (answer.kind === 'name') {
      const first = answer.names[0] ?? '';
      return parseClusterName(first, zones) ?? { kind: 'host', name: first, via: 'reverse DNS' };
    }
    if (answer.kind === 'none') return { kind: 'unknown', why: 'no reverse DNS record' };
    return { kind: 'unknown', why: answer.why };
  }
}

/** Which addresses still need a reverse lookup after the free sources (loopback, own, API, DESTINATION_HOSTS). */
export function needReverse(addresses: Iterable<string>, sources: Omit<NameSources, 'reverse'>): string[] {
  return [...namePeers(addresses, sources)].filter(([, n]) => n.kind === 'unknown').map(([a]) => a);
}

/** One line of text for a name, e.g. `service shop/b (ClusterIP)`, `pod shop/db-0`, `unknown (no reverse DNS record)`. */
export function describeName(n: PeerName | undefined): string {
  if (n === undefined) return '';
  switch (n.kind) {
    case 'service': return `service ${n.namespace}/${n.name} (${n.via === 'endpoint' ? `endpoint${n.pod ? `, pod ${n.pod}` : ''}` : n.via === 'reverse DNS' && n.pod ? `endpoint ${n.pod}, reverse DNS` : n.via})`;
    case 'pod': return `pod ${n.namespace}/${n.name}`;
    case 'host': return `${n.name} (${n.via})`;
    case 'loopback': return 'loopback (not on the interface)';
    case 'self': return 'the target itself (stays on loopback)';
    case 'unknown': return `unknown (${n.why})`;
  }
}
