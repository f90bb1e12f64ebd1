/** What `netchaos plan` prints: the resolved dependencies, the refresh, the tree and its batch, the owner marker, the probes; text or JSON. */
import { describeNetns } from '../model/netns.js';
import type { Spec } from '../model/spec.js';
import { markerLines } from '../tc/marker.js';
import { describePlanPieces } from '../tc/describe.js';
import { describeProbes, probeDestinations } from '../effect/effect.js';
import { describeResolved } from '../resolve/destinations.js';
import { describeRefresh, refreshSchedule } from '../resolve/live.js';
import type { Prepared } from '../lifecycle/prepare.js';
import type { BlastSection } from '../connections/section.js';
import { jsonPieces } from '../model/json-out.js';
import { entriesJson } from '../tc/entry-json.js';

export interface PlanView {
  readonly spec: Spec;
  readonly prepared: Prepared;
  /** --container-id as given. */
  readonly containerId: string | undefined;
  /** The current root qdisc of the target's interface, when there is a target. */
  readonly root: string | undefined;
  /** What inject would do with what is there now (refuse, replace). */
  readonly notes: readonly string[];
  readonly nowMs: number;
  /** The target's live connections and what the plan does to each (BLAST_RADIUS, with a target). */
  readonly blast: BlastSection | undefined;
  /** The same as text (formatBlastSection), for the text form. */
  readonly blastText?: string | undefined;
}

/** What `plan` shows of the owner marker: inject appends these lines to the batch, with its own run id and deadline. */
function ownerPreview(spec: Spec, nowMs: number) {
  const owner = { runId: '0000000000000000', deadlineS: Math.ceil(nowMs / 1000) + spec.rampS + spec.durationS + spec.deadmanGraceS };
  return { example: owner, deadman: spec.deadman, deadmanDoes: DEADMAN_DOES[spec.deadman], lines: markerLines(spec.interface, owner) };
}

/** What each DEADMAN mode does after a crash, and what it survives (docs/how-it-works.md has the table). */
const DEADMAN_DOES: Record<Spec['deadman'], string> = {
  auto: 'systemd on a node whose PID 1 is systemd (a timer there: it outlives SIGKILL of the runner and of its pod), else the process watchdog (it dies with a pod); the log line "dead-man armed" says which',
  systemd: 'a systemd timer on the node: it outlives SIGKILL of the runner and of its pod; refused before any change when it cannot be armed',
  process: 'a detached watchdog process: it outlives SIGKILL of the runner process, not of its pod',
  off: 'none',
};

const containerInfo = (v: PlanView) => {
  const c = v.prepared.container;
  return c ? { pid: c.pid, netns: c.netnsPath, via: c.via, runtime: c.runtime ?? 'unknown', ...(c.note ? { note: c.note } : {}) } : undefined;
};

const targetContext = (v: PlanView) => ({ ...(v.prepared.netns ? { target: describeNetns(v.prepared.netns) } : {}), ...(v.root ? { root: v.root } : {}) });

/**
 * The JSON form, written in pieces (a 10,000-destination plan is 4.3 MB of text): `write` gets them in order, and
 * after each one `drained` (when given) is awaited: the next piece is made once the reader has taken the last.
 */
export async function writePlanJson(v: PlanView, write: (text: string) => void, drained?: () => Promise<void>): Promise<void> {
  const { spec, prepared: p } = v;
  const container = containerInfo(v);
  const selection = probeDestinations(p.plan);
  const pieces = jsonPieces({
    ...targetContext(v), ...(container ? { container } : {}), resolved: p.resolved, refresh: refreshSchedule(spec, p.sources, p.resolved), notes: v.notes,
    owner: ownerPreview(spec, v.nowMs), durationS: spec.durationS, rampS: spec.rampS, force: spec.force, direction: spec.direction,
    effect: spec.measureEffect ? { verify: spec.verifyEffect, targets: selection.destinations, notes: selection.notes } : null, plan: p.plan,
    ...(v.blast ? { blastRadius: v.blast } : {}),
  }, { elements: new Map([[p.plan.entries, entriesJson(p.plan.entries)]]) });
  for (const piece of pieces) {
    write(piece);
    if (drained) await drained();
  }
}

/** What `plan` prints as text, in pieces, in order, each made when it is taken (the tc batch 500 lines a piece: describePlanPieces). */
export function* planTextPieces(v: PlanView): Generator<string, void, undefined> {
  const { spec, prepared: p } = v;
  const c = containerInfo(v);
  const head = c ? `Container ${v.containerId ?? '?'}: pid ${c.pid}, netns ${c.netns} (via ${c.via}, runtime ${c.runtime})\n` : '';
  const owner = ownerPreview(spec, v.nowMs);
  const ownerText = `\nOwner marker (inject appends it to the batch with its run id and deadline = apply time + duration + DEADMAN_GRACE; dead-man: DEADMAN=${owner.deadman}):\n${owner.lines.map((l) => `  ${l}`).join('\n')}\n`
    + `Dead-man: ${owner.deadmanDoes}. Whatever it is, the next run on the target removes an expired tree of ours before it injects, and \`netchaos sweep\` does on the node.\n`;
  const probes = spec.measureEffect
    ? `\n${describeProbes(probeDestinations(p.plan)).join('\n')}\n${spec.verifyEffect ? 'VERIFY_EFFECT=true: a measured effect outside the tolerance fails the run (exit 6)\n' : ''}`
    : '';
  yield head + describeResolved(p.resolved) + describeRefresh(refreshSchedule(spec, p.sources, p.resolved));
  yield* describePlanPieces(p.plan, targetContext(v));
  yield ownerText + probes + (v.blastText !== undefined ? `\n${v.blastText}` : '') + v.notes.map((n) => `\n!!! ${n}\n`).join('');
}
