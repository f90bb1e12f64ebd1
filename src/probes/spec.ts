/**
 * The probes of a ChaosEngine → typed, checked ProbeSpecs, before any chaos. The probes are those of
 * `engine.spec.experiments[name == EXPERIMENT_NAME].spec.probe` (litmus-go pkg/utils/common/common.go
 * GetValuesFromChaosEngine, pkg/probe/probe.go getProbesFromChaosEngine); the field names are the
 * chaos-operator's (api/litmuschaos/v1alpha1/chaosengine_types.go ProbeAttributes: `httpProbe/inputs`,
 * `cmdProbe/inputs`, `k8sProbe/inputs`, `promProbe/inputs`, `runProperties`, `mode`, `data`).
 *
 * Every problem is reported at once, each naming the probe and the field. What litmus-go finds only at
 * run time (or not at all: a missing inputs block is a nil dereference there) is an error here, before
 * anything changes. Durations are Go durations (pkg/types/types.go parseProbeTimeouts: an empty string is 0).
 */
import { parse as parseYaml } from 'yaml';
import { type Comparator, type ComparatorType, parseComparator } from './comparator.js';
import { GoDurationError, nsToMs, parseGoDuration } from './duration.js';

export type ProbeType = 'httpProbe' | 'cmdProbe' | 'k8sProbe' | 'promProbe';
export type ProbeMode = 'SOT' | 'EOT' | 'Edge' | 'Continuous' | 'OnChaos';

export const probeModes: readonly ProbeMode[] = ['SOT', 'EOT', 'Edge', 'Continuous', 'OnChaos'];
const probeTypes: readonly ProbeType[] = ['httpProbe', 'cmdProbe', 'k8sProbe', 'promProbe'];

/** One problem with one probe field. */
export interface ProbeIssue {
  /** The probe's name ('' when it has none), or undefined for the engine itself. */
  readonly probe: string | undefined;
  /** Path inside the probe (`runProperties.probeTimeout`) or the engine. */
  readonly field: string;
  readonly message: string;
}

export function formatIssue(i: ProbeIssue): string {
  return i.probe === undefined ? `ChaosEngine ${i.field}: ${i.message}` : `probe ${JSON.stringify(i.probe)}: ${i.field}: ${i.message}`;
}

export interface RunProperties {
  readonly probeTimeoutMs: number;
  readonly intervalMs: number;
  readonly pollingIntervalMs: number;
  readonly initialDelayMs: number;
  /** Parsed (litmus-go does) but used by no probe type litmus-go or netchaos runs. */
  readonly evaluationTimeoutMs: number | undefined;
  /** litmus-go getAttempts: attempt, else retry, else 1. */
  readonly attempts: number;
  readonly stopOnFailure: boolean;
  /** "info": the comparison is logged on the first evaluation only; anything else: every evaluation. */
  readonly verbosity: string;
}

/**
 * A string that may carry litmus-go's probe chaining templates, `{{ .<cmdProbe>.ProbeArtifacts.Register }}`
 * (pkg/probe/probe.go parseCommand): the trimmed output of that cmdProbe's last successful run.
 */
export interface Template {
  readonly text: string;
  /** The cmdProbe names it refers to. */
  readonly refs: readonly string[];
}

const TEMPLATE = /\{\{(.*?)\}\}/g;
const REGISTER = /^\s*\.([A-Za-z_][A-Za-z0-9_]*)\.ProbeArtifacts\.Register\s*$/;

/** The template with each reference replaced by `value(name)`. */
export function renderTemplate(t: Template, value: (probe: string) => string): string {
  if (t.refs.length === 0) return t.text;
  return t.text.replace(TEMPLATE, (_all, inner: string) => value(REGISTER.exec(inner)?.[1] ?? ''));
}

/** The environment variable a cmdProbe command reads a registered output from. */
export const artifactVariable = (probe: string): string => `NETCHAOS_PROBE_${probe}`;

