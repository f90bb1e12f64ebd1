/**
 * Litmus reporting, in litmus-go's vocabulary so ChaosCenter reads it like any other fault:
 * the ChaosResult `<engine>-<experiment>[-<instance>]` (phase, verdict, errorOutput, history) and Events on
 * the ChaosEngine (PreChaosCheck, ChaosInject, PostChaosCheck, Summary) and the ChaosResult (Awaited, Pass…).
 * Updates during the run are queued and never awaited by the injection: a revert never waits on the API.
 */
import type { CoreV1Event } from '@kubernetes/client-node';
import { type LitmusErrorCode, messageOf } from '../model/errors.js';
import { field, isObject, stringField } from '../model/json.js';
import type { TargetStatus } from '../model/kube.js';
import { type RunIdentity, resultName } from '../model/litmus.js';
import type { KubeApi, Logger } from '../ports.js';
import { KubeError, LITMUS_GROUP, LITMUS_VERSION } from '../kube/api.js';
import { type EffectReport, summarizeEffect } from '../effect/effect.js';
import type { ProbeErrorCode, ProbeStatus } from '../probes/index.js';
import type { RefreshStatus } from './refresh-report.js';
import type { BlastStatus } from './blast-report.js';

export type Phase = 'Running' | 'Completed' | 'Completed_With_Probe_Failure' | 'Stopped' | 'Error';
export type Verdict = 'Awaited' | 'Pass' | 'Fail' | 'Stopped' | 'Error';
export type EventType = 'Normal' | 'Warning';

export interface ResultTarget {
  readonly name: string;
  readonly kind: string;
  readonly chaosStatus: TargetStatus;
}

export interface Final {
  readonly phase: Exclude<Phase, 'Running'>;
  readonly verdict: Exclude<Verdict, 'Awaited'>;
  readonly error?: { readonly errorCode: LitmusErrorCode | ProbeErrorCode; readonly reason: string };
  /** The resilience probes' part (src/probes finalResult); without probes "100" for Pass, else "0" (litmus-go). */
  readonly probes?: { readonly probeSuccessPercentage: string; readonly probeStatuses: readonly ProbeStatus[]; readonly summary: string };
}

/** Whether the verdict reached the ChaosResult (`failure`: why not). */
export interface Recorded {
  readonly written: boolean;
  readonly failure: string;
}

interface History {
  passedRuns: number;
  failedRuns: number;
  stoppedRuns: number;
}

/** A Kubernetes label value (at most 63 characters, alphanumeric at both ends): anything else is a 422 from the API server. */
const isLabelValue = (v: string): boolean => v.length <= 63 && /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v);

const uidOf = (obj: unknown): string => stringField(field(obj, 'metadata'), 'uid') ?? '';

function labelsOf(obj: unknown): Record<string, unknown> {
  const labels = field(field(obj, 'metadata'), 'labels');
  return isObject(labels) ? labels : {};
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0);

/** The run counters of an existing ChaosResult (missing fields count as 0). */
export function readHistory(result: unknown): History {
  const h = field(field(result, 'status'), 'history');
  return { passedRuns: num(field(h, 'passedRuns')), failedRuns: num(field(h, 'failedRuns')), stoppedRuns: num(field(h, 'stoppedRuns')) };
}

export interface ReporterOptions {
  readonly api: KubeApi;
  readonly litmus: RunIdentity;
  readonly log: Logger;
  readonly now: () => number;
  readonly random: () => number;
  /** The run's stop: the opening calls (before any change) are not waited for once it aborts. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Event names only need to be unique in the namespace: time, a sequence shared by every Reporter of this process
 * (two runs in one process — tests — never reuse one) and a random part (two runner pods at the same millisecond).
 */
let eventSeq = 0;

export class Reporter {
  readonly namespace: string;
  readonly name: string;
  private engineUid = '';
  /** The ChaosResult's uid: Events on it carry it in involvedObject.uid (litmus-go SetResultEventAttributes). */
  private resultUid = '';
  private history: History = { passedRuns: 0, failedRuns: 0, stoppedRuns: 0 };
  private targets: ResultTarget[] = [];
  /** MEASURE_EFFECT per target pod: status.netchaosEffect (the ChaosResult CRD keeps unknown status fields). */
  private readonly effects: Record<string, EffectReport> = {};
  /** MEASURE_EFFECT as a helper pod reported it (its verdict and summary; the full report is in the helper's log). */
  private readonly helperEffects: Record<string, { node: string; ok: boolean; summary: string }> = {};
  /** DEPENDENCY_REFRESH's line in the Summary Event. */
  private refreshSummary = '';
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly o: ReporterOptions) {
    this.namespace = o.litmus.chaosNamespace;
    this.name = resultName(o.litmus) ?? '';
  }

