/**
 * An in-process Kubernetes API server for the calls netchaos makes, as strict as a real kube-apiserver
 * (the machinery is in test/support/apiserver/):
 *
 * - authentication (the kubeconfig's token; anything else is 401) and RBAC: with `rbac` set, the client is
 *   a service account whose rules come from our own manifests (rbac.yaml and the ChaosExperiment's
 *   permissions); a request no rule allows is a 403 in the real Status shape;
 * - schemas: every create/update/patch result is decoded, pruned and validated against the Kubernetes
 *   OpenAPI definitions (built-in types) or the real Litmus CRDs (custom resources), then against the rules
 *   the apiserver enforces in code (names, labels, pod spec, events), after the apiserver's defaulting: 400
 *   for a value of the wrong type, 422 Invalid with the field path, dropped fields reported as `Warning`
 *   headers (and in `warnings`);
 * - admission: creates need an existing namespace (NamespaceLifecycle) and, for pods with RBAC on, an
 *   existing service account (ServiceAccount plugin); the container runtime refuses unknown capabilities;
 * - label selectors (equality- and set-based), field selectors per resource, resourceVersion (bumped on
 *   every change, list `resourceVersion`/`resourceVersionMatch`, `limit`/`continue`, 410 Expired below the
 *   compaction point, 409 Conflict on a stale precondition), 409 AlreadyExists, 404 NotFound with details for
 *   a missing object vs. a plain "404 page not found" for an unknown group/resource, JSON merge patch only
 *   with its content type;
 * - pods: a test's Kubelet hook plays the node (helper pods start, run, end with a termination message or
 *   never start); `failNext` answers chosen calls with 429/500/410… as the real server sends them.
 * Anything it does not serve is a 404 and is recorded in `unexpected`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  type FieldError, type StatusAnswer, admissionForbidden, alreadyExists, badRequest, conflict, expired, forbiddenRequest, invalid as invalidField,
  invalidObject, methodNotSupported, notFound, pageNotFound, unauthorized, unsupportedMediaType,
} from '../support/apiserver/status.ts';
import { checkBuiltIn, checkCustom, validateBuiltIn } from '../support/apiserver/schemas.ts';
import { defaultPod, isDNS1035Label, unknownCapabilities, validateEvent, validateObjectMeta, validatePod } from '../support/apiserver/validation.ts';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from '../support/apiserver/selectors.ts';
import { type RbacSetup, type UserInfo, type RequestAttributes } from '../support/apiserver/rbac.ts';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument */
export type Obj = Record<string, any>;

export interface ApiCall {
  verb: string;
  group: string;
  resource: string;
  namespace: string | undefined;
  name: string | undefined;
  query: string;
  /** The request body as sent (create, update, patch). */
  body?: unknown;
  /** The HTTP status of the answer. */
  code?: number;
  /** The answer's reason and message when it was an error. */
  reason?: string;
  message?: string;
}

/**
 * What the kubelet would do with a pod: called after a pod is created, before a get of it is answered, and
 * when it is deleted (`gracePeriodSeconds` from the request). The hook changes the stored pod (status) and,
 * on delete, calls `api.remove` when the pod is gone; without a hook a deleted pod is gone at once.
 */
export type Kubelet = (e: { verb: 'create' | 'get' | 'delete'; pod: Obj; gracePeriodSeconds: number | undefined }) => void | Promise<void>;

interface Route { group: string; version: string; resource: string; namespaced: boolean; kind: string; custom: boolean }

