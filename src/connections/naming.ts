/**
 * Names the peers of a target's connections: the Kubernetes catalog of a few namespaces (catalog.ts), the
 * run's own DESTINATION_HOSTS answers, then reverse DNS with the target's resolv.conf for what is left
 * (names.ts decides the order). Best effort: a forbidden list or a silent nameserver becomes a note, and the
 * peer is "unknown (why)"; it never fails the command.
 */
import type { Files } from '../ports.js';
import type { Resolved } from '../model/destinations.js';
import { parseResolvConf } from '../resolve/dns.js';
import { type Catalog, type CatalogApi, emptyCatalog, readCatalog } from './catalog.js';
import type { Connections } from './group.js';
import { type PeerName, clusterZones, namePeers, needReverse } from './names.js';
import { type ReverseFactory, type ReverseOptions, reverseLookup } from './reverse.js';

export interface NamingDeps {
  readonly files: Pick<Files, 'readText'>;
  /** Absent: no reverse DNS. */
  readonly reverse?: ReverseFactory;
  /** Absent: no Kubernetes lookups. Called only when there are namespaces to list. */
  readonly catalogApi?: () => Promise<CatalogApi>;
}

export interface NamingInput {
  readonly connections: Connections;
  /** The target's process, whose /proc/<pid>/root/etc/resolv.conf is its resolver; undefined: this host's /etc/resolv.conf. */
  readonly pid: number | undefined;
  /** Namespaces to list (catalogNamespaces): the target's and the named dependencies'. */
  readonly namespaces: readonly string[];
  /** Address → the DESTINATION_HOSTS name the run resolved it from. */
  readonly hosts?: ReadonlyMap<string, string>;
  readonly reverse?: ReverseOptions;
  readonly signal?: AbortSignal;
}

export interface Naming {
  readonly names: ReadonlyMap<string, PeerName>;
  readonly catalog: Catalog;
  /** What could not be asked or was not answered, for the output. */
  readonly notes: readonly string[];
}

/** Every peer address of the connections: the peers the target connects to and the clients connected to it. */
export function peerAddresses(c: Connections): string[] {
  return [...new Set([...c.outbound.map((g) => g.address), ...c.listeners.flatMap((l) => l.clients.map((x) => x.address))])];
}

export async function nameConnections(deps: NamingDeps, input: NamingInput): Promise<Naming> {
  const addresses = peerAddresses(input.connections);
  const notes: string[] = [];
  const base = { ownAddresses: input.connections.ownAddresses, ...(input.hosts ? { hosts: input.hosts } : {}) };

  let catalog = emptyCatalog;
  if (deps.catalogApi && input.namespaces.length > 0 && needReverse(addresses, base).length > 0) {
    try {
      const api = await deps.catalogApi();
      catalog = await readCatalog(api, input.namespaces, {
        wantPods: (c) => needReverse(addresses, { ...base, catalog: c }).length > 0,
        ...(input.signal ? { signal: input.signal } : {}),
      });
    } catch (error) {
      if (input.signal?.aborted) throw error;
      notes.push(`Kubernetes lookups failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    notes.push(...catalog.problems);
  }

  const path = input.pid === undefined ? '/etc/resolv.conf' : `/proc/${input.pid}/root/etc/resolv.conf`;
  let zones: string[] = ['cluster.local'];
  let reverse;
  const left = needReverse(addresses, { ...base, catalog });
  if (deps.reverse && left.length > 0) {
    try {
      const conf = parseResolvConf(deps.files.readText(path));
      zones = clusterZones(conf.search);
      reverse = await reverseLookup(left, conf, deps.reverse, { ...input.reverse, ...(input.signal ? { signal: input.signal } : {}) });
      const failed = [...reverse.values()].filter((a) => a.kind === 'failed' || a.kind === 'skipped').length;
      if (failed > 0) notes.push(`reverse DNS (nameserver ${conf.nameservers.join(', ') || 'none'} from ${path}) gave no answer for ${failed} of ${left.length} addresses`);
    } catch (error) {
      if (input.signal?.aborted) throw error;
      notes.push(`no reverse DNS: cannot read ${path} (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  const names = namePeers(addresses, { ...base, catalog, clusterZones: zones, ...(reverse ? { reverse } : {}) });
  return { names, catalog, notes };
}

/** Address → hostname for the DESTINATION_HOSTS names the run resolved (`resolved` from discover()). */
export function hostNames(resolved: readonly Resolved[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of resolved) {
    const host = /^host (.+)$/.exec(r.source)?.[1];
    if (host !== undefined) for (const i of r.items) out.set(i.cidr.address, host);
  }
  return out;
}
