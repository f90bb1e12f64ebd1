/**
 * The Kubernetes API calls netchaos makes (and only those: see permissions.ts), through
 * @kubernetes/client-node 1.x. Failures become KubeErrors that say what was asked, where, and what to check.
 */
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Event,
  type V1EndpointSlice,
  type V1Node,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
import { RuntimeError } from '../errors.js';
import { type ApiResource, permissionFor } from './permissions.js';

export const LITMUS_GROUP = 'litmuschaos.io';
export const LITMUS_VERSION = 'v1alpha1';

/** A failed API call; `status` is the HTTP status (0 when there was no answer). */
export class KubeError extends RuntimeError {
  override readonly name = 'KubeError';
  constructor(message: string, readonly status: number, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface ListOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

export interface KubeApi {
  listPods(namespace: string, opts?: ListOptions): Promise<V1Pod[]>;
  /** The pod, or undefined when there is none (any more). */
  getPod(namespace: string, name: string): Promise<V1Pod | undefined>;
  createPod(namespace: string, body: V1Pod): Promise<V1Pod>;
  /** Deletes with this grace period (the kubelet sends SIGTERM, then SIGKILL after it); a pod already gone is fine. */
  deletePod(namespace: string, name: string, gracePeriodSeconds: number): Promise<void>;
  listNodes(labelSelector: string): Promise<V1Node[]>;
  getService(namespace: string, name: string): Promise<V1Service>;
  listEndpointSlices(namespace: string, service: string): Promise<V1EndpointSlice[]>;
  /** The ChaosEngine's uid (for Events). */
  getChaosEngineUid(namespace: string, name: string): Promise<string>;
  /** The ChaosResult as JSON, or undefined when there is none yet. */
  getChaosResult(namespace: string, name: string): Promise<unknown>;
  createChaosResult(namespace: string, body: object): Promise<void>;
  /** JSON merge patch (the ChaosResult CRD has no status subresource: status is patched on the object). */
  patchChaosResult(namespace: string, name: string, patch: object): Promise<void>;
  createEvent(namespace: string, body: CoreV1Event): Promise<void>;
}

/** Where the kubeconfig comes from: KUBECONFIG, else in-cluster (service account), else ~/.kube/config. */
export function loadKubeConfig(env: Readonly<Record<string, string | undefined>>): KubeConfig {
  const kc = new KubeConfig();
  try {
    const file = env['KUBECONFIG']?.split(':').find((f) => f !== '');
    if (file !== undefined) kc.loadFromFile(file);
    else if (env['KUBERNETES_SERVICE_HOST']) kc.loadFromCluster();
    else kc.loadFromDefault();
  } catch (error) {
    throw new RuntimeError(`cannot load a Kubernetes configuration (KUBECONFIG=${env['KUBECONFIG'] ?? 'unset'}): ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!kc.getCurrentCluster()) {
    throw new RuntimeError('no Kubernetes cluster configured: run in a pod with a service account, or set KUBECONFIG');
  }
  return kc;
}

interface CallInfo {
  readonly resource: ApiResource;
  readonly verb: string;
  readonly namespace?: string;
  readonly name?: string;
}

function describeCall(c: CallInfo): string {
  const group = permissionFor(c.resource).apiGroup;
  const what = `${c.verb} ${c.resource}${group ? `.${group}` : ''}${c.name ? ` ${JSON.stringify(c.name)}` : ''}`;
  return `${what}${c.namespace ? ` in namespace ${c.namespace}` : ''}`;
}

function statusMessage(body: unknown): string {
  if (typeof body === 'string') {
    try {
      return statusMessage(JSON.parse(body));
    } catch {
      return body.trim().slice(0, 200);
    }
  }
  if (typeof body === 'object' && body !== null && 'message' in body && typeof body.message === 'string') return body.message;
  return '';
}

/** Whether a 404 is about the object (a Status with reason NotFound and details) rather than the resource type. */
function isObjectNotFound(body: unknown): boolean {
  let value = body;
  if (typeof body === 'string') {
    try { value = JSON.parse(body); } catch { return false; }
  }
  return typeof value === 'object' && value !== null && 'reason' in value && value.reason === 'NotFound' && 'details' in value;
}

export function toKubeError(error: unknown, c: CallInfo): KubeError {
  const what = describeCall(c);
  if (error instanceof ApiException) {
    const code = typeof error.code === 'number' ? error.code : 0;
    const detail = statusMessage(error.body);
    const p = permissionFor(c.resource);
    if (code === 401) return new KubeError(`Kubernetes API refused to ${what}: not authenticated (401). Check the service account token or KUBECONFIG. ${detail}`.trim(), code, { cause: error });
    if (code === 403) {
      return new KubeError(`Kubernetes API refused to ${what}: forbidden (403, RBAC). Give the runner's service account the verb "${c.verb}" on "${c.resource}" (apiGroup "${p.apiGroup}") in its ${p.clusterScoped ? 'ClusterRole' : 'Role'} (the ChaosExperiment's permissions list). API said: ${detail}`, code, { cause: error });
    }
    if (code === 404 && !isObjectNotFound(error.body)) {
      const crd = p.apiGroup === LITMUS_GROUP ? ` Is Litmus installed (kubectl get crd ${c.resource}.${LITMUS_GROUP})?` : '';
      return new KubeError(`Kubernetes API does not serve ${c.resource}${p.apiGroup ? `.${p.apiGroup}` : ''} (404: resource type unknown) for ${what}.${crd} ${detail}`.trim(), code, { cause: error });
    }
    if (code === 404) return new KubeError(`${what}: not found (404). ${detail}`, code, { cause: error });
    if (code === 429) {
      // API Priority and Fairness (or max-in-flight) shed the request: plain text, the wait in Retry-After.
      const after = Number(error.headers['retry-after'] ?? error.headers['Retry-After']);
      return new KubeError(`Kubernetes API is throttling requests (429 Too Many Requests${Number.isFinite(after) && after > 0 ? `, retry after ${after} s` : ''}) and refused to ${what}: ${detail}`, code, { cause: error });
    }
    return new KubeError(`Kubernetes API failed to ${what}: HTTP ${code}. ${detail}`, code, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new KubeError(`cannot reach the Kubernetes API to ${what}: ${message}. Check the API server address and the network policy of the runner.`, 0, { cause: error });
}

async function call<T>(c: CallInfo, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toKubeError(error, c);
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Runs `fn`; a 404 for the object (not for the resource type) gives `otherwise`. */
async function unlessGone<T, U>(c: CallInfo, fn: () => Promise<T>, otherwise: U): Promise<T | U> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof ApiException && error.code === 404 && isObjectNotFound(error.body)) return otherwise;
    throw toKubeError(error, c);
  }
}

export function createKubeApi(kc: KubeConfig): KubeApi {
  const core = kc.makeApiClient(CoreV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const cr = (namespace: string, plural: 'chaosresults' | 'chaosengines') =>
    ({ group: LITMUS_GROUP, version: LITMUS_VERSION, namespace, plural });
  return {
    listPods: (namespace, opts = {}) => call({ resource: 'pods', verb: 'list', namespace }, async () =>
      (await core.listNamespacedPod({ namespace, ...opts })).items),
    getPod: (namespace, name) => unlessGone({ resource: 'pods', verb: 'get', namespace, name }, () =>
      core.readNamespacedPod({ namespace, name }), undefined),
    createPod: (namespace, body) => call({ resource: 'pods', verb: 'create', namespace, ...(body.metadata?.name ? { name: body.metadata.name } : {}) }, () =>
      core.createNamespacedPod({ namespace, body })),
    deletePod: async (namespace, name, gracePeriodSeconds) => {
      await unlessGone({ resource: 'pods', verb: 'delete', namespace, name }, () => core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds }), undefined);
    },
    listNodes: (labelSelector) => call({ resource: 'nodes', verb: 'list' }, async () =>
      (await core.listNode({ labelSelector })).items),
    getService: (namespace, name) => call({ resource: 'services', verb: 'get', namespace, name }, () =>
      core.readNamespacedService({ namespace, name })),
    listEndpointSlices: (namespace, service) => call({ resource: 'endpointslices', verb: 'list', namespace }, async () =>
      (await discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` })).items),
    getChaosEngineUid: (namespace, name) => call({ resource: 'chaosengines', verb: 'get', namespace, name }, async () => {
      const engine: unknown = await custom.getNamespacedCustomObject({ ...cr(namespace, 'chaosengines'), name });
      const metadata = typeof engine === 'object' && engine !== null && 'metadata' in engine ? engine.metadata : undefined;
      const uid = typeof metadata === 'object' && metadata !== null && 'uid' in metadata ? str(metadata.uid) : undefined;
      return uid ?? '';
    }),
    getChaosResult: (namespace, name) => unlessGone({ resource: 'chaosresults', verb: 'get', namespace, name }, async (): Promise<unknown> =>
      custom.getNamespacedCustomObject({ ...cr(namespace, 'chaosresults'), name }), undefined),
    createChaosResult: (namespace, body) => call({ resource: 'chaosresults', verb: 'create', namespace }, async () => {
      await custom.createNamespacedCustomObject({ ...cr(namespace, 'chaosresults'), body });
    }),
    patchChaosResult: (namespace, name, patch) => call({ resource: 'chaosresults', verb: 'patch', namespace, name }, async () => {
      await custom.patchNamespacedCustomObject({ ...cr(namespace, 'chaosresults'), name, body: patch },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    }),
    createEvent: (namespace, body) => call({ resource: 'events', verb: 'create', namespace }, async () => {
      await core.createNamespacedEvent({ namespace, body });
    }),
  };
}