  /** Creates the ChaosResult if missing and marks it Running/Awaited. Awaited: failures here stop the run before any change. */
  async start(): Promise<void> {
    const { api, litmus } = this.o;
    const o = { signal: this.o.signal };
    this.engineUid = (await api.getChaosEngineUid(this.namespace, litmus.engine ?? '', o)) || litmus.chaosUid;
    const existing = await api.getChaosResult(this.namespace, this.name, o);
    this.history = readHistory(existing);
    const labels = { ...this.defaultLabels(), ...(await this.runnerLabels()), ...(isLabelValue(litmus.chaosUid) ? { chaosUID: litmus.chaosUid } : {}) };
    const status = {
      experimentStatus: { phase: 'Running', verdict: 'Awaited', probeSuccessPercentage: 'Awaited', errorOutput: null },
      history: { ...this.history, targets: [] },
    };
    if (existing === undefined) {
      const created = await api.createChaosResult(this.namespace, {
        apiVersion: `${LITMUS_GROUP}/${LITMUS_VERSION}`,
        kind: 'ChaosResult',
        metadata: { name: this.name, namespace: this.namespace, labels },
        spec: { engine: litmus.engine, experiment: litmus.experimentName, ...(litmus.instanceId !== undefined ? { instance: litmus.instanceId } : {}) },
        status: { ...status, experimentStatus: { phase: 'Running', verdict: 'Awaited', probeSuccessPercentage: 'Awaited' }, probeStatuses: [] },
      }, o);
      this.resultUid = uidOf(created);
    } else {
      // The ChaosResult is reused by every run of this engine and experiment: the last run's refresh history goes.
      // A previous run's per-pod fields go too (null deletes in a merge patch): its pods are not this run's.
      // The labels are replaced, as litmus-go's PatchChaosResult updates them: a previous run's job-name does not stay.
      const stale = Object.fromEntries(Object.keys(labelsOf(existing)).filter((k) => !(k in labels)).map((k) => [k, null]));
      await api.patchChaosResult(this.namespace, this.name, { metadata: { labels: { ...stale, ...labels } }, status: { ...status, netchaosRefresh: null, netchaosBlastRadius: null, netchaosEffect: null } }, o);
      this.resultUid = uidOf(existing);
    }
    this.event('result', 'Awaited', `experiment: ${litmus.experimentName}, Result: Awaited`, 'Normal');
  }

  /** Ours, for a result made without a runner pod to copy from (`name` only when the name is a valid label value: it may be longer than 63 characters). */
  private defaultLabels(): Record<string, string> {
    return { ...(isLabelValue(this.name) ? { name: this.name } : {}), 'app.kubernetes.io/component': 'experiment-job', 'app.kubernetes.io/part-of': 'litmus' };
  }

  /**
   * The runner pod's labels (the ChaosExperiment's, the engine's such as workflow_run_id, the Job's job-name), which
   * litmus-go puts on the ChaosResult (pkg/result/chaosresult.go ChaosResult). Without POD_NAME, or when the pod
   * cannot be read (HELPER_MODE=never binds no `get pods` in CHAOS_NAMESPACE), the result has ours and chaosUID.
   */
  private async runnerLabels(): Promise<Record<string, string>> {
    const { api, litmus, log } = this.o;
    if (litmus.podName === '') return {};
    try {
      const pod = await api.getPod(this.namespace, litmus.podName, { signal: this.o.signal });
      return Object.fromEntries(Object.entries(pod?.metadata?.labels ?? {}).filter(([k, v]) => isLabelValue(v) && k !== ''));
    } catch (error) {
      if (this.o.signal?.aborted) throw error;
      log.warn({ err: messageOf(error) }, `could not read this runner's pod ${this.namespace}/${litmus.podName} to copy its labels to the ChaosResult (as litmus-go does); it carries chaosUID only`);
      return {};
    }
  }

