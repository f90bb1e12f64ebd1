/**
 * What happens during a run, as one union. Logs are written from it here; Litmus mode turns the
 * same events into ChaosResult fields and Kubernetes Events.
 */
import type { StopSignalName } from '../model/stop.js';
import type { Logger } from '../ports.js';

export type LifecycleEvent =
  | { kind: 'ramp'; phase: 'before' | 'after'; seconds: number }
  | { kind: 'preflight-ok'; root: string }
  | { kind: 'injected'; entries: number; bands: number; applyMs: number }
  | { kind: 'apply-failed'; line: number | undefined; text: string | undefined; error: string }
  | { kind: 'progress'; phase: 'ramp' | 'chaos'; remainingS: number }
  /** The run stops: a process signal, or `cause` (the run stopped itself, e.g. another target failed). */
  | { kind: 'signal'; signal: StopSignalName; phase: string; cause?: string }
  | { kind: 'target-gone'; detail: string }
  | { kind: 'revert-retry'; attempt: number; error: string }
  | { kind: 'reverted'; removed: boolean; root: string; revertMs: number }
  | { kind: 'revert-failed'; leftover: string; command: string; error: string }
  /** DEPENDENCY_REFRESH: a named dependency moved; its filters were changed (addresses as `ip` or `ip|port`). */
  | { kind: 'dependency-changed'; source: string; added: string[]; removed: string[]; details: readonly string[] }
  /** DEPENDENCY_REFRESH: a named dependency did not resolve this time; it keeps its last addresses. */
  | { kind: 'dependency-stale'; source: string; error: string; retryS: number }
  | { kind: 'refresh-applied'; added: number; deleted: number; tables: string[]; applyMs: number; batch: string[] }
  /** kept: the filters are as before the refresh (nothing ran, or it was rolled back); false: unknown, the run ends. */
  | { kind: 'refresh-failed'; changes: string; error: string; kept: boolean }
  /**
   * Before the first change: an expired tree of ours in the target's namespace (a run that was killed with its
   * dead-man, e.g. SIGKILL of its pod) was removed (`removed`), or could not be (`failed`: the run is refused).
   */
  | { kind: 'leftover'; action: 'removed' | 'failed'; interface: string; runId: string | undefined; detail: string }
  | { kind: 'deadman'; action: 'armed' | 'unavailable' | 'cancelled' | 'cancel-failed' | 'kept'; mode: 'systemd' | 'process' | 'off'; detail: string; deadlineS?: number }
  /** The target's process changed but its namespace (and our tree in it) is the same. */
  | { kind: 'target-followed'; detail: string }
  /** ON_TARGET_RESTART=reinject: the target is gone and has not come back yet. */
  | { kind: 'target-waiting'; detail: string }
  /** The target came back in a new namespace (or the old one lives on without it). */
  | { kind: 'target-restarted'; detail: string; action: 'reinject' | 'end' }
  | { kind: 'reinjected'; generation: number; target: string; entries: number; applyMs: number; remainingS: number };

type Level = 'info' | 'warn' | 'error';

/** The htids of created tables; a two-level hash family's 257 as the first, the range of the rest and the count. */
const tableList = (htids: readonly string[]): string =>
  htids.length <= 4 ? htids.join(' ') : `${htids.slice(0, 2).join(' ')}…${htids[htids.length - 1] ?? ''} (${htids.length})`;

