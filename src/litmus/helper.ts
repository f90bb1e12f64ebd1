/**
 * `netchaos helper`: what a helper pod runs on a target's node. It takes its job from NETCHAOS_HELPER_JOB,
 * runs the same per-target path as `netchaos run` in place (prepare every target, then inject, wait, revert;
 * SIGTERM reverts first), and writes its result as JSON to the termination log, where the runner reads it.
 * The result is written on every path, also when the job itself is unreadable.
 */
import { writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Deps } from '../deps.js';
import { ExitCode, RevertError, RuntimeError, UsageError, UsageErrors, exitCodeOf } from '../errors.js';
import { type Spec, buildSpec } from '../config/spec.js';
import type { VariableName } from '../config/vars.js';
import type { TargetPod } from '../kube/targets.js';
import type { HostFs } from '../runtime/host.js';
import type { ResolverFactory } from '../resolve/dns.js';
import { type HelperJob, type HelperResult, JOB_ENV, cacheOf, decodeJob, encodeResult } from './helper-job.js';
import { SignalHub, type TargetStatus, errorCodeOf, injectAll, podText, prepareTargets } from './inplace.js';

export interface HelperDeps extends Deps {
  readonly fs: HostFs;
  readonly resolver: ResolverFactory;
}

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
export function readJob(env: Readonly<Record<string, string | undefined>>, o: Pick<HelperOptions, 'resultPath' | 'writeText'>): { job: HelperJob; spec: Spec } {
  try {
    const job = decodeJob(env[JOB_ENV]);
    return { job, spec: helperSpec(job) };
  } catch (error) {
    if (error instanceof UsageError || error instanceof UsageErrors) {
      const node = env['NODE_NAME'] ?? '';
      (o.writeText ?? writeFileSync)(o.resultPath, encodeResult({ version: 1, node, outcome: 'failed', exitCode: ExitCode.usage, targets: [], error: { code: 'GENERIC_ERROR', message: error.message } }));
    }
    throw error;
  }
}

export async function runHelper(deps: HelperDeps, job: HelperJob, spec: Spec, o: HelperOptions): Promise<number> {
  const log: Logger = deps.log.child({ helper: job.node });
  const targets: TargetPod[] = job.targets.map((t) => ({ ...t }));
  const status = new Map<string, TargetStatus>(targets.map((t) => [podText(t), 'targeted']));
  const hub = new SignalHub(deps.signals);
  let injected = false;
  const write = (r: Omit<HelperResult, 'version' | 'node' | 'targets'>): void => {
    const result: HelperResult = { version: 1, node: job.node, targets: [...status].map(([pod, s]) => ({ pod, status: s })), ...r };
    try {
      (o.writeText ?? writeFileSync)(o.resultPath, encodeResult(result));
    } catch (error) {
      log.error({ err: error instanceof Error ? error.message : String(error), path: o.resultPath }, 'cannot write the result; the runner reports this node without it');
    }
  };
  try {
    if (o.nodeName !== undefined && o.nodeName !== '' && o.nodeName !== job.node) {
      throw new RuntimeError(`this helper runs on node ${o.nodeName}, but its job is for node ${job.node}: nothing was changed`);
    }
    log.info({ targets: targets.map(podText), sequence: job.sequence }, `helper on node ${job.node}: ${targets.map(podText).join(', ')}`);
    const noApi = (): never => { throw new RuntimeError('a helper pod does not call the Kubernetes API: the runner resolves pods and Services'); };
    const prepared = await prepareTargets({ ...deps, kube: noApi }, spec, targets, { cache: cacheOf(job), procRoot: o.procRoot });
    if (hub.received === undefined) {
      await injectAll(deps, prepared, {
        spec, sequence: job.sequence, hub, watchIntervalMs: o.watchIntervalMs,
        onStatus: (p, s) => { if (s === 'injected') injected = true; status.set(podText(p), s); },
      });
    }
    if (hub.received) {
      const exitCode = hub.received === 'SIGINT' ? ExitCode.interrupted : ExitCode.terminated;
      write({ outcome: 'stopped', exitCode });
      log.warn({ signal: hub.received }, `stopped by ${hub.received}${injected ? '; the fault was reverted first' : ' before any change'}`);
      return exitCode;
    }
    write({ outcome: 'completed', exitCode: ExitCode.ok });
    log.info(`helper on node ${job.node}: injected and reverted on ${targets.length} pod(s)`);
    return ExitCode.ok;
  } catch (error) {
    const message = error instanceof RevertError ? `${error.message}; left behind: ${error.leftover}; remove it with: ${error.command}` : error instanceof Error ? error.message : String(error);
    write({ outcome: 'failed', exitCode: exitCodeOf(error), error: { code: errorCodeOf(error, injected), message } });
    throw error;
  } finally {
    hub.dispose();
  }
}
