/** The real Processes port (the detached dead-man watchdog), and new run ids. */
import { closeSync, openSync, readSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { RuntimeError } from '../model/errors.js';
import type { Processes } from '../ports.js';

export const realProcesses: Processes = {
  detach: (file, args, logPath) => {
    let fd: number | undefined;
    try {
      if (logPath !== undefined) fd = openSync(logPath, 'a', 0o600);
    } catch {
      fd = undefined; // a read-only root filesystem: the watchdog runs without a log
    }
    const child = spawn(file, [...args], { detached: true, stdio: ['ignore', fd ?? 'ignore', fd ?? 'ignore'] });
    child.on('error', () => { /* reported below through the missing pid */ });
    child.unref();
    if (fd !== undefined) closeSync(fd);
    if (child.pid === undefined) throw new RuntimeError(`could not start ${file} ${args.join(' ')}`);
    return child.pid;
  },
  kill: (pid, signal) => {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  },
};

/** A new run id: 16 hex digits (64 random bits), the owner in the tree's marker. */
export function newRunId(): string {
  // The kernel's random bytes, read directly: node:crypto costs ~20 internal modules to load (5–20 ms on the
  // host, 10–20× that under emulation) on the path of every inject and revert, for these 8 bytes.
  const bytes = Buffer.alloc(8);
  const fd = openSync('/dev/urandom', 'r');
  try {
    if (readSync(fd, bytes, 0, 8, null) !== 8) throw new RuntimeError('short read from /dev/urandom');
  } finally {
    closeSync(fd);
  }
  return bytes.toString('hex');
}
