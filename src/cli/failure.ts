/**
 * The one handler of a command's error (style.md 6), shared by the composition root (./main.ts) and the lean
 * `revert` (./revert-lean.ts): the error's exit code, its message on stderr (bad input: "nothing was changed",
 * one line per problem) and, for a command that logs, in the log too (a failed revert with what is left and the
 * command that removes it).
 */
import { RevertError, UsageError, UsageErrors, exitCodeOf, messageOf } from '../model/errors.js';
import type { Context, Io } from './context.js';

export function reportFailure(error: unknown, io: Pick<Io, 'stderr'>, ctx: Context | undefined): number {
  const exitCode = exitCodeOf(error);
  const message = messageOf(error);
  if (error instanceof UsageError || error instanceof UsageErrors) {
    io.stderr(`netchaos: bad input, nothing was changed:\n${message.split('\n').map((l) => `  ${l}`).join('\n')}\n`);
  } else {
    if (ctx?.logsErrors) ctx.host?.log.error({ err: error instanceof RevertError ? { leftover: error.leftover, command: error.command } : undefined }, message);
    io.stderr(`netchaos: ${message}\n`);
  }
  return exitCode;
}
