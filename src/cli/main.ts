/**
 * The composition root: argv → one command (its options parsed by commander); the command reads its input
 * (exit 2 on bad input, before any change), builds the host adapters once and runs; its exit code, or its
 * error's (the error table), is the process's. The Litmus runner's code and the Kubernetes client are loaded
 * when a command needs them; the rest is one bundle (a handful of files to read at start-up).
 */
import { Command, CommanderError, Option } from 'commander';
import { ExitCode } from '../model/errors.js';
import { type Action, Context, type Io, type Options } from './context.js';
import { reportFailure } from './failure.js';
import type { HostFactory } from './host.js';
import { version } from './version.js';

/**
 * Each command's code, loaded when that command runs: `--version` loads none of it, `revert` no planner,
 * `plan` no Litmus code, and only `run`/`helper` the Litmus runner (start-up is what a user waits for: the
 * chaos window of a Litmus run, the revert on SIGTERM within a pod's termination grace).
 */
const actions = {
  plan: async () => (await import('./plan.js')).plan,
  deps: async () => (await import('./deps.js')).deps,
  inject: async () => (await import('./inject.js')).inject,
  run: async () => (await import('./run.js')).run,
  helper: async () => (await import('./helper.js')).helper,
  revert: async () => (await import('./revert.js')).revert,
  sweep: async () => (await import('./sweep.js')).sweep,
  watchdog: async () => (await import('./watchdog.js')).watchdog,
  'deadman-unit': async () => (await import('./deadman-unit.js')).deadmanUnit,
} satisfies Record<string, () => Promise<Action>>;
type CommandName = keyof typeof actions;
const isCommand = (name: string | undefined): name is CommandName => name !== undefined && Object.hasOwn(actions, name);

/**
 * The commands, with their options. The options (the variable table as flags) are built for the command
 * being run only, or for all of them when the command line names none (help, a typo); `--version` alone
 * builds none.
 */
async function program(argv: readonly string[], io: Io, run: (load: () => Promise<Action>) => (opts: Options) => Promise<void>): Promise<Command> {
  const named = argv[0] === 'help' ? argv[1] : argv[0];
  const wanted = (name: CommandName): boolean => (isCommand(named) ? named === name : argv[0] !== '--version');
  const needsOptions = (['plan', 'deps', 'inject', 'run', 'helper', 'revert'] as const).some(wanted);
  const { addVariableOptions, addTargetOptions } = needsOptions ? await import('./options.js') : { addVariableOptions: undefined, addTargetOptions: undefined };
  const variableOptions = (c: Command, mode?: 'litmus'): Command => (addVariableOptions ? addVariableOptions(c, mode) : c);
  const targetOptions = (c: Command, which?: 'namespace'): Command => (addTargetOptions ? addTargetOptions(c, which) : c);
  const p = new Command('netchaos')
    .description('Network faults between one application and only some of its dependencies (tc prio + netem + u32, one batch).')
    .version(version(), '--version', 'print the version')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run with --help for usage)');
  const plan = p.command('plan').description('print exactly what inject would do (destinations, tree, tc batch); change nothing');
  if (wanted('plan')) targetOptions(variableOptions(plan));
  plan.action(run(actions.plan));
  const deps = p.command('deps').description("list the target's live connections (TCP/UDP, IPv4/IPv6, connected and listening) by peer address and port, each named: Kubernetes Service or pod (PEER_NAMESPACES, DESTINATION_PODS/SERVICES namespaces), else reverse DNS with the target's resolver; with TARGETS (or APP_NS/APP_LABEL, TARGET_PODS) and NODE_NAME instead of a target, every selected pod on this node; change nothing");
  if (wanted('deps')) targetOptions(variableOptions(deps, 'litmus'));
  deps.action(run(actions.deps));
  const inject = p.command('inject').description('apply the fault, wait TOTAL_CHAOS_DURATION, revert, exit');
  if (wanted('inject')) targetOptions(variableOptions(inject));
  inject.action(run(actions.inject));
  const litmus = p.command('run').description('Litmus mode: find the target pods (TARGETS), enter their containers on this node (NODE_NAME) or through one helper pod per other node (HELPER_MODE), inject, revert, report to ChaosResult and Events');
  if (wanted('run')) variableOptions(litmus, 'litmus');
  litmus.action(run(actions.run));
  const helper = p.command('helper')
    .description('what a helper pod runs (created by `netchaos run` for targets on other nodes): inject into the targets of its job (env NETCHAOS_HELPER_JOB) on this node, revert, write the result to the termination log');
  if (wanted('helper')) helper.addOption(new Option('--result-file <path>', 'where the result JSON is written').default((await import('../litmus/helper-job.js')).RESULT_PATH));
  helper.action(run(actions.helper));
  const revert = p.command('revert').description("remove this tool's tree from a namespace, if present (exit 0 also when there is nothing to remove)");
  if (wanted('revert')) {
    targetOptions(revert, 'namespace')
      .addOption(new Option('--interface <name>', 'interface [env NETWORK_INTERFACE, default "eth0"]'))
      .addOption(new Option('--log-level <level>', 'log level [env LOG_LEVEL]'));
  }
  revert.action(run(actions.revert));
  p.command('sweep')
    .description('remove every netchaos tree whose deadline has passed, in every network namespace on this node (/proc/*/ns/net, /var/run/netns/*), on every interface; live and unmarked trees are left alone and listed')
    .addOption(new Option('--interface <name>', 'only this interface (default: all)'))
    .addOption(new Option('--output <format>', 'text or json').choices(['text', 'json']).default('text'))
    .addOption(new Option('--log-level <level>', 'log level [env LOG_LEVEL]'))
    .action(run(actions.sweep));
  // The process dead-man (lifecycle/deadman.ts): started detached by inject, not meant to be run by hand.
  p.command('watchdog', { hidden: true })
    .requiredOption('--run-id <id>').requiredOption('--netns-id <id>').requiredOption('--deadline <unix-seconds>')
    .requiredOption('--interface <name>').option('--hint <path>')
    .action(run(actions.watchdog));
  // Prints the systemd dead-man's `nsenter … systemd-run …` argv and its commands (JSON), changing nothing: for review and the lab.
  p.command('deadman-unit', { hidden: true })
    .requiredOption('--run-id <id>').requiredOption('--netns-id <id>').requiredOption('--deadline <unix-seconds>')
    .requiredOption('--interface <name>').requiredOption('--path <path>').option('--generation <n>', '', '1').option('--direction <egress|ingress|both>', '', 'egress')
    .action(run(actions['deadman-unit']));
  return p;
}

/** Runs one command line; returns the exit code (never throws). */
export async function run(argv: readonly string[], io: Io, makeHost?: HostFactory): Promise<number> {
  let exitCode: number = ExitCode.ok;
  let ctx: Context | undefined;
  const runAction = (load: () => Promise<Action>) => async (opts: Options): Promise<void> => {
    const action = await load();
    // The real host (pino, the exec and tc adapters, the Kubernetes client's loader) is loaded only for a command that runs.
    ctx = new Context(io, opts, makeHost ?? (await import('./host.js')).realHost);
    exitCode = await action(ctx);
  };
  try {
    await (await program(argv, io, runAction)).parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? ExitCode.ok : ExitCode.usage;
    }
    exitCode = reportFailure(error, io, ctx);
  }
  return exitCode;
}
