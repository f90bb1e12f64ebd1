/**
 * The ingress side inside a target namespace: the ifb device (`ip -batch`), the ingress qdisc and its redirect
 * (part of the one tc batch), the preflight that refuses foreign or leftover state, and the revert that removes
 * only what is ours and reads back that it is gone.
 *
 * Exec count: preflight 1 (after the root check), apply 1 (`ip -batch`: add + up; the tc batch is shared with
 * egress), revert 3 after the root's (read; delete + read back in one batch; `ip -batch`: delete the ifb + list the ifbs left).
 */
import { RefusedError, RuntimeError } from '../errors.js';
import type { Deps } from '../deps.js';
import { INGRESS_FILTER_PRIO, ifbName } from '../tc/plan.js';
import { type Qdisc, describeQdisc, parseQdiscs } from './tc.js';
import { type Target, describeTarget, nsenterArgs, targetFlags } from './target.js';

/** The parent of the qdisc in the ingress slot (ingress or clsact). */
export const INGRESS_PARENT = 'ffff:fff1';

const TIMEOUT_MS = 60_000;

type ExecDeps = Pick<Deps, 'exec'>;

/** A JSON object (not an array, not null). */
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One `tc -j filter show dev X ingress` entry, as far as we read it. */
export interface IngressFilter {
  readonly pref: number | undefined;
  /** Devices its mirred actions redirect to. */
  readonly redirects: readonly string[];
}

export function parseIngressFilters(json: string): IngressFilter[] {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    throw new RuntimeError(`tc printed something that is not JSON: ${json.slice(0, 200)}`);
  }
  if (!Array.isArray(data)) throw new RuntimeError(`unexpected tc -j filter output: ${json.slice(0, 200)}`);
  return data.filter(isObject).map((f) => {
    const options = isObject(f['options']) ? f['options'] : {};
    const actions = Array.isArray(options['actions']) ? options['actions'].filter(isObject) : [];
    return {
      pref: typeof f['pref'] === 'number' ? f['pref'] : undefined,
      redirects: actions.filter((a) => a['kind'] === 'mirred').map((a) => (typeof a['to_dev'] === 'string' ? a['to_dev'] : '?')),
    };
  });
}

export type IngressOwner = 'none' | 'ours' | 'mixed' | 'foreign';

/** Whose is the ingress slot: ours = an `ingress` qdisc whose only filters are our redirect (pref 0x4e43) to our ifb. */
export function ingressOwner(qdiscs: readonly Qdisc[], filters: readonly IngressFilter[], ifb: string): IngressOwner {
  const slot = qdiscs.find((q) => q.parent === INGRESS_PARENT);
  if (!slot) return 'none';
  const mine = (f: IngressFilter): boolean => f.pref === INGRESS_FILTER_PRIO && f.redirects.every((d) => d === ifb);
  const hasRedirect = filters.some((f) => mine(f) && f.redirects.includes(ifb));
  if (!hasRedirect) return 'foreign';
  return slot.kind === 'ingress' && filters.every(mine) ? 'ours' : 'mixed';
}

/** Splits the output of a `-j -force -batch` of show commands into one result per line (undefined: that line failed). */
export function showResults(stdout: string, stderr: string, count: number): (string | undefined)[] {
  const failed = new Set([...stderr.matchAll(/Command failed -:(\d+)/g)].map((m) => Number(m[1])));
  const json = stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('['));
  const out: (string | undefined)[] = [];
  for (let line = 1; line <= count; line++) out.push(failed.has(line) ? undefined : json.shift());
  return out;
}

async function nsExec(deps: ExecDeps, target: Target, bin: 'tc' | 'ip', args: readonly string[], lines: readonly string[]) {
  return deps.exec('nsenter', [...nsenterArgs(target), '--', bin, ...args], { input: lines.join('\n') + '\n', timeoutMs: TIMEOUT_MS });
}

export interface IngressState {
  readonly owner: IngressOwner;
  readonly slot: Qdisc | undefined;
  readonly ifbExists: boolean;
}

/** One read: the ingress slot, its filters, and whether our ifb exists; after running `first` (deletes) in the same batch. */
export async function readIngress(deps: ExecDeps, target: Target, dev: string, first: readonly string[] = []): Promise<IngressState> {
  const ifb = ifbName(dev);
  const lines = [...first, `qdisc show dev ${dev}`, `filter show dev ${dev} ingress`, `qdisc show dev ${ifb}`];
  const r = await nsExec(deps, target, 'tc', ['-j', '-force', '-batch', '-'], lines);
  if (/^nsenter: /m.test(r.stderr)) throw new RuntimeError(`cannot enter the network namespace of ${describeTarget(target)}: ${r.stderr.trim()}`);
  // The deletes print nothing; a failed one is seen in what the shows read back.
  const [qdiscs, filters, ifbQdiscs] = showResults(r.stdout, r.stderr, lines.length).slice(first.length);
  if (qdiscs === undefined) throw new RuntimeError(`tc qdisc show dev ${dev} failed in ${describeTarget(target)}: ${r.stderr.trim()}`);
  const q = parseQdiscs(qdiscs);
  const owner = ingressOwner(q, filters === undefined ? [] : parseIngressFilters(filters), ifb);
  return { owner, slot: q.find((x) => x.parent === INGRESS_PARENT), ifbExists: ifbQdiscs !== undefined };
}

