/** Read-only access to the node's files that container lookup needs (the real one, or a test's). */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { realFiles } from '../deps.js';

export interface HostFs {
  readonly exists: (path: string) => boolean;
  /** Throws when unreadable. */
  readonly readText: (path: string) => string;
  /** Entry names; [] when the directory is unreadable. */
  readonly list: (path: string) => string[];
  /** The absolute path of an executable on the search path, or undefined. */
  readonly findExecutable: (name: string) => string | undefined;
}

/** The real host; `searchPath` is the PATH to look for crictl/docker in (the caller passes env.PATH). */
export function realHostFs(searchPath: string): HostFs {
  return {
    exists: (p) => {
      try {
        statSync(p);
        return true;
      } catch {
        return false;
      }
    },
    readText: realFiles.readText,
    list: realFiles.list,
    findExecutable: (name) => {
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
    },
  };
}
