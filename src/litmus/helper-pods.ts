/**
 * The runner's side of multi-node runs: one short-lived helper pod per node with targets, created in
 * CHAOS_NAMESPACE from this runner's own pod (image unless LIB_IMAGE, service account, tolerations, pull secrets,
 * hostPath mounts; labels, annotations and resources as litmus-go's SetHelperData), pinned with nodeName, privileged only as far as the injection needs (hostPID, NET_ADMIN,
 * SYS_ADMIN, SYS_PTRACE; NET_RAW and SYS_CHROOT only when its settings need them: see `capabilitiesFor`). The runner waits for each (bounded: start and run time), reads its result from
 * the termination message, and deletes it on every path; on SIGTERM it deletes them with a short grace so
 * their own SIGTERM handling reverts first.
 */
import type { V1Container, V1Pod, V1ResourceRequirements, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { RuntimeError, messageOf } from '../model/errors.js';
import { type TargetPod, type TargetStatus, podText } from '../model/kube.js';
import { type HelperPodSettings, RESULT_PATH, type Sequence } from '../model/litmus.js';
import { type RuntimeOptions, defaultSockets, parseContainerId } from '../model/runtime.js';
import type { Deps } from '../ports.js';
import { capabilities } from '../kube/permissions.js';
import { type HelperResult, JOB_ENV, decodeResult } from './helper-job.js';

/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- the V1* classes of @kubernetes/client-node are generated data holders (public fields only); the client serializes plain objects through its type map */

export const HELPER_CONTAINER = 'netchaos-helper';
export const HELPER_LABELS = {
  'app.kubernetes.io/name': 'netchaos',
  'app.kubernetes.io/component': 'experiment-job-helper',
  'app.kubernetes.io/part-of': 'litmus',
} as const;
/** Label with the runner pod's uid: `kubectl get pods -l netchaos.io/runner-uid=<uid>` finds one run's helpers. */
export const RUNNER_UID_LABEL = 'netchaos.io/runner-uid';
/**
 * The helper's grace when the runner deletes it (stop, timeout, another node failed): enough to finish a tc
 * batch under way (10,000 destinations: about 2 s, bench/results.md), revert (3 attempts, 1.5 s of backoff),
 * disarm the dead-man (systemctl, at most 15 s) and write its result. A helper that is done sooner exits sooner.
 */
export const STOP_GRACE_S = 30;
/**
 * How long the runner waits, after deleting a helper, for its result: shorter than the grace, so that the runner
 * itself ends within its own pod's grace; the helper reverts whether or not its result is seen.
 */
const RESULT_WAIT_S = 20;
/** The helper's own terminationGracePeriodSeconds (activeDeadlineSeconds, a node drain) when TERMINATION_GRACE_PERIOD_SECONDS is not set. */
export const HELPER_GRACE_S = 30;
/** Below this, a helper may be killed before its revert and result are done: allowed (the user asked for it), warned about. */
export const SHORT_GRACE_S = 10;

/** The helpers' grace (TERMINATION_GRACE_PERIOD_SECONDS, else HELPER_GRACE_S): their terminationGracePeriodSeconds and the grace they are deleted with. */
export const helperGraceS = (settings: HelperPodSettings): number => settings.graceS ?? HELPER_GRACE_S;

/**
 * The runner pod's labels a helper inherits, as litmus-go's SetHelperData (pkg/utils/common/pods.go): all but the
 * Job's own (`*job-name`, `*controller-uid`), which would make the runner's Job count the helper as one of its pods.
 */
export function inheritedLabels(labels: Readonly<Record<string, string>> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(labels ?? {}).filter(([k]) => !k.endsWith('job-name') && !k.endsWith('controller-uid')));
}

