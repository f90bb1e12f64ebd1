/**
 * The commands of one injection on this node (dist/cli-inject.cjs in the build): `plan`, `inject` and the process
 * dead-man (`watchdog`) that inject starts beside its tree. The same program as ./main.ts (./program.ts), without the
 * Litmus runner, its probes and the other commands: a third less code for V8 to read and pre-parse at each start
 * (0.33 MB instead of 0.50; bench/startup-profile.md, round 13).
 */
import type { Io } from './context.js';
import type { HostFactory } from './host.js';
import type { INJECT_COMMANDS } from './inject-commands.js';
import { type Actions, runCommands } from './program.js';

export const injectActions = {
  plan: async () => (await import('./plan.js')).plan,
  inject: async () => (await import('./inject.js')).inject,
  watchdog: async () => (await import('./watchdog.js')).watchdog,
} satisfies Required<Pick<Actions, (typeof INJECT_COMMANDS)[number]>>;

/** Runs a command line of ./inject-commands.ts; returns the exit code (never throws). */
export const run = (argv: readonly string[], io: Io, makeHost?: HostFactory): Promise<number> => runCommands(injectActions, argv, io, makeHost);