const routes: Route[] = [
  { group: '', version: 'v1', resource: 'pods', namespaced: true, kind: 'Pod', custom: false },
  { group: '', version: 'v1', resource: 'nodes', namespaced: false, kind: 'Node', custom: false },
  { group: '', version: 'v1', resource: 'services', namespaced: true, kind: 'Service', custom: false },
  { group: '', version: 'v1', resource: 'events', namespaced: true, kind: 'Event', custom: false },
  { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespaced: true, kind: 'EndpointSlice', custom: false },
  { group: 'litmuschaos.io', version: 'v1alpha1', resource: 'chaosengines', namespaced: true, kind: 'ChaosEngine', custom: true },
  { group: 'litmuschaos.io', version: 'v1alpha1', resource: 'chaosresults', namespaced: true, kind: 'ChaosResult', custom: true },
];

/** Equality- and set-based label selector semantics (`a=b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`). */
export function matchLabels(selector: string, labels: Record<string, string> = {}): boolean {
  const parsed = parseLabelSelector(selector);
  if (!parsed.ok) throw new Error(parsed.error);
  return matchesLabels(parsed.requirements, labels);
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: any, patch: any): any {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const base: Obj = typeof target === 'object' && target !== null && !Array.isArray(target) ? target : {};
  const out = new Map<string, unknown>(Object.entries(base));
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) out.delete(k);
    else out.set(k, mergePatch(out.get(k), v));
  }
  return Object.fromEntries(out);
}

/** A request the double should answer with a canned failure (429, 500, 410…), once per `times`. */
export interface Failure { verb?: string; resource?: string; name?: string; times?: number; answer: StatusAnswer }

/** The token in the kubeconfig (the client under test, `rbac.user`); any other but ADMIN_TOKEN is 401. */
const TOKEN = 'test-token';
/** A cluster admin's token (`system:masters`, never subject to RBAC): what a test uses to act as kubectl would. */
export const ADMIN_TOKEN = 'admin-token';
const ADMIN: UserInfo = { name: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };

/** Thrown by `add` when a fixture could not exist in a cluster. */
export class FixtureError extends Error {}

export class ApiDouble {
  private server: Server | undefined;
  readonly calls: ApiCall[] = [];
  readonly unexpected: string[] = [];
  /** Every `Warning` the double sent (fields the apiserver would have dropped), as `<verb> <resource>: <text>`. */
  readonly warnings: string[] = [];
  /** The client's identity and rules (see test/support/apiserver/rbac.ts); without it the client is a cluster admin. */
  rbac: RbacSetup | undefined;
  /** `verb resource` pairs refused on top of RBAC, e.g. `create chaosresults` (as if a rule were removed mid-run). */
  readonly forbidden = new Set<string>();
  /** Resource types answered with a plain 404 (their CRD is not installed). */
  readonly notServed = new Set<string>();
  /** Namespaces that exist (the namespaces of added objects are added too). */
  readonly namespaces = new Set<string>(['default', 'kube-system']);
  /** Plays the kubelet for pods (see Kubelet). */
  kubelet: Kubelet | undefined;
  /** Resource versions below this one are compacted: lists and continue tokens asking for them get 410. */
  compactedRevision = 0;
  private readonly failures: Failure[] = [];
  private readonly store = new Map<string, Obj>();
  /** Pods whose container the runtime refused (unknown capability): the kubelet hook never sees them start. */
  private readonly refused = new Set<string>();
  private rv = 1000;
  port = 0;

  private key(resource: string, namespace: string | undefined, name: string): string {
    return `${resource}/${namespace ?? ''}/${name}`;
  }

  private route(resource: string): Route {
    const r = routes.find((x) => x.resource === resource);
    if (!r) throw new Error(`the API double does not serve ${resource}`);
    return r;
  }

  /** The next request matching `f` (verb/resource/name) gets `f.answer` instead (`times` requests, 1 by default). */
  failNext(f: Failure): void {
    this.failures.push({ ...f, times: f.times ?? 1 });
  }

