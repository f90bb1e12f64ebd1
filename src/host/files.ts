/** The real Files port: this machine's files, the namespace identity of a path, executables on a search path. */
import { readlink, stat } from 'node:fs/promises';
import { accessSync, constants, readFileSync, readdirSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Files } from '../ports.js';

let nsfsDevice: number | undefined;

/** `searchPath` is the PATH to look for executables in (crictl, docker): the caller passes env.PATH. */
export function realFiles(searchPath: string): Files {
  return {
    readText: (path) => readFileSync(path, 'utf8'),
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
        if (path.startsWith('/proc/')) return await readlink(path);
        nsfsDevice ??= (await stat('/proc/self/ns/net')).dev;
        const st = await stat(path);
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
