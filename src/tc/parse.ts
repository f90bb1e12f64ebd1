/**
 * Everything tc and ip print, read into values. Pure: the adapter (src/netns/tc.ts) runs the commands and
 * hands their output here; nothing is trusted before it is validated.
 */
import { RuntimeError } from '../model/errors.js';
import { isObject, numberField, parseJson, stringField, tryParseJson } from '../model/json.js';
import type { BatchFailure, IngressOwner, IngressState, Qdisc, QdiscCounter, RevertResult } from '../model/tc.js';
import { INGRESS_FILTER_PRIO, ROOT_HANDLE, isIfbName } from './plan.js';

/** The parent of the qdisc in the ingress slot (ingress or clsact). */
export const INGRESS_PARENT = 'ffff:fff1';

/**
 * What is wrong with the shape of a `tc -j qdisc show` array, or undefined: an array of objects with string
 * `kind` and `handle`, and `root` (boolean), `parent` and `dev` (strings) absent, null or of that type; other
 * fields are allowed. Checked by hand: a schema compiler costs more at start-up than every tc call of a run.
 */
function qdiscShapeProblem(data: unknown): string | undefined {
  if (!Array.isArray(data)) return 'not an array';
  const optional = (v: unknown, type: 'string' | 'boolean'): boolean => v === undefined || v === null || typeof v === type;
  for (const [i, q] of data.entries()) {
    if (!isObject(q)) return `item ${i} is not an object`;
    for (const key of ['kind', 'handle']) if (typeof q[key] !== 'string') return `item ${i}: "${key}" must be a string`;
    if (!optional(q['root'], 'boolean')) return `item ${i}: "root" must be a boolean`;
    for (const key of ['parent', 'dev']) if (!optional(q[key], 'string')) return `item ${i}: "${key}" must be a string`;
  }
  return undefined;
}

const isQdiscList = (data: unknown): data is Qdisc[] => qdiscShapeProblem(data) === undefined;

const notJson = (start: string): RuntimeError => new RuntimeError(`tc printed something that is not JSON: ${start}`);

/** Parses one `tc -j qdisc show` array, checking its shape. */
export function parseQdiscs(json: string): Qdisc[] {
  const data = parseJson(json, notJson);
  if (!isQdiscList(data)) throw new RuntimeError(`unexpected tc -j qdisc output (${qdiscShapeProblem(data) ?? ''}): ${json.slice(0, 200)}`);
  return data;
}

export const rootOf = (qdiscs: readonly Qdisc[]): Qdisc | undefined => qdiscs.find((q) => q.root === true);
export const isOurs = (q: Qdisc | undefined): boolean => q?.handle === ROOT_HANDLE;
/** Qdiscs the kernel attaches by itself have handle 0: (noqueue, pfifo_fast, fq_codel, mq, …). */
export const isKernelDefault = (q: Qdisc | undefined): boolean => q === undefined || q.handle === '0:';
export const describeQdisc = (q: Qdisc | undefined): string => (q ? `${q.kind} ${q.handle}` : 'none');

/** A failure of nsenter itself (not of tc) means the namespace could not be entered. */
export const nsenterFailed = (stderr: string): boolean => /^nsenter: /m.test(stderr);
export const deviceMissing = (stderr: string): boolean => /Cannot find device/.test(stderr);

/** Interface names from `ip -o link show`. */
export function parseInterfaceNames(stdout: string): string[] {
  return stdout.split('\n').map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1] ?? '').filter((n) => n !== '');
}

/** Where a `tc -batch` failed (undefined when it exited 0): tc names the line as `Command failed -:<n>`. */
export function parseBatchFailure(exitCode: number, stderr: string, lines: readonly string[]): BatchFailure | undefined {
  if (exitCode === 0) return undefined;
  const m = /Command failed -:(\d+)/.exec(stderr);
  const line = m?.[1] ? Number(m[1]) : undefined;
  const error = stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('Command failed')).join(' ').trim();
  return { line, text: line !== undefined ? lines[line - 1] : undefined, error: error || `tc exited with ${exitCode}` };
}

