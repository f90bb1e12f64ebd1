/** Dependencies named rather than given as addresses (hostnames, pods, Services), and what they resolved to. */
import type { DestinationItem } from './addresses.js';
import type { PodSelector } from './kube.js';

/** One DESTINATION_HOSTS entry: `api.example.com|443`. */
export interface HostDestination {
  readonly host: string;
  readonly ports: readonly number[];
}

/** One DESTINATION_PODS entry: `shop:[app=db]|5432`. */
export interface PodDestination {
  readonly namespace: string;
  readonly pods: PodSelector;
  readonly ports: readonly number[];
}

/** One DESTINATION_SERVICES entry: `shop/db|5432|http` (ports by number or name; empty = all). */
export interface ServiceDestination {
  readonly namespace: string;
  readonly name: string;
  readonly ports: readonly (number | string)[];
}

/** The dependencies that are found at run time (DNS, Kubernetes) rather than given as addresses. */
export interface NamedDestinations {
  readonly hosts: readonly HostDestination[];
  readonly pods: readonly PodDestination[];
  readonly services: readonly ServiceDestination[];
  /** UNRESOLVED_HOSTS=skip: a hostname without records is left out (an error only when none resolves); else it is an error. */
  readonly skipUnresolved?: boolean;
}

export const hasNamedDestinations = (n: NamedDestinations | undefined): boolean =>
  n !== undefined && n.hosts.length + n.pods.length + n.services.length > 0;

/** What one named dependency resolved to, for the plan output and the log. */
export interface Resolved {
  readonly source: string;
  readonly items: readonly DestinationItem[];
  /** One line per address group, e.g. `ClusterIP 10.96.0.10 ports 53`. */
  readonly details: readonly string[];
  /** For a hostname: the shortest TTL of its records, in seconds (DEPENDENCY_REFRESH asks again then). */
  readonly ttlS?: number;
  /** Something the user should act on (logged as a warning), e.g. endpoints read from pods because EndpointSlices are forbidden. */
  readonly warning?: string;
}

/** Pod and Service lookups shared by all targets of one run, by key (a helper pod gets them from the runner). */
export type KubeCache = Map<string, Promise<Resolved>>;
