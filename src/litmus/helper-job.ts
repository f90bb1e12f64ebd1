/**
 * What the runner hands a helper pod (the job) and what the helper hands back (its result), as JSON, each
 * validated with a schema where it is read. The job travels in the helper's env (NETCHAOS_HELPER_JOB), the
 * result in its termination message (/dev/termination-log, at most 4096 bytes), which the runner reads with
 * a plain `pods get`.
 *
 * The job carries the plan's inputs rather than the rendered tc batch: the fault variables exactly as the
 * runner read them (the helper parses them with the same buildSpec, so a value that passed the runner passes
 * there), the pods and Services the runner resolved once for the whole run (the helper pod needs no API
 * access), and the node's targets. The helper plans per target with the same pure planner, after resolving
 * DESTINATION_HOSTS with each target's own resolv.conf, which only its node can read.
 */
import { Ajv, type JSONSchemaType, type ValidateFunction } from 'ajv';
import { type LitmusErrorCode, RuntimeError, UsageError, litmusErrorCodes } from '../model/errors.js';
import { formatDestinationItem, parseDestinationItem } from '../model/addresses.js';
import type { KubeCache, Resolved } from '../model/destinations.js';
import type { TargetPod, TargetStatus } from '../model/kube.js';
import type { Sequence } from '../model/litmus.js';
import { parseJson, tryParseJson } from '../model/json.js';
import { variables } from '../config/vars.js';
import type { RefreshEntry, WireRefresh } from './refresh-report.js';
import type { BlastStatus } from './blast-report.js';

export const JOB_ENV = 'NETCHAOS_HELPER_JOB';
/** The kubelet keeps at most 4096 bytes of a container's termination message. */
export const RESULT_LIMIT = 4096;
/** The most the blast radius takes of a result (the rest is for the targets, the error and what else it carries). */
export const BLAST_BUDGET = 2560;
/** One environment string may be 128 KiB (MAX_ARG_STRLEN); the job stays well below. */
export const JOB_LIMIT = 96 * 1024;

export interface WireDependency {
  /** The runner's cache key for it (see resolveInCluster). */
  readonly key: string;
  readonly source: string;
  /** `address/prefix|port|port`. */
  readonly items: readonly string[];
  readonly details: readonly string[];
}

export interface WireTarget {
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
  readonly uid: string;
  readonly container: string;
  readonly containerId: string;
  /** A service-mesh sidecar on the pod (DESTINATION_HOSTS Service names map to endpoints). */
  readonly mesh?: string;
}

export interface HelperJob {
  readonly version: 1;
  readonly node: string;
  readonly sequence: Sequence;
  /** The runner's raw values of the fault variables (flag or env), by variable name. */
  readonly variables: Readonly<Record<string, string>>;
  /** The text of files those variables name (DESTINATION_IPS_FILE), by path. */
  readonly files: Readonly<Record<string, string>>;
  readonly dependencies: readonly WireDependency[];
  readonly targets: readonly WireTarget[];
}

export interface HelperResult {
  readonly version: 1;
  readonly node: string;
  readonly outcome: 'completed' | 'stopped' | 'failed';
  readonly exitCode: number;
  readonly targets: readonly { readonly pod: string; readonly status: TargetStatus }[];
  /** Targets left out so the message fits in 4096 bytes; all of them reverted. */
  readonly moreReverted?: number;
  readonly error?: { readonly code: LitmusErrorCode; readonly message: string };
  /**
   * DEPENDENCY_REFRESH on the helper's node: its counters and last entries (the oldest are dropped to fit;
   * `dropped` counts them). Optional: a version-1 result without it is still read, and a runner that does not
   * know it ignores it (the result schema allows unknown fields), so runner and helper images may differ.
   */
  readonly refresh?: WireRefresh;
  /** MEASURE_EFFECT per target: the verdict and its one-line summary (cut to fit). Optional, as `refresh`. */
  readonly effects?: readonly HelperEffect[];
  /** The targets' blast radius before the chaos, by `namespace/name` (blast-report.ts; bounded: see encodeResult). */
  readonly blast?: Readonly<Record<string, BlastStatus>>;
}

export interface HelperEffect {
  readonly pod: string;
  readonly ok: boolean;
  readonly summary: string;
}

/** The longest effect summary a result carries. */
export const EFFECT_SUMMARY_CHARS = 400;

const name = { type: 'string', minLength: 1, maxLength: 253 } as const;
const stringMap = { type: 'object', required: [], additionalProperties: { type: 'string' } } as const;

