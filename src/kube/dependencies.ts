/**
 * Dependencies named as Kubernetes objects → addresses. A Service gives its ClusterIP(s) with the Service
 * ports AND its ready endpoints with the mapped target ports: which of the two the target's packets carry
 * depends on kube-proxy/CNI (iptables/ipvs DNAT before or after the pod's egress qdisc, eBPF socket LB).
 */
import type { V1EndpointSlice, V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';
import { DependencyError } from '../model/errors.js';
import { type DestinationItem, parseHostAddress } from '../model/addresses.js';
import type { PodDestination, Resolved, ServiceDestination } from '../model/destinations.js';
import { selectorText } from '../model/kube.js';
import type { KubeApi } from '../ports.js';
import { KubeError } from './api.js';
import { findPods } from './targets.js';

const item = (source: string, ip: string, ports: readonly number[]): DestinationItem =>
  ({ cidr: parseHostAddress(source, ip), ports: [...new Set(ports)].sort((a, b) => a - b) });

const portsText = (ports: readonly number[]): string => (ports.length > 0 ? ` ports ${ports.join(',')}` : ' all ports');

/** The Running pods a DESTINATION_PODS entry names, with their IPs. */
export async function resolvePods(api: KubeApi, dep: PodDestination, signal?: AbortSignal): Promise<Resolved> {
  const selector = selectorText(dep.pods);
  const source = `pods ${dep.namespace}:${selector}`;
  const pods = await findPods(api, { namespace: dep.namespace, pods: dep.pods, kind: dep.pods.kind === 'labels' ? 'any' : 'pod', signal });
  const items: DestinationItem[] = [];
  const details: string[] = [];
  for (const p of pods) {
    if (p.status?.phase !== 'Running' || p.metadata?.deletionTimestamp !== undefined) continue;
    const ips = (p.status.podIPs ?? []).map((x) => x.ip).filter((ip) => ip !== '');
    if (ips.length === 0 && p.status.podIP) ips.push(p.status.podIP);
    if (p.spec?.hostNetwork) {
      details.push(`pod ${p.metadata?.name ?? '?'} uses the host network (${ips.join(', ')}): all traffic to its node matches`);
    }
    for (const ip of ips) items.push(item(source, ip, dep.ports));
    if (ips.length > 0) details.push(`pod ${p.metadata?.name ?? '?'} ${ips.join(', ')}${portsText(dep.ports)}`);
  }
  if (items.length === 0) {
    throw new DependencyError(`DESTINATION_PODS ${dep.namespace}:${selector}: no Running pod with an IP matches (kubectl get pods -n ${dep.namespace}${dep.pods.kind === 'labels' ? ` -l ${dep.pods.labels}` : ''})`);
  }
  return { source, items, details };
}

function pickPorts(svc: string, ports: readonly V1ServicePort[], wanted: readonly (number | string)[]): V1ServicePort[] {
  if (wanted.length === 0) return [...ports];
  return wanted.map((w) => {
    const found = ports.find((p) => (typeof w === 'number' ? p.port === w : p.name === w));
    if (!found) {
      throw new DependencyError(`DESTINATION_SERVICES ${svc}: the Service has no port ${JSON.stringify(w)}; its ports are ${ports.map((p) => `${p.port}${p.name ? ` (${p.name})` : ''}`).join(', ') || 'none'}`);
    }
    return found;
  });
}

/** Target ports of an EndpointSlice for the chosen Service ports (matched by port name, as the endpoints controller does). */
function slicePorts(slice: V1EndpointSlice, chosen: readonly V1ServicePort[], all: boolean): number[] {
  const ports = slice.ports ?? [];
  if (all) return ports.map((p) => p.port).filter((p): p is number => p !== undefined);
  return chosen.flatMap((c) => ports.filter((p) => (p.name ?? '') === (c.name ?? '')).map((p) => p.port).filter((p): p is number => p !== undefined));
}

/** A Service's ClusterIP(s) with its ports and its ready endpoints with their target ports. */
export async function resolveService(api: KubeApi, dep: ServiceDestination, signal?: AbortSignal): Promise<Resolved> {
  const ref = `${dep.namespace}/${dep.name}`;
  const source = `service ${ref}`;
  const svc = await api.getService(dep.namespace, dep.name, { signal });
  const spec = svc.spec;
  if (spec?.type === 'ExternalName') {
    throw new DependencyError(`DESTINATION_SERVICES ${ref} is an ExternalName Service (${spec.externalName ?? '?'}): it has no addresses of its own; put ${spec.externalName ?? 'the name'} in DESTINATION_HOSTS instead`);
  }
  const servicePorts = spec?.ports ?? [];
  const chosen = pickPorts(ref, servicePorts, dep.ports);
  const items: DestinationItem[] = [];
  const details: string[] = [];
  const clusterIps = (spec?.clusterIPs ?? (spec?.clusterIP ? [spec.clusterIP] : [])).filter((ip) => ip !== '' && ip !== 'None');
  const servicePortNumbers = chosen.map((p) => p.port);
  for (const ip of clusterIps) items.push(item(source, ip, servicePortNumbers));
  if (clusterIps.length > 0) details.push(`ClusterIP ${clusterIps.join(', ')}${portsText(servicePortNumbers)}`);
  else details.push('headless: endpoints only');

  const slices = await readEndpointSlices(api, svc, dep, signal);
  if (slices === 'forbidden') {
    const fromPods = await endpointsFromPods(api, svc, dep, chosen, signal);
    const ready = fromPods.items.length;
    if (ready === 0) {
      throw new DependencyError(`DESTINATION_SERVICES ${ref} has no ready pods behind its selector (kubectl get pods -n ${dep.namespace} -l ${fromPods.selector}): its pods are down or its selector matches none. Nothing was injected.`);
    }
    return { source, items: [...items, ...fromPods.items], details: [...details, ...fromPods.details], warning: fromPods.warning };
  }
  let ready = 0;
  for (const slice of slices) {
    if (slice.addressType === 'FQDN') continue;
    const ports = slicePorts(slice, chosen, dep.ports.length === 0);
    // A slice without the chosen ports would otherwise mean "all ports" of its addresses: skip it.
    if (ports.length === 0 && servicePorts.length > 0) continue;
    for (const ep of slice.endpoints) {
      if (ep.conditions?.ready === false) continue;
      for (const ip of ep.addresses) {
        items.push(item(source, ip, ports));
        ready++;
      }
      details.push(`endpoint ${ep.addresses.join(', ')}${ep.targetRef?.name ? ` (pod ${ep.targetRef.name})` : ''}${portsText(ports)}`);
    }
  }
  if (ready === 0) {
    throw new DependencyError(`DESTINATION_SERVICES ${ref} has no ready endpoints (kubectl get endpointslices -n ${dep.namespace} -l kubernetes.io/service-name=${dep.name}): its pods are down or its selector matches none. Nothing was injected.`);
  }
  return { source, items, details };
}

/**
 * The Service's EndpointSlices, or 'forbidden' when the account may not list them (403) and the Service has a
 * selector to find its pods by instead. ChaosCenter's `litmus-admin` ClusterRole
 * (chaoscenter/graphql/server/manifests/cluster/2b_litmus_admin_rbac.yaml) grants services and pods but neither
 * discovery.k8s.io/endpointslices nor core/v1 endpoints, so the fallback is the one it allows: the Service's
 * selector over its pods (what litmus-go itself does for service-mesh targets, network-chaos.go getPodIPFromService).
 */
async function readEndpointSlices(api: KubeApi, svc: V1Service, dep: ServiceDestination, signal: AbortSignal | undefined): Promise<V1EndpointSlice[] | 'forbidden'> {
  try {
    return await api.listEndpointSlices(dep.namespace, dep.name, { signal });
  } catch (error) {
    if (!(error instanceof KubeError && error.status === 403)) throw error;
    if (Object.keys(svc.spec?.selector ?? {}).length === 0) {
      throw new DependencyError(`DESTINATION_SERVICES ${dep.namespace}/${dep.name}: its EndpointSlices cannot be listed (403) and the Service has no selector to find its pods by (its endpoints are managed by hand): grant "list" on endpointslices.discovery.k8s.io in ${dep.namespace}. ${error.message}`);
    }
    return 'forbidden';
  }
}

/** A pod's Ready condition is True and it is not being deleted: what the endpoints controller counts as ready. */
const isReady = (p: V1Pod): boolean =>
  p.status?.phase === 'Running' && p.metadata?.deletionTimestamp === undefined && (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** The target port of a Service port on one pod: a number, a named container port of that pod, or the port itself. */
function targetPortOn(p: V1Pod, sp: V1ServicePort): number | undefined {
  const t = sp.targetPort;
  if (t === undefined || t === '') return sp.port;
  if (typeof t === 'number') return t;
  if (/^\d+$/.test(t)) return Number(t);
  for (const c of p.spec?.containers ?? []) {
    const found = (c.ports ?? []).find((x) => x.name === t && (x.protocol ?? 'TCP') === (sp.protocol ?? 'TCP'));
    if (found) return found.containerPort;
  }
  return undefined;
}

/** The Service's ready pods (by its selector) with their target ports, as the endpoints controller would list them. */
async function endpointsFromPods(api: KubeApi, svc: V1Service, dep: ServiceDestination, chosen: readonly V1ServicePort[], signal: AbortSignal | undefined): Promise<{ items: DestinationItem[]; details: string[]; selector: string; warning: string }> {
  const ref = `${dep.namespace}/${dep.name}`;
  const source = `service ${ref}`;
  const selector = Object.entries(svc.spec?.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  const pods = await api.listPods(dep.namespace, { labelSelector: selector, signal });
  const items: DestinationItem[] = [];
  const details: string[] = [];
  for (const p of pods) {
    if (!isReady(p) || p.spec?.hostNetwork) continue;
    const ips = (p.status?.podIPs ?? []).map((x) => x.ip).filter((ip) => ip !== '');
    if (ips.length === 0 && p.status?.podIP) ips.push(p.status.podIP);
    const ports = chosen.map((sp) => targetPortOn(p, sp)).filter((x): x is number => x !== undefined);
    // A pod without any of the chosen target ports is no endpoint of them (the endpoints controller leaves it out).
    if (chosen.length > 0 && ports.length === 0) continue;
    for (const ip of ips) items.push(item(source, ip, ports));
    if (ips.length > 0) details.push(`endpoint ${ips.join(', ')} (pod ${p.metadata?.name ?? '?'}, by selector)${portsText(ports)}`);
  }
  const warning = `DESTINATION_SERVICES ${ref}: EndpointSlices cannot be listed (403, e.g. ChaosCenter's litmus-admin account): its endpoints were taken from the Ready pods of its selector ${selector} instead. Grant "list" on endpointslices.discovery.k8s.io in ${dep.namespace} for the exact endpoints (this misses endpoints not selected by pods and publishNotReadyAddresses).`;
  return { items, details, selector, warning };
}
