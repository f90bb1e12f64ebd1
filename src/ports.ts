/**
 * Every side effect netchaos has comes in through these narrow ports, gathered in one `Deps` object (a
 * function that needs less takes `Pick<Deps, …>`). The real ones live in src/host/ (exec, clock, files,
 * processes, signals, log), src/netns/ (tc), src/kube/ (the API), src/resolve/ (DNS) and src/effect/
 * (the prober); the composition root (src/cli/host.ts) builds them once per run; tests pass fakes.
 */
import type { CoreV1Event, V1EndpointSlice, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import type { NetnsRef } from './model/netns.js';
import type { Stop, StopSignalName } from './model/stop.js';
import type { BatchFailure, IngressState, Owner, Qdisc, QdiscCounter, RevertResult } from './model/tc.js';
import type { WorkerRequest, WorkerResult } from './model/probe.js';

/** One level's method of the log (pino's signatures that netchaos uses): fields and a message, or a message. */
export interface LogFn {
  (fields: object, message?: string): void;
  (message: string): void;
}

/** The log: JSON lines on stderr (pino in src/host/log.ts); `child` adds fields to every line. */
export interface Logger {
  readonly debug: LogFn;
  readonly info: LogFn;
  readonly warn: LogFn;
  readonly error: LogFn;
  child(fields: Record<string, unknown>): Logger;
}

export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ExecOptions {
  /**
   * Written to stdin: one string, or pieces written one after another as they are produced (a batch of 10,000
   * lines is streamed in chunks instead of being joined into one string and copied into one buffer).
   */
  readonly input?: string | Iterable<string>;
  readonly timeoutMs?: number;
  /** Kills the process when it aborts (the effect probe on SIGTERM: the revert must not wait for it). */
  readonly signal?: AbortSignal;
}

/** Runs a binary with an argv array (never a shell). Throws RuntimeError only when it cannot start. */
export type Exec = (file: string, args: readonly string[], options?: ExecOptions) => Promise<ExecResult>;

export interface Clock {
  readonly now: () => number;
  /** Resolves after ms, or early (without throwing) when the signal aborts. */
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** The process's stop signals (the composition root turns them into the run's Stop). */
export interface Signals {
  readonly on: (signal: StopSignalName, handler: () => void) => void;
  readonly off: (signal: StopSignalName, handler: () => void) => void;
}

/** Read-only access to this machine's (the node's) files. */
export interface Files {
  /**
   * Throws when unreadable. A path under `/proc/<pid>/root/` is read as that process sees it: its symlinks
   * are resolved inside its root, never into this machine's filesystem.
   */
  readonly readText: (path: string) => string;
  /** Entry names of a directory; [] when it is missing or unreadable. */
  readonly list: (path: string) => string[];
  readonly exists: (path: string) => boolean;
  /** The absolute path of an executable on the search path (PATH), or undefined. */
  readonly findExecutable: (name: string) => string | undefined;
  /** The identity of a namespace file (`net:[4026532001]`), or undefined when it is gone. */
  readonly namespaceId: (path: string) => Promise<string | undefined>;
}

/** Processes that outlive this one (the dead-man watchdog). */
export interface Processes {
  /**
   * Starts `file args` in a new session (setsid: its own process group, no terminal), not waited
   * for; stdout and stderr go to `logPath` when it can be opened. Returns its PID.
   */
  readonly detach: (file: string, args: readonly string[], logPath: string | undefined) => number;
  /** Sends a signal; false when there is no such process. */
  readonly kill: (pid: number, signal: NodeJS.Signals) => boolean;
}

/** Per call: the run's signal, so a stopping run does not wait for the answer. */
export interface CallOptions {
  readonly signal?: AbortSignal | undefined;
}

export interface ListOptions extends CallOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

/** The Kubernetes API calls netchaos makes (and only those: see src/kube/permissions.ts). */
export interface KubeApi {
  listPods(namespace: string, opts?: ListOptions): Promise<V1Pod[]>;
  /** The pod, or undefined when there is none (any more). */
  getPod(namespace: string, name: string, opts?: CallOptions): Promise<V1Pod | undefined>;
  createPod(namespace: string, body: V1Pod, opts?: CallOptions): Promise<V1Pod>;
  /** Deletes with this grace period (the kubelet sends SIGTERM, then SIGKILL after it); a pod already gone is fine. */
  deletePod(namespace: string, name: string, gracePeriodSeconds: number, opts?: CallOptions): Promise<void>;
  listNodes(labelSelector: string, opts?: CallOptions): Promise<V1Node[]>;
  getService(namespace: string, name: string, opts?: CallOptions): Promise<V1Service>;
  listEndpointSlices(namespace: string, service: string, opts?: CallOptions): Promise<V1EndpointSlice[]>;
  /** The ChaosEngine's uid (for Events). */
  getChaosEngineUid(namespace: string, name: string, opts?: CallOptions): Promise<string>;
  /** The ChaosResult as JSON, or undefined when there is none yet. */
  getChaosResult(namespace: string, name: string, opts?: CallOptions): Promise<unknown>;
  /** The ChaosResult as created (its uid). */
  createChaosResult(namespace: string, body: object, opts?: CallOptions): Promise<unknown>;
  /** JSON merge patch (the ChaosResult CRD has no status subresource: status is patched on the object). */
  patchChaosResult(namespace: string, name: string, patch: object, opts?: CallOptions): Promise<void>;
  createEvent(namespace: string, body: CoreV1Event, opts?: CallOptions): Promise<void>;
}

/** A resolv.conf as glibc reads it. */
export interface ResolvConf {
  readonly nameservers: readonly string[];
  readonly search: readonly string[];
  readonly ndots: number;
  readonly timeoutS: number;
  readonly attempts: number;
}

/** One A or AAAA record with its TTL in seconds. */
export interface DnsRecord {
  readonly address: string;
  readonly ttl: number;
}

/** A DNS client set up for one resolv.conf (its timeout and attempts). */
export interface DnsResolver {
  setServers(servers: readonly string[]): void;
  resolve4(host: string): Promise<DnsRecord[]>;
  resolve6(host: string): Promise<DnsRecord[]>;
  /** Ends the queries under way (they fail with ECANCELLED): after a deadline or a stop. */
  cancel?(): void;
}

/** Makes a DNS client for a resolv.conf (the target's own); the real one loads node:dns on its first call. */
export type Resolver = (conf: ResolvConf) => DnsResolver | Promise<DnsResolver>;

/**
 * tc and ip inside one network namespace. The real one (src/netns/tc.ts) runs them through nsenter; every
 * output is validated (src/tc/parse.ts). None of these calls is cancelled by the run's Stop.
 */
export interface TcPort {
  /** The qdiscs of one interface; a RuntimeError names a missing interface (and those there are) or a namespace that cannot be entered. */
  qdiscs(netns: NetnsRef, dev: string): Promise<Qdisc[]>;
  /** Every qdisc of every interface (each with its `dev`). */
  allQdiscs(netns: NetnsRef): Promise<Qdisc[]>;
  /** The owner marker of our tree on `dev`; 'none' when there is no readable one, 'gone' when the namespace or interface is. */
  readMarker(netns: NetnsRef, dev: string): Promise<Owner | 'none' | 'gone'>;
  /** Runs the lines as one `tc -batch`: undefined on success, or where it failed. */
  apply(netns: NetnsRef, lines: readonly string[]): Promise<BatchFailure | undefined>;
  /**
   * Deletes our root on `dev` (the kernel refuses unless its handle is ours) and reads back what is left. With
   * `runId`, only when that run's marker is there, checked in the same tc batch (else `otherRun`/not removed):
   * its node `node` as read from the tree (a tree of the 7ff::1 format), else `markerNode(runId)`.
   */
  revertOnce(netns: NetnsRef, dev: string, runId?: string, node?: string): Promise<RevertResult>;
  /**
   * `revertOnce` without a run (whatever of ours is there) and the ingress state read in the same batch
   * (`readIngress` after it): one exec for `netchaos revert` of an egress-only tree. `ingress` is undefined when
   * the egress part did not end clean, or the ingress side could not be read.
   */
  revertWithIngress(netns: NetnsRef, dev: string): Promise<{ readonly egress: RevertResult; readonly ingress: IngressState | undefined }>;
  /** The ingress slot of `dev`, its filters and our ifb, read after running `first` (deletes) in the same batch. */
  readIngress(netns: NetnsRef, dev: string, first?: readonly string[]): Promise<IngressState>;
  /** Runs `ip -batch` lines (create the ifb and set it up): an error text when it failed. */
  addLinks(netns: NetnsRef, lines: readonly string[]): Promise<string | undefined>;
  /** Deletes a link and lists the ifb devices left; `left` is undefined when ip printed no list. */
  deleteLink(netns: NetnsRef, name: string): Promise<{ readonly left: readonly string[] | undefined; readonly error: string }>;
}

/** MEASURE_EFFECT's probes and counters, from inside the target's namespace (src/effect/probe.ts). */
export interface EffectProber {
  /** Runs the probes inside the namespace; one result per destination id. */
  readonly probe: (netns: NetnsRef, request: WorkerRequest, signal?: AbortSignal) => Promise<Record<string, WorkerResult>>;
  /** The counters of every qdisc on these devices. */
  readonly counters: (netns: NetnsRef, devices: readonly string[]) => Promise<QdiscCounter[]>;
}

/** All the ports of one run, and its cancellation. */
export interface Deps {
  readonly exec: Exec;
  readonly clock: Clock;
  readonly files: Files;
  readonly processes: Processes;
  readonly log: Logger;
  /** Loads @kubernetes/client-node on its first call only. */
  readonly kube: KubeApi;
  readonly resolver: Resolver;
  readonly tc: TcPort;
  /** MEASURE_EFFECT; absent = nothing is measured. */
  readonly prober?: EffectProber;
  readonly random: () => number;
  /** The run's cancellation: race it in every wait; never pass it to a revert. */
  readonly stop: Stop;
}
