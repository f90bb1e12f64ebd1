/** A reference to one network namespace (a process's, or a namespace file), and how to name and enter it. */

export type NetnsRef =
  | { readonly kind: 'pid'; readonly pid: number }
  | { readonly kind: 'netns'; readonly path: string };

/** `pid 4242`, `netns /var/run/netns/app`: for messages. */
export function describeNetns(n: NetnsRef): string {
  return n.kind === 'pid' ? `pid ${n.pid}` : `netns ${n.path}`;
}

/** The flags that select this namespace, for messages that tell the user what to run. */
export function netnsFlags(n: NetnsRef): string {
  return n.kind === 'pid' ? `--pid ${n.pid}` : `--netns ${n.path}`;
}

/** nsenter's arguments that enter the namespace. */
export function nsenterArgs(n: NetnsRef): string[] {
  return n.kind === 'pid' ? ['-t', String(n.pid), '-n'] : [`--net=${n.path}`];
}

/** The file whose identity is the namespace's (`/proc/<pid>/ns/net` or the path). */
export function netnsPath(n: NetnsRef): string {
  return n.kind === 'pid' ? `/proc/${n.pid}/ns/net` : n.path;
}
