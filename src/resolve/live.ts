/**
 * The named dependencies as live sources (DEPENDENCY_REFRESH): one per hostname, DESTINATION_PODS entry and
 * Service, each able to resolve itself again, and when it is due again.
 *
 * Timing: a hostname is asked again when the shortest TTL of its records runs out, but not sooner than
 * MIN_DNS_REFRESH_S (or the interval when that is shorter: a TTL of 0 must not turn into a query loop) and not
 * later than DEPENDENCY_REFRESH_INTERVAL; pods and Services are listed again every DEPENDENCY_REFRESH_INTERVAL
 * (list/get calls the experiment's permissions already grant: no watch).
 */
import type { Resolved } from '../model/destinations.js';
import { selectorText } from '../model/kube.js';
import type { Spec } from '../model/spec.js';
import { resolvePods, resolveService } from '../kube/dependencies.js';
import { type DiscoveryDeps, resolvConfPath, resolveHostDependencies, resolveMeshHost, splitHosts } from './destinations.js';

/** The shortest time between two DNS queries for one hostname, whatever its TTL. */
export const MIN_DNS_REFRESH_S = 5;

export interface LiveSource {
  /** As in Resolved.source: `host api.example.com`, `pods shop:[app=db]`, `service shop/api`. */
  readonly source: string;
  readonly kind: 'dns' | 'kube';
  /** What is asked again, for `plan` and the log. */
  readonly how: string;
  /** Asks again; `signal` (the run's stop) ends the wait. */
  readonly resolve: (signal?: AbortSignal) => Promise<Resolved>;
}

/** Milliseconds until a source is asked again; `ttlS` is the last answer's TTL (DNS only). */
export function refreshDelayMs(kind: LiveSource['kind'], intervalS: number, ttlS?: number): number {
  if (kind === 'kube' || ttlS === undefined) return intervalS * 1000;
  const min = Math.min(MIN_DNS_REFRESH_S, intervalS);
  return Math.min(Math.max(ttlS, min), intervalS) * 1000;
}

/** One live source per named dependency, in the order discover() reports them (hosts, pods, Services). */
export function liveSources(d: DiscoveryDeps, spec: Spec, pid: number | undefined, mesh?: string): LiveSource[] {
  const named = spec.groups.find((g) => g.named !== undefined)?.named;
  if (named === undefined) return [];
  const conf = resolvConfPath(pid);
  const hosts = splitHosts(named.hosts, mesh);
  return [
    ...hosts.mesh.map((m): LiveSource => ({
      source: `host ${m.host.host}`,
      kind: 'kube',
      how: `behind the service-mesh sidecar: get Service ${m.service.namespace}/${m.service.name} and list its EndpointSlices`,
      resolve: (signal) => resolveMeshHost(d, m, signal),
    })),
    ...hosts.dns.map((h): LiveSource => ({
      source: `host ${h.host}`,
      kind: 'dns',
      how: `A and AAAA with the nameservers of ${conf}`,
      resolve: async (signal) => {
        const [r] = await resolveHostDependencies(d, [h], pid, signal);
        if (!r) throw new Error(`unreachable: no answer for ${h.host}`);
        return r;
      },
    })),
    ...named.pods.map((p): LiveSource => ({
      source: `pods ${p.namespace}:${selectorText(p.pods)}`,
      kind: 'kube',
      how: `list pods in ${p.namespace}`,
      resolve: (signal) => resolvePods(d.kube, p, signal),
    })),
    ...named.services.map((s): LiveSource => ({
      source: `service ${s.namespace}/${s.name}`,
      kind: 'kube',
      how: `get the Service and list its EndpointSlices in ${s.namespace}`,
      resolve: (signal) => resolveService(d.kube, s, signal),
    })),
  ];
}

export interface RefreshSchedule {
  /** DEPENDENCY_REFRESH_INTERVAL; 0 = off (resolved once). */
  readonly intervalS: number;
  readonly sources: readonly { source: string; kind: LiveSource['kind']; how: string; ttlS?: number; everyS: number }[];
}

/** What is asked again during the run, how, and every how many seconds (now: from the TTLs just seen); undefined when nothing is named. */
export function refreshSchedule(spec: Spec, sources: readonly LiveSource[], resolved: readonly Resolved[]): RefreshSchedule | undefined {
  if (sources.length === 0) return undefined;
  const intervalS = spec.refreshS;
  return {
    intervalS,
    sources: sources.map((s) => {
      const ttlS = resolved.find((r) => r.source === s.source)?.ttlS;
      return { source: s.source, kind: s.kind, how: s.how, ...(ttlS !== undefined ? { ttlS } : {}), everyS: intervalS === 0 ? 0 : refreshDelayMs(s.kind, intervalS, ttlS) / 1000 };
    }),
  };
}

/** What `plan` prints about the refresh. */
export function describeRefresh(schedule: RefreshSchedule | undefined): string {
  if (schedule === undefined) return '';
  const { intervalS } = schedule;
  if (intervalS === 0) {
    return 'Live dependencies: off (DEPENDENCY_REFRESH=false or DEPENDENCY_REFRESH_INTERVAL=0): resolved once, before the injection.\n';
  }
  const out = [`Live dependencies (DEPENDENCY_REFRESH, interval ${intervalS}s; only the difference is applied, by filter handle):`];
  for (const s of schedule.sources) {
    const when = s.kind === 'dns'
      ? `when the TTL runs out (now ${s.ttlS ?? '?'}s, kept within ${Math.min(MIN_DNS_REFRESH_S, intervalS)}–${intervalS}s): every ${s.everyS}s`
      : `every ${s.everyS}s`;
    out.push(`  ${s.source}: ${s.how}, ${when}`);
  }
  return out.join('\n') + '\n';
}
