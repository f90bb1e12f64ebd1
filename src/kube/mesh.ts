/**
 * Service-mesh sidecars. Behind an istio (envoy) or linkerd sidecar the application's connection to a Service's
 * ClusterIP is intercepted in the pod and the sidecar opens its own to one of the Service's endpoints (pod IP and
 * target port): on the pod's interface no packet carries the ClusterIP, so a ClusterIP filter never matches.
 * Detected as litmus-go does (chaoslib/litmus/network-chaos/lib/network-chaos.go isServiceMeshEnabledForPod:
 * a container or init container — native sidecars since Kubernetes 1.33 — named after istio, envoy or
 * linkerd-proxy), and by the annotations the injectors write (sidecar.istio.io/status, linkerd.io/proxy-version).
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { ServiceDestination } from '../model/destinations.js';

const sidecarNames = ['istio', 'envoy', 'linkerd-proxy'] as const;
const meshAnnotations: readonly (readonly [string, string])[] = [['sidecar.istio.io/status', 'istio'], ['linkerd.io/proxy-version', 'linkerd']];

/** What shows the pod is in a mesh (`istio (container istio-proxy)`), or undefined. */
export function meshOf(p: V1Pod): string | undefined {
  const containers = [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])];
  for (const c of containers) {
    const hit = sidecarNames.find((n) => c.name.includes(n));
    if (hit) return `${hit === 'linkerd-proxy' ? 'linkerd' : hit} (container ${c.name})`;
  }
  const annotations = p.metadata?.annotations ?? {};
  for (const [key, mesh] of meshAnnotations) if (annotations[key] !== undefined) return `${mesh} (annotation ${key})`;
  return undefined;
}

/**
 * A DESTINATION_HOSTS name that names a Service by its cluster DNS name (`<service>.<namespace>.svc`, with or
 * without the cluster domain, e.g. `.svc.cluster.local`): the Service it names, with the host's ports as Service
 * ports. Short names (`api`) are not mapped: only the target's search list says what they mean.
 */
export function serviceOfHost(host: string, ports: readonly number[]): ServiceDestination | undefined {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc(\.[a-z0-9.-]+)?\.?$/.exec(host.toLowerCase());
  if (!m?.[1] || !m[3]) return undefined;
  return { namespace: m[3], name: m[1], ports: [...ports] };
}

/** The sentence the log and the plan show for a target in a mesh. */
export const meshNote = (mesh: string): string =>
  `the target has a ${mesh} sidecar: its traffic to a Service leaves the pod from the sidecar to the Service's endpoint pod IPs and target ports, never to the ClusterIP, so DESTINATION_SERVICES is matched by its endpoints and DESTINATION_HOSTS <service>.<namespace>.svc[.<domain>] names are mapped to their Service's endpoints (kept up to date with DEPENDENCY_REFRESH); a ClusterIP in DESTINATION_IPS matches nothing`;
