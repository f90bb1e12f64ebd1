/** The command line: parse (exit 2 on bad input, before any change), then run one command. */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import type { Logger } from 'pino';
import { type Deps, newRunId, realClock, realExec, realFiles, realProcesses, realSignals } from './deps.js';
import { isRunId, markerLines } from './tc/marker.js';
import { ExitCode, RevertError, RuntimeError, UsageError, UsageErrors, exitCodeOf } from './errors.js';
import { type LogLevel, type Spec, buildSpec } from './config/spec.js';
import { parseAbsolutePath, parseInterfaceName, parsePid } from './config/values.js';
import { type Variable, type VariableName, flagName, optionKey, variables } from './config/vars.js';
import { createLogger } from './log.js';
import { execProber } from './effect/probe.js';
import { describeProbes, formatEffect, probeTargets, summarizeEffect } from './effect/effect.js';
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
import { describeRefresh, liveSources, refreshSchedule } from './resolve/live.js';
import { liveRefresh } from './lifecycle/refresh.js';

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
    getPod: async (...a) => (await load()).getPod(...a),
    createPod: async (...a) => (await load()).createPod(...a),
    deletePod: async (...a) => (await load()).deletePod(...a),
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
  exec: realExec, clock: realClock, signals: realSignals, files: realFiles, processes: realProcesses, log: createLogger(level),
  prober: execProber(realExec),
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
    .addOption(new Option('--pid-file <path>', 'target: the process whose PID this file holds; re-read when the target restarts (ON_TARGET_RESTART=reinject)'))
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

/** The PID in a pid file (first word), or undefined when the file is missing or holds no PID. */
function pidFromFile(readText: (p: string) => string, path: string): number | undefined {
  try {
    const word = readText(path).trim().split(/\s+/)[0] ?? '';
    return /^\d{1,10}$/.test(word) && Number(word) >= 1 ? Number(word) : undefined;
  } catch {
    return undefined;
  }
}

/** --pid-file: the target now, and how to find it again after a restart. */
function pidFileTarget(opts: Options, readText: (p: string) => string): { target: Target; refind: () => Promise<Target | undefined> } | undefined {
  const file = opts['pidFile'];
  if (typeof file !== 'string') return undefined;
  const path = parseAbsolutePath('--pid-file', file);
  const read = (): Target | undefined => {
    const pid = pidFromFile(readText, path);
    return pid === undefined ? undefined : { kind: 'pid', pid };
  };
  const target = read();
  if (!target) throw new RuntimeError(`--pid-file ${path}: no PID in it (missing, unreadable or not a number)`);
  return { target, refind: () => Promise.resolve(read()) };
}

function parseTarget(opts: Options, required: boolean): Target | undefined {
  const pid = opts['pid'];
  const netns = opts['netns'];
  if ([pid, netns, opts['containerId'], opts['pidFile']].filter((x) => x !== undefined).length > 1) throw new UsageError('--pid/--netns/--pid-file/--container-id', 'give one target, not several');
  if (opts['pidFile'] !== undefined) return undefined;
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
  const discovery = { fs: extras.fs, resolver: extras.resolver, kube: extras.kube };
  const found = await discover(discovery, spec, { pid });
  if (spec.groups.some((g, i) => g.named !== undefined && g.destinations.length === 0 && (found.facts.discovered?.[i]?.length ?? 0) === 0)) {
    throw new RuntimeError('the named dependencies resolved to no address: refusing to delay all traffic');
  }
  return { target, container, found, sources: liveSources(discovery, spec, pid) };
}


/** The run, namespace, deadline and interface that the hidden dead-man commands (watchdog, deadman-unit) take. */
function parseDeadmanIdentity(command: string, opts: Options): { runId: string; nsId: string; deadlineS: number; iface: string } {
  const runId = String(opts['runId']);
  const nsId = String(opts['netnsId']);
  const deadline = String(opts['deadline']);
  if (!isRunId(runId) || !/^net:\[\d+\]$/.test(nsId) || !/^\d{1,10}$/.test(deadline)) {
    throw new UsageError(command, 'expects --run-id <16 hex digits> --netns-id net:[<inode>] --deadline <unix seconds>');
  }
  return { runId, nsId, deadlineS: Number(deadline), iface: parseInterfaceName('--interface', String(opts['interface'])) };
}

