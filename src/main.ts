/** The command line: parse (exit 2 on bad input, before any change), then run one command. */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import type { Logger } from 'pino';
import { type Deps, realClock, realExec, realFiles, realSignals } from './deps.js';
import { ExitCode, RevertError, RuntimeError, UsageError, UsageErrors, exitCodeOf } from './errors.js';
import { type LogLevel, type Spec, buildSpec } from './config/spec.js';
import { parseAbsolutePath, parseInterfaceName, parsePid } from './config/values.js';
import { type Variable, type VariableName, flagName, optionKey, variables } from './config/vars.js';
import { createLogger } from './log.js';
import { describePlan } from './tc/describe.js';
import { plan } from './tc/plan.js';
import { describeQdisc, isKernelDefault, isOurs, rootOf, showQdiscs } from './netns/tc.js';
import { type Target, checkTarget, describeTarget } from './netns/target.js';
import { inject, revert } from './lifecycle/inject.js';
import { logEvent } from './lifecycle/events.js';
import type { KubeApi } from './kube/api.js';
import { type ContainerRef, parseContainerId } from './runtime/config.js';
import type { ContainerNetns } from './runtime/container.js';
import { type HostFs, realHostFs } from './runtime/host.js';
import { type ResolverFactory, nodeResolver } from './resolve/dns.js';
import { describeResolved, discover } from './resolve/destinations.js';

/** The package version, read once from package.json next to dist/ or src/. */
function version(): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    return typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export type DepsFactory = (level: LogLevel) => Deps;

/** What Litmus mode and container/dependency lookup add to Deps: the node's files, DNS, the API. */
export interface Extras {
  readonly fs: HostFs;
  readonly resolver: ResolverFactory;
  /** Created on first use (only when pods, Services or Litmus reporting need it). */
  readonly kube: () => KubeApi;
  readonly random: () => number;
}

export type ExtrasFactory = (env: Io['env']) => Extras;

/**
 * The Kubernetes client is loaded on the first API call, not at start-up: importing
 * @kubernetes/client-node costs about half a second, which `plan`, `inject` and `revert` on IP
 * destinations never need (and ten times that under emulation).
 */
function lazyKubeApi(env: Io['env']): KubeApi {
  let api: Promise<KubeApi> | undefined;
  const load = (): Promise<KubeApi> =>
    (api ??= import('./kube/api.js').then((m) => m.createKubeApi(m.loadKubeConfig(env))));
  return {
    listPods: async (...a) => (await load()).listPods(...a),
    listNodes: async (...a) => (await load()).listNodes(...a),
    getService: async (...a) => (await load()).getService(...a),
    listEndpointSlices: async (...a) => (await load()).listEndpointSlices(...a),
    getChaosEngineUid: async (...a) => (await load()).getChaosEngineUid(...a),
    getChaosResult: async (...a) => (await load()).getChaosResult(...a),
    createChaosResult: async (...a) => (await load()).createChaosResult(...a),
    patchChaosResult: async (...a) => (await load()).patchChaosResult(...a),
    createEvent: async (...a) => (await load()).createEvent(...a),
  };
}

export const realExtras: ExtrasFactory = (env) => {
  let api: KubeApi | undefined;
  return {
    fs: realHostFs(env['PATH'] ?? ''),
    resolver: nodeResolver(),
    kube: () => (api ??= lazyKubeApi(env)),
    random: Math.random,
  };
};

export const realDeps: DepsFactory = (level) => ({
  exec: realExec, clock: realClock, signals: realSignals, files: realFiles, log: createLogger(level),
});

type Options = Record<string, unknown>;

function addVariableOptions(cmd: Command, mode: 'local' | 'litmus' = 'local'): Command {
  for (const v of variables) {
    if (mode === 'local' && 'litmusOnly' in v && v.litmusOnly) continue;
    const opt = new Option(v.flag, `${v.doc} [env ${v.env}${v.default ? `, default ${JSON.stringify(v.default)}` : ''}]`);
    if ('repeatable' in v && v.repeatable) opt.argParser((value: string, prev: string[] | undefined) => [...(prev ?? []), value]);
    cmd.addOption(opt);
  }
  if (mode === 'litmus') return cmd;
  return cmd
    .addOption(new Option('--pid <pid>', 'target: a process in the network namespace (its /proc/<pid>/ns/net)'))
    .addOption(new Option('--netns <path>', 'target: a network namespace file, e.g. /var/run/netns/<name>'))
    .addOption(new Option('--container-id <id>', 'target: a container (crictl/docker ID, or containerd://<id> as in a pod status), found through CONTAINER_RUNTIME and SOCKET_PATH'));
}

