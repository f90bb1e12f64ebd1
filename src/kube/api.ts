/**
 * The real KubeApi (src/ports.ts) through @kubernetes/client-node 1.x. The client is imported on the first
 * call, not at start-up: it costs about half a second (ten times that under emulation), which `plan`,
 * `inject` and `revert` on IP destinations never need. Failures become KubeErrors that say what was asked,
 * where, and what to check.
 */
import type { KubeConfig, RequestContext, ResponseContext } from '@kubernetes/client-node';
import { RuntimeError, messageOf } from '../model/errors.js';
import { field, isObject, stringField, tryParseJson } from '../model/json.js';
import { untilStopped } from '../model/stop.js';
import type { KubeApi } from '../ports.js';
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

type ClientNode = typeof import('./client-node.js');
let clientNode: Promise<ClientNode> | undefined;

/**
 * The part of @kubernetes/client-node netchaos uses (src/kube/client-node.ts), loaded on first use: through
 * import(), never a static import, so that runs without Kubernetes do not load it (in the build it is
 * dist/vendor-kube.cjs, required here; under tsx the package's ES module).
 */
export function loadClientNode(): Promise<ClientNode> {
  return (clientNode ??= import('./client-node.js'));
}

/** Where the kubeconfig comes from: KUBECONFIG, else in-cluster (service account), else ~/.kube/config. */
function loadKubeConfig(k: ClientNode, env: Readonly<Record<string, string | undefined>>): KubeConfig {
  const kc = new k.KubeConfig();
  try {
    const file = env['KUBECONFIG']?.split(':').find((f) => f !== '');
    if (file !== undefined) kc.loadFromFile(file);
    else if (env['KUBERNETES_SERVICE_HOST']) kc.loadFromCluster();
    else kc.loadFromDefault();
  } catch (error) {
    throw new RuntimeError(`cannot load a Kubernetes configuration (KUBECONFIG=${env['KUBECONFIG'] ?? 'unset'}): ${messageOf(error)}`);
  }
  if (!kc.getCurrentCluster()) {
    throw new RuntimeError('no Kubernetes cluster configured: run in a pod with a service account, or set KUBECONFIG');
  }
  return kc;
}

/**
 * The kubeconfig these variables select (KUBECONFIG, in-cluster, ~/.kube/config), loading the client on first
 * use: for the clients made outside createKubeApi (the probes' generic client, the connections catalog).
 */
export async function kubeConfigFor(env: Readonly<Record<string, string | undefined>>): Promise<KubeConfig> {
  return loadKubeConfig(await loadClientNode(), env);
}

