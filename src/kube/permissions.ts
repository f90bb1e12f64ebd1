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
  { apiGroup: '', resource: 'pods', verbs: ['list'], clusterScoped: false, when: 'always: target pods (TARGETS namespaces), DESTINATION_PODS (again every DEPENDENCY_REFRESH_INTERVAL during the run), health checks; `deps`: name the target\'s peers that are pods (only for addresses no Service explains)' },
  { apiGroup: '', resource: 'pods', verbs: ['get', 'create', 'delete'], clusterScoped: false, when: 'targets on other nodes (HELPER_MODE auto/always), in CHAOS_NAMESPACE: read this runner\'s pod, start one helper pod per node, read its result (termination message), delete it' },
  { apiGroup: '', resource: 'nodes', verbs: ['list'], clusterScoped: true, when: 'NODE_LABEL is set' },
  { apiGroup: '', resource: 'services', verbs: ['get'], clusterScoped: false, when: 'DESTINATION_SERVICES is set (again every DEPENDENCY_REFRESH_INTERVAL during the run)' },
  { apiGroup: '', resource: 'services', verbs: ['list'], clusterScoped: false, when: '`deps`: name the target\'s peers (PEER_NAMESPACES, the target pods\' namespaces and those of DESTINATION_PODS/SERVICES)' },
  { apiGroup: 'discovery.k8s.io', resource: 'endpointslices', verbs: ['list'], clusterScoped: false, when: 'DESTINATION_SERVICES is set (again every DEPENDENCY_REFRESH_INTERVAL during the run); `deps`: name the target\'s peers behind Services' },
  { apiGroup: 'litmuschaos.io', resource: 'chaosengines', verbs: ['get'], clusterScoped: false, when: 'CHAOSENGINE is set (CHAOS_NAMESPACE): its uid for Events, and its resilience probes' },
  { apiGroup: 'litmuschaos.io', resource: 'chaosengines', verbs: ['patch'], clusterScoped: false, when: 'a resilience probe with stopOnFailure failed: engineState: stop (as litmus-go)' },
  { apiGroup: '', resource: 'pods', verbs: ['get', 'create', 'delete'], clusterScoped: false, when: 'a cmdProbe with source: its probe pod in CHAOS_NAMESPACE' },
  { apiGroup: '', resource: 'pods/exec', verbs: ['create'], clusterScoped: false, when: 'a cmdProbe with source: its command runs in the probe pod' },
  { apiGroup: 'litmuschaos.io', resource: 'chaosresults', verbs: ['get', 'create', 'patch'], clusterScoped: false, when: 'CHAOSENGINE is set (CHAOS_NAMESPACE)' },
  { apiGroup: '', resource: 'events', verbs: ['create'], clusterScoped: false, when: 'CHAOSENGINE is set (CHAOS_NAMESPACE)' },
] as const satisfies readonly ApiPermission[];

export type ApiResource = (typeof apiPermissions)[number]['resource'];

/** The API group and scope of a resource (a resource may have several entries, one per use; they agree on both). */
export function permissionFor(resource: ApiResource): ApiPermission {
  const found: ApiPermission | undefined = apiPermissions.find((p) => p.resource === resource);
  if (!found) throw new Error(`no permission entry for ${resource}`);
  return found;
}

/**
 * The Linux capabilities the injecting container needs, and why; the ChaosExperiment, the OpenShift
 * SCC and the helper pods grant exactly these (test/unit/manifests.test.ts checks the first two).
 * NET_ADMIN: tc in the target's namespace. SYS_ADMIN: setns(2) into it. SYS_PTRACE: open
 * /proc/<pid>/ns/net of a process whose capabilities are not a subset of ours (measured in the lab).
 * NET_RAW: ping, the effect probe for dependencies without a port (MEASURE_EFFECT).
 * SYS_CHROOT: `nsenter -t 1 -m` into the node's mount namespace to arm the systemd dead-man timer
 * (DEADMAN=systemd/auto); without it `auto` falls back to the process watchdog, which dies with the pod.
 */
export const capabilities = ['NET_ADMIN', 'SYS_ADMIN', 'SYS_PTRACE', 'NET_RAW', 'SYS_CHROOT'] as const;
