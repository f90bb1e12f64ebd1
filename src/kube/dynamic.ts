/**
 * A generic Kubernetes client: any resource by group/version/resource (get, list, create, delete, merge
 * patch) and exec in a pod, through @kubernetes/client-node 1.x's KubeConfig (auth, TLS, proxy) and its
 * Exec (WebSocket, channel.k8s.io). The resilience probes need it (k8sProbe works on whatever resource the
 * ChaosEngine names; cmdProbe with `source` execs in its probe pod; stopOnFailure patches the ChaosEngine).
 * No discovery call is made: the resource's plural name and scope come from the caller, as in litmus-go's
 * dynamic client. Every call has its own deadline and can be cancelled; failures are KubeErrors that say
 * what was asked, where, and what to check.
 */
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Writable } from 'node:stream';
import type { Exec, KubeConfig, V1Status } from '@kubernetes/client-node';
import { KubeError, loadClientNode } from './api.js';

/** Where a resource lives. `namespace` undefined or '': cluster-scoped, or every namespace for a list. */
export interface ResourceRef {
  /** '' is the core group (`/api/v1`). */
  readonly group: string;
  readonly version: string;
  /** The plural resource name, lowercase: `pods`, `deployments`, `chaosengines`. */
  readonly resource: string;
  readonly namespace?: string | undefined;
}

export interface CallOptions {
  /** The call is abandoned (and rejects with an AbortError) when this aborts. */
  readonly signal?: AbortSignal | undefined;
  /** Deadline of this one call (default: the client's). */
  readonly timeoutMs?: number | undefined;
}

export interface ListOptions extends CallOptions {
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string | undefined;
}

export interface DeleteOptions extends CallOptions {
  readonly gracePeriodSeconds?: number | undefined;
}

/** Any API object, as JSON. */
export type KubeObject = Record<string, unknown>;

export interface DynamicKube {
  /** The object, or undefined when the API says it does not exist (404 for the object, not for the resource type). */
  get(ref: ResourceRef, name: string, opts?: CallOptions): Promise<KubeObject | undefined>;
  list(ref: ResourceRef, opts?: ListOptions): Promise<KubeObject[]>;
  create(ref: ResourceRef, body: KubeObject, opts?: CallOptions): Promise<KubeObject>;
  /** False when the object was already gone. */
  delete(ref: ResourceRef, name: string, opts?: DeleteOptions): Promise<boolean>;
  /** JSON merge patch (RFC 7386). */
  patch(ref: ResourceRef, name: string, patch: KubeObject, opts?: CallOptions): Promise<KubeObject>;
}

