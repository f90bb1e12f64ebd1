/** Kubernetes objects as netchaos names them: pod selectors (TARGETS and friends) and the target pods they find. */

/** Pods chosen by an equality label selector, or by name. */
export type PodSelector =
  | { readonly kind: 'labels'; readonly labels: string }
  | { readonly kind: 'names'; readonly names: readonly string[] };

export const workloadKinds = ['deployment', 'statefulset', 'daemonset', 'replicaset', 'deploymentconfig', 'rollout', 'pod', 'any'] as const;
export type WorkloadKind = (typeof workloadKinds)[number];

/** One TARGETS entry: `deployment:shop:[app=frontend]`. */
/** A TARGETS entry's pods: by labels or names, or `[]` (every pod of that kind in the namespace but Litmus's own). */
export type TargetPods = PodSelector | { readonly kind: 'all' };

export interface TargetSelector {
  readonly kind: WorkloadKind;
  readonly namespace: string;
  readonly pods: TargetPods;
}

/** `[app=web]`, `[web-0,web-1]` or `[]`, as in the TARGETS format. */
export const selectorText = (p: TargetPods): string => (p.kind === 'labels' ? `[${p.labels}]` : p.kind === 'names' ? `[${p.names.join(',')}]` : '[]');

/** A pod, and the node it runs on. */
export interface PodRef {
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
}

/** A selected target pod: the container whose network namespace is entered. */
export interface TargetPod extends PodRef {
  readonly uid: string;
  readonly container: string;
  /** As Kubernetes reports it, e.g. `containerd://4f3c…`. */
  readonly containerId: string;
  /** A service-mesh sidecar found on the pod (src/kube/mesh.ts), e.g. `istio (container istio-proxy)`. */
  readonly mesh?: string;
}

/** `shop/frontend-1`. */
export const podText = (p: PodRef): string => `${p.namespace}/${p.name}`;

/** How far a target pod got: selected, fault in place, fault removed. */
export type TargetStatus = 'targeted' | 'injected' | 'reverted';