/** Splits the output of a `-j -force -batch` of show commands into one result per line (undefined: that line failed). */
export function showResults(stdout: string, stderr: string, count: number): (string | undefined)[] {
  return splitBatchOutput(stdout, stderr, Array.from({ length: count }, () => true));
}

/**
 * One result per batch line, in order: the next JSON list of stdout for a line that `prints` and did not fail
 * (`Command failed -:<n>` on stderr), else undefined.
 */
function splitBatchOutput(stdout: string, stderr: string, prints: readonly boolean[]): (string | undefined)[] {
  const failed = new Set([...stderr.matchAll(/Command failed -:(\d+)/g)].map((m) => Number(m[1])));
  const json = stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('['));
  return prints.map((p, i) => (failed.has(i + 1) || !p ? undefined : json.shift()));
}

/**
 * What each line of a `tc -j -force -batch` printed: its JSON for a `show`/`get` that worked, undefined for one
 * that failed and for a change (`add`, `del`: tc prints nothing for them).
 */
export function batchResults(stdout: string, stderr: string, lines: readonly string[]): (string | undefined)[] {
  return splitBatchOutput(stdout, stderr, lines.map((l) => /^\S+ (show|get)\b/.test(l)));
}

/**
 * What tc wrote on stderr for the lines `from`…`to` (1-based) of a `-force` batch: each failed line's messages
 * end with its `Command failed -:<line>`; text after the last of those (nsenter's, a crash) counts for every line.
 */
export function stderrOfLines(stderr: string, from: number, to: number): string {
  let out = '';
  let rest = stderr;
  for (let m = /Command failed -:(\d+)\n?/.exec(rest); m !== null; m = /Command failed -:(\d+)\n?/.exec(rest)) {
    const line = Number(m[1]);
    const chunk = rest.slice(0, m.index + m[0].length);
    if (line >= from && line <= to) out += chunk;
    rest = rest.slice(chunk.length);
  }
  return out + rest;
}

/**
 * The egress revert batch followed by the ingress reads, in one `tc -j -force -batch` (`netchaos revert`, which
 * does not know the run's direction): `revertLines(dev)` then the ingress filters of `dev` and the ifb's qdiscs.
 * The egress result as parseRevertOutput reads it, and the ingress state (undefined when it could not be read).
 */
export function parseRevertWithIngress(stdout: string, stderr: string, lines: readonly string[]): { egress: RevertResult; ingress: IngressState | undefined } {
  const results = batchResults(stdout, stderr, lines);
  const egress = parseRevertOutput(results[1] ?? '', stderrOfLines(stderr, 1, 2));
  if (egress.kind !== 'clean') return { egress, ingress: undefined };
  try {
    return { egress, ingress: parseIngressState(results.slice(1)) };
  } catch {
    return { egress, ingress: undefined }; // read again on its own (and its error said there)
  }
}

/** What the revert batch (`qdisc del … root handle 4e43:` then `qdisc show`, run with -j -force) left. */
export function parseRevertOutput(stdout: string, stderr: string): RevertResult {
  if (nsenterFailed(stderr) || deviceMissing(stderr)) return { kind: 'gone', error: stderr.trim() };
  const showLine = stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('['));
  const last = showLine[showLine.length - 1];
  if (last === undefined) return { kind: 'still-there', error: stderr.trim() || 'tc printed no qdisc list' };
  const root = rootOf(parseQdiscs(last));
  if (isOurs(root)) return { kind: 'still-there', error: stderr.trim() || 'the root qdisc is still ours' };
  // "Invalid handle" on line 1: the root was not ours, so nothing of ours was there to delete.
  const deleteFailed = /Command failed -:1\b/.test(stderr);
  return { kind: 'clean', removed: !deleteFailed, root };
}

/** One `tc -j filter show dev X ingress` entry, as far as we read it. */
export interface IngressFilter {
  readonly pref: number | undefined;
  /** Devices its mirred actions redirect to. */
  readonly redirects: readonly string[];
}

