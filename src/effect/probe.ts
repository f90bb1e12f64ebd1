/**
 * The real EffectProber (src/ports.ts): runs the worker (./worker.ts, as `netchaos __effect-probe`) inside the
 * target's namespace with nsenter (one exec per phase, all dependencies in parallel) and reads the netem
 * counters with one `tc -s -j -batch`.
 */
import { RuntimeError } from '../model/errors.js';
import { isObject, parseJson, stringField } from '../model/json.js';
import { nsenterArgs } from '../model/netns.js';
import { EFFECT_PROBE_COMMAND, type WorkerResult } from '../model/probe.js';
import type { EffectProber, Exec } from '../ports.js';
import { parseCounters } from '../tc/parse.js';

/** Checks the worker's JSON (it crossed a process boundary). */
export function parseWorkerOutput(json: string): Record<string, WorkerResult> {
  const data = parseJson(json, (start) => new RuntimeError(`the effect probe printed something that is not JSON: ${start}`));
  if (!isObject(data)) throw new RuntimeError(`unexpected effect probe output: ${json.slice(0, 200)}`);
  const out: Record<string, WorkerResult> = {};
  for (const [id, v] of Object.entries(data)) {
    if (!isObject(v) || !Array.isArray(v['samples'])) continue;
    const samples = v['samples'].map((x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : null));
    const errors: Record<string, number> = {};
    if (isObject(v['errors'])) for (const [k, n] of Object.entries(v['errors'])) if (typeof n === 'number') errors[k] = n;
    const error = stringField(v, 'error');
    out[id] = { samples, errors, ...(error !== undefined ? { error } : {}) };
  }
  return out;
}

export function execProber(exec: Exec): EffectProber {
  return {
    probe: async (netns, request, signal) => {
      const cli = process.argv[1] ?? 'netchaos';
      const r = await exec('nsenter', [...nsenterArgs(netns), '--', process.execPath, cli, EFFECT_PROBE_COMMAND], {
        input: JSON.stringify(request),
        timeoutMs: request.budgetMs + 10_000,
        ...(signal ? { signal } : {}),
      });
      if (r.exitCode !== 0) throw new RuntimeError(`the effect probe failed in the target's namespace: ${r.stderr.trim().slice(0, 300) || `exit ${r.exitCode}`}`);
      return parseWorkerOutput(r.stdout.trim());
    },
    counters: async (netns, devices) => {
      const r = await exec('nsenter', [...nsenterArgs(netns), '--', 'tc', '-s', '-j', '-force', '-batch', '-'], {
        input: devices.map((d) => `qdisc show dev ${d}`).join('\n') + '\n',
        timeoutMs: 30_000,
      });
      return parseCounters(r.stdout, r.stderr, devices);
    },
  };
}