const jobSchema: JSONSchemaType<HelperJob> = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'node', 'sequence', 'variables', 'files', 'dependencies', 'targets'],
  properties: {
    version: { type: 'integer', const: 1 },
    node: name,
    sequence: { type: 'string', enum: ['parallel', 'serial'] },
    variables: stringMap,
    files: stringMap,
    dependencies: {
      type: 'array',
      items: {
        type: 'object', additionalProperties: false, required: ['key', 'source', 'items', 'details'],
        properties: { key: { type: 'string' }, source: { type: 'string' }, items: { type: 'array', items: { type: 'string' } }, details: { type: 'array', items: { type: 'string' } } },
      },
    },
    targets: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object', additionalProperties: false, required: ['namespace', 'name', 'node', 'uid', 'container', 'containerId'],
        properties: { namespace: name, name, node: name, uid: { type: 'string' }, container: name, containerId: name, mesh: { type: 'string', nullable: true, maxLength: 200 } },
      },
    },
  },
};

const strings = { type: 'array', items: { type: 'string' } } as const;
const count = { type: 'integer', minimum: 0 } as const;
const blastSchema: JSONSchemaType<BlastStatus> = {
  type: 'object',
  required: ['warnings', 'notes'],
  properties: {
    node: { type: 'string', nullable: true },
    source: { type: 'string', nullable: true },
    error: { type: 'string', nullable: true },
    interface: { type: 'string', nullable: true },
    direction: { type: 'string', nullable: true },
    totals: {
      type: 'object', nullable: true, required: ['connections', 'faulted', 'untouched'],
      properties: { connections: count, faulted: count, untouched: count },
    },
    connections: { ...strings, nullable: true },
    clients: { ...strings, nullable: true },
    omitted: { ...count, nullable: true },
    warnings: strings,
    omittedWarnings: { ...count, nullable: true },
    notes: strings,
  },
};

const resultSchema: JSONSchemaType<HelperResult> = {
  type: 'object',
  required: ['version', 'node', 'outcome', 'exitCode', 'targets'],
  properties: {
    version: { type: 'integer', const: 1 },
    node: { type: 'string' },
    outcome: { type: 'string', enum: ['completed', 'stopped', 'failed'] },
    exitCode: { type: 'integer', minimum: 0, maximum: 255 },
    targets: {
      type: 'array',
      items: { type: 'object', required: ['pod', 'status'], properties: { pod: { type: 'string' }, status: { type: 'string', enum: ['targeted', 'injected', 'reverted'] } } },
    },
    moreReverted: { type: 'integer', minimum: 0, nullable: true },
    error: {
      type: 'object', nullable: true, required: ['code', 'message'],
      properties: { code: { type: 'string', enum: litmusErrorCodes }, message: { type: 'string' } },
    },
    refresh: {
      type: 'object', nullable: true, required: ['changes', 'stale', 'failed', 'history', 'dropped'],
      properties: {
        changes: { type: 'integer', minimum: 0 },
        stale: { type: 'integer', minimum: 0 },
        failed: { type: 'integer', minimum: 0 },
        dropped: { type: 'integer', minimum: 0 },
        history: {
          type: 'array',
          items: {
            type: 'object', required: ['at', 'target', 'source', 'kind'],
            properties: {
              at: { type: 'string' }, target: { type: 'string' }, node: { type: 'string', nullable: true }, source: { type: 'string' },
              kind: { type: 'string', enum: ['changed', 'stale', 'failed'] },
              added: { type: 'array', nullable: true, items: { type: 'string' } },
              removed: { type: 'array', nullable: true, items: { type: 'string' } },
              error: { type: 'string', nullable: true },
            },
          },
        },
      },
    },
    effects: {
      type: 'array', nullable: true,
      items: { type: 'object', required: ['pod', 'ok', 'summary'], properties: { pod: { type: 'string' }, ok: { type: 'boolean' }, summary: { type: 'string' } } },
    },
    blast: { type: 'object', nullable: true, required: [], additionalProperties: blastSchema },
  },
};

/** Compiled on first use: a run without helper pods does not pay for it at start-up. */
let validators: { job: ValidateFunction<HelperJob>; result: ValidateFunction<HelperResult> } | undefined;
const validate = () => {
  const ajv = new Ajv({ allErrors: true });
  return (validators ??= { job: ajv.compile(jobSchema), result: ajv.compile(resultSchema) });
};