export interface ExecResult {
  /** The command's exit code; undefined when the API reported a failure without one. */
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs argv (no shell is added) in a container of a running pod, like `kubectl exec`. */
export interface PodExec {
  exec(namespace: string, pod: string, container: string, argv: readonly string[], opts?: CallOptions): Promise<ExecResult>;
}

/** The URL path of a resource (collection when name is undefined). */
export function resourcePath(ref: ResourceRef, name?: string): string {
  const root = ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
  const ns = ref.namespace ? `/namespaces/${encodeURIComponent(ref.namespace)}` : '';
  return `${root}${ns}/${ref.resource}${name !== undefined ? `/${encodeURIComponent(name)}` : ''}`;
}

/** `delete deployments.apps "web" in namespace shop` */
export function describeResourceCall(verb: string, ref: ResourceRef, name?: string): string {
  const kind = `${ref.resource}${ref.group ? `.${ref.group}` : ''}`;
  return `${verb} ${kind}${name !== undefined ? ` ${JSON.stringify(name)}` : ''}${ref.namespace ? ` in namespace ${ref.namespace}` : ''}`;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The API's Status object, when the body is one. */
function parseStatus(text: string): { message: string; reason: string; hasDetails: boolean } | undefined {
  try {
    const v: unknown = JSON.parse(text);
    if (isRecord(v) && v['kind'] === 'Status') {
      return {
        message: typeof v['message'] === 'string' ? v['message'] : '',
        reason: typeof v['reason'] === 'string' ? v['reason'] : '',
        hasDetails: isRecord(v['details']),
      };
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** An HTTP error answer → a KubeError that says what to check. */
export function httpKubeError(status: number, body: string, verb: string, ref: ResourceRef, name?: string): KubeError {
  const what = describeResourceCall(verb, ref, name);
  const st = parseStatus(body);
  const detail = st?.message ?? body.trim().slice(0, 200);
  const kind = `${ref.resource}${ref.group ? `.${ref.group}` : ''}`;
  if (status === 401) return new KubeError(`Kubernetes API refused to ${what}: not authenticated (401). Check the service account token or KUBECONFIG. ${detail}`.trim(), status);
  if (status === 403) {
    return new KubeError(`Kubernetes API refused to ${what}: forbidden (403, RBAC). Give the runner's service account the verb "${verb}" on "${ref.resource}" (apiGroup "${ref.group}") in a ${ref.namespace ? 'Role' : 'ClusterRole'}. API said: ${detail}`, status);
  }
  if (status === 404 && !(st?.reason === 'NotFound' && st.hasDetails)) {
    return new KubeError(`Kubernetes API does not serve ${kind} at ${resourcePath(ref)} (404: unknown group, version or resource; check group, version and the plural resource name). ${detail}`.trim(), status);
  }
  if (status === 404) return new KubeError(`${what}: not found (404). ${detail}`.trim(), status);
  if (status === 409) return new KubeError(`${what}: already exists or conflicts (409). ${detail}`.trim(), status);
  return new KubeError(`Kubernetes API failed to ${what}: HTTP ${status}. ${detail}`.trim(), status);
}

/** Whether a 404 answer is about the object (it does not exist) rather than the resource type. */
function isObjectNotFound(status: number, body: string): boolean {
  const st = parseStatus(body);
  return status === 404 && st?.reason === 'NotFound' && st.hasDetails;
}

const MAX_BODY = 32 * 1024 * 1024;

interface Answer { readonly status: number; readonly body: string }

export interface DynamicKubeOptions {
  /** Deadline of each call when the caller gives none (default 30 s). */
  readonly timeoutMs?: number;
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const e = new Error('the call was cancelled');
  e.name = 'AbortError';
  return e;
}

/** Where and how the generic client sends its requests. */
interface Connection {
  readonly kc: KubeConfig;
  readonly base: URL;
  readonly defaultTimeout: number;
}

type SendArgs = [method: string, path: string, query: URLSearchParams, body: unknown, contentType: string, call: { verb: string; ref: ResourceRef; name?: string | undefined }, opts: CallOptions];

async function sendRequest(conn: Connection, method: string, path: string, query: URLSearchParams, body: unknown, contentType: string, call: { verb: string; ref: ResourceRef; name?: string | undefined }, opts: CallOptions): Promise<Answer> {
  const reqOpts: RequestOptions = { headers: {} };
  await conn.kc.applyToHTTPSOptions(reqOpts);
  const url = new URL(conn.base.href);
  url.pathname = `${conn.base.pathname.replace(/\/$/, '')}${path}`;
  url.search = query.toString();
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const timeoutMs = opts.timeoutMs ?? conn.defaultTimeout;
  const what = describeResourceCall(call.verb, call.ref, call.name);
  return new Promise<Answer>((resolve, reject) => {
    const signal = opts.signal;
    if (signal?.aborted) { reject(abortError(signal)); return; }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers: Record<string, string | string[] | number> = { accept: 'application/json' };
    const given = reqOpts.headers;
    if (given !== undefined && !Array.isArray(given)) {
      for (const [k, v] of Object.entries(given)) if (v !== undefined) headers[k] = v;
    }
    if (payload) { headers['content-type'] = contentType; headers['content-length'] = payload.length; }
    if (reqOpts.auth) headers['authorization'] = `Basic ${Buffer.from(reqOpts.auth).toString('base64')}`;
    const req = send(url, { ...reqOpts, method, headers, auth: null });
    let done = false;
    const finish = (fn: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const timer = setTimeout(() => {
      finish(() => { reject(new KubeError(`Kubernetes API did not answer within ${timeoutMs} ms to ${what}`, 0)); });
      req.destroy();
    }, timeoutMs);
    const onAbort = (): void => {
      finish(() => { reject(abortError(signal ?? AbortSignal.abort())); });
      req.destroy();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (error) => {
      finish(() => { reject(new KubeError(`cannot reach the Kubernetes API to ${what}: ${error.message}. Check the API server address and the network policy of the runner.`, 0, { cause: error })); });
    });
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) { res.destroy(); finish(() => { reject(new KubeError(`the answer to ${what} is larger than ${MAX_BODY} bytes`, 0)); }); return; }
        chunks.push(c);
      });
      res.on('error', (error) => { finish(() => { reject(new KubeError(`the answer to ${what} was cut: ${error.message}`, 0, { cause: error })); }); });
      res.on('end', () => { finish(() => { resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }); }); });
    });
    req.end(payload);
  });
}