  /** Queues an Event on the ChaosEngine or the ChaosResult. */
  event(on: 'engine' | 'result', reason: string, message: string, type: EventType = 'Normal'): void {
    this.enqueue(() => this.sendEvent(on, reason, message, type));
  }

  /** Queues the targets list (history.targets); the merge patch replaces the whole list. */
  setTarget(t: ResultTarget): void {
    const i = this.targets.findIndex((x) => x.name === t.name && x.kind === t.kind);
    if (i === -1) this.targets.push(t);
    else this.targets[i] = t;
    const targets = [...this.targets];
    this.enqueue(() => this.o.api.patchChaosResult(this.namespace, this.name, { status: { history: { targets } } }));
  }

  /** Queues a target's measured effect: status.netchaosEffect.<pod> (and a line in the Summary Event). */
  setEffect(pod: string, effect: EffectReport): void {
    this.effects[pod] = effect;
    this.patchEffects();
  }

  /** Queues a target's effect as its helper pod reported it: status.netchaosEffect.<pod> = {node, ok, summary}. */
  setHelperEffect(pod: string, effect: { node: string; ok: boolean; summary: string }): void {
    this.helperEffects[pod] = effect;
    this.patchEffects();
  }

  private patchEffects(): void {
    const netchaosEffect = { ...this.helperEffects, ...this.effects };
    this.enqueue(() => this.o.api.patchChaosResult(this.namespace, this.name, { status: { netchaosEffect } }));
  }

  /** Queues the refresh history (status.netchaosRefresh: counters and the last entries, bounded by its producer). */
  setRefresh(netchaosRefresh: RefreshStatus, summary: string): void {
    this.refreshSummary = summary;
    this.enqueue(() => this.o.api.patchChaosResult(this.namespace, this.name, { status: { netchaosRefresh } }));
  }

  /** Queues pods' blast radius from a helper: status.netchaosBlastRadius.<pod> (a merge patch: the other pods' entries stay). */
  setBlastRadius(statuses: Readonly<Record<string, BlastStatus>>): void {
    this.enqueue(() => this.o.api.patchChaosResult(this.namespace, this.name, { status: { netchaosBlastRadius: statuses } }));
  }

  /** Queues status.probeStatuses (all Awaited at the start, as litmus-go writes them). */
  setProbeStatuses(probeStatuses: readonly ProbeStatus[]): void {
    this.enqueue(() => this.o.api.patchChaosResult(this.namespace, this.name, { status: { probeStatuses } }));
  }

  /**
   * Writes the verdict, the counters and the closing Events; waits at most `timeoutMs` in all. `written`:
   * the verdict reached the ChaosResult (the chaos-runner copies it from there); failedRuns counts Fail only.
   */
  async finish(f: Final, timeoutMs: number): Promise<Recorded> {
    const { litmus } = this.o;
    const h = { ...this.history };
    if (f.verdict === 'Pass') h.passedRuns++;
    else if (f.verdict === 'Stopped') h.stoppedRuns++;
    else if (f.verdict === 'Fail') h.failedRuns++;
    const patch = {
      status: {
        experimentStatus: {
          phase: f.phase,
          verdict: f.verdict,
          probeSuccessPercentage: f.probes?.probeSuccessPercentage ?? (f.verdict === 'Pass' ? '100' : '0'),
          errorOutput: f.error ?? null,
        },
        ...(f.probes ? { probeStatuses: f.probes.probeStatuses } : {}),
        history: { ...h, targets: [...this.targets] },
      },
    };
    let written = false;
    let failure = `no answer from the Kubernetes API within ${timeoutMs} ms`;
    this.enqueue(async () => {
      try {
        await this.o.api.patchChaosResult(this.namespace, this.name, patch);
        written = true;
      } catch (error) {
        failure = messageOf(error);
        throw error;
      }
    });
    const word = { Pass: 'Passed', Fail: 'Failed', Stopped: 'Stopped', Error: 'Errored' }[f.verdict];
    const type: EventType = f.verdict === 'Pass' ? 'Normal' : 'Warning';
    const reason = f.error ? `, Reason: ${f.error.reason}` : '';
    this.event('result', f.verdict, `experiment: ${litmus.experimentName}, Result: ${f.verdict}${reason}`, type);
    const effect = [...Object.entries(this.effects).map(([pod, e]) => `${pod}: ${summarizeEffect(e)}`), ...Object.entries(this.helperEffects).map(([pod, e]) => `${pod}: ${e.summary}`)].join(' | ');
    const parts = [f.probes ? f.probes.summary : '', effect ? `MEASURE_EFFECT: ${effect}` : '', this.refreshSummary].filter((x) => x !== '');
    this.event('engine', 'Summary', `${litmus.experimentName} experiment has been ${word}${reason}${parts.length > 0 ? `; ${parts.join('; ')}` : ''}`, type);
    await this.flush(timeoutMs);
    return { written, failure };
  }