export interface HttpProbeSpec extends ProbeBase {
  readonly type: 'httpProbe';
  readonly url: Template;
  readonly insecureSkipVerify: boolean;
  readonly method:
    | { readonly kind: 'GET'; readonly comparator: Comparator }
    | { readonly kind: 'POST'; readonly comparator: Comparator; readonly contentType: string | undefined; readonly body: string; readonly bodySource: string };
}

/** cmdProbe `source`: the probe pod litmus-go creates (pkg/probe/cmdprobe.go createProbePod). */
export interface SourceSpec {
  readonly image: string;
  readonly hostNetwork: boolean;
  readonly inheritInputs: boolean;
  readonly command: readonly string[] | undefined;
  readonly args: readonly string[] | undefined;
  readonly env: readonly Record<string, unknown>[];
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly imagePullPolicy: string | undefined;
  readonly privileged: boolean;
  readonly nodeSelector: Readonly<Record<string, string>>;
  readonly tolerations: readonly Record<string, unknown>[];
  readonly volumes: readonly Record<string, unknown>[];
  readonly volumeMounts: readonly Record<string, unknown>[];
  readonly imagePullSecrets: readonly Record<string, unknown>[];
}

export interface CmdProbeSpec extends ProbeBase {
  readonly type: 'cmdProbe';
  /** A shell script, run as `/bin/sh -c <command>` as litmus-go does (see docs/probes.md). */
  readonly command: Template;
  readonly comparator: Comparator;
  readonly source: SourceSpec | undefined;
}

export type K8sOperation = 'present' | 'absent' | 'create' | 'delete';

export interface K8sProbeSpec extends ProbeBase {
  readonly type: 'k8sProbe';
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  /** '' = cluster-scoped resources, or all namespaces for a list. */
  readonly namespace: string;
  readonly resourceNames: Template;
  readonly fieldSelector: Template;
  readonly labelSelector: Template;
  readonly operation: K8sOperation;
  /** The object to create (operation create), from `data` (YAML or JSON). */
  readonly data: Readonly<Record<string, unknown>> | undefined;
}

export interface PromProbeSpec extends ProbeBase {
  readonly type: 'promProbe';
  readonly endpoint: string;
  readonly query: string;
  /** Where the query came from: "query" or the queryPath file. */
  readonly querySource: string;
  readonly comparator: Comparator;
}

export interface ProbeBase {
  readonly name: string;
  readonly type: ProbeType;
  readonly mode: ProbeMode;
  readonly run: RunProperties;
  /** The index in the experiment's probe list. */
  readonly index: number;
}

export type ProbeSpec = HttpProbeSpec | CmdProbeSpec | K8sProbeSpec | PromProbeSpec;

export interface ParseOptions {
  /** Reads bodyPath / queryPath files (in the experiment pod). */
  readonly readFile: (path: string) => string;
}

export type ParseResult =
  | { readonly ok: true; readonly probes: readonly ProbeSpec[]; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly errors: readonly ProbeIssue[]; readonly warnings: readonly string[] };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Field access that records problems instead of throwing. */
class Reader {
  constructor(private readonly issues: ProbeIssue[], readonly probe: string | undefined) {}

  fail(field: string, message: string): void {
    this.issues.push({ probe: this.probe, field, message });
  }

  obj(parent: Record<string, unknown>, key: string, path: string, required: boolean): Record<string, unknown> | undefined {
    const v = parent[key];
    if (v === undefined || v === null) {
      if (required) this.fail(path, 'is required');
      return undefined;
    }
    if (!isRecord(v)) { this.fail(path, `must be an object, got ${JSON.stringify(v)}`); return undefined; }
    return v;
  }

  str(parent: Record<string, unknown>, key: string, path: string, o: { required?: boolean; nonEmpty?: boolean } = {}): string | undefined {
    const v = parent[key];
    if (v === undefined || v === null) {
      if (o.required) this.fail(path, 'is required');
      return undefined;
    }
    if (typeof v !== 'string') { this.fail(path, `must be a string, got ${JSON.stringify(v)}`); return undefined; }
    if (o.nonEmpty && v.trim() === '') { this.fail(path, 'must not be empty'); return undefined; }
    return v;
  }