  /**
   * Puts an object in the cluster as a controller or kubectl would have: it must pass the same schema and
   * validation as a create (a fixture that could not exist throws FixtureError), gets the apiserver's
   * defaults, a uid, a resourceVersion and a creationTimestamp.
   */
  add(resource: string, obj: Obj): Obj {
    const route = this.route(resource);
    const full: Obj = { apiVersion: route.group ? `${route.group}/${route.version}` : route.version, kind: route.kind, ...structuredClone(obj) };
    const checked = this.admit(route, full, 'create');
    if ('answer' in checked) {
      const body = checked.answer.body;
      throw new FixtureError(`fixture ${resource} ${String(obj['metadata']?.['name'])}: ${typeof body === 'string' ? body : String(body['message'])}`);
    }
    if (checked.warnings.length) throw new FixtureError(`fixture ${resource} ${String(obj['metadata']?.['name'])}: ${checked.warnings.join(', ')} (a cluster would drop it)`);
    const stored = checked.object;
    stored['metadata'] = { uid: randomUUID(), resourceVersion: String(this.rv++), creationTimestamp: '2025-01-01T00:00:00Z', ...stored['metadata'] };
    if (route.custom) stored['metadata']['generation'] ??= 1;
    if (route.namespaced) this.namespaces.add(stored['metadata']['namespace']);
    this.store.set(this.key(resource, route.namespaced ? stored['metadata']['namespace'] : undefined, stored['metadata']['name']), stored);
    return stored;
  }

  get(resource: string, namespace: string | undefined, name: string): Obj | undefined {
    return this.store.get(this.key(resource, namespace, name));
  }

  remove(resource: string, namespace: string | undefined, name: string): void {
    this.store.delete(this.key(resource, namespace, name));
    this.refused.delete(this.key(resource, namespace, name));
  }

