/**
 * Litmus mode's ON_TARGET_RESTART hook: finds a target pod again after its network namespace changed
 * or went away. By namespace and name, on the node it was on: a container restarted inside its pod
 * (same namespace, new process: followed), or a pod recreated under the same name (a StatefulSet pod:
 * re-injected with ON_TARGET_RESTART=reinject). A Deployment pod replaced under a new name is not
 * followed (the run ends as with ON_TARGET_RESTART=end, exit 4 at its end).
 */
import type { TargetPod } from '../model/kube.js';
import type { NetnsRef } from '../model/netns.js';
import { parseContainerId } from '../model/runtime.js';
import type { Spec } from '../model/spec.js';
import type { Deps } from '../ports.js';
import { targetPod } from '../kube/targets.js';
import { findContainer } from '../runtime/container.js';

/** A `refind` for inject(): undefined while the pod is missing, elsewhere, terminating or its container not running. */
export function refindPod(
  deps: Pick<Deps, 'kube' | 'exec' | 'files' | 'stop'>, o: { readonly spec: Pick<Spec, 'runtime'>; readonly pod: TargetPod; readonly procRoot?: string | undefined },
): () => Promise<NetnsRef | undefined> {
  const { pod } = o;
  return async () => {
    const pods = await deps.kube.listPods(pod.namespace, { fieldSelector: `metadata.name=${pod.name}`, signal: deps.stop.signal });
    const p = pods.find((x) => x.metadata?.name === pod.name && x.spec?.nodeName === pod.node && !x.metadata?.deletionTimestamp);
    if (!p) return undefined;
    let again: TargetPod;
    try {
      again = targetPod(p, pod.container);
    } catch {
      return undefined; // the container is not running (yet)
    }
    const ref = parseContainerId('containerID', again.containerId);
    return (await findContainer(deps, { ref, runtime: o.spec.runtime, procRoot: o.procRoot, signal: deps.stop.signal })).netns;
  };
}
