/**
 * Litmus resilience probes, as litmus-go runs them (see runner.ts and docs/probes.md). The runner's API:
 *
 *   const prepared = prepareProbes(engineJson, experimentName, env);   // before any change
 *   if (!prepared.ok) → the run ends Error (reason: prepared.message); nothing was changed
 *   const probes = prepared.probes;
 *   ChaosResult at start: probeStatuses = probes.statuses() (all Awaited)
 *   await probes.beforeChaos(signal)          → continue | stop | error | aborted
 *   inject; await probes.chaosStarted({ durationMs })
 *   wait for the chaos, also ending early on probes.stopRequested (a stopOnFailure probe failed)
 *   revert; probes.chaosEnded()
 *   await probes.afterChaos(signal)           → continue | stop | error | aborted
 *   probes.finalResult({ phase, verdict })    → phase, verdict, probeSuccessPercentage, probeStatuses
 *   finally: await probes.close()             (ends every loop, deletes probe pods)
 */
import { readFileSync } from 'node:fs';
import { type ProbeIssue, formatIssue, parseProbes } from './spec.js';
import { type ProbeEnvironment, ProbeSet } from './runner.js';

export { ProbeSet, ProbeStopRequest, realClock } from './runner.js';
export type { FinalResult, FinalResultInput, PhaseResult, ProbeClock, ProbeEnvironment, ProbePhase, ProbeStatus, ProbeVerdict, VerdictEvent } from './runner.js';
export { formatIssue, parseProbes } from './spec.js';
export type { ProbeIssue, ProbeMode, ProbeSpec, ProbeType } from './spec.js';
export type { ProbeErrorCode, ProbeFailureCode } from './outcome.js';
export { readChaosEngine, stopChaosEngine } from './engine.js';
export { GoDurationError, formatDuration, parseGoDuration } from './duration.js';

export type PrepareResult =
  | { readonly ok: true; readonly probes: ProbeSet; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly errors: readonly ProbeIssue[]; readonly warnings: readonly string[]; readonly message: string };

/**
 * The probes of `engine.spec.experiments[name == experimentName].spec.probe`, checked (every problem at
 * once, each naming the probe and the field) and ready to run with `env`.
 */
export function prepareProbes(engine: unknown, experimentName: string, env: ProbeEnvironment): PrepareResult {
  const parsed = parseProbes(engine, experimentName, { readFile: env.readFile ?? ((path) => readFileSync(path, 'utf8')) });
  const errors: ProbeIssue[] = parsed.ok ? [] : [...parsed.errors];
  if (parsed.ok) {
    for (const p of parsed.probes) {
      if (p.type === 'k8sProbe' && !env.kube) errors.push({ probe: p.name, field: 'type', message: 'a k8sProbe needs the Kubernetes API, which this run does not have' });
      if (p.type === 'cmdProbe' && p.source) {
        if (!env.kube || !env.podExec) errors.push({ probe: p.name, field: 'cmdProbe/inputs.source', message: 'a cmdProbe with source needs the Kubernetes API (a probe pod and exec), which this run does not have' });
        else if (!env.context?.chaosNamespace) errors.push({ probe: p.name, field: 'cmdProbe/inputs.source', message: 'a cmdProbe with source needs CHAOS_NAMESPACE (where its probe pod runs)' });
      }
    }
  }
  for (const w of parsed.warnings) env.log.warn(w);
  if (!parsed.ok || errors.length > 0) {
    return { ok: false, errors, warnings: parsed.warnings, message: `the ChaosEngine's probes are not valid:\n${errors.map(formatIssue).map((l) => `  ${l}`).join('\n')}` };
  }
  const probes = new ProbeSet(parsed.probes, env);
  if (parsed.probes.length > 0) {
    env.log.info({ probes: parsed.probes.map((p) => `${p.name} (${p.type}, ${p.mode})`) }, `[Probe]: ${parsed.probes.length} resilience probe(s) for ${experimentName}`);
  }
  return { ok: true, probes, warnings: parsed.warnings };
}

/**
 * The PreChaosCheck/PostChaosCheck Event message, as litmus-go words it (pkg/utils/common/common.go
 * GetStatusMessage): "AUT: Running, Probes: Successful", or "Probes: Unsuccessful" when the health check
 * is off; `probes` undefined when there are none.
 */
export function checkMessage(healthCheck: boolean, probes: 'Successful' | 'Unsuccessful' | undefined): string {
  if (healthCheck) return probes === undefined ? 'AUT: Running' : `AUT: Running, Probes: ${probes}`;
  return probes === undefined ? 'Skipped the default checks' : `Probes: ${probes}`;
}
