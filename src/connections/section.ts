/**
 * The blast-radius section as `plan` and Litmus mode show it: collectBlastRadius for one target, with the
 * Services of PEER_NAMESPACES and the named dependencies' namespaces when there are any (services and
 * endpointslices only, for the ClusterIP warning and the names; no pods, no DNS), and never a failure: a
 * table that cannot be read becomes `error`, a list that fails becomes a note, and `plan` goes on.
 */
import { messageOf } from '../model/errors.js';
import type { Resolved } from '../model/destinations.js';
import { type NetnsRef, describeNetns } from '../model/netns.js';
import type { Spec } from '../model/spec.js';
import type { ExecResult } from '../ports.js';
import type { Plan } from '../tc/plan.js';
import type { BlastRadius } from './blast.js';
import { type Catalog, type CatalogApi, catalogNamespaces, readCatalog } from './catalog.js';
import { collectBlastRadius } from './collect.js';
import { formatBlastRadius } from './format.js';
import { catSocketTables } from './raw.js';
import type { ReadDeps } from './read.js';

export interface SectionDeps extends ReadDeps {
  /** Absent: no Kubernetes lookups (the ClusterIP warning then knows only the named Services). */
  readonly catalogApi?: () => Promise<CatalogApi>;
}

export interface SectionInput {
  readonly target: NetnsRef;
  /** How to name the target (`pod shop/app-1`); default `pid 4242`. */
  readonly label?: string;
  readonly spec: Pick<Spec, 'groups' | 'peerNamespaces'>;
  readonly plan: Plan;
  readonly resolved?: readonly Resolved[];
  /** Namespaces of the target (Litmus mode: the target pods'). */
  readonly targetNamespaces?: readonly string[];
  readonly signal?: AbortSignal;
  /** A netns target's socket read already started (raw.ts: catSocketTables, e.g. by `plan` before loading this code). */
  readonly startedRead?: Promise<ExecResult>;
}

/** What `plan --output json` shows under `blastRadius`, and the ChaosResult under status.netchaosBlastRadius.<pod>. */
export interface BlastSection {
  readonly target: string;
  /** Where the sockets were read. */
  readonly source?: string;
  readonly radius?: BlastRadius;
  /** Why there is no table. */
  readonly error?: string;
  /** Lookups that failed. */
  readonly notes: readonly string[];
}

export async function blastSection(deps: SectionDeps, input: SectionInput): Promise<BlastSection> {
  const target = input.label ?? describeNetns(input.target);
  const notes: string[] = [];
  const namespaces = catalogNamespaces(input.spec, [...input.spec.peerNamespaces, ...(input.targetNamespaces ?? [])]);
  let catalog: Catalog | undefined;
  const signal = input.signal ? { signal: input.signal } : {};
  // A netns target's exec runs while the Services are listed (a pid target's files are read when parsed).
  const startedRead = input.startedRead ?? (input.target.kind === 'netns' ? catSocketTables(deps.exec, input.target, signal) : undefined);
  // Taken below; a failure is reported there (or dropped with the run when the lookups were aborted).
  startedRead?.catch(() => undefined);
  if (deps.catalogApi && namespaces.length > 0) {
    try {
      catalog = await readCatalog(await deps.catalogApi(), namespaces, { wantPods: () => false, ...signal });
      notes.push(...catalog.problems);
    } catch (error) {
      if (input.signal?.aborted) throw error;
      notes.push(`Kubernetes lookups failed: ${messageOf(error)}`);
    }
  }
  try {
    const { blast, sockets } = await collectBlastRadius(deps, {
      target: input.target, spec: input.spec, plan: input.plan,
      ...(input.resolved ? { resolved: input.resolved } : {}), ...(catalog ? { catalog } : {}), ...signal,
      ...(startedRead ? { startedRead } : {}),
    });
    return { target, source: sockets.source, radius: blast, notes: [...sockets.problems, ...notes] };
  } catch (error) {
    if (input.signal?.aborted) throw error;
    return { target, error: messageOf(error), notes };
  }
}

export function formatBlastSection(s: BlastSection): string {
  const notes = s.notes.length > 0 ? `\nNotes:\n${s.notes.map((n) => `  ${n}`).join('\n')}\n` : '';
  if (!s.radius) return `Blast radius of ${s.target}: not available: ${s.error ?? 'unknown error'}\n${notes}`;
  return formatBlastRadius(s.radius, { target: s.target, ...(s.source ? { source: s.source } : {}) }) + notes;
}
