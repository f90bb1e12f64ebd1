/**
 * The real CatalogApi, through @kubernetes/client-node. Import it lazily (`await import(...)`): loading the
 * client costs about half a second, which a run that names no peer through the API must not pay.
 * Every call has its own deadline and follows the run's AbortSignal; failures are KubeErrors that say what
 * was asked and which permission is missing.
 */
import type { KubeConfig, RequestContext, ResponseContext } from '@kubernetes/client-node';
import { loadClientNode, toKubeError } from '../kube/api.js';
import type { CatalogApi } from './catalog.js';

/** One list call's deadline. */
export const LIST_TIMEOUT_MS = 10_000;

/** Request options that make the HTTP request follow `signal` (client-node passes it on to fetch). */
function withSignal(Observable: typeof import('@kubernetes/client-node').Observable, signal: AbortSignal) {
  return {
    middleware: [{
      pre: (ctx: RequestContext) => { ctx.setSignal(signal); return new Observable(Promise.resolve(ctx)); },
      post: (ctx: ResponseContext) => new Observable(Promise.resolve(ctx)),
    }],
    middlewareMergeStrategy: 'append' as const,
  };
}

export async function createCatalogApi(kc: KubeConfig, timeoutMs = LIST_TIMEOUT_MS): Promise<CatalogApi> {
  const { CoreV1Api, DiscoveryV1Api, Observable } = await loadClientNode();
  const core = kc.makeApiClient(CoreV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const list = async <T>(resource: 'services' | 'endpointslices' | 'pods', namespace: string, signal: AbortSignal | undefined, fn: (options: ReturnType<typeof withSignal>) => Promise<{ items: T[] }>): Promise<T[]> => {
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      return (await fn(withSignal(Observable, signal ? AbortSignal.any([signal, deadline]) : deadline))).items;
    } catch (error) {
      if (signal?.aborted) throw error;
      const cause = deadline.aborted ? new Error(`no answer within ${timeoutMs} ms`) : error;
      throw toKubeError(cause, { resource, verb: 'list', namespace });
    }
  };
  return {
    listServices: (namespace, signal) => list('services', namespace, signal, (o) => core.listNamespacedService({ namespace }, o)),
    listEndpointSlices: (namespace, signal) => list('endpointslices', namespace, signal, (o) => discovery.listNamespacedEndpointSlice({ namespace }, o)),
    listRunningPods: (namespace, signal) => list('pods', namespace, signal, (o) => core.listNamespacedPod({ namespace, fieldSelector: 'status.phase=Running' }, o)),
  };
}
