/** tc inside a target namespace through nsenter: show, apply one batch, revert. */
import { Ajv, type JSONSchemaType } from 'ajv';
import { RuntimeError } from '../errors.js';
import type { Deps } from '../deps.js';
import { ROOT_HANDLE, revertLines } from '../tc/plan.js';
import { type Owner, markerShowArgs, parseMarker } from '../tc/marker.js';
import { type Target, describeTarget, nsenterArgs } from './target.js';

export interface Qdisc {
  readonly kind: string;
  readonly handle: string;
  readonly root?: boolean;
  readonly parent?: string;
  /** Present when the list covers every interface (`tc -j qdisc show` without `dev`). */
  readonly dev?: string;
}

const qdiscSchema: JSONSchemaType<Qdisc[]> = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      kind: { type: 'string' },
      handle: { type: 'string' },
      root: { type: 'boolean', nullable: true },
      parent: { type: 'string', nullable: true },
      dev: { type: 'string', nullable: true },
    },
    required: ['kind', 'handle'],
  },
};
const validateQdiscs = new Ajv({ allErrors: true }).compile(qdiscSchema);

/** Parses one `tc -j qdisc show` array, checking its shape. */
export function parseQdiscs(json: string): Qdisc[] {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    throw new RuntimeError(`tc printed something that is not JSON: ${json.slice(0, 200)}`);
  }
  if (!validateQdiscs(data)) {
    throw new RuntimeError(`unexpected tc -j qdisc output (${JSON.stringify(validateQdiscs.errors)}): ${json.slice(0, 200)}`);
  }
  return data;
}

export const rootOf = (qdiscs: readonly Qdisc[]): Qdisc | undefined => qdiscs.find((q) => q.root === true);
export const isOurs = (q: Qdisc | undefined): boolean => q?.handle === ROOT_HANDLE;
/** Qdiscs the kernel attaches by itself have handle 0: (noqueue, pfifo_fast, fq_codel, mq, …). */
export const isKernelDefault = (q: Qdisc | undefined): boolean => q === undefined || q.handle === '0:';
export const describeQdisc = (q: Qdisc | undefined): string => (q ? `${q.kind} ${q.handle}` : 'none');

/** Batches of 10k filters take seconds under emulation; a hung tc must not hang the run. */
const TC_TIMEOUT_MS = 120_000;

async function tc(deps: Pick<Deps, 'exec'>, target: Target, args: readonly string[], input?: string) {
  return deps.exec('nsenter', [...nsenterArgs(target), '--', 'tc', ...args], {
    timeoutMs: TC_TIMEOUT_MS,
    ...(input !== undefined ? { input } : {}),
  });
}

/** A failure of nsenter itself (not of tc) means the namespace could not be entered. */
function nsenterFailure(stderr: string): boolean {
  return /^nsenter: /m.test(stderr);
}

export async function showQdiscs(deps: Pick<Deps, 'exec'>, target: Target, dev: string): Promise<Qdisc[]> {
  const r = await tc(deps, target, ['-j', 'qdisc', 'show', 'dev', dev]);
  if (r.exitCode !== 0) {
    if (nsenterFailure(r.stderr)) {
      throw new RuntimeError(`cannot enter the network namespace of ${describeTarget(target)}: ${r.stderr.trim()} (the runner needs CAP_SYS_ADMIN and, for a pid, hostPID)`);
    }
    if (/Cannot find device/.test(r.stderr)) {
      const names = await listInterfaces(deps, target);
      throw new RuntimeError(`interface ${JSON.stringify(dev)} does not exist in the network namespace of ${describeTarget(target)}; it has: ${names.join(', ') || 'no interfaces'} (set NETWORK_INTERFACE / --interface)`);
    }
    throw new RuntimeError(`tc qdisc show dev ${dev} failed in ${describeTarget(target)}: ${r.stderr.trim()}`);
  }
  return parseQdiscs(r.stdout.trim() || '[]');
}