/** What a helper pod takes from this runner's own pod. */
export interface RunnerPod {
  readonly name: string;
  readonly uid: string;
  readonly image: string;
  readonly imagePullPolicy: string | undefined;
  readonly serviceAccountName: string | undefined;
  readonly tolerations: NonNullable<V1Pod['spec']>['tolerations'];
  readonly imagePullSecrets: NonNullable<V1Pod['spec']>['imagePullSecrets'];
  /** The runner container's hostPath volumes and their mounts (the ChaosExperiment's hostFileVolumes). */
  readonly hostPaths: readonly { readonly volume: V1Volume; readonly mount: V1VolumeMount }[];
  /** The runner pod's labels and annotations, and its container's requests and limits (litmus-go copies them to helpers). */
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly resources: V1ResourceRequirements | undefined;
}

/** The runner's container: the one named after the experiment (as the chaos-runner names it), else the first. */
export function readRunnerPod(pod: V1Pod, experimentName: string): RunnerPod {
  const containers = pod.spec?.containers ?? [];
  const c: V1Container | undefined = containers.find((x) => x.name === experimentName) ?? containers[0];
  const name = pod.metadata?.name ?? '';
  if (!c?.image) throw new RuntimeError(`this runner's pod ${name} has no container image to give the helper pods`);
  const volumes = pod.spec?.volumes ?? [];
  const hostPaths = (c.volumeMounts ?? []).flatMap((mount) => {
    const volume = volumes.find((v) => v.name === mount.name && v.hostPath !== undefined);
    return volume ? [{ volume, mount }] : [];
  });
  // Requests and limits only: resource claims name the runner pod's own spec.resourceClaims.
  const { requests, limits } = c.resources ?? {};
  const resources = requests || limits ? { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) } : undefined;
  return {
    name, uid: pod.metadata?.uid ?? '', image: c.image, imagePullPolicy: c.imagePullPolicy, serviceAccountName: pod.spec?.serviceAccountName,
    tolerations: pod.spec?.tolerations, imagePullSecrets: pod.spec?.imagePullSecrets, hostPaths,
    labels: pod.metadata?.labels ?? {}, annotations: pod.metadata?.annotations ?? {}, resources,
  };
}

/** `<runner>-helper-<n>`, at most 63 characters (a pod's hostname). */
export function helperName(runner: string, index: number): string {
  const suffix = `-helper-${index}`;
  return `${runner.slice(0, 63 - suffix.length).replace(/[-.]+$/, '')}${suffix}`;
}

/**
 * The hostPath volumes of a helper: the runner's own (so the platform's mounts, e.g. CRI-O's socket and
 * /var/run/netns, are configured in one place), or, for a runner without any, the runtime socket the
 * helper will use (SOCKET_PATH, else the default of the runtime named by CONTAINER_RUNTIME or by the
 * targets' containerID prefix), type Socket so a wrong path fails at start instead of creating a directory.
 */
export function helperHostPaths(runner: RunnerPod, runtime: RuntimeOptions, targets: readonly TargetPod[]): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  if (runner.hostPaths.length > 0) {
    return {
      volumes: runner.hostPaths.map((h) => {
        const type = h.volume.hostPath?.type;
        return { name: h.volume.name, hostPath: { path: h.volume.hostPath?.path ?? '', ...(type ? { type } : {}) } };
      }),
      mounts: runner.hostPaths.map((h) => ({ name: h.mount.name, mountPath: h.mount.mountPath, ...(h.mount.readOnly !== undefined ? { readOnly: h.mount.readOnly } : {}) })),
    };
  }
  const fromTargets = targets.map((t) => parseContainerId('containerID', t.containerId).runtime).find((r) => r !== undefined);
  const kind = runtime.runtime !== 'auto' ? runtime.runtime : fromTargets;
  const socket = runtime.socketPath ?? (kind ? defaultSockets[kind] : undefined);
  if (socket === undefined) return { volumes: [], mounts: [] };
  return { volumes: [{ name: 'runtime-socket', hostPath: { path: socket, type: 'Socket' } }], mounts: [{ name: 'runtime-socket', mountPath: socket }] };
}

