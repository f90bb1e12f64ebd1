/**
 * The dead-man: whatever removes our tree after its deadline when the runner is not there to do it
 * (SIGKILL, OOM kill, a force-deleted pod, a node agent restart). Armed before the apply, cancelled
 * after a successful revert, kept armed when the revert failed.
 *
 *   systemd  a transient timer on the node (`systemd-run --on-active`), reached through
 *            `nsenter -t 1 -m -u -i -n -p`: it outlives the runner's container and cgroup. Its
 *            commands are argv arrays of the node's own nsenter, tc and grep (the netchaos binary
 *            is in the runner's image, which is gone by then; no shell): it deletes the tree only
 *            when the tree's marker still names this run. Needs hostPID, CAP_SYS_ADMIN and
 *            CAP_SYS_CHROOT (setns into the node's mount namespace), and systemd as PID 1.
 *   process  a detached `netchaos watchdog` (setsid: own session and process group) that sleeps
 *            until the deadline, then sweeps this run's tree. It survives SIGKILL of the runner,
 *            but in a pod it dies with the container: it is the mechanism for local runs and the lab.
 *   auto     systemd when the node's PID 1 is systemd (visible with hostPID), else process.
 *   off      nothing; `netchaos sweep` removes expired trees when someone runs it.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RuntimeError, messageOf } from '../model/errors.js';
import type { DeadmanMode, Direction } from '../model/spec.js';
import type { Deps } from '../ports.js';
import { INGRESS_FILTER_PRIO, ROOT_HANDLE, ifbName } from '../tc/plan.js';
import { markerKeyTexts, markerShowArgs } from '../tc/marker.js';
import type { LifecycleEvent } from './events.js';


export interface DeadmanRequest {
  readonly runId: string;
  /** 1 for the first injection of a run, 2… for re-injections after a target restart. */
  readonly generation: number;
  readonly deadlineS: number;
  /** `net:[inode]` of the namespace that holds the tree. */
  readonly nsId: string;
  /** The path the runner enters it by (tried first; the namespace is also looked up by inode). */
  readonly path: string;
  readonly interface: string;
  /** The run's direction (default egress): with ingress|both the systemd unit also removes the redirect and the ifb. */
  readonly direction?: Direction | undefined;
}

export interface Armed {
  readonly mode: 'systemd' | 'process' | 'off';
  /** What was armed, for the log: the unit name, or the watchdog's PID and log file. */
  readonly detail: string;
  /** Disarms it (best effort: a failure is logged, never thrown: the dead-man only removes our own tree). */
  readonly cancel: () => Promise<void>;
}

/** `nsenter` arguments that run a command in the node's namespaces (PID 1's). */
export const HOST_NSENTER = ['-t', '1', '-m', '-u', '-i', '-n', '-p', '--'] as const;
const HOST_TIMEOUT_MS = 15_000;

export const unitName = (r: Pick<DeadmanRequest, 'runId' | 'generation'>): string => `netchaos-revert-${r.runId}-${r.generation}`;

/** Characters a path may have to be passed in a systemd property (no quoting, no $, no %, no spaces). */
const SAFE_PATH = /^\/[A-Za-z0-9_./:@+-]+$/;

/** The commands of the systemd dead-man's service, as argv arrays (systemd runs them; no shell). */
export interface SystemdCommands {
  /** Run in order; the first that fails stops the unit before `main` (ExecStartPre=). */
  readonly pre: readonly (readonly string[])[];
  readonly main: readonly string[];
  /** Always run at the end (ExecStopPost=). */
  readonly post: readonly string[];
  /**
   * Where every command's standard output goes (StandardOutput=file:, opened for each command at its start,
   * created if missing, not truncated; standard error goes to the journal): the marker the `grep`s read, and
   * with ingress|both the ingress filters left (`test ! -s`: none).
   */
  readonly markerFile: string;
}

