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
  | { kind: 'progress'; remainingS: number }
  | { kind: 'signal'; signal: StopSignalName; phase: string }
  | { kind: 'target-gone'; detail: string }
  | { kind: 'revert-retry'; attempt: number; error: string }
  | { kind: 'reverted'; removed: boolean; root: string; revertMs: number }
  | { kind: 'revert-failed'; leftover: string; command: string; error: string };

type Formatters = { [K in LifecycleEvent['kind']]: (e: Extract<LifecycleEvent, { kind: K }>) => [level: 'info' | 'warn' | 'error', msg: string] };

const formatters: Formatters = {
  'ramp': (e) => ['info', `ramp time: waiting ${e.seconds}s ${e.phase} the chaos`],
  'preflight-ok': (e) => ['info', `preflight ok: root qdisc is ${e.root}`],
  'injected': (e) => ['info', `injected: ${e.entries} filter entries, ${e.bands} fault band(s) in ${e.applyMs} ms`],
  'apply-failed': (e) => ['error', `tc rejected line ${e.line ?? '?'} of the batch (${e.text ?? 'unknown line'}): ${e.error}`],
  'progress': (e) => ['info', `chaos active, ${e.remainingS}s remaining`],
  'signal': (e) => ['warn', `${e.signal} received during ${e.phase}: reverting before exit`],
  'target-gone': (e) => ['warn', `the target's network namespace is gone (${e.detail}); its tc tree went with it`],
  'revert-retry': (e) => ['warn', `revert attempt ${e.attempt} failed: ${e.error}; retrying`],
  'reverted': (e) => ['info', e.removed ? `reverted in ${e.revertMs} ms: root qdisc is ${e.root} again` : `nothing of ours to remove: root qdisc is ${e.root}`],
  'revert-failed': (e) => ['error', `REVERT FAILED: ${e.leftover} is left behind. Remove it with: ${e.command} (${e.error})`],
};

export function logEvent(log: Logger, event: LifecycleEvent): void {
  const format = formatters[event.kind] as (e: LifecycleEvent) => [level: 'info' | 'warn' | 'error', msg: string];
  const [level, msg] = format(event);
  const { kind, ...fields } = event;
  log[level]({ event: kind, ...fields }, msg);
}
