/**
 * The owner marker: who built a tree and until when it may stay. Pure: no I/O, no clock.
 *
 * It lives inside the tree itself, so it exists exactly as long as the tree and any later process
 * can read it with tc, without the runner and without a file on the host: one u32 hash table
 * (`7ff:`) under our root, in a filter of its own (prio 9) whose protocol is the unused ethertype
 * 0x4e43, holding one node whose four match keys are the data, and whose node id is taken from the run id
 * (`markerNode`), so that a delete can be guarded in the kernel: `filter get … handle 7ff::<id>` as the first
 * line of a `tc -batch` (without -force) stops the batch before the delete unless that node is there:
 *
 *   at 0   4e430001   "NC" + format version 1
 *   at 4   deadline   unix seconds (unsigned 32 bit)
 *   at 8   run id     high 32 bits
 *   at 12  run id     low 32 bits
 *
 * Nothing links to table 7ff:, and no packet has ethertype 0x4e43, so the marker is never
 * evaluated per packet. It goes away with `qdisc del … root handle 4e43:` like the rest.
 *
 * Formats netchaos has written (every one is read, with its deadline, so `sweep` removes any expired tree):
 *
 *   before the marker (up to 9b00855)   prio 4e43: without table 7ff:: not provably ours; never touched by sweep
 *   version 1, node 7ff::1 (9b00855)    the four keys above in node 7ff::1; the ifb of DIRECTION=ingress|both
 *                                       named `nc-ifb-<first 8 characters of the interface>` (legacyIfbName)
 *   version 1, per-run node (d1b5e65)   the same keys in node 7ff::<markerNode(run id)>; ifb `ifbName(dev)`
 *
 * A delete is guarded by the node the marker was read at (`Owner.node`), so an expired tree of the 7ff::1
 * format is removed like a current one.
 */
import type { Owner } from '../model/tc.js';
import { ROOT_HANDLE } from './plan.js';

export const MARKER_PRIO = 9;
export const MARKER_PROTOCOL = '0x4e43';
export const MARKER_TABLE = '7ff:';
export const MARKER_MAGIC = 0x4e430001;

const RUN_ID = /^[0-9a-f]{16}$/;

export function isRunId(text: string): boolean {
  return RUN_ID.test(text);
}

function words(owner: Owner): [number, number, number, number] {
  if (!isRunId(owner.runId)) throw new Error(`unreachable: run id ${JSON.stringify(owner.runId)} is not 16 hex digits`);
  if (!Number.isInteger(owner.deadlineS) || owner.deadlineS < 0 || owner.deadlineS > 0xffffffff) {
    throw new Error(`unreachable: deadline ${owner.deadlineS} does not fit 32 bits`);
  }
  return [MARKER_MAGIC, owner.deadlineS, parseInt(owner.runId.slice(0, 8), 16), parseInt(owner.runId.slice(8), 16)];
}

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');

/** The marker node's handle for a run: `7ff::<1..fff>`: 1 + (the run id's low 32 bits mod 4095). */
export function markerNode(runId: string): string {
  if (!isRunId(runId)) throw new Error(`unreachable: run id ${JSON.stringify(runId)} is not 16 hex digits`);
  return `${MARKER_TABLE}:${(1 + (parseInt(runId.slice(8), 16) % 0xfff)).toString(16)}`;
}

/** The batch lines that add the marker (in the tree's batch, right after the root they sit under). */
export function markerLines(dev: string, owner: Owner): string[] {
  const head = `filter add dev ${dev} parent ${ROOT_HANDLE} protocol ${MARKER_PROTOCOL} prio ${MARKER_PRIO}`;
  const keys = words(owner).map((w, i) => `match u32 0x${hex8(w)} 0xffffffff at ${i * 4}`).join(' ');
  return [`${head} handle ${MARKER_TABLE} u32 divisor 1`, `${head} handle ${markerNode(owner.runId)} u32 ht ${MARKER_TABLE}0: ${keys}`];
}

/**
 * The batch line that guards a delete: it fails (and a `tc -batch` without -force stops there, before the
 * delete) unless the marker node of this run is under our root on `dev`.
 */
export function markerGuardLine(dev: string, runId: string, node?: string): string {
  const handle = node ?? markerNode(runId);
  if (!MARKER_NODE.test(handle)) throw new Error(`unreachable: marker node ${JSON.stringify(handle)}`);
  return `filter get dev ${dev} parent ${ROOT_HANDLE} protocol ${MARKER_PROTOCOL} prio ${MARKER_PRIO} handle ${handle} u32`;
}

/** A marker node's handle as tc prints it: `7ff::<1..fff>` (7ff::1 in the first format, markerNode(run id) since). */
const MARKER_NODE = /^7ff::[0-9a-f]{1,3}$/;

/** The tc arguments that print the marker: `tc filter show dev <dev> parent 4e43: prio 9` (text). */
export function markerShowArgs(dev: string): string[] {
  return ['filter', 'show', 'dev', dev, 'parent', ROOT_HANDLE, 'prio', String(MARKER_PRIO)];
}

/** How `tc filter show` prints each key of the marker node, in order (used by the systemd dead-man's check). */
export function markerKeyTexts(owner: Owner): string[] {
  return words(owner).map((w, i) => `match ${hex8(w)}/ffffffff at ${i * 4}`);
}

/**
 * Reads the marker from `tc filter show … prio 9` text (the JSON output of u32 repeats the "match"
 * key, which JSON.parse cannot keep, and drops leading zeros). Undefined when there is none, or
 * when it is not a version-1 marker.
 */
export function parseMarker(text: string): Owner | undefined {
  const lines = text.split('\n');
  // The node's id is the run's (markerNode); trees of the first format have 7ff::1.
  let node: string | undefined;
  const start = lines.findIndex((l) => {
    node = /\sfh (7ff::[0-9a-f]{1,3})\s/.exec(`${l} `)?.[1];
    return node !== undefined;
  });
  if (start === -1 || node === undefined) return undefined;
  const keys = new Map<number, number>();
  for (const line of lines.slice(start + 1)) {
    const m = /^\s+match ([0-9a-f]{1,8})\/ffffffff at (\d+)\s*$/.exec(line);
    if (!m?.[1] || !m[2]) break;
    keys.set(Number(m[2]), parseInt(m[1], 16));
  }
  const [magic, deadline, hi, lo] = [0, 4, 8, 12].map((off) => keys.get(off));
  if (magic !== MARKER_MAGIC || deadline === undefined || hi === undefined || lo === undefined) return undefined;
  return { runId: hex8(hi) + hex8(lo), deadlineS: deadline, node };
}

/** `in 40 s`, `2 min ago`, for messages. */
export function describeDeadline(deadlineS: number, nowS: number): string {
  const d = deadlineS - nowS;
  const abs = Math.abs(d);
  const span = abs < 120 ? `${abs} s` : abs < 7200 ? `${Math.round(abs / 60)} min` : `${Math.round(abs / 3600)} h`;
  return `${new Date(deadlineS * 1000).toISOString()}, ${d > 0 ? `in ${span}` : d === 0 ? 'now' : `${span} ago`}`;
}
