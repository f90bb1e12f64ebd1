/**
 * The exec half of reading a `--netns` target's socket tables (read.ts parses): `nsenter --net=<path> -- cat
 * /proc/self/net/{tcp,tcp6,udp,udp6}`. Apart, and without the parsing code (nor ipaddr.js), so that `plan` starts the
 * exec before it loads that code, and the blast radius starts it before its Kubernetes lookups: the exec runs
 * meanwhile instead of after them.
 */
import type { Exec, ExecResult } from '../ports.js';
import { type NetnsRef, nsenterArgs } from '../model/netns.js';

export type ProcNetFile = 'tcp' | 'tcp6' | 'udp' | 'udp6';
export const procNetFiles: readonly ProcNetFile[] = ['tcp', 'tcp6', 'udp', 'udp6'];

const READ_TIMEOUT_MS = 10_000;

export interface CatOptions {
  /** Deadline of the nsenter exec; default 10 s. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** The tables of a netns target, as `cat` printed them (read.ts checks and parses the result). */
export function catSocketTables(exec: Exec, target: Extract<NetnsRef, { kind: 'netns' }>, opts: CatOptions = {}): Promise<ExecResult> {
  return exec('nsenter', [...nsenterArgs(target), '--', 'cat', ...procNetFiles.map((f) => `/proc/self/net/${f}`)], {
    timeoutMs: opts.timeoutMs ?? READ_TIMEOUT_MS,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}
