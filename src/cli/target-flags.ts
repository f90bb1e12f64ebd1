/**
 * The target flags of the local commands: --pid, --netns, --pid-file, --container-id (exactly one), as parsed options
 * (their commander options: ./options.ts; without commander here, for the lean `revert`, ./revert-lean.ts).
 */
import { RuntimeError, UsageError } from '../model/errors.js';
import type { NetnsRef } from '../model/netns.js';
import { type ContainerRef, parseContainerId } from '../model/runtime.js';
import type { Spec } from '../model/spec.js';
import type { Deps, Files } from '../ports.js';
import { parseAbsolutePath, parsePid } from '../config/values.js';
import type { Options } from './context.js';

/** The target as given on the command line (parsed: bad input is exit 2 before anything runs). */
export interface TargetFlags {
  readonly netns: NetnsRef | undefined;
  readonly container: ContainerRef | undefined;
  /** --pid-file: read after the input is known (a missing PID is exit 1, not a usage error). */
  readonly pidFile: string | undefined;
}

export function readTargetFlags(opts: Options, required: boolean): TargetFlags {
  const text = (key: string): string | undefined => (typeof opts[key] === 'string' ? opts[key] : undefined);
  const [pid, netns, pidFile, containerId] = [text('pid'), text('netns'), text('pidFile'), text('containerId')];
  if ([pid, netns, containerId, pidFile].filter((x) => x !== undefined).length > 1) throw new UsageError('--pid/--netns/--pid-file/--container-id', 'give one target, not several');
  if (required && pid === undefined && netns === undefined && pidFile === undefined && containerId === undefined) {
    throw new UsageError('--pid/--netns', 'which network namespace? give --pid <PID> or --netns <PATH> (or --container-id <ID>)');
  }
  return {
    netns: pid !== undefined ? { kind: 'pid', pid: parsePid('--pid', pid) } : netns !== undefined ? { kind: 'netns', path: parseAbsolutePath('--netns', netns) } : undefined,
    container: containerId !== undefined ? parseContainerId('--container-id', containerId) : undefined,
    pidFile: pidFile !== undefined ? parseAbsolutePath('--pid-file', pidFile) : undefined,
  };
}

/** The PID in a pid file (first word), or undefined when the file is missing or holds no PID. */
function pidFromFile(files: Pick<Files, 'readText'>, path: string): number | undefined {
  try {
    const word = files.readText(path).trim().split(/\s+/)[0] ?? '';
    return /^\d{1,10}$/.test(word) && Number(word) >= 1 ? Number(word) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where the target is now, and how to find it again after a restart (ON_TARGET_RESTART): the PID in the pid
 * file read again, the container found again by its ID (`docker restart` keeps the ID, not the PID), or the
 * same reference.
 */
export function locateTarget(
  deps: Pick<Deps, 'files' | 'exec' | 'stop'>, flags: TargetFlags, spec: Pick<Spec, 'runtime'>,
): { netns: NetnsRef | undefined; refind: (() => Promise<NetnsRef | undefined>) | undefined } {
  const { pidFile, container } = flags;
  if (pidFile !== undefined) {
    const read = (): NetnsRef | undefined => {
      const pid = pidFromFile(deps.files, pidFile);
      return pid === undefined ? undefined : { kind: 'pid', pid };
    };
    const netns = read();
    if (!netns) throw new RuntimeError(`--pid-file ${pidFile}: no PID in it (missing, unreadable or not a number)`);
    return { netns, refind: () => Promise.resolve(read()) };
  }
  if (container !== undefined) {
    return {
      netns: undefined,
      // The container code (and its JSON schemas) is loaded only for runs that name a container.
      refind: async () => (await (await import('../runtime/container.js')).findContainer(deps, { ref: container, runtime: spec.runtime, signal: deps.stop.signal })).netns,
    };
  }
  return { netns: flags.netns, refind: undefined };
}
