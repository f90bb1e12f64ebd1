/**
 * An in-process Kubernetes API server for the calls netchaos makes, with their real semantics: label and
 * field selectors, get/list/create/delete (pods: a test's Kubelet hook plays the node, so helper pods start,
 * run, end with a termination message or never start), JSON merge patch (only with its content type), Events, 404 for unknown
 * resource types (CRD not installed) vs. a Status for missing objects, 403 for forbidden verbs.
 * Anything else is a 404 and is recorded as unexpected.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument */
export type Obj = Record<string, any>;

export interface ApiCall { verb: string; group: string; resource: string; namespace: string | undefined; name: string | undefined; query: string }

/**
 * What the kubelet would do with a pod: called after a pod is created, before a get of it is answered, and
 * when it is deleted (`gracePeriodSeconds` from the request). The hook changes the stored pod (status) and,
 * on delete, calls `api.remove` when the pod is gone; without a hook a deleted pod is gone at once.
 */
export type Kubelet = (e: { verb: 'create' | 'get' | 'delete'; pod: Obj; gracePeriodSeconds: number | undefined }) => void | Promise<void>;

interface Route { group: string; version: string; resource: string; namespaced: boolean; kind: string }

const routes: Route[] = [
  { group: '', version: 'v1', resource: 'pods', namespaced: true, kind: 'Pod' },
  { group: '', version: 'v1', resource: 'nodes', namespaced: false, kind: 'Node' },
  { group: '', version: 'v1', resource: 'services', namespaced: true, kind: 'Service' },
  { group: '', version: 'v1', resource: 'events', namespaced: true, kind: 'Event' },
  { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespaced: true, kind: 'EndpointSlice' },
  { group: 'litmuschaos.io', version: 'v1alpha1', resource: 'chaosengines', namespaced: true, kind: 'ChaosEngine' },
  { group: 'litmuschaos.io', version: 'v1alpha1', resource: 'chaosresults', namespaced: true, kind: 'ChaosResult' },
];

/** Equality-based label selector semantics (a=b, a==b, a!=b, a, !a). */
export function matchLabels(selector: string, labels: Record<string, string> = {}): boolean {
  if (selector.trim() === '') return true;
  return selector.split(',').every((term) => {
    const t = term.trim();
    let m = /^([^!=]+)!=(.*)$/.exec(t);
    if (m) return labels[m[1]!.trim()] !== m[2]!.trim();
    m = /^([^!=]+)==?(.*)$/.exec(t);
    if (m) return labels[m[1]!.trim()] === m[2]!.trim();
    if (t.startsWith('!')) return !(t.slice(1) in labels);
    return t in labels;
  });
}

function fieldValue(obj: Obj, path: string): string {
  let v: any = obj;
  for (const p of path.split('.')) v = v?.[p];
  return v === undefined || v === null ? '' : String(v);
}

const supportedFields = ['metadata.name', 'metadata.namespace', 'spec.nodeName', 'status.phase'];

function matchFields(selector: string, obj: Obj): boolean | string {
  if (selector.trim() === '') return true;
  for (const term of selector.split(',')) {
    const m = /^([^!=]+)(!=|==|=)(.*)$/.exec(term.trim());
    if (!m || !supportedFields.includes(m[1]!)) return `field label not supported: ${m?.[1] ?? term}`;
    const equal = fieldValue(obj, m[1]!) === m[3];
    if (m[2] === '!=' ? equal : !equal) return false;
  }
  return true;
}

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

export class ApiDouble {
  private server: Server | undefined;
  readonly calls: ApiCall[] = [];
  readonly unexpected: string[] = [];
  /** `verb resource` pairs answered with 403, e.g. `create chaosresults`. */
  readonly forbidden = new Set<string>();
  /** Resource types answered with a plain 404 (their CRD is not installed). */
  readonly notServed = new Set<string>();
  /** Plays the kubelet for pods (see Kubelet). */
  kubelet: Kubelet | undefined;
  private readonly store = new Map<string, Obj>();
  private rv = 1000;
  port = 0;

  private key(resource: string, namespace: string | undefined, name: string): string {
    return `${resource}/${namespace ?? ''}/${name}`;
  }

  add(resource: string, obj: Obj): Obj {
    const route = routes.find((r) => r.resource === resource)!;
    const full = {
      apiVersion: route.group ? `${route.group}/${route.version}` : route.version,
      kind: route.kind,
      ...obj,
      metadata: { uid: randomUUID(), resourceVersion: String(this.rv++), creationTimestamp: '2025-01-01T00:00:00Z', ...obj.metadata },
    };
    this.store.set(this.key(resource, route.namespaced ? full.metadata.namespace : undefined, full.metadata.name), full);
    return full;
  }

  get(resource: string, namespace: string | undefined, name: string): Obj | undefined {
    return this.store.get(this.key(resource, namespace, name));
  }