function problems(errors: ValidateFunction['errors']): string {
  return (errors ?? []).map((e) => `${e.instancePath || 'the document'} ${e.message ?? 'is invalid'}`).join('; ');
}

/** The variables the job may carry: the ones buildSpec reads (everything that is not Litmus-only). */
export const jobVariables: readonly string[] = variables.filter((v) => !('litmusOnly' in v && v.litmusOnly)).map((v) => v.env);

export function wireDependencies(pairs: readonly [string, Resolved][]): WireDependency[] {
  return pairs.map(([key, r]) => ({ key, source: r.source, items: r.items.map(formatDestinationItem), details: [...r.details] }));
}

export function wireTarget(p: TargetPod): WireTarget {
  return { namespace: p.namespace, name: p.name, node: p.node, uid: p.uid, container: p.container, containerId: p.containerId, ...(p.mesh !== undefined ? { mesh: p.mesh } : {}) };
}

/** The job as the env value; a RuntimeError (before any change) when it does not fit. */
export function encodeJob(job: HelperJob): string {
  const text = JSON.stringify(job);
  const bytes = Buffer.byteLength(text);
  if (bytes > JOB_LIMIT) {
    throw new RuntimeError(`the helper job for node ${job.node} is ${bytes} bytes, more than an environment variable holds (${JOB_LIMIT}): name fewer destinations (or larger CIDRs), or put the runner on the targets' node (HELPER_MODE=never)`);
  }
  return text;
}

/** Parses and validates the job (env NETCHAOS_HELPER_JOB); UsageError (exit 2) when it is not one. */
export function decodeJob(text: string | undefined): HelperJob {
  if (text === undefined || text.trim() === '') throw new UsageError(JOB_ENV, 'not set: `netchaos helper` runs in a helper pod that `netchaos run` creates');
  const value = parseJson(text, (start) => new UsageError(JOB_ENV, `is not JSON: ${start.slice(0, 100)}`));
  const { job } = validate();
  if (!job(value)) throw new UsageError(JOB_ENV, `is not a helper job: ${problems(job.errors)}`);
  const unknown = Object.keys(value.variables).filter((k) => !jobVariables.includes(k));
  if (unknown.length > 0) throw new UsageError(JOB_ENV, `names variables a helper does not take: ${unknown.join(', ')}`);
  return value;
}

/** The runner's resolved pods and Services as a cache for discover(): the helper never calls the API for them. */
export function cacheOf(job: HelperJob): KubeCache {
  const cache: KubeCache = new Map();
  for (const d of job.dependencies) {
    const where = `${JOB_ENV} dependency ${d.source}`;
    const items = d.items.map((i) => parseDestinationItem(where, i));
    cache.set(d.key, Promise.resolve({ source: d.source, items, details: d.details }));
  }
  return cache;
}

const bytes = (v: unknown): number => Buffer.byteLength(JSON.stringify(v));
const WIRE_TEXT = 240;
const WIRE_WARNINGS = 3;
const cut = (t: string): string => (t.length > WIRE_TEXT ? `${t.slice(0, WIRE_TEXT - 1)}…` : t);

/**
 * The blast radius within BLAST_BUDGET bytes, and within what the rest of the result (its refresh history not
 * counted: that goes next) leaves of `limit`: texts
 * of at most WIRE_TEXT characters and WIRE_WARNINGS warnings per pod always; then, while too large: the notes,
 * the warnings but each pod's first (counted in `omittedWarnings`), the last row of the pod with the most rows
 * (counted in `omitted`; faulted rows come first, so they stay longest), the first warnings, whole pods (the
 * helper's log has everything). The totals stay as long as the pod does.
 */
