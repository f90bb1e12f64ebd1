/**
 * The real EffectProber (src/ports.ts): runs the worker (./worker.ts, as `netchaos __effect-probe`) inside the
 * target's namespace with nsenter (one exec per phase, all dependencies in parallel) — or, when every destination
 * is probed by ICMP, `nsenter … ping` per destination (in parallel; no node start per phase) — and reads the
 * netem counters with one `tc -s -j -batch`.
 */
import { RuntimeError } from '../model/errors.js';
import { isObject, parseJson, stringField } from '../model/json.js';
import { type NetnsRef, nsenterArgs } from '../model/netns.js';
import { EFFECT_PROBE_COMMAND, type WorkerRequest, type WorkerResult } from '../model/probe.js';
import type { EffectProber, Exec } from '../ports.js';
import { parsePing, pingArgs } from './ping.js';
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
      if (request.destinations.length > 0 && request.destinations.every((t) => t.kind === 'icmp')) return pingDirect(exec, netns, request, signal);
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

/**
 * The ICMP-only phase without the worker: one `nsenter … -- ping` per destination, all at once, read exactly as
 * the worker reads its pings (./ping.ts); the whole phase ends by the request's budget.
 */
async function pingDirect(exec: Exec, netns: NetnsRef, request: WorkerRequest, signal: AbortSignal | undefined): Promise<Record<string, WorkerResult>> {
  const results = await Promise.all(request.destinations.map(async (t) => {
    try {
      const r = await exec('nsenter', [...nsenterArgs(netns), '--', 'ping', ...pingArgs(t, request.budgetMs)], {
        timeoutMs: request.budgetMs + 10_000,
        ...(signal ? { signal } : {}),
      });
      // ping exits 1 when echoes went unanswered: the samples say so; its text is read whatever the exit code.
      return parsePing(`${r.stdout}${r.stderr}`, t.samples);
    } catch (error) {
      if (signal?.aborted) throw error;
      return parsePing('', t.samples, error instanceof Error ? error.message : String(error));
    }
  }));
  return Object.fromEntries(request.destinations.map((t, i) => [t.id, results[i] ?? { samples: [], errors: {}, error: 'not run' }]));
}
