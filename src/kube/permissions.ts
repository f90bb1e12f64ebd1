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
  /**
   * Where the account needs it, i.e. which Role of experiments/…/rbac.yaml carries it:
   *   runner   CHAOS_NAMESPACE only (the ChaosEngine's namespace: ChaosResult, Events, the engine);
   *   targets  also every namespace with targets or dependencies (read-only: pods list, services get,
   *            endpointslices list), the only Role to bind there; helper pods use it too (the runner's service
   *            account, its token mounted only for DEPENDENCY_REFRESH with DESTINATION_PODS/SERVICES);
   *   helpers  CHAOS_NAMESPACE, and only with HELPER_MODE auto/always (creating pods there lets the account run
   *            a pod as any service account of that namespace: leave this Role out with HELPER_MODE=never).
   */
  readonly role: 'runner' | 'targets' | 'helpers';
}

export const apiPermissions = [
  { apiGroup: '', resource: 'pods', verbs: ['list'], clusterScoped: false, when: 'always: target pods (TARGETS namespaces), DESTINATION_PODS (again every DEPENDENCY_REFRESH_INTERVAL during the run, by the runner or its helper pods), health checks; `deps`: name the target\'s peers that are pods (only for addresses no Service explains)', role: 'targets' },
  { apiGroup: '', resource: 'pods', verbs: ['get', 'create', 'delete'], clusterScoped: false, when: 'targets on other nodes (HELPER_MODE auto/always), in CHAOS_NAMESPACE: read this runner\'s pod (also, with any HELPER_MODE, to copy its labels to the ChaosResult as litmus-go does; without `get` there: a warning, chaosUID only), start one helper pod per node, read its result (termination message), delete it', role: 'helpers' },
  { apiGroup: '', resource: 'nodes', verbs: ['list'], clusterScoped: true, when: 'NODE_LABEL is set', role: 'runner' },
  { apiGroup: '', resource: 'services', verbs: ['get'], clusterScoped: false, when: 'DESTINATION_SERVICES is set (again every DEPENDENCY_REFRESH_INTERVAL during the run, by the runner or its helper pods)', role: 'targets' },
  { apiGroup: '', resource: 'services', verbs: ['list'], clusterScoped: false, when: '`deps`: name the target\'s peers (PEER_NAMESPACES, the target pods\' namespaces and those of DESTINATION_PODS/SERVICES)', role: 'targets' },
  { apiGroup: 'discovery.k8s.io', resource: 'endpointslices', verbs: ['list'], clusterScoped: false, when: 'DESTINATION_SERVICES is set (again every DEPENDENCY_REFRESH_INTERVAL during the run, by the runner or its helper pods); `deps`: name the target\'s peers behind Services', role: 'targets' },
  { apiGroup: 'litmuschaos.io', resource: 'chaosengines', verbs: ['get'], clusterScoped: false, when: 'CHAOSENGINE is set (CHAOS_NAMESPACE): its uid for Events, and its resilience probes', role: 'runner' },
  { apiGroup: 'litmuschaos.io', resource: 'chaosengines', verbs: ['patch'], clusterScoped: false, when: 'a resilience probe with stopOnFailure failed: engineState: stop (as litmus-go)', role: 'runner' },
  { apiGroup: '', resource: 'pods', verbs: ['get', 'create', 'delete'], clusterScoped: false, when: 'a cmdProbe with source: its probe pod in CHAOS_NAMESPACE (keep this Role when a probe uses source, also with HELPER_MODE=never)', role: 'helpers' },
  { apiGroup: '', resource: 'pods/exec', verbs: ['create'], clusterScoped: false, when: 'a cmdProbe with source: its command runs in the probe pod', role: 'helpers' },
  { apiGroup: 'litmuschaos.io', resource: 'chaosresults', verbs: ['get', 'create', 'patch'], clusterScoped: false, when: 'CHAOSENGINE is set (CHAOS_NAMESPACE)', role: 'runner' },
  { apiGroup: '', resource: 'events', verbs: ['create'], clusterScoped: false, when: 'CHAOSENGINE is set (CHAOS_NAMESPACE)', role: 'runner' },
] as const satisfies readonly ApiPermission[];

export type ApiResource = (typeof apiPermissions)[number]['resource'];

/** The API group and scope of a resource (a resource may have several entries, one per use; they agree on both). */
export function permissionFor(resource: ApiResource): ApiPermission {
  const found: ApiPermission | undefined = apiPermissions.find((p) => p.resource === resource);
  if (!found) throw new Error(`no permission entry for ${resource}`);
  return found;
}

/** One Linux capability of the injecting container: why, and with which settings it is needed. */
export interface CapabilityNeed {
  readonly capability: string;
  readonly why: string;
  /** Undefined: always. Else the settings that need it (the others run without it). */
  readonly onlyWhen?: { readonly deadman?: readonly string[]; readonly measureEffect?: boolean };
}

/**
 * The Linux capabilities the injecting container needs, and why; the ChaosExperiment and the OpenShift SCC
 * grant all of them (test/unit/manifests.test.ts checks it; scripts/image-context.mjs reads them from
 * experiment.yaml), helper pods only those their run's settings need (`capabilitiesFor`).
 *
 * Said plainly: hostPID + CAP_SYS_ADMIN (setns into any process's namespaces, mount) as uid 0 is effectively
 * root on the node, whatever the other capabilities; SYS_CHROOT adds the node's mount namespace (nsenter -t 1
 * -m) on top. Grant this account only to people who may be root on the nodes (docs/openshift.md).
 */
export const capabilityNeeds = [
  { capability: 'NET_ADMIN', why: 'tc and ip in the target\'s network namespace' },
  { capability: 'SYS_ADMIN', why: 'setns(2) into the target\'s network namespace (nsenter --net)' },
  { capability: 'SYS_PTRACE', why: 'open /proc/<pid>/ns/net of a process whose capabilities are not a subset of ours (measured in the lab)' },
  { capability: 'NET_RAW', why: 'ping: the effect probe for dependencies without a port', onlyWhen: { measureEffect: true } },
  { capability: 'SYS_CHROOT', why: '`nsenter -t 1 -m` into the node\'s mount namespace to arm the systemd dead-man timer; without it DEADMAN=auto falls back to the process watchdog, which dies with the pod', onlyWhen: { deadman: ['systemd', 'auto'] } },
] as const satisfies readonly CapabilityNeed[];

/** Every capability any setting needs: what the ChaosExperiment and the SCC grant. */
export const capabilities = capabilityNeeds.map((c) => c.capability);

/** The capabilities a run with these settings needs (helper pods request only these). */
export function capabilitiesFor(settings: { readonly deadman: string; readonly measureEffect: boolean }): string[] {
  return capabilityNeeds.filter((c: CapabilityNeed) => {
    const only = c.onlyWhen;
    if (only === undefined) return true;
    if (only.deadman !== undefined && !only.deadman.includes(settings.deadman)) return false;
    if (only.measureEffect !== undefined && only.measureEffect !== settings.measureEffect) return false;
    return true;
  }).map((c) => c.capability);
}
