/**
 * `netchaos helper`: what a helper pod runs on a target's node. It takes its job from NETCHAOS_HELPER_JOB,
 * runs the same per-target path as `netchaos run` in place (prepare every target, read their blast radius, then
 * inject, wait, revert; SIGTERM reverts first), and writes its result (with the blast radius, summarised) as
 * JSON to the termination log, where the runner reads it.
 * The result is written on every path, also when the job itself is unreadable.
 */
import { writeFileSync } from 'node:fs';
import { ExitCode, RevertError, RuntimeError, UsageError, UsageErrors, exitCodeOf, litmusCodeOf, messageOf } from '../model/errors.js';
import { type TargetPod, type TargetStatus, podText } from '../model/kube.js';
import type { Spec } from '../model/spec.js';
import type { StopSignalName } from '../model/stop.js';
import type { Deps } from '../ports.js';
import { buildSpec } from '../config/spec.js';
import type { VariableName } from '../config/vars.js';
import { summarizeEffect } from '../effect/effect.js';
import { type HelperEffect, type HelperJob, type HelperResult, JOB_ENV, cacheOf, decodeJob, encodeResult } from './helper-job.js';
import { RefreshHistory } from './refresh-report.js';
import { injectAll, prepareTargets } from './targets.js';
import { type BlastStatus, HELPER_ROWS, readBlastStatuses } from './blast-report.js';

export interface HelperOptions {
  readonly resultPath: string;
  /** This pod's node (downward API spec.nodeName), checked against the job's. */
  readonly nodeName: string | undefined;
  readonly writeText?: (path: string, text: string) => void;
  readonly procRoot?: string;
  readonly watchIntervalMs?: number;
}

/** The job's fault variables → Spec, with the same parser the runner used. */
export function helperSpec(job: HelperJob): Spec {
  return buildSpec({
    get: (n: VariableName) => {
      const value = job.variables[n];
      return value === undefined || value === '' ? undefined : { value, label: n };
    },
    readFile: (path) => {
      const text = job.files[path];
      if (text === undefined) throw new Error(`not in the helper job (${JOB_ENV}.files)`);
      return text;
    },
  });
}

/** Reads the job and the spec; on bad input, writes a failed result before throwing. */
export function readJob(jobText: string | undefined, o: Pick<HelperOptions, 'resultPath' | 'writeText' | 'nodeName'>): { job: HelperJob; spec: Spec } {
  try {
    const job = decodeJob(jobText);
    return { job, spec: helperSpec(job) };
  } catch (error) {
    if (error instanceof UsageError || error instanceof UsageErrors) {
      (o.writeText ?? writeFileSync)(o.resultPath, encodeResult({ version: 1, node: o.nodeName ?? '', outcome: 'failed', exitCode: ExitCode.usage, targets: [], error: { code: 'GENERIC_ERROR', message: error.message } }));
    }
    throw error;
  }
}

export async function runHelper(base: Deps, job: HelperJob, spec: Spec, o: HelperOptions): Promise<number> {
  const deps = { ...base, log: base.log.child({ helper: job.node }) };
  const { log, stop } = deps;
  const targets: TargetPod[] = job.targets.map((t) => ({ ...t }));
  const status = new Map<string, TargetStatus>(targets.map((t) => [podText(t), 'targeted']));
  let injected = false;
  // What the targets' refresh loops did and what MEASURE_EFFECT measured, handed back to the runner in the result.
  const refresh = new RefreshHistory(spec.refreshS);
  const effects: HelperEffect[] = [];
  let blast: Record<string, BlastStatus> | undefined;
  const write = (r: Omit<HelperResult, 'version' | 'node' | 'targets'>): void => {
    const result: HelperResult = {
      version: 1, node: job.node, targets: [...status].map(([pod, s]) => ({ pod, status: s })), ...(blast ? { blast } : {}), ...r,
      ...(refresh.size > 0 ? { refresh: refresh.wire() } : {}), ...(effects.length > 0 ? { effects } : {}),
    };
    try {
      (o.writeText ?? writeFileSync)(o.resultPath, encodeResult(result));
    } catch (error) {
      log.error({ err: messageOf(error), path: o.resultPath }, 'cannot write the result; the runner reports this node without it');
    }
  };
  const stopped = (signal: StopSignalName): number => {
    const exitCode = signal === 'SIGINT' ? ExitCode.interrupted : ExitCode.terminated;
    write({ outcome: 'stopped', exitCode });
    log.warn({ signal }, `stopped by ${signal}${injected ? '; the fault was reverted first' : ' before any change'}`);
    return exitCode;
  };
  try {
    if (o.nodeName !== undefined && o.nodeName !== '' && o.nodeName !== job.node) {
      throw new RuntimeError(`this helper runs on node ${o.nodeName}, but its job is for node ${job.node}: nothing was changed`);
    }
    log.info({ targets: targets.map(podText), sequence: job.sequence }, `helper on node ${job.node}: ${targets.map(podText).join(', ')}`);
    const prepared = await prepareTargets(deps, spec, targets, { cache: cacheOf(job), procRoot: o.procRoot });
    if (spec.blastRadius && !stop.stopped) {
      const read = await readBlastStatuses(deps, spec, prepared, HELPER_ROWS);
      blast = Object.fromEntries(read.statuses.map((x) => [podText(x.pod), x.status]));
    }
    if (!stop.stopped) {
      await injectAll(deps, prepared, {
        spec, sequence: job.sequence, watchIntervalMs: o.watchIntervalMs,
        onStatus: (p, s) => { if (s === 'injected') injected = true; status.set(podText(p), s); },
        onRefresh: (p, e) => { refresh.record(podText(p), e, deps.clock.now()); },
        onEffect: (p, e) => { effects.push({ pod: podText(p), ok: e.verdict.ok, summary: summarizeEffect(e) }); },
      });
    }
    if (stop.received) return stopped(stop.received);
    write({ outcome: 'completed', exitCode: ExitCode.ok });
    log.info(`helper on node ${job.node}: injected and reverted on ${targets.length} pod(s)`);
    return ExitCode.ok;
  } catch (error) {
    // Stopped while preparing (a wait cut short): nothing was changed.
    if (stop.received && !(error instanceof RevertError)) return stopped(stop.received);
    const message = error instanceof RevertError ? `${error.message}; left behind: ${error.leftover}; remove it with: ${error.command}` : messageOf(error);
    write({ outcome: 'failed', exitCode: exitCodeOf(error), error: { code: litmusCodeOf(error, injected), message } });
    throw error;
  }
}
