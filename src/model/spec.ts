/**
 * The run's typed input: what `buildSpec` (src/config/) makes of the ENV and the flags, with every default
 * applied there, once. Everything downstream reads these fields as they are.
 */
import type { DestinationItem, PortFilter } from './addresses.js';
import type { NamedDestinations } from './destinations.js';
import type { RuntimeOptions } from './runtime.js';

export type Distribution = 'normal' | 'pareto' | 'paretonormal' | 'uniform';
export const distributions: readonly Distribution[] = ['normal', 'pareto', 'paretonormal', 'uniform'];

/** A netem rate such as `1mbit`; kept as the number and unit tc understands. */
export interface Rate {
  readonly value: number;
  readonly unit: string;
}

/** What netem does to the packets of one band. */
export interface Netem {
  readonly delayMs: number;
  readonly jitterMs: number;
  readonly correlationPct: number;
  readonly distribution: Distribution | undefined;
  readonly lossPct: number;
  readonly duplicatePct: number;
  readonly corruptPct: number;
  readonly reorderPct: number;
  readonly rate: Rate | undefined;
}

export interface FaultGroup {
  /** How the user named it: `DESTINATION_IPS` for the Litmus form, `FAULTS #2` for the second group. */
  readonly name: string;
  readonly netem: Netem;
  /** Empty = every destination (only the Litmus form allows that). */
  readonly destinations: readonly DestinationItem[];
  /**
   * The destinations' addresses as the parser read them, 4 words each (ParsedDestinations' `words`): the planner
   * orders and merges by them. Absent in a group made otherwise (the planner then reads each address's text).
   */
  readonly destinationWords?: Uint32Array;
  readonly destinationPorts: PortFilter;
  readonly sourcePorts: PortFilter;
  /** Hostnames, pods and Services whose addresses are found at run time (the Litmus form only). */
  readonly named?: NamedDestinations;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
/** Which packets get the fault: sent by the target (egress), arriving at it (ingress, through an ifb), or both. */
export type Direction = 'egress' | 'ingress' | 'both';
export type OutputFormat = 'text' | 'json';
/** What removes the tree after its deadline if the runner dies (lifecycle/deadman.ts). */
export type DeadmanMode = 'auto' | 'systemd' | 'process' | 'off';
export const deadmanModes: readonly DeadmanMode[] = ['auto', 'systemd', 'process', 'off'];
/** What a restart of the target into a new namespace does (ON_TARGET_RESTART). */
export type RestartMode = 'end' | 'reinject';

export interface Spec {
  readonly interface: string;
  readonly durationS: number;
  readonly rampS: number;
  /** Seconds between re-resolutions of named dependencies during the run (an upper bound for DNS TTLs); 0 = resolve once. */
  readonly refreshS: number;
  readonly force: boolean;
  readonly groups: readonly FaultGroup[];
  readonly logLevel: LogLevel;
  readonly output: OutputFormat;
  /** How a container ID is mapped to its network namespace (Litmus mode, --container-id). */
  readonly runtime: RuntimeOptions;
  readonly direction: Direction;
  /** Probe the dependencies before/during/after and read the band counters (MEASURE_EFFECT). */
  readonly measureEffect: boolean;
  /** Fail (exit 6) when the measured effect is far from the configured one (VERIFY_EFFECT). */
  readonly verifyEffect: boolean;
  /** What removes the tree after its deadline if the runner dies (DEADMAN). */
  readonly deadman: DeadmanMode;
  /** Seconds after the end of the duration until the tree's deadline (DEADMAN_GRACE). */
  readonly deadmanGraceS: number;
  /** What a restart of the target into a new namespace does (ON_TARGET_RESTART). */
  readonly onTargetRestart: RestartMode;
  /** `plan` and Litmus mode list the target's live connections and what the fault does to each (BLAST_RADIUS). */
  readonly blastRadius: boolean;
  /** Namespaces whose Services and pods name the target's peers in `deps` (PEER_NAMESPACES). */
  readonly peerNamespaces: readonly string[];
}
