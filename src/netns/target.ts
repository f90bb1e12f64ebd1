/** A network namespace to work in, and how to enter it. */
import { RuntimeError } from '../errors.js';
import type { Deps } from '../deps.js';

export type Target =
  | { readonly kind: 'pid'; readonly pid: number }
  | { readonly kind: 'netns'; readonly path: string };

export function describeTarget(t: Target): string {
  return t.kind === 'pid' ? `pid ${t.pid}` : `netns ${t.path}`;
}

/** The flags that select this target, for messages that tell the user what to run. */
export function targetFlags(t: Target): string {
  return t.kind === 'pid' ? `--pid ${t.pid}` : `--netns ${t.path}`;
}

export function nsenterArgs(t: Target): string[] {
  return t.kind === 'pid' ? ['-t', String(t.pid), '-n'] : [`--net=${t.path}`];
}

export function namespacePath(t: Target): string {
  return t.kind === 'pid' ? `/proc/${t.pid}/ns/net` : t.path;
}

/** Checks the target exists and is a network namespace; returns its identity (`net:[inode]`). */
export async function checkTarget(deps: Pick<Deps, 'files'>, t: Target): Promise<string> {
  const id = await deps.files.namespaceId(namespacePath(t));
  if (id === undefined) {
    throw new RuntimeError(t.kind === 'pid'
      ? `no process ${t.pid} (or its /proc/${t.pid}/ns/net is not readable): is the target still running, and does this runner share the host PID namespace (hostPID)?`
      : `${t.path} does not exist or is not readable: give a network namespace file such as /var/run/netns/<name> or /proc/<pid>/ns/net`);
  }
  if (!id.startsWith('net:[')) {
    throw new RuntimeError(`${namespacePath(t)} is not a network namespace (it is ${id}); give a file such as /var/run/netns/<name> or /proc/<pid>/ns/net`);
  }
  return id;
}