/** --container-id: find the container again by its ID (e.g. `docker restart` keeps the ID, not the PID or namespace). */
function containerRefind(deps: Deps, extras: Extras, opts: Options, spec: Spec): (() => Promise<Target | undefined>) | undefined {
  const ref = parseContainer(opts);
  if (!ref) return undefined;
  return async () => {
    const { findContainer } = await import('./runtime/container.js');
    return (await findContainer({ exec: deps.exec, fs: extras.fs }, ref, spec.runtime)).target;
  };
}

/** What `plan` shows of the owner marker: inject appends these lines to the batch, with its own run id and deadline. */
function previewOwner(spec: Spec, nowMs: number) {
  const owner = { runId: '0000000000000000', deadlineS: Math.ceil(nowMs / 1000) + spec.rampS + spec.durationS + (spec.deadmanGraceS ?? 30) };
  return { example: owner, deadman: spec.deadman ?? 'auto', lines: markerLines(spec.interface, owner) };
}

function describeOwner(o: ReturnType<typeof previewOwner>): string {
  return `\nOwner marker (inject appends it to the batch with its run id and deadline = apply time + duration + DEADMAN_GRACE; dead-man: DEADMAN=${o.deadman}):\n${o.lines.map((l) => `  ${l}`).join('\n')}\n`;
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
      const { target, container, found, sources } = await resolveLocal(deps, makeExtras(io.env), opts, spec, given);
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
      const ownerPreview = previewOwner(spec, deps.clock.now());
      if (spec.output === 'json') {
        io.stdout(JSON.stringify({ ...context, ...(containerInfo ? { container: containerInfo } : {}), resolved: found.resolved, refresh: refreshSchedule(spec, sources, found.resolved), notes, owner: ownerPreview, durationS: spec.durationS, rampS: spec.rampS, force: spec.force, direction: spec.direction ?? 'egress', effect: spec.measureEffect === true ? { verify: spec.verifyEffect === true, ...probeTargets(p) } : null, plan: p }, null, 2) + '\n');
      } else {
        const head = containerInfo ? `Container ${String(opts['containerId'])}: pid ${containerInfo.pid}, netns ${containerInfo.netns} (via ${containerInfo.via}, runtime ${containerInfo.runtime})\n` : '';
        io.stdout(head + describeResolved(found.resolved) + describeRefresh(refreshSchedule(spec, sources, found.resolved)) + describePlan(p, context) + describeOwner(ownerPreview) + (spec.measureEffect === true ? `\n${describeProbes(probeTargets(p)).join('\n')}\n${spec.verifyEffect === true ? 'VERIFY_EFFECT=true: a measured effect outside the tolerance fails the run (exit 6)\n' : ''}` : '') + notes.map((n) => `\n!!! ${n}\n`).join(''));
      }
    });

  addVariableOptions(program.command('inject').description('apply the fault, wait TOTAL_CHAOS_DURATION, revert, exit'))
    .action(async (opts: Options) => {
      const fromFile = opts['pidFile'] !== undefined;
      const parsed = parseTarget(opts, !fromFile);
      parseContainer(opts);
      const probe = makeDeps('info');
      const spec = readSpec(opts, io, probe.files.readText);
      const deps = makeDeps(spec.logLevel);
      log = deps.log;
      const pidFile = pidFileTarget(opts, deps.files.readText);
      const given = pidFile?.target ?? parsed;
      const extras = makeExtras(io.env);
      const { target, found, sources } = await resolveLocal(deps, extras, opts, spec, given);
      if (!target) return;
      for (const r of found.resolved) deps.log.info({ dependency: r.source, details: r.details }, `dependency ${r.source}: ${r.details.join('; ')}`);
      const p = plan(spec, found.facts);
      for (const w of p.warnings) deps.log.warn(w);
      deps.log.info({ target: describeTarget(target), interface: spec.interface, durationS: spec.durationS, bands: p.bands.map((b) => `${b.classid}: ${b.description}`), entries: p.entries.length }, 'starting');
      const refresh = liveRefresh(deps, { spec, sources, initial: found.resolved });
      const refind = pidFile?.refind ?? containerRefind(deps, extras, opts, spec);
      const outcome = await inject(deps, { spec, plan: p, target, runId: newRunId(), ...(refresh ? { refresh } : {}), ...(refind ? { refind } : {}) });
      if (outcome.status === 'stopped') exitCode = outcome.signal === 'SIGINT' ? ExitCode.interrupted : ExitCode.terminated;
      if (outcome.effect) {
        io.stdout(formatEffect(outcome.effect, spec.verifyEffect === true));
        deps.log.info({ event: 'effect', effect: outcome.effect }, summarizeEffect(outcome.effect));
        if (spec.verifyEffect === true && outcome.status === 'completed' && !outcome.effect.verdict.ok) {
          exitCode = ExitCode.effectNotVerified;
          deps.log.error({ reasons: outcome.effect.verdict.reasons }, `VERIFY_EFFECT failed: ${outcome.effect.verdict.reasons.join('; ')}`);
        }
      }
      const again = outcome.status === 'completed' && outcome.reinjected > 0 ? ` (re-injected ${outcome.reinjected}x after the target restarted)` : '';
      deps.log.info({ outcome: outcome.status, exitCode, ...(outcome.status === 'completed' ? { reinjected: outcome.reinjected } : {}) },
        outcome.status === 'completed' ? `done: chaos injected for the whole duration and reverted${again}` : `stopped by ${outcome.status === 'stopped' ? outcome.signal : ''}`);
    });

  addVariableOptions(program.command('run').description('Litmus mode: find the target pods (TARGETS), enter their containers on this node (NODE_NAME) or through one helper pod per other node (HELPER_MODE), inject, revert, report to ChaosResult and Events'), 'litmus')
    .action(async (opts: Options) => {
      const probe = makeDeps('info');
      const [{ buildLitmusSpec, readRunIdentity }, { runLitmus }] = await Promise.all([import('./litmus/env.js'), import('./litmus/run.js')]);
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
      // What a helper pod's job needs to parse the same Spec: the raw fault variables and the files they name.
      const files: Record<string, string> = {};
      const spec = collect(() => readSpec(opts, io, (p) => (files[p] = probe.files.readText(p))));
      const litmus = collect(() => buildLitmusSpec({ get: rawGetter(opts, io.env) }));
      if (!spec || !litmus) {
        const identity = readRunIdentity({ get: rawGetter(opts, io.env) });
        if (identity) {
          const { reportBadInput } = await import('./litmus/report.js');
          const reason = `bad input, nothing was changed: ${problems.map((p) => p.message).join('; ')}`;
          await reportBadInput({ api: makeExtras(io.env).kube(), litmus: identity, log: probe.log, now: probe.clock.now, random: Math.random }, reason);
        }
        throw new UsageErrors(problems);
      }
      const get = rawGetter(opts, io.env);
      const faultVariables = Object.fromEntries(variables.filter((v) => !('litmusOnly' in v && v.litmusOnly)).flatMap((v) => {
        const r = get(v.env);
        return r ? [[v.env, r.value]] : [];
      }));
      const base = makeDeps(spec.logLevel);
      log = base.log;
      const extras = makeExtras(io.env);
      exitCode = await runLitmus({ ...base, kube: extras.kube(), fs: extras.fs, resolver: extras.resolver, random: extras.random }, spec, litmus, { jobInputs: { variables: faultVariables, files } });
    });

  program.command('helper')
    .description('what a helper pod runs (created by `netchaos run` for targets on other nodes): inject into the targets of its job (env NETCHAOS_HELPER_JOB) on this node, revert, write the result to the termination log')
    .addOption(new Option('--result-file <path>', 'where the result JSON is written').default('/dev/termination-log'))
    .action(async (opts: Options) => {
      const { readJob, runHelper } = await import('./litmus/helper.js');
      const resultPath = typeof opts['resultFile'] === 'string' ? opts['resultFile'] : '/dev/termination-log';
      const { job, spec } = readJob(io.env, { resultPath });
      const base = makeDeps(spec.logLevel);
      log = base.log;
      const extras = makeExtras(io.env);
      exitCode = await runHelper({ ...base, fs: extras.fs, resolver: extras.resolver }, job, spec, { resultPath, nodeName: io.env['NODE_NAME'] });
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

  program.command('sweep')
    .description('remove every netchaos tree whose deadline has passed, in every network namespace on this node (/proc/*/ns/net, /var/run/netns/*), on every interface; live and unmarked trees are left alone and listed')
    .addOption(new Option('--interface <name>', 'only this interface (default: all)'))
    .addOption(new Option('--output <format>', 'text or json').choices(['text', 'json']).default('text'))
    .addOption(new Option('--log-level <level>', 'log level [env LOG_LEVEL]'))
    .action(async (opts: Options) => {
      const iface = typeof opts['interface'] === 'string' ? parseInterfaceName('--interface', opts['interface']) : undefined;
      const deps = makeDeps('warn');
      log = deps.log;
      const { sweep, describeSweep } = await import('./lifecycle/sweep.js');
      const report = await sweep(deps, iface !== undefined ? { interface: iface } : {});
      io.stdout(opts['output'] === 'json' ? `${JSON.stringify(report, null, 2)}\n` : describeSweep(report));
      if (report.trees.some((t) => t.status === 'failed')) exitCode = ExitCode.revertFailed;
    });

  // The process dead-man (lifecycle/deadman.ts): started detached by inject, not meant to be run by hand.
  program.command('watchdog', { hidden: true })
    .requiredOption('--run-id <id>').requiredOption('--netns-id <id>').requiredOption('--deadline <unix-seconds>')
    .requiredOption('--interface <name>').option('--hint <path>')
    .action(async (opts: Options) => {
      const { runId, nsId, deadlineS, iface } = parseDeadmanIdentity('watchdog', opts);
      const hint = typeof opts['hint'] === 'string' ? parseAbsolutePath('--hint', opts['hint']) : undefined;
      const deps = makeDeps('info');
      log = deps.log;
      const deadlineMs = deadlineS * 1000;
      deps.log.info({ runId, nsId, deadline: new Date(deadlineMs).toISOString(), pid: process.pid }, 'dead-man watchdog: waiting for the deadline');
      while (deps.clock.now() < deadlineMs) await deps.clock.sleep(Math.min(60_000, deadlineMs - deps.clock.now()));
      const { sweep, describeSweep } = await import('./lifecycle/sweep.js');
      const report = await sweep(deps, { interface: iface, only: { nsId, runId, ...(hint !== undefined ? { hint } : {}) } });
      deps.log.info({ report }, `dead-man watchdog at the deadline: ${describeSweep(report).trim().replaceAll('\n', ' | ')}`);
      if (report.trees.some((t) => t.status === 'failed')) exitCode = ExitCode.revertFailed;
    });

  // Prints the systemd dead-man's `nsenter … systemd-run …` argv and its commands (JSON), changing nothing: for review and the lab.
  program.command('deadman-unit', { hidden: true })
    .requiredOption('--run-id <id>').requiredOption('--netns-id <id>').requiredOption('--deadline <unix-seconds>')
    .requiredOption('--interface <name>').requiredOption('--path <path>').option('--generation <n>', '', '1')
    .action(async (opts: Options) => {
      const { systemdArmArgs, systemdCommands } = await import('./lifecycle/deadman.js');
      const { runId, nsId, deadlineS, iface } = parseDeadmanIdentity('deadman-unit', opts);
      const r = { runId, generation: Number(opts['generation']), deadlineS, nsId, path: parseAbsolutePath('--path', String(opts['path'])), interface: iface };
      const deps = makeDeps('warn');
      io.stdout(`${JSON.stringify({ nsenter: systemdArmArgs(r, Math.floor(deps.clock.now() / 1000)), commands: systemdCommands(r) }, null, 2)}\n`);
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