/**
 * Preflight for DIRECTION=ingress/both. Returns the tc lines to put before the batch (FORCE over a foreign
 * ingress qdisc: delete it; it is not restored), or throws RefusedError.
 */
export async function preflightIngress(deps: ExecDeps, target: Target, dev: string, force: boolean): Promise<string[]> {
  const ifb = ifbName(dev);
  const s = await readIngress(deps, target, dev);
  const revert = `netchaos revert ${targetFlags(target)} --interface ${dev}`;
  if (s.ifbExists) {
    throw new RefusedError(`the ifb device ${ifb} already exists in ${describeTarget(target)}: another run is active on ${dev}, or one was killed. Let it finish, or remove it with: ${revert}`);
  }
  if (s.owner === 'ours' || s.owner === 'mixed') {
    throw new RefusedError(`an ingress qdisc redirecting to ${ifb} is already on ${dev} in ${describeTarget(target)}: another run is active, or one was killed. Remove it with: ${revert}`);
  }
  if (s.owner === 'foreign') {
    if (!force) {
      throw new RefusedError(`${dev} in ${describeTarget(target)} already has an ingress qdisc (${describeQdisc(s.slot)}) that is not ours (a CNI, or another tool). Nothing was changed. FORCE=true / --force replaces it (it is not restored afterwards).`);
    }
    return [`qdisc del dev ${dev} parent ${INGRESS_PARENT}`];
  }
  return [];
}

/** Creates the ifb and sets it up (one `ip -batch`). Returns an error text when it failed. */
export async function addIfb(deps: ExecDeps, target: Target, links: readonly string[]): Promise<string | undefined> {
  const r = await nsExec(deps, target, 'ip', ['-batch', '-'], links);
  if (r.exitCode === 0) return undefined;
  const hint = /Unknown device type|not supported/i.test(r.stderr) ? ' (the node kernel needs the ifb module)' : '';
  return `${r.stderr.trim() || `ip exited with ${r.exitCode}`}${hint}`;
}

export type IngressRevert =
  | { readonly kind: 'clean'; readonly removed: string[]; readonly left: string[] }
  | { readonly kind: 'still-there'; readonly error: string; readonly leftover: string };

/**
 * Removes our ingress side: our redirect (the whole ingress qdisc when it holds only ours), then our ifb; reads
 * back that neither is left. A foreign ingress qdisc is left alone (and said so).
 */
export async function revertIngressOnce(deps: ExecDeps, target: Target, dev: string): Promise<IngressRevert> {
  const ifb = ifbName(dev);
  const removed: string[] = [];
  const left: string[] = [];
  const before = await readIngress(deps, target, dev);
  if (before.owner === 'ours' || before.owner === 'mixed') {
    const del = before.owner === 'ours' ? `qdisc del dev ${dev} ingress` : `filter del dev ${dev} parent ffff: prio ${INGRESS_FILTER_PRIO}`;
    const after = await readIngress(deps, target, dev, [del]);
    if (after.owner === 'ours' || after.owner === 'mixed') {
      return { kind: 'still-there', error: `${del} did not remove it`, leftover: `ingress qdisc on ${dev} redirecting to ${ifb}` };
    }
    removed.push(before.owner === 'ours' ? `ingress qdisc on ${dev}` : `our redirect filter (prio ${INGRESS_FILTER_PRIO}) on the ingress qdisc of ${dev}`);
  } else if (before.owner === 'foreign') {
    left.push(`a foreign ingress qdisc (${describeQdisc(before.slot)}) on ${dev}, not ours`);
  }
  if (before.ifbExists || removed.length > 0) {
    const r = await nsExec(deps, target, 'ip', ['-j', '-force', '-batch', '-'], [`link del dev ${ifb}`, 'link show type ifb']);
    const list = r.stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('[')).pop();
    const names = list === undefined ? undefined : parseLinkNames(list);
    if (names === undefined) return { kind: 'still-there', error: r.stderr.trim() || 'ip printed no link list', leftover: `ifb device ${ifb}` };
    if (names.includes(ifb)) return { kind: 'still-there', error: r.stderr.trim() || `${ifb} is still there`, leftover: `ifb device ${ifb}` };
    if (before.ifbExists) removed.push(`ifb device ${ifb}`);
  }
  return { kind: 'clean', removed, left };
}

function parseLinkNames(json: string): string[] | undefined {
  try {
    const data: unknown = JSON.parse(json);
    if (!Array.isArray(data)) return undefined;
    return data.filter(isObject).map((l) => (typeof l['ifname'] === 'string' ? l['ifname'] : ''));
  } catch {
    return undefined;
  }
}

/** The manual commands that remove our ingress side (for a failed revert's message). */
export function ingressRemoveCommand(target: Target, dev: string): string {
  const ns = `nsenter ${nsenterArgs(target).join(' ')} --`;
  return `${ns} tc qdisc del dev ${dev} ingress; ${ns} ip link del ${ifbName(dev)}`;
}