/** Flag over ENV; an empty ENV value counts as unset (Litmus passes "" for unset variables). */
function rawGetter(opts: Options, env: Io['env']) {
  return (name: VariableName) => {
    const v: Variable | undefined = variables.find((x) => x.env === name);
    if (!v) return undefined;
    const flagValue = opts[optionKey(v)];
    if (flagValue !== undefined) {
      const value = Array.isArray(flagValue) ? flagValue.map(String).join(' ') : typeof flagValue === 'string' ? flagValue : 'true';
      return { value, label: flagName(v) };
    }
    const envValue = env[v.env];
    return envValue === undefined || envValue === '' ? undefined : { value: envValue, label: v.env };
  };
}

function parseTarget(opts: Options, required: boolean): Target | undefined {
  const pid = opts['pid'];
  const netns = opts['netns'];
  if ([pid, netns, opts['containerId']].filter((x) => x !== undefined).length > 1) throw new UsageError('--pid/--netns/--container-id', 'give one target, not several');
  if (typeof pid === 'string') return { kind: 'pid', pid: parsePid('--pid', pid) };
  if (typeof netns === 'string') return { kind: 'netns', path: parseAbsolutePath('--netns', netns) };
  if (required && opts['containerId'] === undefined) throw new UsageError('--pid/--netns', 'which network namespace? give --pid <PID> or --netns <PATH> (or --container-id <ID>)');
  return undefined;
}

function parseContainer(opts: Options): ContainerRef | undefined {
  const id = opts['containerId'];
  return typeof id === 'string' ? parseContainerId('--container-id', id) : undefined;
}

/** --container-id → the container's process and netns; named dependencies → addresses. */
async function resolveLocal(deps: Deps, extras: Extras, opts: Options, spec: Spec, given: Target | undefined) {
  const ref = parseContainer(opts);
  let container: ContainerNetns | undefined;
  if (ref) {
    const { findContainer } = await import('./runtime/container.js');
    container = await findContainer({ exec: deps.exec, fs: extras.fs }, ref, spec.runtime);
    if (container.note) deps.log.warn(container.note);
  }
  const target = container?.target ?? given;
  const pid = target?.kind === 'pid' ? target.pid : undefined;
  const found = await discover({ fs: extras.fs, resolver: extras.resolver, kube: extras.kube }, spec, { pid });
  if (spec.groups.some((g, i) => g.named !== undefined && g.destinations.length === 0 && (found.facts.discovered?.[i]?.length ?? 0) === 0)) {
    throw new RuntimeError('the named dependencies resolved to no address: refusing to delay all traffic');
  }
  return { target, container, found };
}


function readSpec(opts: Options, io: Io, readText: (p: string) => string): Spec {
  return buildSpec({ get: rawGetter(opts, io.env), readFile: readText });
}

