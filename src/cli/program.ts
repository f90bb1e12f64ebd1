/**
 * The composition root: argv → one command (its options parsed by commander); the command reads its input
 * (exit 2 on bad input, before any change), builds the host adapters once and runs; its exit code, or its
 * error's (the error table), is the process's. Which commands exist is the caller's table of loaders (./main.ts:
 * all of them; ./main-inject.ts: those of one injection on this node), so that a bundle holds the code of its
 * commands only.
 */
import { Command, CommanderError, Option } from 'commander';
import { ExitCode } from '../model/errors.js';
import { RESULT_PATH } from '../model/litmus.js';
import { type Action, Context, type Io, type Options } from './context.js';
import { reportFailure } from './failure.js';
import type { HostFactory } from './host.js';
import { version } from './version.js';

/** Every command of the CLI, as commander knows it. */
export const COMMAND_NAMES = ['plan', 'deps', 'inject', 'run', 'helper', 'revert', 'sweep', 'watchdog', 'deadman-unit'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];
/** The code of each command a bundle holds, loaded when that command runs. */
export type Actions = Partial<Record<CommandName, () => Promise<Action>>>;
const isCommand = (name: string | undefined): name is CommandName => COMMAND_NAMES.some((c) => c === name);

/**
 * The commands of `actions`, with their options. The options (the variable table as flags) are built for the
 * command being run only, or for all of them when the command line names none (help, a typo); `--version` alone
 * builds none. A command that `actions` lacks is not defined (commander then calls it unknown: exit 2).
 */
async function program(argv: readonly string[], io: Io, actions: Actions, run: (load: () => Promise<Action>) => (opts: Options) => Promise<void>): Promise<Command> {
  const named = argv[0] === 'help' ? argv[1] : argv[0];
  const wanted = (name: CommandName): boolean => actions[name] !== undefined && (isCommand(named) ? named === name : argv[0] !== '--version');
  const needsOptions = (['plan', 'deps', 'inject', 'run', 'revert'] as const).some(wanted);
  const { addVariableOptions, addTargetOptions } = needsOptions ? await import('./options.js') : { addVariableOptions: undefined, addTargetOptions: undefined };
  const variableOptions = (c: Command, mode?: 'litmus'): Command => (addVariableOptions ? addVariableOptions(c, mode) : c);
  const targetOptions = (c: Command, which?: 'namespace'): Command => (addTargetOptions ? addTargetOptions(c, which) : c);
  const p = new Command('netchaos')
    .description('Network faults between one application and only some of its dependencies (tc prio + netem + u32, one batch).')
    .version(version(), '--version', 'print the version')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run with --help for usage)');
  /** Defines command `name` when `actions` has it: its description, its options (`setUp`, when it is wanted), its action. */
  const define = (name: CommandName, description: string, setUp: (c: Command) => Command, hidden = false): void => {
    const load = actions[name];
    if (load === undefined) return;
    const c = p.command(name, { hidden }).description(description);
    if (wanted(name)) setUp(c);
    c.action(run(load));
  };
  define('plan', 'print exactly what inject would do (destinations, tree, tc batch); change nothing', (c) => targetOptions(variableOptions(c)));
  define('deps', "list the target's live connections (TCP/UDP, IPv4/IPv6, connected and listening) by peer address and port, each named: Kubernetes Service or pod (PEER_NAMESPACES, DESTINATION_PODS/SERVICES namespaces), else reverse DNS with the target's resolver; with TARGETS (or APP_NS/APP_LABEL, TARGET_PODS) and NODE_NAME instead of a target, every selected pod on this node; change nothing",
    (c) => targetOptions(variableOptions(c, 'litmus')));
  define('inject', 'apply the fault, wait TOTAL_CHAOS_DURATION, revert, exit', (c) => targetOptions(variableOptions(c)));
  define('run', 'Litmus mode: find the target pods (TARGETS), enter their containers on this node (NODE_NAME) or through one helper pod per other node (HELPER_MODE), inject, revert, report to ChaosResult and Events',
    (c) => variableOptions(c, 'litmus'));
  define('helper', 'what a helper pod runs (created by `netchaos run` for targets on other nodes): inject into the targets of its job (env NETCHAOS_HELPER_JOB) on this node, revert, write the result to the termination log',
    (c) => c.addOption(new Option('--result-file <path>', 'where the result JSON is written').default(RESULT_PATH)));
  define('revert', "remove this tool's tree from a namespace, if present (exit 0 also when there is nothing to remove)", (c) => targetOptions(c, 'namespace')
    .addOption(new Option('--interface <name>', 'interface [env NETWORK_INTERFACE, default "eth0"]'))
    .addOption(new Option('--log-level <level>', 'log level [env LOG_LEVEL]')));
  define('sweep', 'remove every netchaos tree whose deadline has passed, in every network namespace on this node (/proc/*/ns/net, /var/run/netns/*), on every interface; live and unmarked trees are left alone and listed',
    (c) => c
      .addOption(new Option('--interface <name>', 'only this interface (default: all)'))
      .addOption(new Option('--output <format>', 'text or json').choices(['text', 'json']).default('text'))
      .addOption(new Option('--log-level <level>', 'log level [env LOG_LEVEL]')));
  // The process dead-man (lifecycle/deadman.ts): started detached by inject, not meant to be run by hand.
  define('watchdog', '', (c) => c
    .requiredOption('--run-id <id>').requiredOption('--netns-id <id>').requiredOption('--deadline <unix-seconds>')
    .requiredOption('--interface <name>').option('--hint <path>'), true);
  // Prints the systemd dead-man's `nsenter … systemd-run …` argv and its commands (JSON), changing nothing: for review and the lab.
  define('deadman-unit', '', (c) => c
    .requiredOption('--run-id <id>').requiredOption('--netns-id <id>').requiredOption('--deadline <unix-seconds>')
    .requiredOption('--interface <name>').requiredOption('--path <path>').option('--generation <n>', '', '1').option('--direction <egress|ingress|both>', '', 'egress'), true);
  return p;
}

/** Runs one command line with the commands of `actions`; returns the exit code (never throws). */
export async function runCommands(actions: Actions, argv: readonly string[], io: Io, makeHost?: HostFactory): Promise<number> {
  let exitCode: number = ExitCode.ok;
  let ctx: Context | undefined;
  const runAction = (load: () => Promise<Action>) => async (opts: Options): Promise<void> => {
    const action = await load();
    // The real host (pino, the exec and tc adapters, the Kubernetes client's loader) is loaded only for a command that runs.
    ctx = new Context(io, opts, makeHost ?? (await import('./host.js')).realHost);
    exitCode = await action(ctx);
  };
  try {
    await (await program(argv, io, actions, runAction)).parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? ExitCode.ok : ExitCode.usage;
    }
    exitCode = reportFailure(error, io, ctx);
  }
  return exitCode;
}