  /** Waits for queued updates, at most `timeoutMs`; false when they did not all get through in time. */
  async flush(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => { timer = setTimeout(() => { resolve(false); }, timeoutMs); });
    const done = this.queue.then(() => true);
    const ok = await Promise.race([done, timeout]);
    clearTimeout(timer);
    if (!ok) this.o.log.warn({ timeoutMs }, 'ChaosResult/Event updates did not finish in time; exiting anyway');
    return ok;
  }

  private enqueue(fn: () => Promise<void>): void {
    this.queue = this.queue.then(fn).catch((error: unknown) => {
      this.o.log.warn({ err: messageOf(error) }, 'could not update the ChaosResult or send an Event');
    });
  }

  private async sendEvent(on: 'engine' | 'result', reason: string, message: string, type: EventType): Promise<void> {
    const { litmus, now, random, api } = this.o;
    const t = new Date(now());
    const involved = on === 'engine'
      ? { apiVersion: `${LITMUS_GROUP}/${LITMUS_VERSION}`, kind: 'ChaosEngine', name: litmus.engine ?? '', namespace: this.namespace, uid: this.engineUid }
      : { apiVersion: `${LITMUS_GROUP}/${LITMUS_VERSION}`, kind: 'ChaosResult', name: this.name, namespace: this.namespace };
    const name = (): string => `${involved.name}.${now().toString(16)}${(eventSeq++).toString(16)}${Math.floor(random() * 0xffffff).toString(16)}`;
    /* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- the V1* classes are generated data holders (public fields only): the client serializes this plain object through its type map like one of them */
    const body: CoreV1Event = {
      metadata: { name: name(), namespace: this.namespace },
      involvedObject: involved,
      reason,
      message,
      type,
      source: { component: litmus.podName || 'netchaos', host: litmus.nodeName },
      reportingComponent: 'netchaos',
      reportingInstance: litmus.podName || 'netchaos',
      firstTimestamp: t,
      lastTimestamp: t,
      count: 1,
      action: reason,
    };
    /* eslint-enable @typescript-eslint/no-unsafe-class-instance-assignment */
    // Events on the ChaosResult carry its uid, as litmus-go's SetResultEventAttributes sets ResourceUID.
    if (on === 'result' && this.resultUid !== '') body.involvedObject.uid = this.resultUid;
    for (let attempt = 1; ; attempt++) {
      try {
        await api.createEvent(this.namespace, body);
        return;
      } catch (error) {
        // Event names only need to be unique: on a clash, take another one.
        if (!(error instanceof KubeError && error.status === 409) || attempt >= 3) throw error;
        Object.assign(body, { metadata: { name: name(), namespace: this.namespace } });
      }
    }
  }
}

/**
 * Bad input in Litmus mode: nothing was changed, and ChaosCenter should still show why. Writes ChaosResult
 * Error/Error with the problems when the run can be named; true when it was written. A failure to report is
 * logged, never thrown (the usage error is what the user must see).
 */
export async function reportBadInput(o: ReporterOptions, reason: string, timeoutMs = 5000): Promise<boolean> {
  const reporter = new Reporter(o);
  try {
    const started = reporter.start();
    const timer = new Promise<'timeout'>((resolve) => { setTimeout(() => { resolve('timeout'); }, timeoutMs).unref(); });
    if ((await Promise.race([started.then(() => 'ok' as const), timer])) === 'timeout') throw new Error(`no answer from the API within ${timeoutMs} ms`);
    const recorded = await reporter.finish({ phase: 'Error', verdict: 'Error', error: { errorCode: 'GENERIC_ERROR', reason } }, timeoutMs);
    if (!recorded.written) throw new Error(recorded.failure);
    return true;
  } catch (error) {
    o.log.warn({ err: messageOf(error) }, 'could not write the bad input to the ChaosResult');
    return false;
  }
}