function json(a: Answer, verb: string, ref: ResourceRef, name?: string): KubeObject {
  try {
    const v: unknown = JSON.parse(a.body);
    if (isRecord(v)) return v;
  } catch {
    // reported below
  }
  throw new KubeError(`Kubernetes API answered ${describeResourceCall(verb, ref, name)} with something that is not a JSON object: ${a.body.slice(0, 200)}`, a.status);
}

export function createDynamicKube(kc: KubeConfig, options: DynamicKubeOptions = {}): DynamicKube {
  const defaultTimeout = options.timeoutMs ?? 30_000;
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeError('no Kubernetes cluster configured: run in a pod with a service account, or set KUBECONFIG', 0);
  const conn: Connection = { kc, base: new URL(cluster.server), defaultTimeout };
  const send = (...a: SendArgs): Promise<Answer> => sendRequest(conn, ...a);

  return {
    async get(ref, name, opts = {}) {
      const a = await send('GET', resourcePath(ref, name), new URLSearchParams(), undefined, '', { verb: 'get', ref, name }, opts);
      if (isObjectNotFound(a.status, a.body)) return undefined;
      if (a.status !== 200) throw httpKubeError(a.status, a.body, 'get', ref, name);
      return json(a, 'get', ref, name);
    },
    async list(ref, opts = {}) {
      const q = new URLSearchParams();
      if (opts.labelSelector) q.set('labelSelector', opts.labelSelector);
      if (opts.fieldSelector) q.set('fieldSelector', opts.fieldSelector);
      const a = await send('GET', resourcePath(ref), q, undefined, '', { verb: 'list', ref }, opts);
      if (a.status !== 200) throw httpKubeError(a.status, a.body, 'list', ref);
      const items = json(a, 'list', ref)['items'];
      if (items === null || items === undefined) return [];
      if (!Array.isArray(items)) throw new KubeError(`Kubernetes API answered ${describeResourceCall('list', ref)} without an items list`, a.status);
      return items.filter(isRecord);
    },
    async create(ref, body, opts = {}) {
      const meta = body['metadata'];
      const name = isRecord(meta) && typeof meta['name'] === 'string' ? meta['name'] : undefined;
      const a = await send('POST', resourcePath(ref), new URLSearchParams(), body, 'application/json', { verb: 'create', ref, name }, opts);
      if (a.status !== 200 && a.status !== 201 && a.status !== 202) throw httpKubeError(a.status, a.body, 'create', ref, name);
      return json(a, 'create', ref, name);
    },
    async delete(ref, name, opts = {}) {
      const q = new URLSearchParams();
      if (opts.gracePeriodSeconds !== undefined) q.set('gracePeriodSeconds', String(opts.gracePeriodSeconds));
      const a = await send('DELETE', resourcePath(ref, name), q, undefined, '', { verb: 'delete', ref, name }, opts);
      if (isObjectNotFound(a.status, a.body)) return false;
      if (a.status !== 200 && a.status !== 202) throw httpKubeError(a.status, a.body, 'delete', ref, name);
      return true;
    },
    async patch(ref, name, patch, opts = {}) {
      const a = await send('PATCH', resourcePath(ref, name), new URLSearchParams(), patch, 'application/merge-patch+json', { verb: 'patch', ref, name }, opts);
      if (a.status !== 200) throw httpKubeError(a.status, a.body, 'patch', ref, name);
      return json(a, 'patch', ref, name);
    },
  };
}

