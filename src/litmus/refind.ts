/**
 * Litmus mode's ON_TARGET_RESTART hook: finds a target pod again after its network namespace changed
 * or went away. By namespace and name, on the node it was on: a container restarted inside its pod
 * (same namespace, new process: followed), or a pod recreated under the same name (a StatefulSet pod:
 * re-injected with ON_TARGET_RESTART=reinject). A Deployment pod replaced under a new name is not
 * followed (the run ends as with ON_TARGET_RESTART=end, exit 4 at its end).
 */
import type { Exec } from '../deps.js';
import type { Spec } from '../config/spec.js';
import type { KubeApi } from '../kube/api.js';
import { type TargetPod, targetPod } from '../kube/targets.js';
import { findContainer } from '../runtime/container.js';
import { parseContainerId } from '../runtime/config.js';
import type { HostFs } from '../runtime/host.js';
import type { Target } from '../netns/target.js';

export interface RefindDeps {
  readonly kube: KubeApi;
  readonly exec: Exec;
  readonly fs: HostFs;
}

/** A `refind` for inject(): undefined while the pod is missing, elsewhere, terminating or its container not running. */
export function refindPod(deps: RefindDeps, spec: Pick<Spec, 'runtime'>, pod: TargetPod, procRoot?: string): () => Promise<Target | undefined> {
  return async () => {
    const pods = await deps.kube.listPods(pod.namespace, { fieldSelector: `metadata.name=${pod.name}` });
    const p = pods.find((x) => x.metadata?.name === pod.name && x.spec?.nodeName === pod.node && !x.metadata?.deletionTimestamp);
    if (!p) return undefined;
    let again: TargetPod;
    try {
      again = targetPod(p, pod.container);
    } catch {
      return undefined; // the container is not running (yet)
    }
    return (await findContainer({ exec: deps.exec, fs: deps.fs }, parseContainerId('containerID', again.containerId), spec.runtime, procRoot)).target;
  };
}
