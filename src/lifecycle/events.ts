/**
 * What happens during a run, as one union. Logs are written from it here; Litmus mode turns the
 * same events into ChaosResult fields and Kubernetes Events.
 */
import type { Logger } from 'pino';
import type { StopSignalName } from '../deps.js';

export type LifecycleEvent =
  | { kind: 'ramp'; phase: 'before' | 'after'; seconds: number }
  | { kind: 'preflight-ok'; root: string }
  | { kind: 'injected'; entries: number; bands: number; applyMs: number }
  | { kind: 'apply-failed'; line: number | undefined; text: string | undefined; error: string }
  | { kind: 'progress'; phase: 'ramp' | 'chaos'; remainingS: number }
  | { kind: 'signal'; signal: StopSignalName; phase: string }
  | { kind: 'target-gone'; detail: string }
  | { kind: 'revert-retry'; attempt: number; error: string }
  | { kind: 'reverted'; removed: boolean; root: string; revertMs: number }
  | { kind: 'revert-failed'; leftover: string; command: string; error: string };

type Level = 'info' | 'warn' | 'error';

/** One message per kind; the `never` check makes a new kind without a message a type error. */
export function formatEvent(e: LifecycleEvent): [Level, string] {
  switch (e.kind) {
    case 'ramp': return ['info', `ramp time: waiting ${e.seconds}s ${e.phase} the chaos`];
    case 'preflight-ok': return ['info', `preflight ok: root qdisc is ${e.root}`];
    case 'injected': return ['info', `injected: ${e.entries} filter entries, ${e.bands} fault band(s) in ${e.applyMs} ms`];
    case 'apply-failed': return ['error', `tc rejected line ${e.line ?? '?'} of the batch (${e.text ?? 'unknown line'}): ${e.error}`];
    case 'progress': return ['info', e.phase === 'chaos' ? `chaos active, ${e.remainingS}s remaining` : `ramp time, ${e.remainingS}s remaining`];
    case 'signal': return ['warn', `${e.signal} received during ${e.phase}: reverting before exit`];
    case 'target-gone': return ['warn', `the target's network namespace is gone (${e.detail}); its tc tree went with it`];
    case 'revert-retry': return ['warn', `revert attempt ${e.attempt} failed: ${e.error}; retrying`];
    case 'reverted': return ['info', e.removed ? `reverted in ${e.revertMs} ms: root qdisc is ${e.root} again` : `nothing of ours to remove: root qdisc is ${e.root}`];
    case 'revert-failed': return ['error', `REVERT FAILED: ${e.leftover} is left behind. Remove it with: ${e.command} (${e.error})`];
    default: {
      const unknown: never = e;
      return ['warn', JSON.stringify(unknown)];
    }
  }
}

export function logEvent(log: Logger, event: LifecycleEvent): void {
  const [level, msg] = formatEvent(event);
  const { kind, ...fields } = event;
  log[level]({ event: kind, ...fields }, msg);
}