  bool(parent: Record<string, unknown>, key: string, path: string): boolean {
    const v = parent[key];
    if (v === undefined || v === null) return false;
    if (typeof v !== 'boolean') { this.fail(path, `must be true or false, got ${JSON.stringify(v)}`); return false; }
    return v;
  }

  int(parent: Record<string, unknown>, key: string, path: string): number | undefined {
    const v = parent[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) { this.fail(path, `must be an integer, got ${JSON.stringify(v)}`); return undefined; }
    if (v < 0) { this.fail(path, `must not be negative, got ${v}`); return undefined; }
    return v;
  }

  strings(parent: Record<string, unknown>, key: string, path: string): string[] | undefined {
    const v = parent[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) { this.fail(path, 'must be a list of strings'); return undefined; }
    return v.filter((x): x is string => typeof x === 'string');
  }

  stringMap(parent: Record<string, unknown>, key: string, path: string): Record<string, string> {
    const v = parent[key];
    if (v === undefined || v === null) return {};
    if (!isRecord(v) || !Object.values(v).every((x) => typeof x === 'string')) { this.fail(path, 'must be a map of strings'); return {}; }
    return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'));
  }

  objects(parent: Record<string, unknown>, key: string, path: string): Record<string, unknown>[] {
    const v = parent[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || !v.every(isRecord)) { this.fail(path, 'must be a list of objects'); return []; }
    return v.filter(isRecord);
  }

  /** A Go duration (empty = 0), as milliseconds; negative durations are refused. */
  duration(parent: Record<string, unknown>, key: string, path: string, o: { required?: boolean; positive?: boolean } = {}): number | undefined {
    const text = this.str(parent, key, path, { required: o.required ?? false });
    if (text === undefined) return o.required ? undefined : 0;
    if (text.trim() === '') {
      if (o.required || o.positive) { this.fail(path, 'must not be empty: give a Go duration such as "5s" or "500ms"'); return undefined; }
      return 0;
    }
    let ns: bigint;
    try {
      ns = parseGoDuration(text.trim());
    } catch (error) {
      const hint = /^\s*\d+(\.\d+)?\s*$/.test(text) ? ` (add a unit, e.g. "${text.trim()}s")` : ' (a Go duration such as "5s", "500ms" or "1m30s")';
      this.fail(path, `${error instanceof GoDurationError ? error.message : String(error)}${hint}`);
      return undefined;
    }
    if (ns < 0n) { this.fail(path, `must not be negative, got ${JSON.stringify(text)}`); return undefined; }
    if (o.positive && ns === 0n) { this.fail(path, `must be more than 0, got ${JSON.stringify(text)}: every probe attempt needs a deadline`); return undefined; }
    return nsToMs(ns);
  }
}

function parseTemplate(r: Reader, text: string, path: string, cmdProbes: ReadonlySet<string>): Template {
  const refs: string[] = [];
  const open = text.split('{{').length - 1;
  const matches = [...text.matchAll(TEMPLATE)];
  if (matches.length !== open || text.split('}}').length - 1 !== open) {
    r.fail(path, 'has an unclosed "{{" template');
    return { text, refs };
  }
  for (const m of matches) {
    const name = REGISTER.exec(m[1] ?? '')?.[1];
    if (name === undefined) {
      r.fail(path, `template ${m[0]} is not supported: netchaos supports litmus-go's probe chaining {{ .<cmdProbe name>.ProbeArtifacts.Register }} only`);
      continue;
    }
    if (!cmdProbes.has(name)) r.fail(path, `template ${m[0]} refers to ${JSON.stringify(name)}, which is not a cmdProbe of this experiment`);
    refs.push(name);
  }
  return { text, refs };
}