export interface HelperPodOptions {
  readonly name: string;
  readonly namespace: string;
  readonly node: string;
  readonly runner: RunnerPod;
  /** The encoded job (env NETCHAOS_HELPER_JOB). */
  readonly job: string;
  readonly chaosUid: string;
  readonly runtime: RuntimeOptions;
  readonly targets: readonly TargetPod[];
  /** The kubelet stops the helper (SIGTERM: it reverts) after this long, even when the runner is gone. */
  readonly activeDeadlineSeconds: number;
  /** The capabilities its run needs (`capabilitiesFor`); default: all of `capabilities`. */
  readonly capabilities?: readonly string[];
  /**
   * The helper lists pods / EndpointSlices again during the run (DEPENDENCY_REFRESH with DESTINATION_PODS or
   * DESTINATION_SERVICES): it gets the runner's service account token (the `targets` Role's read-only rights in
   * the dependencies' namespaces). Otherwise no token: the runner resolved everything it needs.
   */
  readonly apiAccess?: boolean;
  /** LIB_IMAGE, LIB_IMAGE_PULL_POLICY, TERMINATION_GRACE_PERIOD_SECONDS (default: the runner's image and pull policy, HELPER_GRACE_S). */
  readonly settings?: HelperPodSettings;
}

/** The helper pod, exactly as it is created. Pure. */
export function helperPod(o: HelperPodOptions): V1Pod {
  const { runner } = o;
  const { volumes, mounts } = helperHostPaths(runner, o.runtime, o.targets);
  const settings = o.settings ?? { image: undefined, pullPolicy: undefined, graceS: undefined, copyRunnerData: true };
  const annotations = settings.copyRunnerData ? runner.annotations : {};
  const resources = settings.copyRunnerData ? runner.resources : undefined;
  // The runner's labels (engine labels such as workflow_run_id, chaosUID: the operator's abort deletes every pod
  // labelled chaosUID=<uid>), ours on top.
  const labels: Record<string, string> = { ...inheritedLabels(runner.labels), ...HELPER_LABELS, [RUNNER_UID_LABEL]: runner.uid };
  if (/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(o.chaosUid)) labels['chaosUID'] = o.chaosUid;
  const pullPolicy = settings.pullPolicy ?? runner.imagePullPolicy;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: o.name,
      namespace: o.namespace,
      labels,
      ...(Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {}),
      // Garbage-collected with the runner's pod; no blockOwnerDeletion (that needs update on the owner's finalizers).
      ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: runner.name, uid: runner.uid }],
    },
    spec: {
      nodeName: o.node,
      hostPID: true,
      restartPolicy: 'Never',
      activeDeadlineSeconds: o.activeDeadlineSeconds,
      terminationGracePeriodSeconds: helperGraceS(settings),
      ...(runner.serviceAccountName ? { serviceAccountName: runner.serviceAccountName } : {}),
      // Without a live Kubernetes dependency the helper never calls the API: the runner resolved everything it needs.
      automountServiceAccountToken: o.apiAccess === true,
      enableServiceLinks: false,
      ...(runner.tolerations?.length ? { tolerations: runner.tolerations } : {}),
      ...(runner.imagePullSecrets?.length ? { imagePullSecrets: runner.imagePullSecrets } : {}),
      containers: [{
        name: HELPER_CONTAINER,
        image: settings.image ?? runner.image,
        ...(pullPolicy ? { imagePullPolicy: pullPolicy } : {}),
        command: ['netchaos'],
        args: ['helper'],
        env: [
          { name: JOB_ENV, value: o.job },
          { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        ],
        securityContext: {
          capabilities: { drop: ['ALL'], add: [...(o.capabilities ?? capabilities)] },
          runAsUser: 0,
          readOnlyRootFilesystem: true,
          seccompProfile: { type: 'RuntimeDefault' },
        },
        ...(resources ? { resources } : {}),
        ...(mounts.length ? { volumeMounts: mounts } : {}),
        terminationMessagePath: RESULT_PATH,
        terminationMessagePolicy: 'File',
      }],
      ...(volumes.length ? { volumes } : {}),
    },
  };
}

