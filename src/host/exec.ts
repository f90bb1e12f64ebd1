/**
 * The real Exec port: node:child_process with an argv array, never a shell; actionable errors when a binary
 * cannot start. (Not execa: loading it and its stream set-up per call cost more start-up than every tc call of
 * an injection under emulation; what this port needs is small.)
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { RuntimeError } from '../model/errors.js';
import type { Exec, ExecOptions } from '../ports.js';

const installHints: Readonly<Record<string, string>> = {
  nsenter: 'install util-linux',
  tc: 'install iproute2',
  ip: 'install iproute2',
};

/** After a timeout's SIGTERM, how long a process may take before SIGKILL. */
const KILL_GRACE_MS = 5_000;

/** Writes the input to stdin, piece by piece, waiting for the pipe to drain (a 10,000-line batch is not copied whole). */
async function feed(stdin: NodeJS.WritableStream, input: string | Iterable<string>): Promise<void> {
  if (typeof input === 'string') {
    stdin.end(input);
    return;
  }
  for (const piece of input) {
    if (!stdin.write(piece)) {
      await new Promise<void>((resolve) => {
        const done = (): void => { stdin.off('drain', done); stdin.off('close', done); resolve(); };
        stdin.once('drain', done);
        stdin.once('close', done);
      });
    }
  }
  stdin.end();
}

interface Finished {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly error: NodeJS.ErrnoException | undefined;
  readonly timedOut: boolean;
  readonly canceled: boolean;
}

const resolved = new Map<string, string>();

/**
 * The binary's path in PATH, looked up once per process: each exec then starts the right file at once
 * instead of trying every PATH directory before it (5 failed execve per call, ~45 ms under emulation).
 * Not found: the name itself (the spawn then fails with ENOENT and the install hint).
 */
function resolveBinary(file: string): string {
  if (file.includes('/')) return file;
  const known = resolved.get(file);
  if (known !== undefined) return known;
  let found = file;
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    if (dir === '') continue;
    const candidate = path.join(dir, file);
    try {
      accessSync(candidate, constants.X_OK);
      found = candidate;
      break;
    } catch {
      // not here: the next directory
    }
  }
  if (found !== file) resolved.set(file, found);
  return found;
}

function runProcess(file: string, args: readonly string[], options: ExecOptions): Promise<Finished> {
  return new Promise((resolve) => {
    let timedOut = false;
    let canceled = false;
    let error: NodeJS.ErrnoException | undefined;
    const child = spawn(resolveBinary(file), [...args], { stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    let killTimer: NodeJS.Timeout | undefined;
    const kill = (): void => {
      child.kill('SIGTERM');
      killTimer ??= setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    };
    const timer = options.timeoutMs !== undefined ? setTimeout(() => { timedOut = true; kill(); }, options.timeoutMs) : undefined;
    const onAbort = (): void => { canceled = true; kill(); };
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.input !== undefined && child.stdin) {
      // The process may exit without reading all of it (EPIPE): its exit code and stderr tell what happened.
      child.stdin.on('error', () => undefined);
      feed(child.stdin, options.input).catch(() => undefined);
    }
    child.on('error', (e) => { error = e; });
    child.on('close', (exitCode, signal) => {
      if (timer) clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({
        exitCode, signal, error, timedOut, canceled,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

export const realExec: Exec = async (file, args, options = {}) => {
  const r = await runProcess(file, args, options);
  if (r.canceled) throw new RuntimeError(`${file} was stopped (the run is stopping)`);
  // A process that could not be started closes with a negative errno as its code.
  if (r.exitCode === null || r.error !== undefined) {
    if (r.error?.code === 'ENOENT') throw new RuntimeError(`${file} was not found on PATH: ${installHints[file] ?? 'is it installed?'}`);
    if (r.timedOut) throw new RuntimeError(`${file} ${args.join(' ')} timed out after ${options.timeoutMs ?? 0} ms`);
    const why = r.error ? r.error.message : `it was killed by ${r.signal ?? 'a signal'}`;
    throw new RuntimeError(`${file} could not run: ${why}`);
  }
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
};