/**
 * What the unit does at the deadline, with the node's own binaries (the netchaos image is gone by then): print
 * the marker of the tree into a file in /run, check with one `grep -qF` per key that all four keys are this
 * run's (the marker has one node, so four fixed-string checks equal one match of the whole marker), and only
 * then delete. A tree of another run, a tree without a marker, or a namespace that is gone: the unit stops
 * before any delete.
 *
 * egress   delete the root (main).
 * both     the marker is on the interface: delete its root, then as ingress.
 * ingress  the marker is on the ifb (`ifbName`): delete our redirect on the interface (its fixed prio, ours
 *          alone), then the ifb (its tree goes with it), then list the filters left on the ingress qdisc and
 *          delete the qdisc (main) only when none is (someone else's filter added meanwhile keeps it, and the
 *          unit ends failed, in the journal). The redirect goes before the ifb: a redirect to a deleted device
 *          drops every packet.
 */
export function systemdCommands(r: DeadmanRequest): SystemdCommands {
  if (!SAFE_PATH.test(r.path)) throw new RuntimeError(`the namespace path ${JSON.stringify(r.path)} cannot be passed to a systemd unit as it is (allowed: A-Z a-z 0-9 _ . / : @ + -)`);
  if (!/^[A-Za-z0-9_.@:+-]{1,15}$/.test(r.interface)) throw new Error(`unreachable: interface ${r.interface}`);
  const markerFile = `/run/${unitName(r)}.marker`;
  const enter = ['nsenter', `--net=${r.path}`, '--'];
  const tc = [...enter, 'tc'];
  const direction = r.direction ?? 'egress';
  const ifb = ifbName(r.interface);
  const markerDev = direction === 'ingress' ? ifb : r.interface;
  const check = [
    [...tc, ...markerShowArgs(markerDev)],
    ...markerKeyTexts({ runId: r.runId, deadlineS: r.deadlineS }).map((k) => ['grep', '-qF', k, markerFile]),
  ];
  const deleteRoot = [...tc, 'qdisc', 'del', 'dev', r.interface, 'root', 'handle', ROOT_HANDLE];
  const post = ['rm', '-f', markerFile];
  if (direction === 'egress') return { markerFile, pre: check, main: deleteRoot, post };
  return {
    markerFile,
    pre: [
      ...check,
      ...(direction === 'both' ? [deleteRoot] : []),
      [...tc, 'filter', 'del', 'dev', r.interface, 'parent', 'ffff:', 'prio', String(INGRESS_FILTER_PRIO)],
      [...enter, 'ip', 'link', 'del', 'dev', ifb],
      post,
      [...tc, 'filter', 'show', 'dev', r.interface, 'ingress'],
      ['test', '!', '-s', markerFile],
    ],
    main: [...tc, 'qdisc', 'del', 'dev', r.interface, 'ingress'],
    post,
  };
}

/** One argv as a unit-file command line: words with spaces in double quotes (our words have no quotes, $ or %). */
const unitCommand = (argv: readonly string[]): string => argv.map((w) => (/\s/.test(w) ? `"${w}"` : w)).join(' ');

/** `nsenter … systemd-run …` arguments that arm the timer. */
export function systemdArmArgs(r: DeadmanRequest, nowS: number): string[] {
  const c = systemdCommands(r);
  return [
    ...HOST_NSENTER, 'systemd-run', `--unit=${unitName(r)}`,
    `--description=netchaos dead-man revert of run ${r.runId} (${r.interface} in ${r.nsId})`,
    `--on-active=${Math.max(1, r.deadlineS - nowS)}s`, '--timer-property=AccuracySec=1s', '--collect', '--quiet',
    `--property=StandardOutput=file:${c.markerFile}`, '--property=StandardError=journal',
    ...c.pre.map((argv) => `--property=ExecStartPre=${unitCommand(argv)}`),
    `--property=ExecStopPost=${unitCommand(c.post)}`,
    '--', ...c.main,
  ];
}

/** The CLI this process runs (dist/cli.cjs, or the `netchaos` link to it). */
const selfCli = (): string => process.argv[1] ?? 'netchaos';

/** `netchaos watchdog …` arguments for the process dead-man. */
export function watchdogArgs(r: DeadmanRequest, cli = selfCli()): string[] {
  return [cli, 'watchdog', '--run-id', r.runId, '--netns-id', r.nsId, '--deadline', String(r.deadlineS), '--interface', r.interface, '--hint', r.path];
}