function comparatorOf(r: Reader, parent: Record<string, unknown>, path: string, forced: ComparatorType | undefined): Comparator | undefined {
  const c = r.obj(parent, 'comparator', `${path}.comparator`, true);
  if (!c) return undefined;
  let type: ComparatorType | undefined = forced;
  if (forced === undefined) {
    const t = r.str(c, 'type', `${path}.comparator.type`, { required: true, nonEmpty: true });
    if (t === undefined) return undefined;
    const lower = t.toLowerCase();
    if (lower !== 'int' && lower !== 'float' && lower !== 'string') {
      r.fail(`${path}.comparator.type`, `must be int, float or string, got ${JSON.stringify(t)}`);
      return undefined;
    }
    type = lower;
  }
  const criteria = r.str(c, 'criteria', `${path}.comparator.criteria`, { required: true, nonEmpty: true });
  const value = r.str(c, 'value', `${path}.comparator.value`, { required: true });
  if (criteria === undefined || value === undefined || type === undefined) return undefined;
  const parsed = parseComparator(type, criteria.trim(), value);
  if (typeof parsed === 'string') { r.fail(`${path}.comparator`, parsed); return undefined; }
  return parsed;
}

function httpUrl(r: Reader, text: string, path: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    r.fail(path, `${JSON.stringify(text)} is not a URL (expected http://host[:port]/path or https://…)`);
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') r.fail(path, `${JSON.stringify(text)}: only http and https URLs are supported`);
}

function runPropertiesOf(r: Reader, p: Record<string, unknown>, warnings: string[]): RunProperties | undefined {
  const rp = r.obj(p, 'runProperties', 'runProperties', true);
  if (!rp) return undefined;
  const probeTimeoutMs = r.duration(rp, 'probeTimeout', 'runProperties.probeTimeout', { required: true, positive: true });
  const intervalMs = r.duration(rp, 'interval', 'runProperties.interval', { required: true });
  const pollingIntervalMs = r.duration(rp, 'probePollingInterval', 'runProperties.probePollingInterval');
  const initialDelayMs = r.duration(rp, 'initialDelay', 'runProperties.initialDelay');
  const evaluationText = r.str(rp, 'evaluationTimeout', 'runProperties.evaluationTimeout');
  const evaluationTimeoutMs = r.duration(rp, 'evaluationTimeout', 'runProperties.evaluationTimeout');
  const attempt = r.int(rp, 'attempt', 'runProperties.attempt');
  const retry = r.int(rp, 'retry', 'runProperties.retry');
  const stopOnFailure = r.bool(rp, 'stopOnFailure', 'runProperties.stopOnFailure');
  const verbosity = r.str(rp, 'verbosity', 'runProperties.verbosity') ?? '';
  if (rp['initialDelaySeconds'] !== undefined) {
    warnings.push(`probe ${JSON.stringify(r.probe)}: runProperties.initialDelaySeconds is ignored (litmus-go reads only initialDelay, a Go duration such as "10s")`);
  }
  if (evaluationText !== undefined && evaluationText.trim() !== '') {
    warnings.push(`probe ${JSON.stringify(r.probe)}: runProperties.evaluationTimeout is only used by sloProbe; it has no effect on this probe`);
  }
  if (probeTimeoutMs === undefined || intervalMs === undefined || pollingIntervalMs === undefined || initialDelayMs === undefined || evaluationTimeoutMs === undefined) return undefined;
  // pkg/probe/probe.go getAttempts
  const attempts = (attempt ?? 0) > 0 ? (attempt ?? 1) : (retry ?? 0) > 0 ? (retry ?? 1) : 1;
  return {
    probeTimeoutMs, intervalMs, pollingIntervalMs, initialDelayMs,
    evaluationTimeoutMs: evaluationText !== undefined && evaluationText.trim() !== '' ? evaluationTimeoutMs : undefined,
    attempts, stopOnFailure, verbosity,
  };
}

