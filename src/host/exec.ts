/** The real Exec port: execa with an argv array, never a shell; actionable errors when a binary cannot start. */
import { RuntimeError } from '../model/errors.js';
import type { Exec } from '../ports.js';

const installHints: Readonly<Record<string, string>> = {
  nsenter: 'install util-linux',
  tc: 'install iproute2',
  ip: 'install iproute2',
};

/** execa is loaded by the first exec: commands that run nothing (`plan` without a target, `--version`) do not pay for it. */
let loading: Promise<typeof import('execa')> | undefined;
/**
 * Once loaded, execa is called in the same tick as the exec: the process starts before whatever the caller
 * does next (the apply batch's tc before the dead-man's node spawn, src/lifecycle/apply.ts).
 */
let loaded: typeof import('execa') | undefined;

export const realExec: Exec = async (file, args, options = {}) => {
  const { execa } = loaded ?? (loaded = await (loading ??= import('execa')));
  const result = await execa(file, [...args], {
    reject: false,
    stripFinalNewline: false,
    ...(options.input === undefined ? { stdin: 'ignore' } : typeof options.input === 'string' ? { input: options.input } : { stdin: options.input }),
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