  remove(resource: string, namespace: string | undefined, name: string): void {
    this.store.delete(this.key(resource, namespace, name));
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
      'users:', '- name: runner', '  user:', '    token: test-token',
      'contexts:', '- name: double', '  context:', '    cluster: double', '    user: runner', '',
    ].join('\n'));
    return file;
  }

  private send(res: ServerResponse, code: number, body: unknown): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(code, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
    res.end(text);
  }

  private status(res: ServerResponse, code: number, reason: string, message: string, details?: Obj): void {
    this.send(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code, ...(details ? { details } : {}) });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const bodyText = Buffer.concat(chunks).toString();
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?$/.exec(url.pathname);
    const group = m?.[2] ?? '';
    const version = m?.[1] ?? m?.[3] ?? '';
    const namespace = m?.[4];
    const resource = m?.[5] ?? '';
    const name = m?.[6];
    const route = routes.find((r) => r.group === group && r.version === version && r.resource === resource && r.namespaced === (namespace !== undefined));
    const method = req.method ?? 'GET';
    const verb = method === 'GET' ? (name ? 'get' : 'list') : method === 'POST' ? 'create' : method === 'PATCH' ? 'patch' : method === 'DELETE' ? 'delete' : method.toLowerCase();
    if (req.headers.authorization !== 'Bearer test-token') { this.status(res, 401, 'Unauthorized', 'Unauthorized'); return; }
    if (!m || !route || this.notServed.has(resource)) {
      this.unexpected.push(`${method} ${url.pathname}`);
      this.send(res, 404, '404 page not found\n');
      return;
    }
    this.calls.push({ verb, group, resource, namespace, name, query: url.search });
    if (this.forbidden.has(`${verb} ${resource}`)) {
      this.status(res, 403, 'Forbidden', `${resource}${group ? `.${group}` : ''} is forbidden: User "system:serviceaccount:litmus:netchaos" cannot ${verb} resource "${resource}" in API group "${group}"${namespace ? ` in the namespace "${namespace}"` : ''}`, { kind: resource });
      return;
    }
    const notFound = (): void => { this.status(res, 404, 'NotFound', `${resource}${group ? `.${group}` : ''} "${name ?? ''}" not found`, { name, group, kind: resource }); };
    if (verb === 'get') {
      const found = this.get(resource, namespace, name!);
      if (found && resource === 'pods') await this.kubelet?.({ verb: 'get', pod: found, gracePeriodSeconds: undefined });
      const obj = this.get(resource, namespace, name!);
      if (obj) this.send(res, 200, obj); else notFound();
      return;
    }
    if (verb === 'list') {
      const labelSelector = url.searchParams.get('labelSelector') ?? '';
      const fieldSelector = url.searchParams.get('fieldSelector') ?? '';
      const items: Obj[] = [];
      for (const o of this.list(resource, namespace)) {
        const f = matchFields(fieldSelector, o);
        if (typeof f === 'string') { this.status(res, 400, 'BadRequest', f); return; }
        if (f && matchLabels(labelSelector, o.metadata?.labels)) items.push(o);
      }
      this.send(res, 200, { kind: `${route.kind}List`, apiVersion: group ? `${group}/${version}` : version, metadata: { resourceVersion: String(this.rv) }, items });
      return;
    }
    if (verb === 'create') {
      const body = JSON.parse(bodyText);
      const ns = body.metadata?.namespace ?? namespace;
      if (ns !== namespace) { this.status(res, 400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request'); return; }
      if (!body.metadata?.name) { this.status(res, 422, 'Invalid', 'metadata.name: Required value'); return; }
      if (resource === 'events' && body.involvedObject?.namespace !== namespace) { this.status(res, 422, 'Invalid', 'involvedObject.namespace: Invalid value: does not match event.namespace'); return; }
      if (this.get(resource, namespace, body.metadata.name)) { this.status(res, 409, 'AlreadyExists', `${resource} "${body.metadata.name}" already exists`); return; }
      const created = this.add(resource, { ...body, metadata: { ...body.metadata, namespace } });
      if (resource === 'pods') {
        created.status = { phase: 'Pending' };
        await this.kubelet?.({ verb: 'create', pod: created, gracePeriodSeconds: undefined });
      }
      this.send(res, 201, created);
      return;
    }
    if (verb === 'delete') {
      const obj = this.get(resource, namespace, name!);
      if (!obj) { notFound(); return; }
      const grace = url.searchParams.get('gracePeriodSeconds');
      const gracePeriodSeconds = grace === null ? undefined : Number(grace);
      obj.metadata.deletionTimestamp ??= '2025-01-01T00:00:01Z';
      obj.metadata.deletionGracePeriodSeconds = gracePeriodSeconds ?? 30;
      if (resource === 'pods' && this.kubelet) await this.kubelet({ verb: 'delete', pod: obj, gracePeriodSeconds });
      else this.remove(resource, namespace, name!);
      this.send(res, 200, obj);
      return;
    }
    if (verb === 'patch') {
      if (req.headers['content-type'] !== 'application/merge-patch+json') {
        this.status(res, 415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got ${req.headers['content-type'] ?? 'none'})`);
        return;
      }
      const obj = this.get(resource, namespace, name!);
      if (!obj) { notFound(); return; }
      const patched = mergePatch(obj, JSON.parse(bodyText));
      patched.metadata.resourceVersion = String(this.rv++);
      this.store.set(this.key(resource, namespace, name!), patched);
      this.send(res, 200, patched);
      return;
    }
    this.unexpected.push(`${method} ${url.pathname}`);
    this.status(res, 405, 'MethodNotAllowed', 'method not allowed');
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
