/**
 * The CLI's commands, all of them (dist/cli-main.cjs in the build): argv → one command (./program.ts). Each command's
 * code is loaded when that command runs: `--version` loads none of it, `revert` no planner, `plan` no Litmus code,
 * and only `run`/`helper` the Litmus runner (start-up is what a user waits for: the chaos window of a Litmus run,
 * the revert on SIGTERM within a pod's termination grace).
 */
import type { Io } from './context.js';
import type { HostFactory } from './host.js';
import { type Actions, runCommands } from './program.js';

export const allActions = {
  plan: async () => (await import('./plan.js')).plan,
  deps: async () => (await import('./deps.js')).deps,
  inject: async () => (await import('./inject.js')).inject,
  run: async () => (await import('./run.js')).run,
  helper: async () => (await import('./helper.js')).helper,
  revert: async () => (await import('./revert.js')).revert,
  sweep: async () => (await import('./sweep.js')).sweep,
  watchdog: async () => (await import('./watchdog.js')).watchdog,
  'deadman-unit': async () => (await import('./deadman-unit.js')).deadmanUnit,
} satisfies Required<Actions>;

/** Runs one command line; returns the exit code (never throws). */
export const run = (argv: readonly string[], io: Io, makeHost?: HostFactory): Promise<number> => runCommands(allActions, argv, io, makeHost);