/** How one node's helper ended. */
export type NodeOutcome = {
  readonly node: string;
  readonly pod: string;
  readonly targets: readonly TargetPod[];
  /** Per target, from the helper's result ('targeted' when unknown). */
  readonly status: ReadonlyMap<string, TargetStatus>;
  /** The helper was seen running or reported a change: the fault may have been applied. */
  readonly started: boolean;
  readonly result: HelperResult | undefined;
} & (
  | { readonly kind: 'completed' }
  | { readonly kind: 'failed' | 'not-started' | 'timeout' | 'gone' | 'stopped' | 'skipped'; readonly message: string }
);

export interface NodeJob {
  readonly node: string;
  readonly targets: readonly TargetPod[];
  readonly pod: V1Pod;
}

export interface HelperRunOptions {
  readonly namespace: string;
  readonly jobs: readonly NodeJob[];
  readonly sequence: Sequence;
  readonly startTimeoutS: number;
  /** How long a helper may run once started. */
  readonly runTimeoutS: number;
  /** The grace helpers are deleted with when the run stops (their terminationGracePeriodSeconds); default STOP_GRACE_S. */
  readonly graceS?: number;
  readonly pollMs?: number;
  /** Called once per node as soon as its outcome is known. */
  readonly onOutcome?: (o: NodeOutcome) => void;
}

type Observed =
  | { readonly state: 'pending'; readonly why: string }
  | { readonly state: 'running' }
  | { readonly state: 'ended'; readonly exitCode: number | undefined; readonly message: string | undefined; readonly why: string };

/** What the pod's status says: still pending (and why), running, or ended (exit code, termination message). */
export function observe(pod: V1Pod): Observed {
  const cs = (pod.status?.containerStatuses ?? []).find((c) => c.name === HELPER_CONTAINER);
  const terminated = cs?.state?.terminated;
  const phase = pod.status?.phase ?? 'Pending';
  if (terminated) {
    return { state: 'ended', exitCode: terminated.exitCode, message: terminated.message, why: [terminated.reason, terminated.message ? '' : 'no termination message'].filter(Boolean).join(', ') };
  }
  if (phase === 'Succeeded' || phase === 'Failed') {
    return { state: 'ended', exitCode: undefined, message: undefined, why: [phase, pod.status?.reason, pod.status?.message].filter(Boolean).join(': ') };
  }
  if (phase === 'Running' || cs?.state?.running) return { state: 'running' };
  const waiting = cs?.state?.waiting;
  const unscheduled = (pod.status?.conditions ?? []).find((c) => c.status === 'False' && c.message);
  const why = waiting ? [waiting.reason, waiting.message].filter(Boolean).join(': ')
    : unscheduled ? `${unscheduled.type}: ${unscheduled.message ?? ''}`
      : 'no status from the node\'s kubelet (is the node Ready?)';
  return { state: 'pending', why };
}

/** Per target, from the helper's result ('targeted' when unknown). */
function statusOf(job: NodeJob, result: HelperResult | undefined): Map<string, TargetStatus> {
  const status = new Map<string, TargetStatus>(job.targets.map((t) => [podText(t), 'targeted']));
  if (!result) return status;
  for (const t of result.targets) if (status.has(t.pod)) status.set(t.pod, t.status);
  if ((result.moreReverted ?? 0) > 0) for (const [k, v] of status) if (v === 'targeted' && !result.targets.some((t) => t.pod === k)) status.set(k, 'reverted');
  return status;
}

/** An outcome without a result from the helper. */
function without(job: NodeJob, started: boolean, kind: Exclude<NodeOutcome['kind'], 'completed'>, message: string): NodeOutcome {
  return { node: job.node, pod: job.pod.metadata?.name ?? '', targets: job.targets, status: statusOf(job, undefined), started, result: undefined, kind, message };
}

