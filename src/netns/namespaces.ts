/**
 * The network namespaces reachable on this node: every named one (/var/run/netns/*) and every one
 * a process is in (/proc/<pid>/ns/net), each once (by its identity `net:[inode]`).
 */
import type { Deps } from '../deps.js';
import type { Target } from './target.js';

export interface NamespaceRef {
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

export const asTarget = (ns: NamespaceRef): Target => ({ kind: 'netns', path: ns.path });

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
export async function listNamespaces(deps: Pick<Deps, 'files'>, dirs: NamespaceDirs = defaultDirs): Promise<NamespaceRef[]> {
  const seen = new Map<string, NamespaceRef>();
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
export async function locateNamespace(deps: Pick<Deps, 'files'>, nsId: string, hint?: string, dirs: NamespaceDirs = defaultDirs): Promise<NamespaceRef | undefined> {
  if (hint !== undefined && (await deps.files.namespaceId(hint)) === nsId) return { nsId, path: hint, describe: hint };
  for (const c of candidates(deps, dirs)) {
    if ((await deps.files.namespaceId(c.path)) === nsId) return { nsId, path: c.path, describe: c.describe() };
  }
  return undefined;
}
