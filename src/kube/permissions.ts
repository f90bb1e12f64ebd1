/**
 * Every Kubernetes API call netchaos makes, as data: the ChaosExperiment's `permissions` and the RBAC Role
 * must grant at least these (a test can compare them). The API double in the tests rejects anything else.
 */
export interface ApiPermission {
  /** '' is the core group. */
  readonly apiGroup: string;
  readonly resource: string;
  readonly verbs: readonly string[];
  /** Cluster-scoped resources need a ClusterRole. */
  readonly clusterScoped: boolean;
  /** When the call is made. */
  readonly when: string;
}

export const apiPermissions = [
  { apiGroup: '', resource: 'pods', verbs: ['list'], clusterScoped: false, when: 'always: target pods (TARGETS namespaces), DESTINATION_PODS, health checks' },
  { apiGroup: '', resource: 'nodes', verbs: ['list'], clusterScoped: true, when: 'NODE_LABEL is set' },
  { apiGroup: '', resource: 'services', verbs: ['get'], clusterScoped: false, when: 'DESTINATION_SERVICES is set' },
  { apiGroup: 'discovery.k8s.io', resource: 'endpointslices', verbs: ['list'], clusterScoped: false, when: 'DESTINATION_SERVICES is set' },
  { apiGroup: 'litmuschaos.io', resource: 'chaosengines', verbs: ['get'], clusterScoped: false, when: 'CHAOSENGINE is set (CHAOS_NAMESPACE)' },
  { apiGroup: 'litmuschaos.io', resource: 'chaosresults', verbs: ['get', 'create', 'patch'], clusterScoped: false, when: 'CHAOSENGINE is set (CHAOS_NAMESPACE)' },
  { apiGroup: '', resource: 'events', verbs: ['create'], clusterScoped: false, when: 'CHAOSENGINE is set (CHAOS_NAMESPACE)' },
] as const satisfies readonly ApiPermission[];

export type ApiResource = (typeof apiPermissions)[number]['resource'];

export function permissionFor(resource: ApiResource): ApiPermission {
  const found: ApiPermission | undefined = apiPermissions.find((p) => p.resource === resource);
  if (!found) throw new Error(`no permission entry for ${resource}`);
  return found;
}
