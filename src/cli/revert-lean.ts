/**
 * `netchaos revert` without commander and the other commands: the entry (src/cli.ts) sends a revert command line here
 * (in the build dist/cli-revert.cjs, a file of its own: scripts/bundle.mjs), so that the revert a dead runner's
 * cleanup, an operator or a pod's termination waits for does not read and pre-parse the whole CLI
 * (dist/cli-main.cjs) nor build its options (bench/startup-profile.md, round 9).
 *
 * Only the plain command lines come here (./revert-args.ts): the options commander would have parsed, with which the
 * same action (./revert.ts) runs, its errors reported by the same handler (./failure.ts).
 */
import { Context, type Io, type Options } from './context.js';
import { reportFailure } from './failure.js';
import type { HostFactory } from './host.js';
import { runAsProcess } from './process-io.js';
import { revert } from './revert.js';

/** The entry's `revert`: the command run as this process. */
export async function launchRevert(opts: Options): Promise<void> {
  await runAsProcess((io) => runRevert(opts, io));
}

/** Runs `netchaos revert` with the options of leanRevertOptions() (./revert-args.ts); returns the exit code (never throws). */
export async function runRevert(opts: Options, io: Io, makeHost?: HostFactory): Promise<number> {
  let ctx: Context | undefined;
  try {
    ctx = new Context(io, opts, makeHost ?? (await import('./host.js')).realHost);
    return await revert(ctx);
  } catch (error) {
    return reportFailure(error, io, ctx);
  }
}