export async function run(argv: readonly string[], io: Io, makeDeps: DepsFactory = realDeps, makeExtras: ExtrasFactory = realExtras): Promise<number> {
  let exitCode: number = ExitCode.ok;
  let log: Logger | undefined;
  const program = new Command('netchaos')
    .description('Network faults between one application and only some of its dependencies (tc prio + netem + u32, one batch).')
    .version(version(), '--version', 'print the version')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run with --help for usage)');

  addVariableOptions(program.command('plan').description('print exactly what inject would do (destinations, tree, tc batch); change nothing'))
    .action(async (opts: Options) => {
      const given = parseTarget(opts, false);
      parseContainer(opts);
      const deps = makeDeps('warn');
      const spec = readSpec(opts, io, deps.files.readText);
      const { target, container, found } = await resolveLocal(deps, makeExtras(io.env), opts, spec, given);
      const p = plan(spec, found.facts);
      let root: string | undefined;
      const notes: string[] = [];
      if (target) {
        await checkTarget(deps, target);
        const current = rootOf(await showQdiscs(deps, target, spec.interface));
        root = describeQdisc(current);
        if (isOurs(current)) notes.push('inject would be REFUSED: a netchaos tree is already there (netchaos revert removes it)');
        else if (!isKernelDefault(current)) notes.push(spec.force ? 'inject would REPLACE this foreign root qdisc (--force); it is not restored afterwards' : 'inject would be REFUSED: the root qdisc is not a kernel default (use --force to replace it)');
      }
      const context = { ...(target ? { target: describeTarget(target) } : {}), ...(root ? { root } : {}) };
      const containerInfo = container ? { pid: container.pid, netns: container.netnsPath, via: container.via, runtime: container.runtime ?? 'unknown', ...(container.note ? { note: container.note } : {}) } : undefined;
      if (spec.output === 'json') {
        io.stdout(JSON.stringify({ ...context, ...(containerInfo ? { container: containerInfo } : {}), resolved: found.resolved, notes, durationS: spec.durationS, rampS: spec.rampS, force: spec.force, plan: p }, null, 2) + '\n');
      } else {
        const head = containerInfo ? `Container ${String(opts['containerId'])}: pid ${containerInfo.pid}, netns ${containerInfo.netns} (via ${containerInfo.via}, runtime ${containerInfo.runtime})\n` : '';
        io.stdout(head + describeResolved(found.resolved) + describePlan(p, context) + notes.map((n) => `\n!!! ${n}\n`).join(''));
      }
    });

  addVariableOptions(program.command('inject').description('apply the fault, wait TOTAL_CHAOS_DURATION, revert, exit'))
    .action(async (opts: Options) => {
      const given = parseTarget(opts, true);
      parseContainer(opts);
      const probe = makeDeps('info');
      const spec = readSpec(opts, io, probe.files.readText);
      const deps = makeDeps(spec.logLevel);
      log = deps.log;
      const { target, found } = await resolveLocal(deps, makeExtras(io.env), opts, spec, given);
      if (!target) return;
      for (const r of found.resolved) deps.log.info({ dependency: r.source, details: r.details }, `dependency ${r.source}: ${r.details.join('; ')}`);
      const p = plan(spec, found.facts);
      for (const w of p.warnings) deps.log.warn(w);
      deps.log.info({ target: describeTarget(target), interface: spec.interface, durationS: spec.durationS, bands: p.bands.map((b) => `${b.classid}: ${b.description}`), entries: p.entries.length }, 'starting');
      const outcome = await inject(deps, { spec, plan: p, target });
      if (outcome.status === 'stopped') exitCode = outcome.signal === 'SIGINT' ? ExitCode.interrupted : ExitCode.terminated;
      deps.log.info({ outcome: outcome.status, exitCode }, outcome.status === 'completed' ? 'done: chaos injected for the whole duration and reverted' : `stopped by ${outcome.status === 'stopped' ? outcome.signal : ''}`);
    });

  addVariableOptions(program.command('run').description('Litmus mode: find the target pods on this node (TARGETS, NODE_NAME), enter their containers, inject, revert, report to ChaosResult and Events'), 'litmus')
    .action(async (opts: Options) => {
      const probe = makeDeps('info');
      const [{ buildLitmusSpec }, { runLitmus }] = await Promise.all([import('./litmus/env.js'), import('./litmus/run.js')]);
      const problems: UsageError[] = [];
      const collect = <T>(fn: () => T): T | undefined => {
        try {
          return fn();
        } catch (error) {
          if (!(error instanceof UsageErrors)) throw error;
          problems.push(...error.errors);
          return undefined;
        }
      };
      const spec = collect(() => readSpec(opts, io, probe.files.readText));
      const litmus = collect(() => buildLitmusSpec({ get: rawGetter(opts, io.env) }));
      if (!spec || !litmus) throw new UsageErrors(problems);
      const base = makeDeps(spec.logLevel);
      log = base.log;
      const extras = makeExtras(io.env);
      exitCode = await runLitmus({ ...base, kube: extras.kube(), fs: extras.fs, resolver: extras.resolver, random: extras.random }, spec, litmus);
    });

  program.command('revert')
    .description("remove this tool's tree from a namespace, if present (exit 0 also when there is nothing to remove)")
    .addOption(new Option('--pid <pid>', 'target: a process in the network namespace'))
    .addOption(new Option('--netns <path>', 'target: a network namespace file'))
    .addOption(new Option('--interface <name>', 'interface [env NETWORK_INTERFACE, default "eth0"]'))
    .addOption(new Option('--log-level <level>', 'log level [env LOG_LEVEL]'))
    .action(async (opts: Options) => {
      const target = parseTarget(opts, true);
      if (!target) return;
      const rawIface = typeof opts['interface'] === 'string' ? { value: opts['interface'], label: '--interface' } : { value: io.env['NETWORK_INTERFACE'] || 'eth0', label: 'NETWORK_INTERFACE' };
      const iface = parseInterfaceName(rawIface.label, rawIface.value);
      const deps = makeDeps('info');
      log = deps.log;
      await checkTarget(deps, target);
      const ignore = (): void => { deps.log.warn('signal received during revert: finishing the revert first'); };
      deps.signals.on('SIGTERM', ignore);
      deps.signals.on('SIGINT', ignore);
      try {
        const result = await revert(deps, { interface: iface }, target, (e) => { logEvent(deps.log, e); });
        if (result === 'gone') exitCode = ExitCode.targetGone;
      } finally {
        deps.signals.off('SIGTERM', ignore);
        deps.signals.off('SIGINT', ignore);
      }
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return ExitCode.ok;
      return ExitCode.usage;
    }
    exitCode = exitCodeOf(error);
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof UsageError || error instanceof UsageErrors) {
      io.stderr(`netchaos: bad input, nothing was changed:\n${message.split('\n').map((l) => `  ${l}`).join('\n')}\n`);
    } else {
      if (log) log.error({ err: error instanceof RevertError ? { leftover: error.leftover, command: error.command } : undefined }, message);
      io.stderr(`netchaos: ${message}\n`);
    }
  }
  return exitCode;
}
