/**
 * The one table of variables. The CLI flags, the README's variables table, docs/variables.md and the
 * ChaosExperiment's env list are all generated from it, so they cannot drift apart.
 */

export type Section = 'fault' | 'destinations' | 'timing' | 'safety' | 'effect' | 'output' | 'targets' | 'runtime' | 'litmus';

export interface Variable {
  /** ENV name; Litmus names are kept where litmus-go has the same setting. */
  readonly env: string;
  /** commander flag spec, e.g. `--latency <ms>`. */
  readonly flag: string;
  /** Default as a string, exactly as the ChaosExperiment's env would carry it. */
  readonly default: string;
  readonly doc: string;
  readonly section: Section;
  /** True when litmus-go's pod-network-latency has a variable with this name and default. */
  readonly litmus: boolean;
  /** False for local-only variables that make no sense in a cluster manifest. */
  readonly manifest: boolean;
  /** May be given more than once on the command line (the values are joined). */
  readonly repeatable?: boolean;
  /** Only `netchaos run` (Litmus mode) reads it; it is not a flag of plan/inject. */
  readonly litmusOnly?: boolean;
  /**
   * Entries are separated by ';' (the chaos-operator's TARGETS format), so ';' is allowed in this value.
   * The value never reaches a tc batch line: it is parsed by its own grammar.
   */
  readonly semicolonList?: boolean;
  /** In the manifest, the value comes from this downward-API field (valueFrom.fieldRef), e.g. spec.nodeName. */
  readonly fieldRef?: string;
}

