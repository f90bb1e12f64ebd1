/** The real Files port: this machine's files, the namespace identity of a path, executables on a search path. */
// fs.promises through its getter, at the first call: node:fs/promises is not loaded by commands that never call it (`plan` of a list).
import { accessSync, closeSync, constants, lstatSync, openSync, promises as fsp, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Files } from '../ports.js';

let nsfsDevice: number | undefined;

/** `searchPath` is the PATH to look for executables in (crictl, docker): the caller passes env.PATH. */
export function realFiles(searchPath: string): Files {
  return {
    readText: (path) => {
      const inRoot = /^(\/proc\/\d+\/root)(\/.*)$/.exec(path);
      return inRoot?.[1] !== undefined && inRoot[2] !== undefined ? readInRoot(inRoot[1], inRoot[2]) : readFileSync(path, 'utf8');
    },
    list: (path) => {
      try {
        return readdirSync(path);
      } catch {
        return [];
      }
    },
    exists: (path) => {
      try {
        statSync(path);
        return true;
      } catch {
        return false;
      }
    },
    findExecutable: (name) => findExecutable(searchPath, name),
    namespaceId: async (path) => {
      try {
        if (path.startsWith('/proc/')) return await fsp.readlink(path);
        nsfsDevice ??= (await fsp.stat('/proc/self/ns/net')).dev;
        const st = await fsp.stat(path);
        return st.dev === nsfsDevice ? `net:[${st.ino}]` : `not-a-namespace:${st.ino}`;
      } catch {
        return undefined;
      }
    },
  };
}

function findExecutable(searchPath: string, name: string): string | undefined {
  for (const dir of searchPath.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** The most symlinks one path may go through (Linux's own limit). */
const MAX_LINKS = 40;

/**
 * `path` as a process whose root is `root` (`/proc/<pid>/root`) sees it: every symlink is resolved by us,
 * inside that root (an absolute target starts again at `root`, `..` stops at it), never by the kernel, which
 * would resolve an absolute target (`/etc/resolv.conf -> /run/systemd/resolve/stub-resolv.conf`) in the
 * runner's own filesystem. The last component is opened with O_NOFOLLOW.
 */
export function readInRoot(root: string, path: string): string {
  let rest = path.split('/').filter((p) => p !== '');
  const done: string[] = [];
  let links = 0;
  while (rest.length > 0) {
    const [part = '', ...tail] = rest;
    rest = tail;
    if (part === '.') continue;
    if (part === '..') { done.pop(); continue; }
    const here = `${root}/${[...done, part].join('/')}`;
    if (lstatSync(here).isSymbolicLink()) {
      if (++links > MAX_LINKS) throw Object.assign(new Error(`ELOOP: too many symbolic links in ${root}${path}`), { code: 'ELOOP' });
      const target = readlinkSync(here);
      if (target.startsWith('/')) done.length = 0;
      rest = [...target.split('/').filter((p) => p !== ''), ...rest];
      continue;
    }
    done.push(part);
  }
  const fd = openSync(`${root}/${done.join('/')}`, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}