/** One message per kind; the `never` check makes a new kind without a message a type error. */
export function formatEvent(e: LifecycleEvent): [Level, string] {
  switch (e.kind) {
    case 'ramp': return ['info', `ramp time: waiting ${e.seconds}s ${e.phase} the chaos`];
    case 'preflight-ok': return ['info', `preflight ok: root qdisc is ${e.root}`];
    case 'injected': return ['info', `injected: ${e.entries} filter entries, ${e.bands} fault band(s) in ${e.applyMs} ms`];
    case 'apply-failed': return ['error', `tc rejected line ${e.line ?? '?'} of the batch (${e.text ?? 'unknown line'}): ${e.error}`];
    case 'progress': return ['info', e.phase === 'chaos' ? `chaos active, ${e.remainingS}s remaining` : `ramp time, ${e.remainingS}s remaining`];
    case 'signal': return ['warn', e.cause === undefined ? `${e.signal} received during ${e.phase}: reverting before exit` : `stopping during ${e.phase} (${e.cause}): reverting before exit`];
    case 'target-gone': return ['warn', `the target's network namespace is gone (${e.detail}); its tc tree went with it`];
    case 'revert-retry': return ['warn', `revert attempt ${e.attempt} failed: ${e.error}; retrying`];
    case 'reverted': return ['info', e.removed ? `reverted in ${e.revertMs} ms: root qdisc is ${e.root} again` : `nothing of ours to remove: root qdisc is ${e.root}`];
    case 'revert-failed': return ['error', `REVERT FAILED: ${e.leftover} is left behind. Remove it with: ${e.command} (${e.error})`];
    case 'dependency-changed': return ['info', `dependency ${e.source} moved: ${[...e.added.map((x) => `added ${x}`), ...e.removed.map((x) => `removed ${x}`)].join(', ')}`];
    case 'dependency-stale': return ['warn', `dependency ${e.source} did not resolve (${e.error}): keeping its last addresses, asking again in ${e.retryS}s`];
    case 'refresh-applied': return ['info', `filters updated: ${e.added} added, ${e.deleted} deleted${e.tables.length ? `, tables ${tableList(e.tables)} created` : ''} in ${e.applyMs} ms`];
    case 'refresh-failed': return ['error', e.kept
      ? `REFRESH NOT APPLIED (${e.changes}): ${e.error}. The filters stay as they were; trying again at the next refresh`
      : `REFRESH FAILED (${e.changes}): ${e.error}. The filters are in an unknown state: the run ends and the whole tree is removed`];
    case 'leftover': return ['warn', e.action === 'removed'
      ? `removed the expired netchaos tree of run ${e.runId ?? '?'} on ${e.interface} before injecting (its runner was killed and nothing reverted it): ${e.detail}`
      : `an expired netchaos tree of run ${e.runId ?? '?'} on ${e.interface} could not be removed before injecting: ${e.detail}`];
    case 'deadman': return deadmanMessage(e);
    case 'target-followed': return ['info', `the target's process changed but its network namespace is the same (${e.detail}): the tree is still in place, following the new process`];
    case 'target-waiting': return ['warn', `the target is gone (${e.detail}); ON_TARGET_RESTART=reinject: waiting for it to come back`];
    case 'target-restarted': return ['warn', e.action === 'reinject'
      ? `the target restarted in a new network namespace (${e.detail}): re-injecting there for the remaining time (ON_TARGET_RESTART=reinject)`
      : `the target restarted or moved (${e.detail}): ending the run (ON_TARGET_RESTART=end; reinject would follow it)`];
    case 'reinjected': return ['info', `re-injected into ${e.target} (injection ${e.generation}): ${e.entries} filter entries in ${e.applyMs} ms, ${e.remainingS}s remaining`];
    default: {
      const unknown: never = e;
      return ['warn', JSON.stringify(unknown)];
    }
  }
}

/** What each dead-man survives (docs/how-it-works.md, "What removes the tree when the runner cannot"). */
const SURVIVES = {
  systemd: 'a timer of the node\'s systemd, it outlives SIGKILL of this process and the deletion of its pod (grace 0 included); a node reboot takes the tree with it',
  process: 'a detached process, it outlives SIGKILL of this process only; in a pod it dies with the pod (SIGKILL, deletion): then the next netchaos run on this target removes the expired tree before it injects, or `netchaos sweep` on the node',
} as const;

function deadmanMessage(e: Extract<LifecycleEvent, { kind: 'deadman' }>): [Level, string] {
  const at = e.deadlineS !== undefined ? ` (deadline ${new Date(e.deadlineS * 1000).toISOString()})` : '';
  switch (e.action) {
    case 'armed': return e.mode === 'off' ? ['warn', e.detail] : ['info', `dead-man armed: ${e.detail}${at}; it removes the tree if this runner dies: ${SURVIVES[e.mode]}`];
    case 'unavailable': return ['warn', `the systemd dead-man is unavailable (${e.detail}); using the process watchdog, which dies with this container in a pod`];
    case 'cancelled': return ['info', `dead-man cancelled: ${e.detail}`];
    case 'cancel-failed': return ['warn', `could not cancel the dead-man: ${e.detail}`];
    case 'kept': return ['warn', `the dead-man stays armed (${e.detail})${at}: it tries the revert again at the deadline`];
    default: {
      const unknown: never = e.action;
      return ['warn', String(unknown)];
    }
  }
}

export function logEvent(log: Logger, event: LifecycleEvent): void {
  const [level, msg] = formatEvent(event);
  const { kind, ...fields } = event;
  log[level]({ event: kind, ...fields }, msg);
}

/** The emit function of one run: logs each event, then hands it to `onEvent`. */
export function emitter(log: Logger, onEvent?: (e: LifecycleEvent) => void): (e: LifecycleEvent) => void {
  return (e) => {
    logEvent(log, e);
    onEvent?.(e);
  };
}