  list(resource: string, namespace?: string): Obj[] {
    return [...this.store.entries()].filter(([k]) => k.startsWith(`${resource}/${namespace ?? ''}${namespace === undefined ? '' : '/'}`)).map(([, v]) => v);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => { void this.handle(req, res); });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => { this.server?.close(() => { resolve(); }); });
  }

  /** A kubeconfig file that points @kubernetes/client-node at this server. */
  kubeconfig(): string {
    const dir = mkdtempSync(join(tmpdir(), 'netchaos-kube-'));
    const file = join(dir, 'config');
    writeFileSync(file, [
      'apiVersion: v1', 'kind: Config', 'current-context: double',
      'clusters:', '- name: double', '  cluster:', `    server: http://127.0.0.1:${this.port}`, '    insecure-skip-tls-verify: true',
      'users:', '- name: runner', '  user:', `    token: ${TOKEN}`,
      'contexts:', '- name: double', '  context:', '    cluster: double', '    user: runner', '',
    ].join('\n'));
    return file;
  }

  /**
   * The requests a real apiserver would have refused (any 4xx/5xx but a 404 for a missing object), as
   * `verb resource namespace/name: code message`: a test that expects none asserts this is empty, because
   * netchaos logs and goes on after some failed writes (Events, ChaosResult updates).
   */
  refusals(expected: (c: ApiCall) => boolean = () => false): string[] {
    return this.calls.filter((c) => (c.code ?? 0) >= 400 && !(c.reason === 'NotFound' && (c.verb === 'get' || c.verb === 'delete')) && !expected(c))
      .map((c) => `${c.verb} ${c.resource} ${c.namespace ?? ''}/${c.name ?? ''}: ${String(c.code)} ${c.message ?? ''}`);
  }

  private send(res: ServerResponse, a: StatusAnswer | { code: number; body: unknown; headers?: Record<string, string | string[]> }): void {
    const text = typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
    res.writeHead(a.code, { 'content-type': typeof a.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json', ...a.headers });
    res.end(text);
  }

  // ---- admission: decode, prune, default, validate -----------------------------------------------------

  /** What the apiserver does to a create/update before it stores it: the object, or the refusal. */
  private admit(route: Route, input: Obj, op: 'create' | 'update', old?: Obj): { object: Obj; warnings: string[] } | { answer: StatusAnswer; warnings: string[] } {
    const name = String(input['metadata']?.['name'] ?? '');
    const apiVersion = route.group ? `${route.group}/${route.version}` : route.version;
    const errs: FieldError[] = [];
    if (input['apiVersion'] !== undefined && input['apiVersion'] !== apiVersion) {
      return { answer: badRequest(`the API version in the data (${String(input['apiVersion'])}) does not match the expected API version (${apiVersion})`), warnings: [] };
    }
    if (input['kind'] !== undefined && input['kind'] !== route.kind) {
      return { answer: badRequest(`${String(input['kind'])} in version ${JSON.stringify(route.version)} cannot be handled as a ${route.kind}: no kind ${JSON.stringify(input['kind'])} is registered for version ${JSON.stringify(apiVersion)}`), warnings: [] };
    }
    const typed = { ...input, apiVersion, kind: route.kind };
    let object: Obj;
    let warnings: string[];
    if (route.custom) {
      const r = checkCustom(route.resource, typed);
      if (!r.ok) return { answer: invalidObject(route.kind, route.group, name, 'invalid' in r ? r.invalid : []), warnings: 'warnings' in r ? [...r.warnings] : [] };
      object = r.object;
      warnings = [...r.warnings];
    } else {
      const r = checkBuiltIn(route.resource, typed);
      if (!r.ok) return { answer: 'decode' in r ? badRequest(r.decode) : invalidObject(route.kind, route.group, name, r.invalid), warnings: [] };
      object = r.object;
      warnings = [...r.warnings];
      if (route.resource === 'pods') defaultPod(object);
    }
    if (route.resource === 'pods') errs.push(...validatePod(object));
    else if (route.resource === 'events') errs.push(...validateEvent(object));
    else errs.push(...validateObjectMeta(object['metadata'], route.namespaced, route.resource === 'services' ? isDNS1035Label : undefined));
    if (!route.custom) {
      // Built-in types are validated in Go, not against their OpenAPI schema: a schema error (required, enum)
      // only counts for a field the Go rules above did not already report.
      const ruled = new Set(errs.map((e) => e.field));
      errs.push(...validateBuiltIn(route.resource, object).filter((e) => !ruled.has(e.field)));
    }
    if (op === 'update' && old) {
      // ValidateObjectMetaUpdate: name, namespace, uid and creationTimestamp cannot change.
      for (const f of ['name', 'namespace', 'uid', 'creationTimestamp'] as const) {
        if (object['metadata']?.[f] !== undefined && object['metadata'][f] !== old['metadata'][f]) errs.push(invalidField(`metadata.${f}`, object['metadata'][f], 'field is immutable'));
      }
    }
    if (errs.length) return { answer: invalidObject(route.kind, route.group, name, errs), warnings };
    return { object, warnings };
  }

  private authorize(user: UserInfo, a: RequestAttributes): StatusAnswer | undefined {
    const refuse = (reason: string): StatusAnswer => forbiddenRequest({ user: user.name, ...a, ...(reason ? { reason } : {}) });
    // A test's forced refusal applies to any client, also without RBAC rules (then the client is a cluster admin).
    if (this.forbidden.has(`${a.verb} ${a.resource}`)) return refuse('');
    if (user.groups.includes('system:masters')) return undefined;
    for (const policy of this.rbac?.policies ?? []) {
      const d = policy.authorize(user, a);
      if (!d.allowed) return refuse(d.reason);
    }
    return undefined;
  }

  // ---- requests ---------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const bodyText = Buffer.concat(chunks).toString();
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const token = req.headers.authorization;
    if (token !== `Bearer ${TOKEN}` && token !== `Bearer ${ADMIN_TOKEN}`) { this.send(res, unauthorized()); return; }
    const user = token === `Bearer ${TOKEN}` && this.rbac ? this.rbac.user : ADMIN;
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(url.pathname);
    if (!m) { this.unexpected.push(`${method} ${url.pathname}`); this.send(res, pageNotFound()); return; }
    const group = m[2] ?? '';
    const version = m[1] ?? m[3] ?? '';
    const namespace = m[4];
    const resource = m[5] ?? '';
    const name = m[6];
    const subresource = m[7];
    const watch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    const verb = method === 'GET' ? (name ? 'get' : watch ? 'watch' : 'list') : method === 'POST' ? 'create' : method === 'PATCH' ? 'patch'
      : method === 'PUT' ? 'update' : method === 'DELETE' ? (name ? 'delete' : 'deletecollection') : method.toLowerCase();
    const attrs: RequestAttributes = { verb, group, resource, ...(subresource ? { subresource } : {}), namespace, name: verb === 'create' ? undefined : name };
    // The authorizer runs before the request reaches any API group (a CRD that is not installed is still authorized first).
    const refused = this.authorize(user, attrs);
    const call: ApiCall = { verb, group, resource, namespace, name, query: url.search };
    if (bodyText && verb !== 'delete') {
      try { call.body = JSON.parse(bodyText); } catch { call.body = bodyText; }
    }
    const route = routes.find((r) => r.group === group && r.version === version && r.resource === resource && r.namespaced === (namespace !== undefined));
    const answered = (a: { code: number; body: unknown }): void => {
      call.code = a.code;
      if (a.code < 400) return;
      call.message = typeof a.body === 'string' ? a.body.trim() : String((a.body as Obj)['message'] ?? '');
      if (typeof a.body !== 'string') call.reason = String((a.body as Obj)['reason'] ?? '');
    };
    if (refused) { answered(refused); this.calls.push(call); this.send(res, refused); return; }
    if (!route || this.notServed.has(resource) || subresource !== undefined || watch) {
      this.unexpected.push(`${method} ${url.pathname}${url.search}`);
      this.send(res, pageNotFound());
      return;
    }
    this.calls.push(call);
    const failure = this.failures.find((f) => (f.verb === undefined || f.verb === verb) && (f.resource === undefined || f.resource === resource) && (f.name === undefined || f.name === name));
    if (failure) {
      if (--failure.times! <= 0) this.failures.splice(this.failures.indexOf(failure), 1);
      answered(failure.answer);
      this.send(res, failure.answer);
      return;
    }
    const answer = await this.serve(route, verb, namespace, name, url, bodyText, req);
    answered(answer);
    this.send(res, answer);
  }

  private warned(verb: string, resource: string, warnings: readonly string[]): Record<string, string | string[]> {
    for (const w of warnings) this.warnings.push(`${verb} ${resource}: ${w}`);
    return warnings.length ? { warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`) } : {};
  }

  private async serve(route: Route, verb: string, namespace: string | undefined, name: string | undefined, url: URL, bodyText: string, req: IncomingMessage): Promise<StatusAnswer | { code: number; body: unknown; headers?: Record<string, string | string[]> }> {
    const { resource, group } = route;
    const missing = (): StatusAnswer => notFound(resource, group, name ?? '');
    const parse = (): { ok: true; value: any } | { ok: false; answer: StatusAnswer } => {
      try { return { ok: true, value: JSON.parse(bodyText) }; } catch (error) {
        return { ok: false, answer: badRequest(`error decoding from json: ${error instanceof Error ? error.message : String(error)}`) };
      }
    };
    if (verb === 'get') {
      const found = this.get(resource, namespace, name!);
      if (found && resource === 'pods' && !this.refused.has(this.key(resource, namespace, name!))) await this.kubelet?.({ verb: 'get', pod: found, gracePeriodSeconds: undefined });
      const obj = this.get(resource, namespace, name!);
      return obj ? { code: 200, body: obj } : missing();
    }
    if (verb === 'list') return this.serveList(route, namespace, url);
    if (verb === 'create') {
      const parsed = parse();
      if (!parsed.ok) return parsed.answer;
      const body: Obj = parsed.value;
      const ns = body?.metadata?.namespace ?? namespace;
      if (route.namespaced && ns !== namespace) return badRequest('the namespace of the provided object does not match the namespace sent on the request');
      // metadata.generateName: the server picks the name.
      if (body?.metadata && !body.metadata.name && typeof body.metadata.generateName === 'string') {
        body.metadata.name = `${String(body.metadata.generateName)}${randomBytes(3).toString('hex').slice(0, 5)}`;
      }
      const checked = this.admit(route, { ...body, metadata: { ...body?.metadata, ...(route.namespaced ? { namespace } : {}) } }, 'create');
      const headers = this.warned('create', resource, checked.warnings);
      if ('answer' in checked) return { ...checked.answer, headers: { ...checked.answer.headers, ...headers } };
      const obj = checked.object;
      const objName = String(obj['metadata']['name']);
      // NamespaceLifecycle admission: no creates in a namespace that does not exist.
      if (route.namespaced && !this.namespaces.has(namespace!)) return notFound('namespaces', '', namespace!);
      if (this.get(resource, namespace, objName)) return alreadyExists(resource, group, objName);
      if (resource === 'pods') {
        // ServiceAccount admission: `default` when none is named, and (with RBAC on, when the double knows the
        // accounts) it must exist. The deprecated serviceAccount field mirrors it.
        const sa = String(obj['spec']?.['serviceAccountName'] || 'default');
        if (this.rbac && sa !== 'default' && !this.rbac.serviceAccounts.includes(`${namespace!}/${sa}`)) {
          return admissionForbidden(resource, group, objName, `error looking up service account ${namespace!}/${sa}: serviceaccount ${JSON.stringify(sa)} not found`);
        }
        obj['spec']['serviceAccountName'] = sa;
        obj['spec']['serviceAccount'] = sa;
      }
      obj['metadata'] = { ...obj['metadata'], uid: randomUUID(), resourceVersion: String(this.rv++), creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
      if (route.custom) obj['metadata']['generation'] = 1;
      const key = this.key(resource, namespace, objName);
      this.store.set(key, obj);
      if (resource === 'pods') {
        // The pod strategy (PrepareForCreate) replaces any status with Pending.
        obj['status'] = { phase: 'Pending', qosClass: 'BestEffort' };
        const refusedCaps = unknownCapabilities(obj);
        if (refusedCaps.length) {
          // The kubelet cannot create the container: the runtime refuses the capability.
          this.refused.add(key);
          obj['status'] = { phase: 'Pending', qosClass: 'BestEffort', containerStatuses: (obj['spec']['containers'] as Obj[]).map((c) => ({
            name: c['name'], ready: false, restartCount: 0, image: c['image'], imageID: '',
            state: { waiting: { reason: 'CreateContainerError', message: refusedCaps.join('; ') } },
          })) };
        } else await this.kubelet?.({ verb: 'create', pod: obj, gracePeriodSeconds: undefined });
      }
      return { code: 201, body: obj, headers };
    }
    if (verb === 'delete') {
      const obj = this.get(resource, namespace, name!);
      if (!obj) return missing();
      let options: Obj = {};
      if (bodyText) {
        const parsed = parse();
        if (!parsed.ok) return parsed.answer;
        options = parsed.value ?? {};
      }
      const pre = options['preconditions'] ?? {};
      if ((pre.uid && pre.uid !== obj['metadata']['uid']) || (pre.resourceVersion && pre.resourceVersion !== obj['metadata']['resourceVersion'])) {
        return conflict(resource, group, name!, `Precondition failed: UID in precondition: ${String(pre.uid ?? '')}, UID in object meta: ${String(obj['metadata']['uid'])}`);
      }
      const grace = url.searchParams.get('gracePeriodSeconds') ?? (options['gracePeriodSeconds'] !== undefined ? String(options['gracePeriodSeconds']) : null);
      const gracePeriodSeconds = grace === null ? undefined : Number(grace);
      if (resource !== 'pods') {
        this.remove(resource, namespace, name!);
        return { code: 200, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group, kind: resource, uid: obj['metadata']['uid'] } } };
      }
      obj['metadata']['deletionTimestamp'] ??= new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      obj['metadata']['deletionGracePeriodSeconds'] = gracePeriodSeconds ?? obj['spec']?.['terminationGracePeriodSeconds'] ?? 30;
      obj['metadata']['resourceVersion'] = String(this.rv++);
      if (this.kubelet && !this.refused.has(this.key(resource, namespace, name!))) await this.kubelet({ verb: 'delete', pod: obj, gracePeriodSeconds });
      else this.remove(resource, namespace, name!);
      return { code: 200, body: obj };
    }
    if (verb === 'patch' || verb === 'update') {
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
      if (verb === 'patch' && type !== 'application/merge-patch+json') return unsupportedMediaType(type || 'none');
      const obj = this.get(resource, namespace, name!);
      if (!obj) return missing();
      const parsed = parse();
      if (!parsed.ok) return parsed.answer;
      const sent: Obj = parsed.value ?? {};
      // A resourceVersion in the request is a precondition (optimistic concurrency).
      const wantRv = sent['metadata']?.['resourceVersion'];
      if (wantRv !== undefined && wantRv !== obj['metadata']['resourceVersion']) {
        return conflict(resource, group, name!, 'the object has been modified; please apply your changes to the latest version and try again');
      }
      const next: Obj = verb === 'patch' ? mergePatch(structuredClone(obj), sent) : { ...sent, metadata: { ...sent['metadata'] } };
      if (verb === 'update') for (const k of ['uid', 'creationTimestamp', 'generation'] as const) next['metadata'][k] ??= obj['metadata'][k];
      const checked = this.admit(route, next, 'update', obj);
      const headers = this.warned(verb, resource, checked.warnings);
      if ('answer' in checked) return { ...checked.answer, headers: { ...checked.answer.headers, ...headers } };
      const updated = checked.object;
      // The pod strategy keeps the status on updates of the pod itself (status is a subresource).
      if (resource === 'pods') updated['status'] = obj['status'];
      const bookkeeping = (o: Obj): Obj => ({ ...o, metadata: { ...o['metadata'], resourceVersion: undefined, generation: undefined } });
      const changed = !isDeepStrictEqual(bookkeeping(obj), bookkeeping(updated));
      updated['metadata']['generation'] = obj['metadata']['generation'];
      updated['metadata']['resourceVersion'] = obj['metadata']['resourceVersion'];
      if (changed) {
        updated['metadata']['resourceVersion'] = String(this.rv++);
        // Without a status subresource every change but metadata's counts as a new generation.
        if (route.custom && !isDeepStrictEqual({ ...obj, metadata: undefined }, { ...updated, metadata: undefined })) updated['metadata']['generation'] = Number(obj['metadata']['generation'] ?? 1) + 1;
        this.store.set(this.key(resource, namespace, name!), updated);
      }
      return { code: 200, body: changed ? updated : obj, headers };
    }
    return methodNotSupported(resource, group, verb);
  }

  private serveList(route: Route, namespace: string | undefined, url: URL): StatusAnswer | { code: number; body: unknown } {
    const labels = parseLabelSelector(url.searchParams.get('labelSelector') ?? '');
    if (!labels.ok) return badRequest(labels.error);
    const fields = parseFieldSelector(url.searchParams.get('fieldSelector') ?? '');
    if (!fields.ok) return badRequest(fields.error);
    const current = this.rv - 1;
    const rvParam = url.searchParams.get('resourceVersion');
    const match = url.searchParams.get('resourceVersionMatch');
    if (match && match !== 'Exact' && match !== 'NotOlderThan') return badRequest(`resourceVersionMatch: Unsupported value: ${JSON.stringify(match)}: supported values: "Exact", "NotOlderThan"`);
    if (match && (rvParam === null || rvParam === '')) return invalidObject('ListOptions', 'meta.k8s.io', '', [invalidField('resourceVersionMatch', match, 'resourceVersionMatch is forbidden unless resourceVersion is provided')]);
    if (rvParam !== null && rvParam !== '' && rvParam !== '0') {
      const want = Number(rvParam);
      if (!Number.isInteger(want)) return badRequest(`invalid resource version: ${JSON.stringify(rvParam)}`);
      if (want > current) return { code: 504, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `Timeout: Too large resource version: ${want}, current: ${current}`, reason: 'Timeout', details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 }, code: 504 } };
      if (match === 'Exact' && want < this.compactedRevision) return expired('The resourceVersion for the provided list is too old.');
    }
    const items: Obj[] = [];
    for (const o of this.list(route.resource, namespace)) {
      const f = matchesFields(route.resource, fields.terms, o);
      if (typeof f === 'string') return badRequest(f);
      if (f && matchesLabels(labels.requirements, o['metadata']?.['labels'])) items.push(o);
    }
    items.sort((a, b) => `${String(a['metadata']['namespace'] ?? '')}/${String(a['metadata']['name'])}`.localeCompare(`${String(b['metadata']['namespace'] ?? '')}/${String(b['metadata']['name'])}`));
    // Pagination: limit + continue (the token carries the list's resourceVersion and the next offset).
    let start = 0;
    let listRv = current;
    const token = url.searchParams.get('continue');
    if (token) {
      let decoded: { rv: number; start: number } | undefined;
      try { decoded = JSON.parse(Buffer.from(token, 'base64').toString()); } catch { decoded = undefined; }
      if (!decoded) return badRequest(`continue key is not valid: illegal base64 data`);
      if (decoded.rv < this.compactedRevision) {
        return expired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.');
      }
      start = decoded.start;
      listRv = decoded.rv;
    }
    const limit = Number(url.searchParams.get('limit') ?? '0');
    const page = limit > 0 ? items.slice(start, start + limit) : items.slice(start);
    const more = limit > 0 && start + limit < items.length;
    const metadata: Obj = { resourceVersion: String(listRv) };
    if (more) {
      metadata['continue'] = Buffer.from(JSON.stringify({ rv: listRv, start: start + limit })).toString('base64');
      metadata['remainingItemCount'] = items.length - start - limit;
    }
    return { code: 200, body: { kind: `${route.kind}List`, apiVersion: route.group ? `${route.group}/${route.version}` : route.version, metadata, items: page } };
  }
}

/** A Running pod as the API returns it. */
export function pod(o: { name: string; namespace: string; node: string; labels?: Record<string, string>; ip?: string; containerId?: string;
  owner?: { kind: string; name: string }; phase?: string; ready?: boolean; containers?: string[] }): Obj {
  const containers = o.containers ?? ['app'];
  return {
    metadata: {
      name: o.name, namespace: o.namespace, labels: o.labels ?? {},
      ...(o.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: o.owner.kind, name: o.owner.name, uid: randomUUID(), controller: true }] } : {}),
    },
    spec: { nodeName: o.node, containers: containers.map((c) => ({ name: c, image: `registry.example/${c}:1` })) },
    status: {
      phase: o.phase ?? 'Running',
      podIP: o.ip ?? '10.244.1.10',
      podIPs: [{ ip: o.ip ?? '10.244.1.10' }],
      containerStatuses: containers.map((c, i) => ({
        name: c, ready: o.ready ?? true, restartCount: 0, image: `registry.example/${c}:1`, imageID: '',
        containerID: i === 0 && o.containerId ? o.containerId : `containerd://${String(i).repeat(64)}`,
        state: { running: { startedAt: '2025-01-01T00:00:00Z' } },
      })),
    },
  };
}

