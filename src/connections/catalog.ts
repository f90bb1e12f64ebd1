/**
 * What Kubernetes knows about addresses, for naming the target's peers: Services (ClusterIPs and, through
 * their EndpointSlices, the addresses behind them) and Running pods, listed in a few namespaces only.
 *
 * Which namespaces: the target's own and those of the named dependencies (DESTINATION_PODS/SERVICES): the
 * runner already lists pods there, and a Role per namespace suffices. A cluster-wide list would need a
 * ClusterRole over every namespace's Services and pods, more than a chaos experiment should hold; peers in
 * other namespaces are named by reverse DNS instead (CoreDNS answers PTR queries for Service ClusterIPs and
 * headless endpoints with `<service>.<namespace>.svc.<zone>`), which needs no permission at all.
 *
 * Calls, per namespace: list services, list endpointslices (both always), list pods with
 * fieldSelector=status.phase=Running (only when an address is still unnamed after the Services). The new
 * permission is `list` on services (the runner only `get`s them today): see catalogPermissions.
 */
import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import type { Spec } from '../model/spec.js';
import type { ApiPermission } from '../kube/permissions.js';

/** The API calls the catalog makes (a port: kube-client.ts has the real one, tests use the API double). */
export interface CatalogApi {
  listServices(namespace: string, signal?: AbortSignal): Promise<V1Service[]>;
  /** Every EndpointSlice of the namespace (no label selector). */
  listEndpointSlices(namespace: string, signal?: AbortSignal): Promise<V1EndpointSlice[]>;
  /** Running pods of the namespace. */
  listRunningPods(namespace: string, signal?: AbortSignal): Promise<V1Pod[]>;
}

/** RBAC for naming peers through the API, to merge into src/kube/permissions.ts's apiPermissions. */
export const catalogPermissions = [
  { apiGroup: '', resource: 'services', verbs: ['list'], clusterScoped: false, when: 'deps, and plan with a target: name the target\'s peers (the target\'s namespace and the named dependencies\' namespaces)', role: 'targets' },
  { apiGroup: 'discovery.k8s.io', resource: 'endpointslices', verbs: ['list'], clusterScoped: false, when: 'deps, and plan with a target: name the target\'s peers behind Services', role: 'targets' },
  { apiGroup: '', resource: 'pods', verbs: ['list'], clusterScoped: false, when: 'deps, and plan with a target: name the target\'s peers that are pods (only for addresses no Service explains)', role: 'targets' },
] as const satisfies readonly ApiPermission[];

export interface ServiceInfo {
  readonly namespace: string;
  readonly name: string;
  /** Empty for a headless Service. */
  readonly clusterIPs: readonly string[];
  readonly ports: readonly { readonly name: string; readonly port: number; readonly protocol: string }[];
  readonly endpoints: readonly EndpointInfo[];
}

export interface EndpointInfo {
  readonly address: string;
  /** The pod behind it (targetRef), when it is one. */
  readonly pod: string | undefined;
  readonly ports: readonly number[];
  readonly ready: boolean;
}

export interface PodInfo {
  readonly namespace: string;
  readonly name: string;
  readonly ips: readonly string[];
  /** A host-network pod shares its node's address with every other one there: its IP does not name it. */
  readonly hostNetwork: boolean;
}

export interface Catalog {
  /** The namespaces that were listed (whole or in part). */
  readonly namespaces: readonly string[];
  readonly services: readonly ServiceInfo[];
  readonly pods: readonly PodInfo[];
  /** Calls that failed (forbidden, unreachable): naming goes on without them. */
  readonly problems: readonly string[];
}

export const emptyCatalog: Catalog = { namespaces: [], services: [], pods: [], problems: [] };

/** The namespaces to list: the target's, then the named dependencies', each once. */
export function catalogNamespaces(spec: Pick<Spec, 'groups'>, targetNamespaces: readonly string[]): string[] {
  const out = new Set(targetNamespaces);
  for (const g of spec.groups) {
    for (const p of g.named?.pods ?? []) out.add(p.namespace);
    for (const s of g.named?.services ?? []) out.add(s.namespace);
  }
  return [...out];
}

const nonEmpty = (xs: readonly (string | undefined)[]): string[] => xs.filter((x): x is string => x !== undefined && x !== '' && x !== 'None');

/** One namespace's Services and slices → ServiceInfos. Pure. */
export function servicesFrom(namespace: string, services: readonly V1Service[], slices: readonly V1EndpointSlice[]): ServiceInfo[] {
  return services.map((svc) => {
    const name = svc.metadata?.name ?? '';
    const spec = svc.spec;
    const mine = slices.filter((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === name && s.addressType !== 'FQDN');
    const endpoints: EndpointInfo[] = mine.flatMap((slice) => {
      const ports = (slice.ports ?? []).map((p) => p.port).filter((p): p is number => p !== undefined);
      return slice.endpoints.flatMap((ep) => ep.addresses.map((address) => ({
        address,
        pod: ep.targetRef?.kind === 'Pod' ? ep.targetRef.name : undefined,
        ports,
        ready: ep.conditions?.ready !== false,
      })));
    });
    return {
      namespace, name,
      clusterIPs: spec?.type === 'ExternalName' ? [] : nonEmpty(spec?.clusterIPs ?? [spec?.clusterIP]),
      ports: (spec?.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
      endpoints,
    };
  });
}

/** One namespace's pods → PodInfos. Pure. */
export function podsFrom(namespace: string, pods: readonly V1Pod[]): PodInfo[] {
  return pods.filter((p) => p.metadata?.deletionTimestamp === undefined).map((p) => ({
    namespace,
    name: p.metadata?.name ?? '',
    ips: nonEmpty([...(p.status?.podIPs ?? []).map((x) => x.ip), p.status?.podIP]).filter((ip, i, all) => all.indexOf(ip) === i),
    hostNetwork: p.spec?.hostNetwork === true,
  }));
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Lists the namespaces' Services and EndpointSlices (in parallel), then their Running pods only when
 * `wantPods` says some address is still unnamed. A failed call becomes a problem, never an error.
 */
export async function readCatalog(
  api: CatalogApi, namespaces: readonly string[], opts: { readonly wantPods?: (c: Catalog) => boolean; readonly signal?: AbortSignal } = {},
): Promise<Catalog> {
  const problems: string[] = [];
  const attempt = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (error) {
      if (opts.signal?.aborted) throw error;
      problems.push(`${what}: ${message(error)}`);
      return undefined;
    }
  };
  const perNamespace = await Promise.all(namespaces.map(async (ns) => {
    const [services, slices] = await Promise.all([
      attempt(`list services in ${ns}`, () => api.listServices(ns, opts.signal)),
      attempt(`list endpointslices in ${ns}`, () => api.listEndpointSlices(ns, opts.signal)),
    ]);
    return servicesFrom(ns, services ?? [], slices ?? []);
  }));
  const withServices: Catalog = { namespaces, services: perNamespace.flat(), pods: [], problems };
  if (!(opts.wantPods?.(withServices) ?? true)) return { ...withServices, problems: [...problems] };
  const pods = await Promise.all(namespaces.map(async (ns) => podsFrom(ns, (await attempt(`list pods in ${ns}`, () => api.listRunningPods(ns, opts.signal))) ?? [])));
  return { namespaces, services: withServices.services, pods: pods.flat(), problems: [...problems] };
}