export function parseIngressFilters(json: string): IngressFilter[] {
  const data = parseJson(json, notJson);
  if (!Array.isArray(data)) throw new RuntimeError(`unexpected tc -j filter output: ${json.slice(0, 200)}`);
  return data.filter(isObject).map((f) => {
    const options = isObject(f['options']) ? f['options'] : {};
    const actions = Array.isArray(options['actions']) ? options['actions'].filter(isObject) : [];
    return {
      pref: numberField(f, 'pref'),
      redirects: actions.filter((a) => a['kind'] === 'mirred').map((a) => stringField(a, 'to_dev') ?? '?'),
    };
  });
}

/**
 * A filter of ours on the ingress qdisc: pref 0x4e43 ("NC") whose actions only redirect to a device named like
 * our ifbs, or to nothing (`*`: its ifb was deleted under it, an orphaned redirect of ours). The u32 table
 * header tc lists under the same pref has no actions.
 */
const isOurRedirect = (f: IngressFilter): boolean => f.pref === INGRESS_FILTER_PRIO && f.redirects.every((d) => d === ORPHANED || isIfbName(d));

/** How tc names the target of a mirred action whose device is gone. */
export const ORPHANED = '*';

/** Whose is the ingress slot: ours = an `ingress` qdisc whose only filters are our redirect (pref 0x4e43) to an ifb of ours (or to nothing). */
export function ingressOwner(qdiscs: readonly Qdisc[], filters: readonly IngressFilter[]): IngressOwner {
  const slot = qdiscs.find((q) => q.parent === INGRESS_PARENT);
  if (!slot) return 'none';
  const hasRedirect = filters.some((f) => isOurRedirect(f) && f.redirects.length > 0);
  if (!hasRedirect) return 'foreign';
  return slot.kind === 'ingress' && filters.every(isOurRedirect) ? 'ours' : 'mixed';
}

/** The device our redirect sends to (`*`: gone), or undefined when there is no redirect of ours. */
export function ourRedirect(filters: readonly IngressFilter[]): string | undefined {
  return filters.find((f) => isOurRedirect(f) && f.redirects.length > 0)?.redirects[0];
}

/**
 * The ingress side from the three shows `qdisc show dev X`, `filter show dev X ingress`, `qdisc show dev <ifb>`
 * (undefined: that show failed); undefined when the qdiscs of X could not be read.
 */
export function parseIngressState(shows: readonly (string | undefined)[]): IngressState | undefined {
  const [qdiscs, filters, ifbQdiscs] = shows;
  if (qdiscs === undefined) return undefined;
  const q = parseQdiscs(qdiscs);
  const f = filters === undefined ? [] : parseIngressFilters(filters);
  const slot = q.find((x) => x.parent === INGRESS_PARENT);
  return { owner: ingressOwner(q, f), slot, redirect: slot === undefined ? undefined : ourRedirect(f), ifbExists: ifbQdiscs !== undefined };
}

/** The names in the last link list of an `ip -j -force -batch` output; undefined when there is none or it is not a list. */
export function parseLinkNames(stdout: string): string[] | undefined {
  const list = stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('[')).pop();
  const data = list === undefined ? undefined : tryParseJson(list);
  if (!Array.isArray(data)) return undefined;
  return data.filter(isObject).map((l) => stringField(l, 'ifname') ?? '');
}

/** Parses the output of `tc -s -j -force -batch` with one `qdisc show dev …` per device (a failed line: no counters). */
export function parseCounters(stdout: string, stderr: string, devices: readonly string[]): QdiscCounter[] {
  const out: QdiscCounter[] = [];
  showResults(stdout, stderr, devices.length).forEach((line, i) => {
    const data = line === undefined ? undefined : tryParseJson(line);
    if (!Array.isArray(data)) return;
    for (const q of data) {
      const handle = stringField(q, 'handle');
      const kind = stringField(q, 'kind');
      if (handle === undefined || kind === undefined) continue;
      const n = (k: string): number => numberField(q, k) ?? 0;
      out.push({ device: devices[i] ?? '?', handle, kind, packets: n('packets'), bytes: n('bytes'), drops: n('drops') });
    }
  });
  return out;
}