/** Every qdisc of every interface in the namespace (one exec); each carries its `dev`. */
export async function showAllQdiscs(deps: Pick<Deps, 'exec'>, target: Target): Promise<Qdisc[]> {
  const r = await tc(deps, target, ['-j', 'qdisc', 'show']);
  if (r.exitCode !== 0) {
    throw new RuntimeError(nsenterFailure(r.stderr)
      ? `cannot enter the network namespace of ${describeTarget(target)}: ${r.stderr.trim()}`
      : `tc qdisc show failed in ${describeTarget(target)}: ${r.stderr.trim()}`);
  }
  return parseQdiscs(r.stdout.trim() || '[]');
}

/**
 * The owner marker of our tree on `dev` (see tc/marker.ts): the owner, 'none' when the tree has
 * no readable marker (an older netchaos, or a prio 4e43: that is not ours), 'gone' when the
 * namespace or the interface went away.
 */
export async function readMarker(deps: Pick<Deps, 'exec'>, target: Target, dev: string): Promise<Owner | 'none' | 'gone'> {
  const r = await tc(deps, target, markerShowArgs(dev));
  if (nsenterFailure(r.stderr) || /Cannot find device/.test(r.stderr)) return 'gone';
  if (r.exitCode !== 0) throw new RuntimeError(`tc ${markerShowArgs(dev).join(' ')} failed in ${describeTarget(target)}: ${r.stderr.trim()}`);
  return parseMarker(r.stdout) ?? 'none';
}

async function listInterfaces(deps: Pick<Deps, 'exec'>, target: Target): Promise<string[]> {
  const r = await deps.exec('nsenter', [...nsenterArgs(target), '--', 'ip', '-o', 'link', 'show']);
  if (r.exitCode !== 0) return [];
  return r.stdout.split('\n').map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1] ?? '').filter((n) => n !== '');
}

export interface BatchFailure {
  readonly line: number | undefined;
  readonly text: string | undefined;
  readonly error: string;
}

/** Runs all lines in one `tc -batch -`. Returns undefined on success, or where it failed. */
export async function applyBatch(deps: Pick<Deps, 'exec'>, target: Target, lines: readonly string[]): Promise<BatchFailure | undefined> {
  const r = await tc(deps, target, ['-batch', '-'], lines.join('\n') + '\n');
  if (r.exitCode === 0) return undefined;
  const m = /Command failed -:(\d+)/.exec(r.stderr);
  const line = m?.[1] ? Number(m[1]) : undefined;
  const error = r.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('Command failed')).join(' ').trim();
  return { line, text: line !== undefined ? lines[line - 1] : undefined, error: error || `tc exited with ${r.exitCode}` };
}

export type RevertResult =
  /** Our root was deleted, or was not there; `root` is what the interface has now. */
  | { readonly kind: 'clean'; readonly removed: boolean; readonly root: Qdisc | undefined }
  /** Our root is still there (the delete failed). */
  | { readonly kind: 'still-there'; readonly error: string }
  /** The namespace or the interface is gone, and our tree with it. */
  | { readonly kind: 'gone'; readonly error: string };

/** One exec: delete our root (the kernel refuses if the root's handle is not ours) and show what is left. */
export async function revertOnce(deps: Pick<Deps, 'exec'>, target: Target, dev: string): Promise<RevertResult> {
  const r = await tc(deps, target, ['-j', '-force', '-batch', '-'], revertLines(dev).join('\n') + '\n');
  if (nsenterFailure(r.stderr)) return { kind: 'gone', error: r.stderr.trim() };
  if (/Cannot find device/.test(r.stderr)) return { kind: 'gone', error: r.stderr.trim() };
  const showLine = r.stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('['));
  const last = showLine[showLine.length - 1];
  if (last === undefined) return { kind: 'still-there', error: r.stderr.trim() || 'tc printed no qdisc list' };
  const root = rootOf(parseQdiscs(last));
  if (isOurs(root)) return { kind: 'still-there', error: r.stderr.trim() || 'the root qdisc is still ours' };
  // "Invalid handle" on line 1: the root was not ours, so nothing of ours was there to delete.
  const deleteFailed = /Command failed -:1\b/.test(r.stderr);
  return { kind: 'clean', removed: !deleteFailed, root };
}

export { ROOT_HANDLE };
