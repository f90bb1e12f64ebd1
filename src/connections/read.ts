/**
 * Reads a target's sockets, with the privileges `inject` already has and nothing more:
 * - a pid: its four tables /proc/<pid>/net/{tcp,tcp6,udp,udp6} read directly (they show the sockets of the
 *   process's network namespace; needs hostPID, as nsenter -t does) — no exec at all;
 * - a netns path (no process to read through): ONE exec, `nsenter --net=<path> -- cat /proc/self/net/tcp …`
 *   (needs CAP_SYS_ADMIN, as tc does), split at the tables' header lines.
 * Both give the same text, parsed by procnet.ts. Why not `ss` (netlink sock_diag): it costs an exec for a pid
 * too (about 420 ms each under emulation in the lab), 1.6× the CPU of `cat` for 4,200 sockets on the host,
 * its text varies with the version and the environment (cgroup, timer and v6only fields, `%iface` suffixes,
 * stderr noise), and without udp_diag it falls back to /proc/net/udp anyway.
 */
import { endianness as hostEndianness } from 'node:os';
import { RuntimeError } from '../model/errors.js';
import type { Exec, ExecResult, Files } from '../ports.js';
import { type NetnsRef, describeNetns } from '../model/netns.js';
import { type Endianness, type ProcNetFile, type SocketTable, mergeTables, parseProcNet, procNetFiles, splitTables } from './procnet.js';
import { catSocketTables } from './raw.js';

export interface ReadDeps {
  readonly exec: Exec;
  readonly files: Pick<Files, 'readText'>;
}

export interface ReadOptions {
  /** The byte order /proc prints addresses in: the host's (default). */
  readonly endianness?: Endianness;
  /** Deadline of the nsenter exec (netns targets); default 10 s. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** A netns target's `cat` already started (raw.ts: catSocketTables, with these options): taken instead of a new exec. */
  readonly started?: Promise<ExecResult>;
}

export interface TargetSockets extends SocketTable {
  /** Where they were read, for the output (`/proc/4242/net/{tcp,tcp6,udp,udp6}`). */
  readonly source: string;
}

const codeOf = (e: unknown): string => (e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : '');

/** The sockets of the target's network namespace: TCP and UDP, IPv4 and IPv6, every state. */
export async function readSockets(deps: ReadDeps, target: NetnsRef, opts: ReadOptions = {}): Promise<TargetSockets> {
  const endianness = opts.endianness ?? hostEndianness();
  return target.kind === 'pid' ? readPid(deps, target.pid, endianness) : await readNetns(deps, target, endianness, opts);
}

function readPid(deps: ReadDeps, pid: number, endianness: Endianness): TargetSockets {
  const tables: SocketTable[] = [];
  for (const file of procNetFiles) {
    const path = `/proc/${pid}/net/${file}`;
    let text: string;
    try {
      text = deps.files.readText(path);
    } catch (error) {
      // A kernel without IPv6 has no tcp6/udp6; without tcp the process is gone (or not visible: hostPID).
      if (codeOf(error) === 'ENOENT' && file.endsWith('6')) continue;
      throw new RuntimeError(`cannot read ${path} (${codeOf(error) || (error instanceof Error ? error.message : String(error))}): is process ${pid} still running, and does this runner share the host PID namespace (hostPID)?`, { cause: error });
    }
    tables.push(parseProcNet(file, text, { endianness, where: path }));
  }
  return { ...mergeTables(tables), source: `/proc/${pid}/net/{tcp,tcp6,udp,udp6}` };
}

async function readNetns(deps: ReadDeps, target: Extract<NetnsRef, { kind: 'netns' }>, endianness: Endianness, opts: ReadOptions): Promise<TargetSockets> {
  const r = await (opts.started ?? catSocketTables(deps.exec, target, opts));
  if (/^nsenter: /m.test(r.stderr)) {
    throw new RuntimeError(`cannot enter the network namespace of ${describeNetns(target)}: ${r.stderr.trim()} (the runner needs CAP_SYS_ADMIN)`);
  }
  // cat goes on past a missing file (no IPv6): only a missing IPv4 table is an error.
  const missing = procNetFiles.filter((f) => new RegExp(`/proc/self/net/${f}: `).test(r.stderr));
  if (r.exitCode !== 0 && (missing.length === 0 || missing.some((f) => !f.endsWith('6')))) {
    throw new RuntimeError(`reading the socket tables in ${describeNetns(target)} failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
  }
  let sections: { kind: ProcNetFile; text: string }[];
  try {
    sections = splitTables(r.stdout);
  } catch (error) {
    throw new RuntimeError(`reading the socket tables in ${describeNetns(target)}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const tables = sections.map((s) => parseProcNet(s.kind, s.text, { endianness, where: `${describeNetns(target)} /proc/self/net/${s.kind}` }));
  return { ...mergeTables(tables), source: `nsenter --net=${target.path} -- cat /proc/self/net/{tcp,tcp6,udp,udp6}` };
}
