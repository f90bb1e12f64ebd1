/**
 * The network namespaces reachable on this node: every named one (/var/run/netns/*) and every one
 * a process is in (/proc/<pid>/ns/net), each once (by its identity `net:[inode]`); and whether a given
 * one is there.
 */
import { RuntimeError } from '../model/errors.js';
import { type NetnsRef, netnsPath } from '../model/netns.js';
import type { Deps } from '../ports.js';

export interface ReachableNamespace {
  /** `net:[4026532001]` */
  readonly nsId: string;
  /** A path that enters it: /var/run/netns/<name> or /proc/<pid>/ns/net. */
  readonly path: string;
  /** `netns app`, `pid 4242 (sleep)`. */
  readonly describe: string;
}

export interface NamespaceDirs {
  readonly proc: string;
  readonly netns: readonly string[];
}

export const defaultDirs: NamespaceDirs = { proc: '/proc', netns: ['/var/run/netns', '/run/netns'] };

/** The reference that enters a reachable namespace. */
export const netnsOf = (ns: ReachableNamespace): NetnsRef => ({ kind: 'netns', path: ns.path });

/** Candidate paths, named namespaces first (their names read better), then processes by PID. */
function* candidates(deps: Pick<Deps, 'files'>, dirs: NamespaceDirs): Generator<{ path: string; describe: () => string }> {
  for (const dir of dirs.netns) {
    for (const name of deps.files.list(dir).sort()) yield { path: `${dir}/${name}`, describe: () => `netns ${name}` };
  }
  const pids = deps.files.list(dirs.proc).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
  for (const pid of pids) {
    yield {
      path: `${dirs.proc}/${pid}/ns/net`,
      describe: () => {
        let comm = '';
        try {
          comm = deps.files.readText(`${dirs.proc}/${pid}/comm`).trim();
        } catch {
          // the process ended meanwhile
        }
        return `pid ${pid}${comm ? ` (${comm})` : ''}`;
      },
    };
  }
}

/** Every reachable network namespace, once each. */
export async function listNamespaces(deps: Pick<Deps, 'files'>, dirs: NamespaceDirs = defaultDirs): Promise<ReachableNamespace[]> {
  const seen = new Map<string, ReachableNamespace>();
  for (const c of candidates(deps, dirs)) {
    const nsId = await deps.files.namespaceId(c.path);
    if (nsId === undefined || !nsId.startsWith('net:[') || seen.has(nsId)) continue;
    seen.set(nsId, { nsId, path: c.path, describe: c.describe() });
  }
  return [...seen.values()];
}

/**
 * Finds the namespace `nsId` among the reachable ones (trying `hint` first): a target process may
 * be gone while its namespace lives on, held by another process (a pod's pause container) or a
 * bind mount. Undefined when nothing reachable holds it (then it is gone, with its tree).
 */
export async function locateNamespace(deps: Pick<Deps, 'files'>, nsId: string, hint?: string, dirs: NamespaceDirs = defaultDirs): Promise<ReachableNamespace | undefined> {
  if (hint !== undefined && (await deps.files.namespaceId(hint)) === nsId) return { nsId, path: hint, describe: hint };
  for (const c of candidates(deps, dirs)) {
    if ((await deps.files.namespaceId(c.path)) === nsId) return { nsId, path: c.path, describe: c.describe() };
  }
  return undefined;
}

/** Checks the namespace exists and is a network namespace; returns its identity (`net:[inode]`). */
export async function checkNetns(deps: Pick<Deps, 'files'>, n: NetnsRef): Promise<string> {
  const id = await deps.files.namespaceId(netnsPath(n));
  if (id === undefined) {
    throw new RuntimeError(n.kind === 'pid'
      ? `no process ${n.pid} (or its /proc/${n.pid}/ns/net is not readable): is the target still running, and does this runner share the host PID namespace (hostPID)?`
      : `${n.path} does not exist or is not readable: give a network namespace file such as /var/run/netns/<name> or /proc/<pid>/ns/net`);
  }
  if (!id.startsWith('net:[')) {
    throw new RuntimeError(`${netnsPath(n)} is not a network namespace (it is ${id}); give a file such as /var/run/netns/<name> or /proc/<pid>/ns/net`);
  }
  return id;
}

/**
 * `/proc/<pid>/ns/net` of the oldest process in the namespace `nsId` (by start time): in a pod, its pause
 * process, which holds the namespace for the pod's life while the containers in it restart. Undefined when no
 * process is in it.
 */
export async function oldestHolder(deps: Pick<Deps, 'files'>, nsId: string, dirs: NamespaceDirs = defaultDirs): Promise<string | undefined> {
  let best: { path: string; start: number } | undefined;
  for (const name of deps.files.list(dirs.proc)) {
    if (!/^\d+$/.test(name)) continue;
    const path = `${dirs.proc}/${name}/ns/net`;
    if ((await deps.files.namespaceId(path)) !== nsId) continue;
    let start = Number.MAX_SAFE_INTEGER;
    try {
      // Field 22 (starttime); the fields after the command's closing parenthesis start at field 3.
      const stat = deps.files.readText(`${dirs.proc}/${name}/stat`);
      start = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? Number.MAX_SAFE_INTEGER);
    } catch {
      continue; // it ended meanwhile
    }
    if (best === undefined || start < best.start) best = { path, start };
  }
  return best?.path;
}