function httpInputs(r: Reader, inputs: Record<string, unknown>, cmdProbes: ReadonlySet<string>, opts: ParseOptions): Omit<HttpProbeSpec, keyof ProbeBase> | undefined {
  const P = 'httpProbe/inputs';
  const urlText = r.str(inputs, 'url', `${P}.url`, { required: true, nonEmpty: true });
  const url = urlText !== undefined ? parseTemplate(r, urlText.trim(), `${P}.url`, cmdProbes) : undefined;
  if (url && url.refs.length === 0) httpUrl(r, url.text, `${P}.url`);
  const insecureSkipVerify = r.bool(inputs, 'insecureSkipVerify', `${P}.insecureSkipVerify`);
  const method = r.obj(inputs, 'method', `${P}.method`, true);
  if (!method || !url) return undefined;
  // pkg/probe/httpprobe.go getHTTPMethodType: get when it is set, else post
  const get = r.obj(method, 'get', `${P}.method.get`, false);
  const post = r.obj(method, 'post', `${P}.method.post`, false);
  if (get && Object.keys(get).length > 0) {
    if (post) r.fail(`${P}.method`, 'has both get and post: litmus-go would send the get and ignore the post; keep one');
    const comparator = responseCode(r, get, `${P}.method.get`);
    return comparator ? { url, insecureSkipVerify, method: { kind: 'GET', comparator } } : undefined;
  }
  if (!post) { r.fail(`${P}.method`, 'needs get or post'); return undefined; }
  const comparator = responseCode(r, post, `${P}.method.post`);
  const contentType = r.str(post, 'contentType', `${P}.method.post.contentType`);
  const bodyText = r.str(post, 'body', `${P}.method.post.body`);
  const bodyPath = r.str(post, 'bodyPath', `${P}.method.post.bodyPath`);
  let body: string | undefined;
  let bodySource = 'body';
  // pkg/probe/httpprobe.go getHTTPBody: body wins over bodyPath; one of them is required
  if (bodyText !== undefined && bodyText !== '') {
    body = bodyText;
  } else if (bodyPath !== undefined && bodyPath.trim() !== '') {
    bodySource = `bodyPath ${bodyPath.trim()}`;
    try {
      body = opts.readFile(bodyPath.trim());
    } catch (error) {
      r.fail(`${P}.method.post.bodyPath`, `cannot read ${JSON.stringify(bodyPath.trim())} in the experiment pod: ${error instanceof Error ? error.message : String(error)}`);
    }
  } else {
    r.fail(`${P}.method.post`, 'needs body or bodyPath (litmus-go: "Any one of body or bodyPath is required")');
  }
  if (!comparator || body === undefined) return undefined;
  return { url, insecureSkipVerify, method: { kind: 'POST', comparator, contentType: contentType === '' ? undefined : contentType, body, bodySource } };
}

function responseCode(r: Reader, m: Record<string, unknown>, path: string): Comparator | undefined {
  const criteria = r.str(m, 'criteria', `${path}.criteria`, { required: true, nonEmpty: true });
  const code = r.str(m, 'responseCode', `${path}.responseCode`, { required: true, nonEmpty: true });
  if (criteria === undefined || code === undefined) return undefined;
  // pkg/probe/httpprobe.go: the response code is compared with CompareInt
  const parsed = parseComparator('int', criteria.trim(), code);
  if (typeof parsed === 'string') { r.fail(path, parsed); return undefined; }
  return parsed;
}

function sourceOf(r: Reader, s: Record<string, unknown>): SourceSpec | undefined {
  const P = 'cmdProbe/inputs.source';
  const image = r.str(s, 'image', `${P}.image`, { required: true, nonEmpty: true });
  const policy = r.str(s, 'imagePullPolicy', `${P}.imagePullPolicy`);
  if (policy !== undefined && policy !== '' && !['Always', 'IfNotPresent', 'Never'].includes(policy)) {
    r.fail(`${P}.imagePullPolicy`, `must be Always, IfNotPresent or Never, got ${JSON.stringify(policy)}`);
  }
  const spec: SourceSpec = {
    image: image ?? '',
    hostNetwork: r.bool(s, 'hostNetwork', `${P}.hostNetwork`),
    inheritInputs: r.bool(s, 'inheritInputs', `${P}.inheritInputs`),
    command: r.strings(s, 'command', `${P}.command`),
    args: r.strings(s, 'args', `${P}.args`),
    env: r.objects(s, 'env', `${P}.env`),
    labels: r.stringMap(s, 'labels', `${P}.labels`),
    annotations: r.stringMap(s, 'annotations', `${P}.annotations`),
    imagePullPolicy: policy === '' ? undefined : policy,
    privileged: r.bool(s, 'privileged', `${P}.privileged`),
    nodeSelector: r.stringMap(s, 'nodeSelector', `${P}.nodeSelector`),
    tolerations: r.objects(s, 'tolerations', `${P}.tolerations`),
    volumes: r.objects(s, 'volumes', `${P}.volumes`),
    volumeMounts: r.objects(s, 'volumeMount', `${P}.volumeMount`),
    imagePullSecrets: r.objects(s, 'imagePullSecrets', `${P}.imagePullSecrets`),
  };
  return image === undefined ? undefined : spec;
}

