/** `netchaos inject`: apply the fault, wait TOTAL_CHAOS_DURATION, revert, exit (the exit code tells how it went). */
import { ExitCode } from '../model/errors.js';
import { buildSpec } from '../config/spec.js';
import { newRunId } from '../host/processes.js';
import { formatEffect, summarizeEffect } from '../effect/effect.js';
import { type Outcome, inject as injectTree } from '../lifecycle/inject.js';
import { prepare } from '../lifecycle/prepare.js';
import { liveRefresh } from '../lifecycle/refresh.js';
import { describeNetns } from '../model/netns.js';
import type { Spec } from '../model/spec.js';
import type { Logger } from '../ports.js';
import type { Action } from './context.js';
import { locateTarget, readTargetFlags } from './target-flags.js';

export const inject: Action = async (ctx) => {
  const flags = readTargetFlags(ctx.opts, true);
  const spec = buildSpec({ get: ctx.get, readFile: ctx.readFile });
  return ctx.withStop(ctx.build(spec.logLevel), async (deps, stop) => {
    const located = locateTarget(deps, flags, spec);
    const p = await prepare(deps, { spec, netns: located.netns, container: flags.container }).catch((error: unknown) => {
      if (stop.received) return undefined; // stopped before any change
      throw error;
    });
    if (p?.netns === undefined) return stop.received === 'SIGINT' ? ExitCode.interrupted : stop.received ? ExitCode.terminated : ExitCode.ok;
    for (const r of p.resolved) {
      deps.log[r.items.length === 0 ? 'warn' : 'info']({ dependency: r.source, details: r.details }, `dependency ${r.source}: ${r.details.join('; ')}`);
      if (r.warning !== undefined) deps.log.warn({ dependency: r.source }, r.warning);
    }
    for (const w of p.plan.warnings) deps.log.warn(w);
    deps.log.info({ target: describeNetns(p.netns), interface: spec.interface, durationS: spec.durationS, bands: p.plan.bands.map((b) => `${b.classid}: ${b.description}`), entries: p.plan.entries.length }, 'starting');
    const refresh = liveRefresh(deps, { spec, sources: p.sources, initial: p.resolved });
    const outcome = await injectTree(deps, { spec, plan: p.plan, netns: p.netns, runId: newRunId(), refresh, refind: located.refind });
    return report(ctx.io.stdout, deps.log, spec, outcome);
  });
};

/** The effect table, the last log line, and the exit code of an outcome. */
function report(stdout: (t: string) => void, log: Logger, spec: Spec, outcome: Outcome): number {
  let exitCode: number = outcome.status === 'stopped' ? (outcome.signal === 'SIGINT' ? ExitCode.interrupted : ExitCode.terminated) : ExitCode.ok;
  if (outcome.effect) {
    stdout(formatEffect(outcome.effect, spec.verifyEffect));
    log.info({ event: 'effect', effect: outcome.effect }, summarizeEffect(outcome.effect));
    if (spec.verifyEffect && outcome.status === 'completed' && !outcome.effect.verdict.ok) {
      exitCode = ExitCode.effectNotVerified;
      log.error({ reasons: outcome.effect.verdict.reasons }, `VERIFY_EFFECT failed: ${outcome.effect.verdict.reasons.join('; ')}`);
    }
  }
  const again = outcome.status === 'completed' && outcome.reinjected > 0 ? ` (re-injected ${outcome.reinjected}x after the target restarted)` : '';
  log.info({ outcome: outcome.status, exitCode, ...(outcome.status === 'completed' ? { reinjected: outcome.reinjected } : {}) },
    outcome.status === 'completed' ? `done: chaos injected for the whole duration and reverted${again}` : `stopped by ${outcome.signal}`);
  return exitCode;
}