async function armSystemd(deps: Pick<Deps, 'exec' | 'clock'>, r: DeadmanRequest): Promise<Armed> {
  const unit = unitName(r);
  const res = await deps.exec('nsenter', systemdArmArgs(r, Math.floor(deps.clock.now() / 1000)), { timeoutMs: HOST_TIMEOUT_MS });
  if (res.exitCode !== 0) {
    throw new RuntimeError(`could not arm the systemd dead-man on the node (nsenter -t 1 … systemd-run --unit=${unit}): ${res.stderr.trim() || `exit ${res.exitCode}`}. It needs hostPID, CAP_SYS_ADMIN and CAP_SYS_CHROOT, and systemd as the node's init; DEADMAN=process or off run without it`);
  }
  return {
    mode: 'systemd',
    detail: `systemd timer ${unit}.timer on the node`,
    cancel: async () => {
      const c = await deps.exec('nsenter', [...HOST_NSENTER, 'systemctl', 'stop', `${unit}.timer`], { timeoutMs: HOST_TIMEOUT_MS });
      if (c.exitCode !== 0) throw new RuntimeError(`systemctl stop ${unit}.timer: ${c.stderr.trim() || `exit ${c.exitCode}`}`);
    },
  };
}

function armProcess(deps: Pick<Deps, 'processes' | 'files'>, r: DeadmanRequest): Armed {
  const logPath = join(tmpdir(), `netchaos-watchdog-${r.runId}-${r.generation}.log`);
  const pid = deps.processes.detach(process.execPath, watchdogArgs(r), logPath);
  return {
    mode: 'process',
    detail: `watchdog process ${pid} (log ${logPath})`,
    cancel: () => {
      // Only the process we started: its command line still names this run (the PID may be reused once it ended).
      let cmdline = '';
      try {
        cmdline = deps.files.readText(`/proc/${pid}/cmdline`);
      } catch {
        return Promise.resolve(); // it ended already
      }
      if (cmdline.includes(r.runId)) deps.processes.kill(pid, 'SIGTERM');
      return Promise.resolve();
    },
  };
}

/** True when the node's PID 1 (as this process sees it) is systemd. */
export function systemdIsInit(deps: Pick<Deps, 'files'>): boolean {
  try {
    return deps.files.readText('/proc/1/comm').trim() === 'systemd';
  } catch {
    return false;
  }
}

const off: Armed = { mode: 'off', detail: 'no dead-man (DEADMAN=off): after a crash, `netchaos sweep` removes the tree once its deadline has passed', cancel: () => Promise.resolve() };

/**
 * Arms the dead-man for one tree. DEADMAN=systemd that cannot be armed is an error (before any
 * change); DEADMAN=auto falls back to the process watchdog and says so.
 */
export async function armDeadman(
  deps: Pick<Deps, 'exec' | 'clock' | 'processes' | 'files'>, mode: DeadmanMode, r: DeadmanRequest, emit: (e: LifecycleEvent) => void,
): Promise<Armed> {
  let armed: Armed;
  if (mode === 'off') {
    armed = off;
  } else if (mode === 'process') {
    armed = armProcess(deps, r);
  } else if (mode === 'systemd') {
    armed = await armSystemd(deps, r);
  } else if (systemdIsInit(deps)) {
    try {
      armed = await armSystemd(deps, r);
    } catch (error) {
      emit({ kind: 'deadman', action: 'unavailable', mode: 'systemd', detail: messageOf(error) });
      armed = armProcess(deps, r);
    }
  } else {
    armed = armProcess(deps, r);
  }
  emit({ kind: 'deadman', action: 'armed', mode: armed.mode, detail: armed.detail, deadlineS: r.deadlineS });
  return armed;
}

/** Cancels after a successful revert (or when the tree is known to be gone); logs a failure. */
export async function disarm(armed: Armed, emit: (e: LifecycleEvent) => void): Promise<void> {
  if (armed.mode === 'off') return;
  try {
    await armed.cancel();
    emit({ kind: 'deadman', action: 'cancelled', mode: armed.mode, detail: armed.detail });
  } catch (error) {
    emit({ kind: 'deadman', action: 'cancel-failed', mode: armed.mode, detail: `${armed.detail}: ${messageOf(error)} (harmless: it finds no tree of this run and does nothing)` });
  }
}
