/**
 * The composition root: argv → one command (its options parsed by commander); the command reads its input
 * (exit 2 on bad input, before any change), builds the host adapters once and runs; its exit code, or its
 * error's (the error table), is the process's. The Litmus runner's code and the Kubernetes client are loaded
 * when a command needs them; the rest is one bundle (a handful of files to read at start-up).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { ExitCode, RevertError, UsageError, UsageErrors, exitCodeOf, messageOf } from '../model/errors.js';
import { stringField, tryParseJson } from '../model/json.js';
import { RESULT_PATH } from '../litmus/helper-job.js';
import { type Action, Context, type Io, type Options } from './context.js';
import { deadmanUnit } from './deadman-unit.js';
import { deps } from './deps.js';
import { helper } from './helper.js';
import { type HostFactory, realHost } from './host.js';
import { inject } from './inject.js';
import { addVariableOptions } from './options.js';
import { plan } from './plan.js';
import { revert } from './revert.js';
import { run as litmusRun } from './run.js';
import { sweep } from './sweep.js';
import { addTargetOptions } from './target-flags.js';
import { watchdog } from './watchdog.js';


/** The package version, from package.json next to dist/ (the bundle) or src/ (this file under src/cli/). */
function version(): string {
  for (const path of ['../package.json', '../../package.json']) {
    try {
      const v = stringField(tryParseJson(readFileSync(new URL(path, import.meta.url), 'utf8')), 'version');
      if (v !== undefined) return v;
    } catch {
      // not there: the next place
    }
  }
  return 'unknown';
}

/** The commands, with their options. */
function program(io: Io, run: (action: Action) => (opts: Options) => Promise<void>): Command {
  const p = new Command('netchaos')
    .description('Network faults between one application and only some of its dependencies (tc prio + netem + u32, one batch).')
    .version(version(), '--version', 'print the version')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run with --help for usage)');
  addTargetOptions(addVariableOptions(p.command('plan').description('print exactly what inject would do (destinations, tree, tc batch); change nothing')))
    .action(run(plan));
  addTargetOptions(addVariableOptions(p.command('deps').description("list the target's live connections (TCP/UDP, IPv4/IPv6, connected and listening) by peer address and port, each named: Kubernetes Service or pod (PEER_NAMESPACES, DESTINATION_PODS/SERVICES namespaces), else reverse DNS with the target's resolver; change nothing")))
    .action(run(deps));
  addTargetOptions(addVariableOptions(p.command('inject').description('apply the fault, wait TOTAL_CHAOS_DURATION, revert, exit')))
    .action(run(inject));
  addVariableOptions(p.command('run').description('Litmus mode: find the target pods (TARGETS), enter their containers on this node (NODE_NAME) or through one helper pod per other node (HELPER_MODE), inject, revert, report to ChaosResult and Events'), 'litmus')
    .action(run(litmusRun));
  p.command('helper')
    .description('what a helper pod runs (created by `netchaos run` for targets on other nodes): inject into the targets of its job (env NETCHAOS_HELPER_JOB) on this node, revert, write the result to the termination log')
    .addOption(new Option('--result-file <path>', 'where the result JSON is written').default(RESULT_PATH))
    .action(run(helper));
  addTargetOptions(p.command('revert').description("remove this tool's tree from a namespace, if present (exit 0 also when there is nothing to remove)"), 'namespace')
    .addOption(new Option('--interface <name>', 'interface [env NETWORK_INTERFACE, default "eth0"]'))
    .addOption(new Option('--log-level <level>', 'log level [env LOG_LEVEL]'))
    .action(run(revert));
  p.command('sweep')
    .description('remove every netchaos tree whose deadline has passed, in every network namespace on this node (/proc/*/ns/net, /var/run/netns/*), on every interface; live and unmarked trees are left alone and listed')
    .addOption(new Option('--interface <name>', 'only this interface (default: all)'))
    .addOption(new Option('--output <format>', 'text or json').choices(['text', 'json']).default('text'))
    .addOption(new Option('--log-level <level>', 'log level [env LOG_LEVEL]'))
    .action(run(sweep));
  // The process dead-man (lifecycle/deadman.ts): started detached by inject, not meant to be run by hand.
  p.command('watchdog', { hidden: true })
    .requiredOption('--run-id <id>').requiredOption('--netns-id <id>').requiredOption('--deadline <unix-seconds>')
    .requiredOption('--interface <name>').option('--hint <path>')
    .action(run(watchdog));
  // Prints the systemd dead-man's `nsenter … systemd-run …` argv and its commands (JSON), changing nothing: for review and the lab.
  p.command('deadman-unit', { hidden: true })
    .requiredOption('--run-id <id>').requiredOption('--netns-id <id>').requiredOption('--deadline <unix-seconds>')
    .requiredOption('--interface <name>').requiredOption('--path <path>').option('--generation <n>', '', '1')
    .action(run(deadmanUnit));
  return p;
}

/** Runs one command line; returns the exit code (never throws). */
export async function run(argv: readonly string[], io: Io, makeHost: HostFactory = realHost): Promise<number> {
  let exitCode: number = ExitCode.ok;
  let ctx: Context | undefined;
  const runAction = (action: Action) => async (opts: Options): Promise<void> => {
    ctx = new Context(io, opts, makeHost);
    exitCode = await action(ctx);
  };
  try {
    await program(io, runAction).parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? ExitCode.ok : ExitCode.usage;
    }
    exitCode = exitCodeOf(error);
    const message = messageOf(error);
    if (error instanceof UsageError || error instanceof UsageErrors) {
      io.stderr(`netchaos: bad input, nothing was changed:\n${message.split('\n').map((l) => `  ${l}`).join('\n')}\n`);
    } else {
      if (ctx?.logsErrors) ctx.host?.log.error({ err: error instanceof RevertError ? { leftover: error.leftover, command: error.command } : undefined }, message);
      io.stderr(`netchaos: ${message}\n`);
    }
  }
  return exitCode;
}