/** Reads the result of an ended helper; a failure message when there is none or it failed. */
function ended(job: NodeJob, name: string, seen: Extract<Observed, { state: 'ended' }>, started: boolean): NodeOutcome {
  const decoded = seen.message !== undefined && seen.message.trim() !== '' ? decodeResult(seen.message) : undefined;
  const result = typeof decoded === 'object' ? decoded : undefined;
  const base = { node: job.node, pod: name, targets: job.targets, status: statusOf(job, result), started: started || result !== undefined, result };
  if (result?.outcome === 'completed' && seen.exitCode === 0) return { ...base, kind: 'completed' };
  if (result?.outcome === 'stopped') return { ...base, kind: 'stopped', message: `stopped (exit ${result.exitCode}); its targets were reverted first` };
  const detail = result?.error ? `${result.error.code}: ${result.error.message}`
    : typeof decoded === 'string' ? decoded : seen.why || 'no result';
  return { ...base, kind: 'failed', message: `helper pod ${name} failed (exit ${seen.exitCode ?? '?'}): ${detail}` };
}

type HelperDeps = Pick<Deps, 'kube' | 'clock' | 'log' | 'stop'>;

/**
 * Runs the helpers (parallel: all nodes at once; serial: one after the other) and returns each node's outcome.
 * A node that fails stops the others (the run's Stop); on a stop every helper is deleted with a short grace, so
 * it reverts first; every helper created is deleted at the end, whatever happened.
 */
export async function runHelpers(deps: HelperDeps, o: HelperRunOptions): Promise<NodeOutcome[]> {
  return new HelperRun(deps, o).run();
}

class HelperRun {
  private readonly created = new Set<string>();
  private readonly deleted = new Set<string>();
  private readonly outcomes: NodeOutcome[] = [];
  private readonly pollMs: number;
  private readonly graceS: number;
  /** How long, after deleting a helper, its result is waited for: within its grace, so the runner ends within its own. */
  private readonly resultWaitS: number;

  constructor(private readonly deps: HelperDeps, private readonly o: HelperRunOptions) {
    this.pollMs = o.pollMs ?? 2000;
    this.graceS = o.graceS ?? STOP_GRACE_S;
    this.resultWaitS = Math.min(RESULT_WAIT_S, this.graceS);
  }

  async run(): Promise<NodeOutcome[]> {
    const { o } = this;
    try {
      if (o.sequence === 'parallel') {
        await Promise.all(o.jobs.map(async (j) => { this.record(await this.runOne(j)); }));
      } else {
        for (const j of o.jobs) {
          this.record(this.deps.stop.stopped ? without(j, false, 'skipped', 'not started: the run was stopped before this node\'s turn') : await this.runOne(j));
        }
      }
    } finally {
      for (const name of this.created) await this.remove(name, this.graceS);
    }
    return o.jobs.map((j) => this.outcomes.find((x) => x.node === j.node)).filter((x): x is NodeOutcome => x !== undefined);
  }

  private record(out: NodeOutcome): void {
    this.outcomes.push(out);
    this.o.onOutcome?.(out);
    if (out.kind !== 'completed' && out.kind !== 'stopped' && out.kind !== 'skipped') this.deps.stop.stopInternally('another node failed');
  }

  private async remove(name: string, grace: number): Promise<void> {
    if (this.deleted.has(name)) return;
    try {
      await this.deps.kube.deletePod(this.o.namespace, name, grace);
      this.deleted.add(name);
    } catch (error) {
      this.deps.log.error({ pod: name, err: messageOf(error) }, `could not delete helper pod ${name}: delete it with kubectl delete pod -n ${this.o.namespace} ${name} (it reverts on SIGTERM)`);
    }
  }

  /** The pod, undefined when it is gone, or an error text when the API did not answer (the caller polls again, within its bounds). */
  private async read(name: string, signal?: AbortSignal): Promise<V1Pod | undefined | { error: string }> {
    try {
      return await this.deps.kube.getPod(this.o.namespace, name, { signal });
    } catch (error) {
      if (signal?.aborted) return { error: 'the run is stopping' };
      const text = messageOf(error);
      this.deps.log.warn({ pod: name, err: text }, `could not read helper pod ${name}; trying again`);
      return { error: text };
    }
  }

