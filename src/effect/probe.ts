/**
 * The effect prober: the one component that measures, passed in through Deps (unit tests use a fake).
 * The real one runs the worker (./worker.ts, as `netchaos __effect-probe`) inside the target's namespace with nsenter (one exec per phase, all
 * dependencies in parallel) and reads the netem counters with one `tc -s -j -batch`.
 */
import type { Exec } from '../deps.js';
import { RuntimeError } from '../errors.js';
import { type Target, nsenterArgs } from '../netns/target.js';
import { isObject, showResults } from '../netns/ingress.js';
import type { WorkerRequest, WorkerResult } from './worker.js';

export type { WorkerRequest, WorkerResult, WorkerTarget } from './worker.js';

/** What one netem qdisc counted (tc -s). */
export interface QdiscCounter {
  readonly device: string;
  readonly handle: string;
  readonly kind: string;
  readonly packets: number;
  readonly bytes: number;
  readonly drops: number;
}

export interface EffectProber {
  /** Runs the probes inside the target's namespace; one result per target id. */
  readonly probe: (target: Target, request: WorkerRequest, signal?: AbortSignal) => Promise<Record<string, WorkerResult>>;
  /** The counters of every qdisc on these devices. */
  readonly counters: (target: Target, devices: readonly string[]) => Promise<QdiscCounter[]>;
}


/** Checks the worker's JSON (it crossed a process boundary). */
export function parseWorkerOutput(json: string): Record<string, WorkerResult> {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    throw new RuntimeError(`the effect probe printed something that is not JSON: ${json.slice(0, 200)}`);
  }
  if (!isObject(data)) throw new RuntimeError(`unexpected effect probe output: ${json.slice(0, 200)}`);
  const out: Record<string, WorkerResult> = {};
  for (const [id, v] of Object.entries(data)) {
    if (!isObject(v) || !Array.isArray(v['samples'])) continue;
    const samples = v['samples'].map((x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : null));
    const errors: Record<string, number> = {};
    if (isObject(v['errors'])) for (const [k, n] of Object.entries(v['errors'])) if (typeof n === 'number') errors[k] = n;
    out[id] = { samples, errors, ...(typeof v['error'] === 'string' ? { error: v['error'] } : {}) };
  }
  return out;
}

/** Parses the output of `tc -s -j -force -batch` with one `qdisc show dev …` per device (a failed line: no counters). */
export function parseCounters(stdout: string, stderr: string, devices: readonly string[]): QdiscCounter[] {
  const out: QdiscCounter[] = [];
  showResults(stdout, stderr, devices.length).forEach((line, i) => {
    if (line === undefined) return;
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch {
      return;
    }
    if (!Array.isArray(data)) return;
    for (const q of data) {
      if (!isObject(q) || typeof q['handle'] !== 'string' || typeof q['kind'] !== 'string') continue;
      const n = (k: string): number => (typeof q[k] === 'number' ? q[k] : 0);
      out.push({ device: devices[i] ?? '?', handle: q['handle'], kind: q['kind'], packets: n('packets'), bytes: n('bytes'), drops: n('drops') });
    }
  });
  return out;
}

/** The hidden command of the CLI that runs ./worker.ts (src/cli.ts); the CLI is this process's own script. */
export const EFFECT_PROBE_COMMAND = '__effect-probe';

export function execProber(exec: Exec): EffectProber {
  return {
    probe: async (target, request, signal) => {
      const cli = process.argv[1] ?? 'netchaos';
      const r = await exec('nsenter', [...nsenterArgs(target), '--', process.execPath, cli, EFFECT_PROBE_COMMAND], {
        input: JSON.stringify(request),
        timeoutMs: request.budgetMs + 10_000,
        ...(signal ? { signal } : {}),
      });
      if (r.exitCode !== 0) throw new RuntimeError(`the effect probe failed in the target's namespace: ${r.stderr.trim().slice(0, 300) || `exit ${r.exitCode}`}`);
      return parseWorkerOutput(r.stdout.trim());
    },
    counters: async (target, devices) => {
      const r = await exec('nsenter', [...nsenterArgs(target), '--', 'tc', '-s', '-j', '-force', '-batch', '-'], {
        input: devices.map((d) => `qdisc show dev ${d}`).join('\n') + '\n',
        timeoutMs: 30_000,
      });
      return parseCounters(r.stdout, r.stderr, devices);
    },
  };
}