export const variables = [
  {
    env: 'NETWORK_INTERFACE', flag: '--interface <name>', default: 'eth0', section: 'fault', litmus: true, manifest: true,
    doc: 'Interface inside the target network namespace to shape.',
  },
  {
    env: 'NETWORK_LATENCY', flag: '--latency <ms>', default: '2000', section: 'fault', litmus: true, manifest: true,
    doc: 'Delay added to matched packets, in milliseconds (decimals allowed).',
  },
  {
    env: 'JITTER', flag: '--jitter <ms>', default: '0', section: 'fault', litmus: true, manifest: true,
    doc: 'Delay variation, in milliseconds (± around NETWORK_LATENCY).',
  },
  {
    env: 'CORRELATION', flag: '--correlation <percent>', default: '0', section: 'fault', litmus: false, manifest: true,
    doc: 'Correlation of each delay with the previous one, in percent.',
  },
  {
    env: 'DELAY_DISTRIBUTION', flag: '--distribution <name>', default: '', section: 'fault', litmus: false, manifest: true,
    doc: 'Shape of the jitter: normal, pareto, paretonormal or uniform (needs JITTER > 0; empty = uniform).',
  },
  {
    env: 'NETWORK_PACKET_LOSS_PERCENTAGE', flag: '--loss <percent>', default: '0', section: 'fault', litmus: false, manifest: true,
    doc: 'Share of matched packets dropped, in percent.',
  },
  {
    env: 'NETWORK_PACKET_DUPLICATION_PERCENTAGE', flag: '--duplication <percent>', default: '0', section: 'fault', litmus: false, manifest: true,
    doc: 'Share of matched packets duplicated, in percent.',
  },
  {
    env: 'NETWORK_PACKET_CORRUPTION_PERCENTAGE', flag: '--corruption <percent>', default: '0', section: 'fault', litmus: false, manifest: true,
    doc: 'Share of matched packets with a corrupted bit, in percent.',
  },
  {
    env: 'NETWORK_PACKET_REORDER_PERCENTAGE', flag: '--reorder <percent>', default: '0', section: 'fault', litmus: false, manifest: true,
    doc: 'Share of matched packets sent at once, ahead of delayed ones, in percent (needs NETWORK_LATENCY > 0).',
  },
  {
    env: 'NETWORK_BANDWIDTH', flag: '--bandwidth <rate>', default: '', section: 'fault', litmus: false, manifest: true,
    doc: 'Rate limit for matched packets, e.g. 1mbit, 500kbit, 10mbps (bytes/s); empty = no limit.',
  },
  {
    env: 'DESTINATION_IPS', flag: '--destination-ips <list>', default: '', section: 'destinations', litmus: true, manifest: true,
    doc: 'Comma list of IPv4/IPv6 addresses or CIDRs, each optionally with destination ports: `192.0.2.10|8080|8443,2001:db8::/64`. Empty (and no FAULTS) = all egress traffic of the interface.',
  },
  {
    env: 'DESTINATION_IPS_FILE', flag: '--destination-ips-file <path>', default: '', section: 'destinations', litmus: false, manifest: false,
    doc: 'File with more DESTINATION_IPS items, one per line (`#` starts a comment), for lists too long for an environment variable.',
  },
  {
    env: 'DESTINATION_HOSTS', flag: '--destination-hosts <list>', default: '', section: 'destinations', litmus: true, manifest: true,
    doc: 'Comma list of hostnames, each optionally with destination ports: `api.example.com|443,db.shop.svc`. Resolved (A and AAAA) the way the target resolves them: with the nameservers, search list and ndots of its /etc/resolv.conf (`/proc/<pid>/root/etc/resolv.conf`). A name that does not resolve is an error, never "all traffic" (UNRESOLVED_HOSTS=skip leaves such names out instead, as litmus-go does). Applies to the DESTINATION_IPS group.',
  },
  {
    env: 'UNRESOLVED_HOSTS', flag: '--unresolved-hosts <mode>', default: 'fail', section: 'destinations', litmus: false, manifest: true,
    doc: 'A DESTINATION_HOSTS name with no A or AAAA record: `fail` (default) = an error before any change (a typo is not silently a smaller blast radius); `skip` = left out with a warning and a line in the plan, an error only when none of the names resolves (litmus-go\'s behaviour). A nameserver that does not answer is an error either way. During the run (DEPENDENCY_REFRESH) a skipped name that starts resolving is added.',
  },
  {
    env: 'DESTINATION_PODS', flag: '--destination-pods <list>', default: '', section: 'destinations', litmus: false, manifest: true, semicolonList: true,
    doc: 'Pods whose IPs are dependencies, in the TARGETS style: `<namespace>:[<labels>|<names>]` entries separated by `;`, each optionally with destination ports: `shop:[app=db]|5432;shop:[cache-0,cache-1]`. Brackets hold either an equality label selector (`a=b,c!=d`) or pod names. Only Running pods with an IP count; none matched is an error. Needs the Kubernetes API (in cluster, or KUBECONFIG). Applies to the DESTINATION_IPS group.',
  },
  {
    env: 'DESTINATION_SERVICES', flag: '--destination-services <list>', default: '', section: 'destinations', litmus: false, manifest: true,
    doc: 'Comma list of Services `<namespace>/<name>`, each optionally limited to some of its ports (number or name): `shop/db|5432,shop/api|http`. A Service contributes its ClusterIP(s) with its ports AND its ready endpoint addresses (EndpointSlices) with the mapped target ports, because the target\'s packets carry one or the other depending on kube-proxy/CNI; a headless Service contributes its endpoints only. A Service without ready endpoints is an error. Needs the Kubernetes API; an account that may not list EndpointSlices (ChaosCenter\'s litmus-admin) gets the Ready pods of the Service\'s selector instead, with a warning. Applies to the DESTINATION_IPS group.',
  },
  {
    env: 'DESTINATION_PORTS', flag: '--destination-ports <list>', default: '', section: 'destinations', litmus: true, manifest: true,
    doc: 'Comma list of destination ports to match (AND-combined with the addresses); a leading `!` means all ports except these.',
  },
  {
    env: 'SOURCE_PORTS', flag: '--source-ports <list>', default: '', section: 'destinations', litmus: true, manifest: true,
    doc: 'Comma list of source ports to match (AND-combined with the addresses); a leading `!` means all ports except these.',
  },
  {
    env: 'FAULTS', flag: '--fault <group>', default: '', section: 'destinations', litmus: false, manifest: true, repeatable: true,
    doc: 'Different faults for different destinations in one run: groups `<fault>@<destinations>` separated by spaces, e.g. `latency=100@192.0.2.11|8080 loss=5@192.0.2.12`. See "Several faults in one run".',
  },
  {
    env: 'DIRECTION', flag: '--direction <direction>', default: 'egress', section: 'destinations', litmus: false, manifest: true,
    doc: 'Which packets get the fault: egress (sent by the target to the dependencies: matched on destination address/port), ingress (arriving at the target from the dependencies: matched on source address/port, through an ifb device `nc-ifb-<interface>` created in the target\'s namespace) or both.',
  },
  {
    env: 'TOTAL_CHAOS_DURATION', flag: '--duration <seconds>', default: '60', section: 'timing', litmus: true, manifest: true,
    doc: 'How long the fault stays, in seconds (also 90s, 5m, 1h).',
  },
  {
    env: 'RAMP_TIME', flag: '--ramp-time <seconds>', default: '', section: 'timing', litmus: true, manifest: true,
    doc: 'Wait before injecting and again after reverting, in seconds (empty = 0).',
  },
  {
    env: 'DEPENDENCY_REFRESH', flag: '--dependency-refresh <bool>', default: 'true', section: 'timing', litmus: false, manifest: true,
    doc: 'Keep the filters true to where DESTINATION_HOSTS, DESTINATION_PODS and DESTINATION_SERVICES are now during the run: hostnames are re-resolved (A and AAAA, with the target\'s resolv.conf) when their DNS TTL runs out, but not more often than every 5 s (or DEPENDENCY_REFRESH_INTERVAL when shorter) and at least every DEPENDENCY_REFRESH_INTERVAL; pods and EndpointSlices are listed again every DEPENDENCY_REFRESH_INTERVAL. Only the difference is applied (new addresses\' filters added, gone ones deleted by handle); every change is logged, and in `netchaos run` (in place and in helper pods) also sent as a DependencyRefresh Event on the ChaosEngine and kept in the ChaosResult (status.netchaosRefresh). A dependency that stops resolving keeps its last addresses. false = resolve once at the start (litmus-go\'s behaviour).',
  },
  {
    env: 'DEPENDENCY_REFRESH_INTERVAL', flag: '--dependency-refresh-interval <seconds>', default: '30', section: 'timing', litmus: false, manifest: true,
    doc: 'The longest a dependency\'s move can go unnoticed with DEPENDENCY_REFRESH: the Kubernetes polling period and the upper bound of a DNS TTL, in seconds (also 1m). 0 = resolve once at the start.',
  },
  {
    env: 'FORCE', flag: '--force', default: 'false', section: 'safety', litmus: false, manifest: true,
    doc: 'Replace a root qdisc that is not a kernel default (e.g. a CNI bandwidth limit). It is NOT restored afterwards: the interface gets its default qdisc back.',
  },
  {
    env: 'DEADMAN', flag: '--deadman <mode>', default: 'auto', section: 'safety', litmus: false, manifest: true,
    doc: 'What removes the tree after its deadline (end of the duration + DEADMAN_GRACE) if the runner is killed: systemd (a transient timer on the node through `nsenter -t 1`; needs hostPID, SYS_ADMIN, SYS_CHROOT), process (a detached `netchaos watchdog`; survives SIGKILL of the runner but not the end of its container), auto (systemd when the node\'s PID 1 is systemd, else process) or off (`netchaos sweep` only). Whatever the mode, the next run on the target removes an expired tree of ours before it injects. See docs/how-it-works.md.',
  },
  {
    env: 'DEADMAN_GRACE', flag: '--deadman-grace <seconds>', default: '30', section: 'safety', litmus: false, manifest: true,
    doc: 'Seconds after the end of the duration before the tree counts as expired: the deadline in its owner marker, when the dead-man and `netchaos sweep` may remove it.',
  },
  {
    env: 'ON_TARGET_RESTART', flag: '--on-target-restart <mode>', default: 'end', section: 'safety', litmus: false, manifest: true,
    doc: 'When the target restarts in a new network namespace during the run: end (stop, exit 4) or reinject (inject into the new namespace for the remaining time; locally it follows --pid-file, --netns, --container-id or --pid, in Litmus mode the pod by name).',
  },
  {
    env: 'MEASURE_EFFECT', flag: '--measure-effect <bool>', default: 'true', section: 'effect', litmus: false, manifest: true,
    doc: 'Measure the effect from inside the target\'s namespace before, during and after the fault: TCP connect time to each dependency address with a port, ping RTT/loss to one without (at most 16 dependencies, about 5 s per phase plus the configured delay), and the packet/drop counters of each fault band. `inject` prints the table; Litmus mode puts it in the ChaosResult (status.netchaosEffect) and the Summary Event.',
  },
  {
    env: 'VERIFY_EFFECT', flag: '--verify-effect <bool>', default: 'false', section: 'effect', litmus: false, manifest: true,
    doc: 'Fail the run (exit 6; verdict Fail in Litmus mode) when the measured effect is far from the configured one: added latency outside ±(25 % + 5 ms + jitter) of the configured delay (twice the delay with DIRECTION=both), loss more than max(15 points, 2.5 sampling deviations) off, a port-excluded dependency slowed by half the delay its address gets (at least 10 ms), or a dependency still slowed after the revert (by 10 ms or more when pinged; when probed by TCP connect, by the same half-delay bound). Needs MEASURE_EFFECT=true.',
  },
  {
    env: 'CONTAINER_RUNTIME', flag: '--container-runtime <name>', default: 'auto', section: 'runtime', litmus: false, manifest: true,
    doc: 'How to find a container\'s network namespace: crio, containerd, docker or auto (decided by the pod\'s containerID prefix `cri-o://`, `containerd://`, `docker://`; locally by which socket exists). When the socket or the CLI (crictl/docker) is missing, netchaos falls back to scanning /proc/*/cgroup for the container ID (needs hostPID).',
  },
  {
    env: 'SOCKET_PATH', flag: '--socket-path <path>', default: '', section: 'runtime', litmus: false, manifest: true,
    doc: 'The runtime socket (mounted from the node). Empty = the runtime\'s default: /var/run/crio/crio.sock, /run/containerd/containerd.sock or /var/run/docker.sock. crictl is called with --runtime-endpoint unix://<SOCKET_PATH>, so no crictl.yaml is needed.',
  },
  {
    env: 'TARGETS', flag: '--targets <list>', default: '', section: 'targets', litmus: true, manifest: false, litmusOnly: true, semicolonList: true,
    doc: 'Target pods, as the chaos-operator passes them from the ChaosEngine: `<kind>:<namespace>:[<labels>|<names>]` entries separated by `;`, e.g. `deployment:shop:[app=frontend]` or `statefulset:shop:[db]`. kind: deployment, statefulset, daemonset, replicaset, deploymentconfig, rollout, pod (or empty: any). Empty = APP_NS/APP_LABEL/APP_KIND.',
  },
  {
    env: 'APP_NS', flag: '--app-ns <namespace>', default: '', section: 'targets', litmus: true, manifest: false, litmusOnly: true,
    doc: 'Older form of TARGETS: namespace of the target pods (with APP_LABEL and APP_KIND).',
  },
  {
    env: 'APP_LABEL', flag: '--app-label <selector>', default: '', section: 'targets', litmus: true, manifest: false, litmusOnly: true,
    doc: 'Older form of TARGETS: label selector of the target pods, e.g. `app=frontend`.',
  },
  {
    env: 'APP_KIND', flag: '--app-kind <kind>', default: '', section: 'targets', litmus: true, manifest: false, litmusOnly: true,
    doc: 'Older form of TARGETS: kind of the workload that owns the target pods (deployment, statefulset, …).',
  },
  {
    env: 'TARGET_PODS', flag: '--target-pods <list>', default: '', section: 'targets', litmus: true, manifest: true, litmusOnly: true,
    doc: 'Comma list of target pod names (in the TARGETS/APP_NS namespace); when set, these pods are the targets instead of the selector\'s.',
  },
  {
    env: 'PODS_AFFECTED_PERC', flag: '--pods-affected-perc <percent>', default: '', section: 'targets', litmus: true, manifest: true, litmusOnly: true,
    doc: 'Share of the matching pods to target, in percent (0 or empty = one pod), or a range `a-b` (a random share in it). Pods on this node are chosen first.',
  },
  {
    env: 'NODE_LABEL', flag: '--node-label <selector>', default: '', section: 'targets', litmus: true, manifest: true, litmusOnly: true,
    doc: 'Only pods on nodes with this label (e.g. `chaos=yes`) are candidates.',
  },
  {
    env: 'TARGET_CONTAINER', flag: '--target-container <name>', default: '', section: 'targets', litmus: true, manifest: true, litmusOnly: true,
    doc: 'Container whose network namespace is entered (all containers of a pod share it); empty = the pod\'s first container.',
  },
  {
    env: 'SEQUENCE', flag: '--sequence <mode>', default: 'parallel', section: 'targets', litmus: true, manifest: true, litmusOnly: true,
    doc: 'parallel: all target pods at once (with helper pods: all nodes at once); serial: one after the other, each for TOTAL_CHAOS_DURATION (with helper pods: one node after the other, and one pod after the other on each); random: serial in a random order (the selection is shuffled).',
  },
  {
    env: 'HELPER_MODE', flag: '--helper-mode <mode>', default: 'auto', section: 'targets', litmus: false, manifest: true, litmusOnly: true,
    doc: 'Targets on other nodes than this runner\'s: `auto` = when a selected pod runs on another node, one short-lived helper pod per node does the injection there (same image, pinned with nodeName; this runner then changes nothing itself); when all are on this node, they are injected in place. `never` = in place only: pods on other nodes are left alone, and none on this node is an error. `always` = helper pods even for this node (the runner then needs no privileges: no hostPID, capabilities or socket mount).',
  },
  {
    env: 'HELPER_START_TIMEOUT', flag: '--helper-start-timeout <seconds>', default: '120', section: 'targets', litmus: false, manifest: true, litmusOnly: true,
    doc: 'How long a helper pod may take to start (scheduling, image pull) before its node is reported as failed and the run is stopped, in seconds (also 90s, 5m).',
  },
  {
    env: 'LIB_IMAGE', flag: '--lib-image <image>', default: '', section: 'targets', litmus: false, manifest: true, litmusOnly: true,
    doc: 'Image of the helper pods. Empty = this runner\'s own image (litmus-go\'s default is a fixed go-runner image): it follows ChaosCenter\'s rewrite of the fault\'s image to your image registry, which does not touch this variable.',
  },
  {
    env: 'LIB_IMAGE_PULL_POLICY', flag: '--lib-image-pull-policy <policy>', default: '', section: 'targets', litmus: false, manifest: false, litmusOnly: true,
    doc: 'imagePullPolicy of the helper pods: Always, IfNotPresent or Never (the chaos-runner sets it to the ChaosExperiment\'s imagePullPolicy). Empty = this runner container\'s own.',
  },
  {
    env: 'TERMINATION_GRACE_PERIOD_SECONDS', flag: '--termination-grace-period-seconds <seconds>', default: '', section: 'targets', litmus: false, manifest: false, litmusOnly: true,
    doc: 'terminationGracePeriodSeconds of the helper pods, and the grace the runner deletes them with when the run stops (the chaos-runner sets it from the ChaosEngine\'s spec.terminationGracePeriodSeconds). Empty or 0 (the chaos-runner\'s value when the engine has none) = 30 s: a helper reverts on SIGTERM and needs a few seconds for it; below 10 s is allowed but warned about.',
  },
  {
    env: 'SET_HELPER_DATA', flag: '--set-helper-data <bool>', default: 'true', section: 'targets', litmus: true, manifest: false, litmusOnly: true,
    doc: 'Helper pods take this runner pod\'s annotations and its container\'s requests and limits (as litmus-go); false = labels only. Unlike litmus-go, tolerations and pull secrets are copied either way: a helper must be scheduled on the target\'s node and pull the image.',
  },
  {
    env: 'DEFAULT_HEALTH_CHECK', flag: '--default-health-check <bool>', default: 'false', section: 'targets', litmus: true, manifest: false, litmusOnly: true,
    doc: 'Check before and after the chaos that every pod of each TARGETS entry is Running with all containers ready, retried every STATUS_CHECK_DELAY up to STATUS_CHECK_TIMEOUT (a failed check is Warning event "AUT: Not Running").',
  },
  {
    env: 'STATUS_CHECK_DELAY', flag: '--status-check-delay <seconds>', default: '2', section: 'targets', litmus: true, manifest: false, litmusOnly: true,
    doc: 'Seconds between two tries of the status check (set by the chaos-runner from the engine\'s components.statusCheckTimeouts.delay).',
  },
  {
    env: 'STATUS_CHECK_TIMEOUT', flag: '--status-check-timeout <seconds>', default: '180', section: 'targets', litmus: true, manifest: false, litmusOnly: true,
    doc: 'How long the status check (and a cmdProbe\'s probe pod start) may keep trying, in seconds (set by the chaos-runner from components.statusCheckTimeouts.timeout).',
  },
  {
    env: 'CHAOS_NAMESPACE', flag: '--chaos-namespace <namespace>', default: 'litmus', section: 'litmus', litmus: true, manifest: false, litmusOnly: true,
    doc: 'Namespace of the ChaosEngine and ChaosResult (set by the chaos-operator).',
  },
  {
    env: 'CHAOSENGINE', flag: '--chaosengine <name>', default: '', section: 'litmus', litmus: true, manifest: false, litmusOnly: true,
    doc: 'Name of the ChaosEngine (set by the chaos-operator). Empty = no ChaosResult and no Events are written (logs only).',
  },
  {
    env: 'CHAOS_UID', flag: '--chaos-uid <uid>', default: '', section: 'litmus', litmus: true, manifest: false, litmusOnly: true,
    doc: 'UID of the ChaosEngine (set by the chaos-operator); labels the ChaosResult (`chaosUID`).',
  },
  {
    env: 'EXPERIMENT_NAME', flag: '--experiment-name <name>', default: '', section: 'litmus', litmus: true, manifest: false, litmusOnly: true,
    doc: 'Name of the ChaosExperiment (set by the chaos-runner); the ChaosResult is `<CHAOSENGINE>-<EXPERIMENT_NAME>`. Required with CHAOSENGINE.',
  },
  {
    env: 'INSTANCE_ID', flag: '--instance-id <id>', default: '', section: 'litmus', litmus: true, manifest: true, litmusOnly: true,
    doc: 'Appended to the ChaosResult name (`-<INSTANCE_ID>`) when set.',
  },
  {
    env: 'POD_NAME', flag: '--pod-name <name>', default: '', section: 'litmus', litmus: false, manifest: false, litmusOnly: true,
    doc: 'This runner\'s pod (set by the chaos-runner); the source of Events, and, in CHAOS_NAMESPACE, where helper pods take their image, service account, tolerations, pull secrets, labels, annotations and resources from.',
  },
  {
    env: 'NODE_NAME', flag: '--node-name <name>', default: '', section: 'litmus', litmus: false, manifest: true, litmusOnly: true, fieldRef: 'spec.nodeName',
    doc: 'This runner\'s node (downward API spec.nodeName): target pods on it are injected in place, pods on other nodes through helper pods (HELPER_MODE); required by `netchaos run`.',
  },
  {
    env: 'LOG_LEVEL', flag: '--log-level <level>', default: 'info', section: 'output', litmus: false, manifest: true,
    doc: 'debug, info, warn or error. Logs are JSON lines on stderr.',
  },
  {
    env: 'OUTPUT', flag: '--output <format>', default: 'text', section: 'output', litmus: false, manifest: false,
    doc: '`plan` and `deps` output: text or json.',
  },
  {
    env: 'BLAST_RADIUS', flag: '--blast-radius <bool>', default: 'true', section: 'output', litmus: false, manifest: true,
    doc: '`plan` with a target, and Litmus mode before the chaos (ChaosResult status.netchaosBlastRadius, Event BlastRadius): list the target\'s live connections (read from its /proc/<pid>/net tables) and mark each one faulted (band, fault) or untouched; warn about a named dependency with no live connection and about live traffic to a Service ClusterIP the filters miss.',
  },
  {
    env: 'PEER_NAMESPACES', flag: '--peer-namespaces <list>', default: '', section: 'output', litmus: false, manifest: false,
    doc: '`deps`: comma list of Kubernetes namespaces whose Services, EndpointSlices and Running pods name the target\'s peers (besides the namespaces of DESTINATION_PODS and DESTINATION_SERVICES); needs `list` on them. Peers still unnamed are looked up by reverse DNS with the target\'s resolver.',
  },
] as const satisfies readonly Variable[];

export type VariableName = (typeof variables)[number]['env'];

export function variable(name: VariableName): Variable {
  const found: Variable | undefined = variables.find((v) => v.env === name);
  if (!found) throw new Error(`no variable ${name}`);
  return found;
}

/** The long flag without its argument, e.g. `--latency`. */
export const flagName = (v: Variable): string => v.flag.split(' ')[0] ?? v.flag;

/** commander's attribute name for a flag: `--destination-ips` → `destinationIps`. */
export const optionKey = (v: Variable): string =>
  flagName(v).replace(/^--/, '').replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
