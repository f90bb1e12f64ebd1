/**
 * The two entry points the commands call (src/cli wires them):
 *   collectDeps      — `deps`: read, group and name a target's connections (full naming: Kubernetes, reverse DNS);
 *   collectBlastRadius — `plan`'s section: read and group them, name them from what costs nothing more, and
 *                      classify them against the Plan.
 * Formatting is format.ts's (formatDeps/formatBlastRadius; the reports are JSON-ready as they are).
 */
import type { Spec } from '../model/spec.js';
import type { ExecResult } from '../ports.js';
import type { Resolved } from '../model/destinations.js';
import { type NetnsRef, describeNetns } from '../model/netns.js';
import type { Plan } from '../tc/plan.js';
import { type BlastRadius, blastRadius, namedDependencies } from './blast.js';
import { type Catalog, catalogNamespaces } from './catalog.js';
import { type DepsReport, depsReport } from './format.js';
import { type Connections, groupSockets } from './group.js';
import { namePeers } from './names.js';
import { type Naming, type NamingDeps, hostNames, nameConnections, peerAddresses } from './naming.js';
import { type ReadDeps, type TargetSockets, readSockets } from './read.js';
import type { ReverseOptions } from './reverse.js';

export interface CollectDeps extends ReadDeps, NamingDeps {}

export interface DepsInput {
  readonly target: NetnsRef;
  /** How to name the target in the output (`pod shop/app-1`); default `pid 4242` / `netns <path>`. */
  readonly label?: string;
  /** The target pod's namespace(s), listed with the named dependencies' (Litmus mode; empty in local mode). */
  readonly targetNamespaces?: readonly string[];
  /** The Spec (its named dependencies' namespaces are listed too), when there is one. */
  readonly spec?: Pick<Spec, 'groups'>;
  /** The run's own DNS answers (discover()), to name those addresses without a PTR query. */
  readonly resolved?: readonly Resolved[];
  readonly reverse?: ReverseOptions;
  readonly signal?: AbortSignal;
}

export interface CollectedDeps {
  readonly report: DepsReport;
  readonly sockets: TargetSockets;
  readonly connections: Connections;
  readonly naming: Naming;
}

const pidOf = (t: NetnsRef): number | undefined => (t.kind === 'pid' ? t.pid : undefined);

/** `deps`: the target's connections, grouped and named. */
export async function collectDeps(deps: CollectDeps, input: DepsInput): Promise<CollectedDeps> {
  const sockets = await readSockets(deps, input.target, input.signal ? { signal: input.signal } : {});
  const connections = groupSockets(sockets.sockets);
  const naming = await nameConnections(deps, {
    connections,
    pid: pidOf(input.target),
    namespaces: catalogNamespaces(input.spec ?? { groups: [] }, input.targetNamespaces ?? []),
    hosts: hostNames(input.resolved ?? []),
    ...(input.reverse ? { reverse: input.reverse } : {}),
    ...(input.signal ? { signal: input.signal } : {}),
  });
  const report = depsReport({
    target: input.label ?? describeNetns(input.target),
    source: sockets.source,
    connections,
    names: naming.names,
    notes: [...sockets.problems, ...naming.notes],
  });
  return { report, sockets, connections, naming };
}

export interface BlastInput {
  readonly target: NetnsRef;
  readonly spec: Pick<Spec, 'groups'>;
  readonly plan: Plan;
  readonly resolved?: readonly Resolved[];
  /** Services already listed (e.g. by `deps` or Litmus discovery); without it the ClusterIP warning relies on names. */
  readonly catalog?: Catalog;
  readonly signal?: AbortSignal;
  /** A netns target's socket read already started (raw.ts: catSocketTables). */
  readonly startedRead?: Promise<ExecResult>;
}

export interface CollectedBlast {
  readonly blast: BlastRadius;
  readonly sockets: TargetSockets;
}

/**
 * `plan`'s blast radius. Names come only from what costs nothing more (loopback, the target's own addresses,
 * the run's DESTINATION_HOSTS answers, and `catalog` when the caller has one): no API call and no DNS query
 * of its own, so that `plan` stays within 1.2× of itself (reading /proc for a pid is ~20 ms at 4,200 sockets).
 */
export async function collectBlastRadius(deps: ReadDeps, input: BlastInput): Promise<CollectedBlast> {
  const sockets = await readSockets(deps, input.target, { ...(input.signal ? { signal: input.signal } : {}), ...(input.startedRead ? { started: input.startedRead } : {}) });
  const connections = groupSockets(sockets.sockets);
  // An address none of these knows gets no name here (not "unknown": nobody asked).
  const names = new Map([...namePeers(peerAddresses(connections), {
    ownAddresses: connections.ownAddresses,
    hosts: hostNames(input.resolved ?? []),
    ...(input.catalog ? { catalog: input.catalog } : {}),
  })].filter(([, n]) => n.kind !== 'unknown'));
  const blast = blastRadius({
    plan: input.plan, connections, names,
    dependencies: namedDependencies(input.spec, input.resolved ?? []),
    ...(input.catalog ? { catalog: input.catalog } : {}),
  });
  return { blast, sockets };
}
