/**
 * The ChaosEngine, read and stopped through the generic client: the probes come from it (litmus-go reads it
 * with GetChaosEngine), and a failed stopOnFailure probe sets it to `engineState: stop` (pkg/probe/probe.go
 * stopChaosEngine does a get + update; netchaos sends a JSON merge patch of that one field).
 */
import type { DynamicKube, KubeObject, ResourceRef } from '../kube/dynamic.js';

const engines = (namespace: string): ResourceRef => ({ group: 'litmuschaos.io', version: 'v1alpha1', resource: 'chaosengines', namespace });

/** The ChaosEngine as JSON; throws a KubeError when it cannot be read or does not exist. */
export async function readChaosEngine(kube: DynamicKube, namespace: string, name: string, signal?: AbortSignal): Promise<KubeObject> {
  const engine = await kube.get(engines(namespace), name, { signal });
  if (!engine) throw new Error(`ChaosEngine ${namespace}/${name} (CHAOSENGINE) was not found: the probes are read from it`);
  return engine;
}

/** Sets `spec.engineState: stop` (the operator then stops the experiment, as when ChaosCenter stops it). */
export async function stopChaosEngine(kube: DynamicKube, namespace: string, name: string, signal?: AbortSignal): Promise<void> {
  await kube.patch(engines(namespace), name, { spec: { engineState: 'stop' } }, { signal });
}