function cmdInputs(r: Reader, inputs: Record<string, unknown>, cmdProbes: ReadonlySet<string>): Omit<CmdProbeSpec, keyof ProbeBase> | undefined {
  const P = 'cmdProbe/inputs';
  const commandText = r.str(inputs, 'command', `${P}.command`, { required: true, nonEmpty: true });
  const command = commandText !== undefined ? parseTemplate(r, commandText, `${P}.command`, cmdProbes) : undefined;
  const comparator = comparatorOf(r, inputs, P, undefined);
  const sourceObj = r.obj(inputs, 'source', `${P}.source`, false);
  const source = sourceObj ? sourceOf(r, sourceObj) : undefined;
  if (!command || !comparator || (sourceObj && !source)) return undefined;
  return { command, comparator, source };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function k8sInputs(r: Reader, inputs: Record<string, unknown>, dataValue: unknown, cmdProbes: ReadonlySet<string>): Omit<K8sProbeSpec, keyof ProbeBase> | undefined {
  const P = 'k8sProbe/inputs';
  const group = (r.str(inputs, 'group', `${P}.group`) ?? '').trim();
  const version = r.str(inputs, 'version', `${P}.version`, { required: true, nonEmpty: true })?.trim();
  const resource = r.str(inputs, 'resource', `${P}.resource`, { required: true, nonEmpty: true })?.trim();
  const namespace = (r.str(inputs, 'namespace', `${P}.namespace`) ?? '').trim();
  const opText = r.str(inputs, 'operation', `${P}.operation`, { required: true, nonEmpty: true });
  const op = opText?.trim().toLowerCase();
  const operation = op === 'present' || op === 'absent' || op === 'create' || op === 'delete' ? op : undefined;
  if (opText !== undefined && operation === undefined) r.fail(`${P}.operation`, `must be present, absent, create or delete, got ${JSON.stringify(opText)}`);
  if (resource !== undefined && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(resource)) {
    r.fail(`${P}.resource`, `${JSON.stringify(resource)} is not a resource name: give the lowercase plural (pods, deployments, chaosengines), not the Kind`);
  }
  if (group !== '' && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(group)) r.fail(`${P}.group`, `${JSON.stringify(group)} is not an API group (e.g. apps, litmuschaos.io; empty for the core group)`);
  if (namespace !== '' && !DNS_LABEL.test(namespace)) r.fail(`${P}.namespace`, `${JSON.stringify(namespace)} is not a namespace name`);
  const names = parseTemplate(r, r.str(inputs, 'resourceNames', `${P}.resourceNames`) ?? '', `${P}.resourceNames`, cmdProbes);
  if (names.refs.length === 0 && names.text.trim() !== '' && names.text.split(',').some((n) => n.trim() === '')) {
    r.fail(`${P}.resourceNames`, `${JSON.stringify(names.text)} has an empty name (comma-separated names, e.g. "web-0,web-1")`);
  }
  const fieldSelector = parseTemplate(r, r.str(inputs, 'fieldSelector', `${P}.fieldSelector`) ?? '', `${P}.fieldSelector`, cmdProbes);
  const labelSelector = parseTemplate(r, r.str(inputs, 'labelSelector', `${P}.labelSelector`) ?? '', `${P}.labelSelector`, cmdProbes);
  let data: Record<string, unknown> | undefined;
  if (operation === 'create') {
    if (typeof dataValue !== 'string' || dataValue.trim() === '') {
      r.fail('data', 'is required for operation create: the manifest (YAML or JSON) of the object to create');
    } else {
      let parsed: unknown;
      try {
        parsed = parseYaml(dataValue);
      } catch (error) {
        r.fail('data', `is not YAML or JSON: ${error instanceof Error ? error.message.split('\n')[0] ?? '' : String(error)}`);
      }
      if (parsed !== undefined) {
        if (!isRecord(parsed)) r.fail('data', 'must be one object (a manifest with apiVersion, kind and metadata)');
        else if (typeof parsed['apiVersion'] !== 'string' || typeof parsed['kind'] !== 'string') r.fail('data', 'needs apiVersion and kind (litmus-go: "Object \'Kind\' is missing")');
        else {
          const expected = group === '' ? version : `${group}/${version ?? ''}`;
          if (version !== undefined && parsed['apiVersion'] !== expected) r.fail('data', `apiVersion ${JSON.stringify(parsed['apiVersion'])} does not match the probe's group/version ${JSON.stringify(expected)}`);
          data = parsed;
        }
      }
    }
  } else if (typeof dataValue === 'string' && dataValue.trim() !== '') {
    r.fail('data', `is only used by operation create, not ${opText ?? ''}`);
  }
  if (version === undefined || resource === undefined || operation === undefined) return undefined;
  if (operation === 'create' && data === undefined) return undefined;
  return { group, version, resource, namespace, resourceNames: names, fieldSelector, labelSelector, operation, data };
}

function promInputs(r: Reader, inputs: Record<string, unknown>, opts: ParseOptions): Omit<PromProbeSpec, keyof ProbeBase> | undefined {
  const P = 'promProbe/inputs';
  const endpoint = r.str(inputs, 'endpoint', `${P}.endpoint`, { required: true, nonEmpty: true })?.trim();
  if (endpoint !== undefined) httpUrl(r, endpoint, `${P}.endpoint`);
  const queryText = r.str(inputs, 'query', `${P}.query`);
  const queryPath = r.str(inputs, 'queryPath', `${P}.queryPath`);
  let query: string | undefined;
  let querySource = 'query';
  // pkg/probe/promProbe.go triggerPromProbe: query wins over queryPath; one of them is required
  if (queryText !== undefined && queryText.trim() !== '') {
    query = queryText.trim();
  } else if (queryPath !== undefined && queryPath.trim() !== '') {
    querySource = `queryPath ${queryPath.trim()}`;
    try {
      query = opts.readFile(queryPath.trim()).trim();
      if (query === '') r.fail(`${P}.queryPath`, `${JSON.stringify(queryPath.trim())} is empty`);
    } catch (error) {
      r.fail(`${P}.queryPath`, `cannot read ${JSON.stringify(queryPath.trim())} in the experiment pod: ${error instanceof Error ? error.message : String(error)}`);
    }
  } else {
    r.fail(P, 'needs query or queryPath (litmus-go: "Any one of query or queryPath is required")');
  }
  // pkg/probe/promProbe.go compares with CompareFloat whatever comparator.type says
  const c = r.obj(inputs, 'comparator', `${P}.comparator`, true);
  const t = c ? r.str(c, 'type', `${P}.comparator.type`) : undefined;
  if (t !== undefined && t !== '' && t.toLowerCase() !== 'float') r.fail(`${P}.comparator.type`, `promProbe always compares as float (litmus-go), got ${JSON.stringify(t)}: remove it or set float`);
  const comparator = comparatorOf(r, inputs, P, 'float');
  if (endpoint === undefined || query === undefined || query === '' || !comparator) return undefined;
  return { endpoint, query, querySource, comparator };
}

/** The experiment's probe list from a ChaosEngine, checked. */
export function parseProbes(engine: unknown, experimentName: string, opts: ParseOptions): ParseResult {
  const errors: ProbeIssue[] = [];
  const warnings: string[] = [];
  const top = new Reader(errors, undefined);
  const spec = isRecord(engine) ? engine['spec'] : undefined;
  if (!isRecord(engine) || !isRecord(spec)) {
    top.fail('spec', 'the ChaosEngine has no spec');
    return { ok: false, errors, warnings };
  }
  const experiments = spec['experiments'];
  if (!Array.isArray(experiments)) {
    top.fail('spec.experiments', 'must be a list');
    return { ok: false, errors, warnings };
  }
  // litmus-go: the first experiment with that name; none → no probes
  const experiment: unknown = experiments.find((e) => isRecord(e) && e['name'] === experimentName);
  const expSpec = isRecord(experiment) ? experiment['spec'] : undefined;
  const list = isRecord(expSpec) ? expSpec['probe'] : undefined;
  const where = `spec.experiments[name=${experimentName}].spec.probe`;
  const meta = engine['metadata'];
  const annotations = isRecord(meta) ? meta['annotations'] : undefined;
  if ((list === undefined || list === null || (Array.isArray(list) && list.length === 0)) && isRecord(annotations) && annotations['probeRef'] !== undefined) {
    warnings.push(`the ChaosEngine has a probeRef annotation but no probes in ${where}: ChaosCenter expands its stored probes there before a run; none will run`);
  }
  if (list === undefined || list === null) return { ok: true, probes: [], warnings };
  if (!Array.isArray(list)) {
    top.fail(where, 'must be a list');
    return { ok: false, errors, warnings };
  }
  const cmdProbes = new Set(list.filter((p) => isRecord(p) && p['type'] === 'cmdProbe' && typeof p['name'] === 'string').map((p: Record<string, unknown>) => String(p['name'])));
  const seen = new Set<string>();
  const probes: ProbeSpec[] = [];
  list.forEach((raw: unknown, index: number) => {
    if (!isRecord(raw)) { top.fail(`${where}[${index}]`, 'must be an object'); return; }
    const name = typeof raw['name'] === 'string' ? raw['name'] : '';
    const r = new Reader(errors, name === '' ? `#${index}` : name);
    if (name.trim() === '') r.fail('name', 'is required (probeStatuses are keyed by name)');
    else if (seen.has(name)) r.fail('name', `is used by two probes of this experiment; names must be unique (probeStatuses are keyed by name)`);
    seen.add(name);
    const typeText = r.str(raw, 'type', 'type', { required: true, nonEmpty: true });
    const type = probeTypes.find((t) => t.toLowerCase() === typeText?.trim().toLowerCase());
    if (typeText !== undefined && type === undefined) {
      if (typeText.trim().toLowerCase() === 'sloprobe') r.fail('type', 'sloProbe is not supported: litmus-go has no sloProbe runner either ("probe type not supported"); use a promProbe on the SLO\'s metric');
      else r.fail('type', `must be one of ${probeTypes.join(', ')}, got ${JSON.stringify(typeText)}`);
    }
    const modeText = r.str(raw, 'mode', 'mode', { required: true, nonEmpty: true });
    const mode = probeModes.find((m) => m.toLowerCase() === modeText?.trim().toLowerCase());
    if (modeText !== undefined && mode === undefined) r.fail('mode', `must be one of ${probeModes.join(', ')}, got ${JSON.stringify(modeText)}`);
    const run = runPropertiesOf(r, raw, warnings);
    if (type === undefined) return;
    const inputs = r.obj(raw, `${type}/inputs`, `${type}/inputs`, true);
    for (const other of probeTypes) {
      if (other !== type && raw[`${other}/inputs`] !== undefined) warnings.push(`probe ${JSON.stringify(name)}: ${other}/inputs is ignored (the probe's type is ${type})`);
    }
    if (!inputs) return;
    const base = run && mode && name.trim() !== '' ? { name, mode, run, index } : undefined;
    switch (type) {
      case 'httpProbe': { const b = httpInputs(r, inputs, cmdProbes, opts); if (b && base) probes.push({ ...base, type, ...b }); break; }
      case 'cmdProbe': { const b = cmdInputs(r, inputs, cmdProbes); if (b && base) probes.push({ ...base, type, ...b }); break; }
      case 'k8sProbe': { const b = k8sInputs(r, inputs, raw['data'], cmdProbes); if (b && base) probes.push({ ...base, type, ...b }); break; }
      case 'promProbe': { const b = promInputs(r, inputs, opts); if (b && base) probes.push({ ...base, type, ...b }); break; }
    }
  });
  if (errors.length > 0) return { ok: false, errors, warnings };
  return { ok: true, probes, warnings };
}
