/**
 * Every side effect the program has comes in through Deps: tests pass fakes, main() passes the real ones.
 */
import { readlink, stat } from 'node:fs/promises';
import { closeSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { execa } from 'execa';
import type { Logger } from 'pino';
import type { EffectProber } from './effect/probe.js';
import { RuntimeError } from './errors.js';

export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ExecOptions {
  readonly input?: string;
  readonly timeoutMs?: number;
  /** Kills the process when it aborts (the effect probe on SIGTERM: the revert must not wait for it). */
  readonly signal?: AbortSignal;
}

/** Runs a binary with an argv array (never a shell). Throws RuntimeError only when it cannot start. */
export type Exec = (file: string, args: readonly string[], options?: ExecOptions) => Promise<ExecResult>;

export interface Clock {
  readonly now: () => number;
  /** Resolves after ms, or early (without throwing) when the signal aborts. */
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export type StopSignalName = 'SIGTERM' | 'SIGINT';

export interface Signals {
  readonly on: (signal: StopSignalName, handler: () => void) => void;
  readonly off: (signal: StopSignalName, handler: () => void) => void;
}

export interface Files {
  readonly readText: (path: string) => string;
  /** Entry names of a directory; [] when it is missing or unreadable. */
  readonly list: (path: string) => string[];
  /** The identity of a namespace file (`net:[4026532001]`), or undefined when it is gone. */
  readonly namespaceId: (path: string) => Promise<string | undefined>;
}

/** Processes that outlive this one (the dead-man watchdog). */
export interface Processes {
  /**
   * Starts `file args` in a new session (setsid: its own process group, no terminal), not waited
   * for; stdout and stderr go to `logPath` when it can be opened. Returns its PID.
   */
  readonly detach: (file: string, args: readonly string[], logPath: string | undefined) => number;
  /** Sends a signal; false when there is no such process. */
  readonly kill: (pid: number, signal: NodeJS.Signals) => boolean;
}

export interface Deps {
  readonly exec: Exec;
  readonly clock: Clock;
  readonly signals: Signals;
  readonly files: Files;
  readonly processes: Processes;
  readonly log: Logger;
  /** MEASURE_EFFECT's probes and counters (src/effect/probe.ts); absent = nothing is measured. */
  readonly prober?: EffectProber;
}

/** A new run id: 16 hex digits (64 random bits), the owner in the tree's marker. */
export function newRunId(): string {
  return randomBytes(8).toString('hex');
}

const installHints: Readonly<Record<string, string>> = {
  nsenter: 'install util-linux',
  tc: 'install iproute2',
  ip: 'install iproute2',
};

export const realExec: Exec = async (file, args, options = {}) => {
  const result = await execa(file, [...args], {
    reject: false,
    stripFinalNewline: false,
    ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' }),
    ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
    ...(options.signal !== undefined ? { cancelSignal: options.signal } : {}),
  });
  if (result.isCanceled) throw new RuntimeError(`${file} was stopped (the run is stopping)`);
  if (result.failed && result.exitCode === undefined) {
    const code = result.cause instanceof Error && 'code' in result.cause ? String(result.cause.code) : '';
    if (code === 'ENOENT') {
      throw new RuntimeError(`${file} was not found on PATH: ${installHints[file] ?? 'is it installed?'}`);
    }
    if (result.timedOut) throw new RuntimeError(`${file} ${args.join(' ')} timed out after ${options.timeoutMs ?? 0} ms`);
    throw new RuntimeError(`${file} could not run: ${result.shortMessage}`);
  }
  return { exitCode: result.exitCode ?? 1, stdout: result.stdout, stderr: result.stderr };
};

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    try {
      await delay(ms, undefined, signal ? { signal } : {});
    } catch (error) {
      if (!(error instanceof Error && error.name === 'AbortError')) throw error;
    }
  },
};

export const realSignals: Signals = {
  on: (s, h) => process.on(s, h),
  off: (s, h) => process.off(s, h),
};

let nsfsDevice: number | undefined;

export const realFiles: Files = {
  readText: (path) => readFileSync(path, 'utf8'),
  list: (path) => {
    try {
      return readdirSync(path);
    } catch {
      return [];
    }
  },
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