function fitBlast(r: HelperResult, limit: number): HelperResult {
  if (!r.blast) return r;
  type Mutable = { -readonly [K in keyof BlastStatus]: BlastStatus[K] };
  const pods: [string, Mutable][] = Object.entries(r.blast).map(([pod, st]) => {
    const m: Mutable = {
      ...st,
      warnings: st.warnings.slice(0, WIRE_WARNINGS).map(cut),
      notes: st.notes.slice(0, WIRE_WARNINGS).map(cut),
      ...(st.connections ? { connections: st.connections.map(cut) } : {}),
      ...(st.clients ? { clients: st.clients.map(cut) } : {}),
      ...(st.error !== undefined ? { error: cut(st.error) } : {}),
      ...(st.source !== undefined ? { source: cut(st.source) } : {}),
    };
    const dropped = st.warnings.length - m.warnings.length;
    if (dropped > 0) m.omittedWarnings = (st.omittedWarnings ?? 0) + dropped;
    return [pod, m];
  });
  const build = (): HelperResult => ({ ...r, blast: Object.fromEntries(pods) });
  // One budget per part: the refresh history is measured as empty here, since it yields after the blast radius
  // (encodeResult drops its oldest entries next), so a long history never shrinks the blast radius below its budget.
  const core: HelperResult = r.refresh ? { ...r, refresh: { ...r.refresh, history: [] } } : r;
  const over = (): boolean => bytes(Object.fromEntries(pods)) > BLAST_BUDGET || bytes({ ...core, blast: Object.fromEntries(pods) }) > limit;
  const rows = (m: Mutable): number => (m.connections?.length ?? 0) + (m.clients?.length ?? 0);
  const dropWarnings = (m: Mutable, keep: number): void => {
    if (m.warnings.length <= keep) return;
    m.omittedWarnings = (m.omittedWarnings ?? 0) + m.warnings.length - keep;
    m.warnings = m.warnings.slice(0, keep);
  };
  for (const [, m] of pods) if (over()) m.notes = [];
  for (const [, m] of pods) if (over()) dropWarnings(m, 1);
  while (over()) {
    const most = pods.map(([, m]) => m).reduce<Mutable | undefined>((a, m) => (rows(m) > (a ? rows(a) : 0) ? m : a), undefined);
    if (!most) break;
    if ((most.clients?.length ?? 0) > (most.connections?.length ?? 0)) most.clients = most.clients?.slice(0, -1) ?? [];
    else most.connections = most.connections?.slice(0, -1) ?? [];
    most.omitted = (most.omitted ?? 0) + 1;
  }
  for (const [, m] of pods) if (over()) dropWarnings(m, 0);
  while (over() && pods.length > 0) pods.pop();
  if (pods.length > 0) return build();
  const rest: { -readonly [K in keyof HelperResult]: HelperResult[K] } = { ...r };
  delete rest.blast;
  return rest;
}

/**
 * The result as at most `limit` bytes of JSON: the effect summaries are cut, the blast radius is shrunk
 * (fitBlast), then the oldest refresh entries are dropped (counted in `refresh.dropped`; the counters stay
 * whole), the effect summaries shortened further, the error message shortened, and reverted targets counted
 * instead of listed.
 */
export function encodeResult(result: HelperResult, limit = RESULT_LIMIT): string {
  let r: HelperResult = result.effects ? { ...result, effects: result.effects.map((e) => ({ ...e, summary: cutText(e.summary, EFFECT_SUMMARY_CHARS) })) } : result;
  r = fitBlast(r, limit);
  let text = JSON.stringify(r);
  if (Buffer.byteLength(text) <= limit) return text;
  const refresh = r.refresh;
  if (refresh) {
    const history: RefreshEntry[] = [...refresh.history];
    let dropped = refresh.dropped;
    while (Buffer.byteLength(text) > limit && history.length > 0) {
      history.shift();
      dropped++;
      r = { ...r, refresh: { ...refresh, history: [...history], dropped } };
      text = JSON.stringify(r);
    }
  }
  if (Buffer.byteLength(text) > limit && r.effects) {
    r = { ...r, effects: r.effects.map((e) => ({ ...e, summary: cutText(e.summary, 80) })) };
    text = JSON.stringify(r);
  }
  if (Buffer.byteLength(text) <= limit) return text;
  if (r.error) {
    const excess = Buffer.byteLength(text) - limit;
    const keep = Math.max(200, r.error.message.length - excess - 16);
    r = { ...r, error: { code: r.error.code, message: `${r.error.message.slice(0, keep)} …` } };
    text = JSON.stringify(r);
  }
  const listed = [...r.targets].sort((a, b) => Number(a.status === 'reverted') - Number(b.status === 'reverted'));
  let more = r.moreReverted ?? 0;
  while (Buffer.byteLength(text) > limit && listed.at(-1)?.status === 'reverted') {
    listed.pop();
    more++;
    r = { ...r, targets: listed, moreReverted: more };
    text = JSON.stringify(r);
  }
  return text;
}

const cutText = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n)} …` : s);

/** Parses a helper's termination message; a string saying what is wrong when it is not a result. */
export function decodeResult(text: string): HelperResult | string {
  const value = tryParseJson(text);
  if (value === undefined) return `its termination message is not JSON: ${text.slice(0, 200)}`;
  const { result } = validate();
  return result(value) ? value : `its termination message is not a helper result: ${problems(result.errors)}`;
}