  /** Creates one node's helper and polls it (bounded: start and run time) until it ends or the run stops. */
  private async runOne(job: NodeJob): Promise<NodeOutcome> {
    const { deps, o } = this;
    const name = job.pod.metadata?.name ?? '';
    try {
      await deps.kube.createPod(o.namespace, job.pod);
    } catch (error) {
      return without(job, false, 'not-started', `helper pod ${name} was not created: ${messageOf(error)}`);
    }
    this.created.add(name);
    deps.log.info({ node: job.node, pod: name, targets: job.targets.map(podText) }, `helper pod ${name} created on node ${job.node} for ${job.targets.map(podText).join(', ')}`);
    const createdAt = deps.clock.now();
    let startedAt: number | undefined;
    for (;;) {
      if (deps.stop.stopped) {
        return this.stop(job, name, startedAt !== undefined, 'stopped', deps.stop.received ? `stopped by ${deps.stop.received}` : 'stopped because another node failed');
      }
      const pod = await this.read(name, deps.stop.signal);
      if (deps.stop.stopped) continue; // the stop path above deletes it and reads its result
      if (!pod) return without(job, startedAt !== undefined, 'gone', `helper pod ${name} disappeared before it reported (deleted or evicted by someone else)`);
      const seen: Observed = 'error' in pod ? (startedAt !== undefined ? { state: 'running' } : { state: 'pending', why: `status unreadable: ${pod.error}` }) : observe(pod);
      const now = deps.clock.now();
      if (seen.state === 'ended') {
        const out = ended(job, name, seen, startedAt !== undefined);
        await this.remove(name, 0);
        return out;
      }
      if (seen.state === 'running') {
        startedAt ??= now;
        if (now - startedAt > o.runTimeoutS * 1000) return this.stop(job, name, true, 'timeout', `helper pod ${name} did not finish within ${o.runTimeoutS} s of starting`);
      } else if (now - createdAt > o.startTimeoutS * 1000) {
        return this.stop(job, name, false, 'not-started', `helper pod ${name} did not start within ${o.startTimeoutS} s (HELPER_START_TIMEOUT): ${seen.why}`);
      }
      await deps.clock.sleep(this.pollMs, deps.stop.signal);
    }
  }

  /**
   * Deletes a helper with a short grace (it reverts on SIGTERM) and waits, bounded, for its result. Not cut short by the Stop.
   * A helper that has already ended is read first and then deleted at once: the apiserver removes a Succeeded or Failed
   * pod without grace, and its result (the termination message) with it.
   */
  private async stop(job: NodeJob, name: string, started: boolean, kind: 'stopped' | 'not-started' | 'timeout', why: string): Promise<NodeOutcome> {
    const asEnded = (seen: Extract<Observed, { state: 'ended' }>): NodeOutcome => {
      const out = ended(job, name, seen, started);
      return out.kind === 'completed' || out.kind === 'failed' ? out : { ...out, kind, message: `${why}; ${out.message}` };
    };
    const first = await this.read(name);
    const already = first && !('error' in first) ? observe(first) : undefined;
    if (already?.state === 'ended') {
      await this.remove(name, 0);
      return asEnded(already);
    }
    await this.remove(name, this.graceS);
    const until = this.deps.clock.now() + this.resultWaitS * 1000;
    let message = `${why}; deleted with a ${this.graceS} s grace period`;
    for (;;) {
      const pod = await this.read(name);
      if (!pod) { message += started ? ' (its result was not seen before the pod was gone: it reverts on SIGTERM)' : ' before it started'; break; }
      const seen = 'error' in pod ? undefined : observe(pod);
      if (seen?.state === 'ended') return asEnded(seen);
      if (this.deps.clock.now() >= until) { message += seen ? `, still ${seen.state} ${this.resultWaitS} s later` : '; its status could not be read'; break; }
      await this.deps.clock.sleep(Math.min(this.pollMs, 1000));
    }
    return without(job, started, kind, message);
  }
}