const MAX_OUTPUT = 4 * 1024 * 1024;

/** Collects a stream's bytes (at most MAX_OUTPUT; the rest is dropped and said so). */
class Collector extends Writable {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    if (this.size < MAX_OUTPUT) {
      const part = chunk.subarray(0, MAX_OUTPUT - this.size);
      this.chunks.push(part);
      this.size += part.length;
      if (part.length < chunk.length) this.truncated = true;
    } else {
      this.truncated = true;
    }
    cb();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** The exit code a V1Status carries (`details.causes[reason=ExitCode].message`). */
export function exitCodeOfStatus(status: V1Status): number | undefined {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (cause?.message !== undefined && /^\d+$/.test(cause.message)) return Number(cause.message);
  return undefined;
}

export function createPodExec(kc: KubeConfig, options: DynamicKubeOptions = {}): PodExec {
  const defaultTimeout = options.timeoutMs ?? 60_000;
  return {
    async exec(namespace, pod, container, argv, opts = {}) {
      const timeoutMs = opts.timeoutMs ?? defaultTimeout;
      const what = `exec ${JSON.stringify(argv.join(' ').slice(0, 80))} in container ${container} of pod ${namespace}/${pod}`;
      const signal = opts.signal;
      if (signal?.aborted) throw abortError(signal);
      const stdout = new Collector();
      const stderr = new Collector();
      let status: V1Status | undefined;
      const exec = new (await loadClientNode()).Exec(kc);
      let ws: Awaited<ReturnType<Exec['exec']>>;
      const connect = exec.exec(namespace, pod, container, [...argv], stdout, stderr, null, false, (s) => { status = s; });
      try {
        ws = await raceDeadline(connect, timeoutMs, signal, `Kubernetes API did not open ${what} within ${timeoutMs} ms`);
      } catch (error) {
        void connect.then((w) => { w.terminate(); }, () => undefined);
        if (error instanceof Error && (error.name === 'AbortError' || error instanceof KubeError)) throw error;
        throw new KubeError(`cannot ${what}: ${describeWsError(error)}. Check that the pod runs and that the runner may "create" pods/exec (RBAC).`, 0, { cause: error });
      }
      await raceDeadline(new Promise<void>((resolve) => {
        if (ws.readyState === ws.CLOSED) { resolve(); return; }
        ws.on('close', () => { resolve(); });
      }), timeoutMs, signal, `${what} did not end within ${timeoutMs} ms`).catch((error: unknown) => {
        ws.terminate();
        throw error;
      });
      const st = status;
      if (st === undefined) throw new KubeError(`${what}: the connection closed without an exit status (the container may have stopped)`, 0);
      const exitCode = exitCodeOfStatus(st);
      if (exitCode === undefined) throw new KubeError(`${what} failed: ${st.message ?? st.reason ?? 'no reason given'}`, 0);
      const cut = stdout.truncated || stderr.truncated ? ` (output cut at ${MAX_OUTPUT} bytes)` : '';
      return { exitCode, stdout: stdout.text(), stderr: stderr.text() + cut };
    },
  };
}

function describeWsError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (isRecord(error) && typeof error['message'] === 'string') return error['message'];
  if (isRecord(error) && isRecord(error['error']) && typeof error['error']['message'] === 'string') return error['error']['message'];
  return String(error);
}

async function raceDeadline<T>(p: Promise<T>, timeoutMs: number, signal: AbortSignal | undefined, timeoutText: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => { reject(new KubeError(timeoutText, 0)); }, timeoutMs);
        if (signal) {
          onAbort = () => { reject(abortError(signal)); };
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        }
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (signal && onAbort) signal.removeEventListener('abort', onAbort);
  }
}