/** One API call, as the messages name it. */
export interface CallInfo {
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

/** The API's Status body, as an object (the client hands it over as text or parsed). */
const statusOf = (body: unknown): unknown => (typeof body === 'string' ? tryParseJson(body) ?? body : body);

function statusMessage(body: unknown): string {
  const status = statusOf(body);
  if (typeof status === 'string') return status.trim().slice(0, 200);
  return stringField(status, 'message') ?? '';
}

/** Whether a 404 is about the object (a Status with reason NotFound and details) rather than the resource type. */
function isObjectNotFound(body: unknown): boolean {
  const status = statusOf(body);
  return field(status, 'reason') === 'NotFound' && field(status, 'details') !== undefined;
}

/**
 * The HTTP status, body and headers of a failed call, when the API answered (client-node's ApiException,
 * recognised by its shape, so that mapping an error does not load the client).
 */
function answerOf(error: unknown): { code: number; body: unknown; headers: Readonly<Record<string, unknown>> } | undefined {
  if (!(error instanceof Error) || !('code' in error) || typeof error.code !== 'number' || !('body' in error) || !('headers' in error)) return undefined;
  return { code: error.code, body: error.body, headers: isObject(error.headers) ? error.headers : {} };
}

/** A failed call → a KubeError that says what was asked, where, and what to check (the permission, the CRD…). */
export function toKubeError(error: unknown, c: CallInfo): KubeError {
  const what = describeCall(c);
  const answer = answerOf(error);
  if (answer === undefined) {
    return new KubeError(`cannot reach the Kubernetes API to ${what}: ${messageOf(error)}. Check the API server address and the network policy of the runner.`, 0, { cause: error });
  }
  const { code, body } = answer;
  const detail = statusMessage(body);
  const p = permissionFor(c.resource);
  if (code === 401) return new KubeError(`Kubernetes API refused to ${what}: not authenticated (401). Check the service account token or KUBECONFIG. ${detail}`.trim(), code, { cause: error });
  if (code === 403) {
    return new KubeError(`Kubernetes API refused to ${what}: forbidden (403, RBAC). Give the runner's service account the verb "${c.verb}" on "${c.resource}" (apiGroup "${p.apiGroup}") in its ${p.clusterScoped ? 'ClusterRole' : 'Role'} (the ChaosExperiment's permissions list). API said: ${detail}`, code, { cause: error });
  }
  if (code === 404 && !isObjectNotFound(body)) {
    const crd = p.apiGroup === LITMUS_GROUP ? ` Is Litmus installed (kubectl get crd ${c.resource}.${LITMUS_GROUP})?` : '';
    return new KubeError(`Kubernetes API does not serve ${c.resource}${p.apiGroup ? `.${p.apiGroup}` : ''} (404: resource type unknown) for ${what}.${crd} ${detail}`.trim(), code, { cause: error });
  }
  if (code === 404) return new KubeError(`${what}: not found (404). ${detail}`, code, { cause: error });
  if (code === 429) {
    // API Priority and Fairness (or max-in-flight) shed the request: plain text, the wait in Retry-After.
    const after = Number(answer.headers['retry-after'] ?? answer.headers['Retry-After']);
    return new KubeError(`Kubernetes API is throttling requests (429 Too Many Requests${Number.isFinite(after) && after > 0 ? `, retry after ${after} s` : ''}) and refused to ${what}: ${detail}`, code, { cause: error });
  }
  return new KubeError(`Kubernetes API failed to ${what}: HTTP ${code}. ${detail}`, code, { cause: error });
}

/** The clients of one kubeconfig, made on the first call. */
interface Clients {
  readonly k: ClientNode;
  readonly core: InstanceType<ClientNode['CoreV1Api']>;
  readonly discovery: InstanceType<ClientNode['DiscoveryV1Api']>;
  readonly custom: InstanceType<ClientNode['CustomObjectsApi']>;
}

/**
 * The longest one API call may take (connect, send, answer), whatever the run's signal: an API server that
 * accepts the connection and never answers must not hold a run (or its revert, or the final ChaosResult) for
 * ever. Lists of a few thousand pods answer in well under a second on a healthy control plane.
 */
export const KUBE_CALL_TIMEOUT_MS = 15_000;

/** Request options that make client-node's HTTP request follow `signal` (it hands it on to fetch). */
function withSignal(k: ClientNode, signal: AbortSignal) {
  return {
    middleware: [{
      pre: (ctx: RequestContext) => { ctx.setSignal(signal); return new k.Observable(Promise.resolve(ctx)); },
      post: (ctx: ResponseContext) => new k.Observable(Promise.resolve(ctx)),
    }],
    middlewareMergeStrategy: 'append' as const,
  };
}
type CallOpts = ReturnType<typeof withSignal>;

const customObject = (namespace: string, plural: 'chaosresults' | 'chaosengines') => ({ group: LITMUS_GROUP, version: LITMUS_VERSION, namespace, plural });

export function createKubeApi(env: Readonly<Record<string, string | undefined>>, timeoutMs = KUBE_CALL_TIMEOUT_MS): KubeApi {
  let clients: Promise<Clients> | undefined;
  const connect = (): Promise<Clients> => (clients ??= loadClientNode().then((k) => {
    const kc = loadKubeConfig(k, env);
    return { k, core: kc.makeApiClient(k.CoreV1Api), discovery: kc.makeApiClient(k.DiscoveryV1Api), custom: kc.makeApiClient(k.CustomObjectsApi) };
  }));
  /**
   * One call, aborted (the HTTP request itself, not only the wait for it) when the run stops or after
   * `timeoutMs`; a 404 for the object (not for the resource type) gives `gone` when given.
   */
  const call = async <T, U = never>(c: CallInfo, signal: AbortSignal | undefined, fn: (x: Clients, o: CallOpts) => Promise<T>, gone?: { value: U }): Promise<T | U> => {
    const x = await untilStopped(connect(), signal, describeCall(c));
    const deadline = AbortSignal.timeout(timeoutMs);
    const both = signal ? AbortSignal.any([signal, deadline]) : deadline;
    try {
      return await untilStopped(fn(x, withSignal(x.k, both)), both, describeCall(c));
    } catch (error) {
      if (signal?.aborted) throw error;
      const answer = answerOf(error);
      if (gone && answer?.code === 404 && isObjectNotFound(answer.body)) return gone.value;
      if (deadline.aborted) throw toKubeError(new Error(`no answer within ${timeoutMs / 1000} s`), c);
      throw toKubeError(error, c);
    }
  };
  return {
    listPods: (namespace, { signal, ...selectors } = {}) => call({ resource: 'pods', verb: 'list', namespace }, signal, async ({ core }, o) =>
      (await core.listNamespacedPod({ namespace, ...selectors }, o)).items),
    getPod: (namespace, name, o) => call({ resource: 'pods', verb: 'get', namespace, name }, o?.signal, ({ core }, o) =>
      core.readNamespacedPod({ namespace, name }, o), { value: undefined }),
    createPod: (namespace, body, o) => call({ resource: 'pods', verb: 'create', namespace, ...(body.metadata?.name ? { name: body.metadata.name } : {}) }, o?.signal, ({ core }, o) =>
      core.createNamespacedPod({ namespace, body }, o)),
    deletePod: async (namespace, name, gracePeriodSeconds, o) => {
      await call({ resource: 'pods', verb: 'delete', namespace, name }, o?.signal, ({ core }, o) => core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds }, o), { value: undefined });
    },
    listNodes: (labelSelector, o) => call({ resource: 'nodes', verb: 'list' }, o?.signal, async ({ core }, o) =>
      (await core.listNode({ labelSelector }, o)).items),
    getService: (namespace, name, o) => call({ resource: 'services', verb: 'get', namespace, name }, o?.signal, ({ core }, o) =>
      core.readNamespacedService({ namespace, name }, o)),
    listEndpointSlices: (namespace, service, o) => call({ resource: 'endpointslices', verb: 'list', namespace }, o?.signal, async ({ discovery }, o) =>
      (await discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` }, o)).items),
    getChaosEngineUid: (namespace, name, o) => call({ resource: 'chaosengines', verb: 'get', namespace, name }, o?.signal, async ({ custom }, o) => {
      const engine: unknown = await custom.getNamespacedCustomObject({ ...customObject(namespace, 'chaosengines'), name }, o);
      return stringField(field(engine, 'metadata'), 'uid') ?? '';
    }),
    getChaosResult: (namespace, name, o) => call({ resource: 'chaosresults', verb: 'get', namespace, name }, o?.signal, async ({ custom }, o): Promise<unknown> =>
      custom.getNamespacedCustomObject({ ...customObject(namespace, 'chaosresults'), name }, o), { value: undefined }),
    createChaosResult: (namespace, body, o) => call({ resource: 'chaosresults', verb: 'create', namespace }, o?.signal, async ({ custom }, o): Promise<unknown> =>
      custom.createNamespacedCustomObject({ ...customObject(namespace, 'chaosresults'), body }, o)),
    patchChaosResult: (namespace, name, patch, o) => call({ resource: 'chaosresults', verb: 'patch', namespace, name }, o?.signal, async ({ k, custom }, o) => {
      await custom.patchNamespacedCustomObject({ ...customObject(namespace, 'chaosresults'), name, body: patch },
        k.setHeaderOptions('Content-Type', k.PatchStrategy.MergePatch, o));
    }),
    createEvent: (namespace, body, o) => call({ resource: 'events', verb: 'create', namespace }, o?.signal, async ({ core }, o) => {
      await core.createNamespacedEvent({ namespace, body }, o);
    }),
  };
}
