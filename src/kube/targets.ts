/** Target pods: TARGETS/TARGET_PODS → matching pods → PODS_AFFECTED_PERC → the ones on this node (and, for helper pods, elsewhere). */
import type { V1Pod } from '@kubernetes/client-node';
import { RefusedError, TargetSelectionError } from '../model/errors.js';
import type { LitmusSpec, PercentRange } from '../model/litmus.js';
import { meshOf } from './mesh.js';
import { type PodRef, type PodSelector, type TargetPod, type TargetPods, type TargetSelector, type WorkloadKind, selectorText } from '../model/kube.js';
import type { Deps, KubeApi } from '../ports.js';

export interface Selection {
  /** Target pods on this node, in the order they are injected. */
  readonly here: readonly TargetPod[];
  /** Target pods on other nodes, injected through helper pods (HELPER_MODE auto/always). */
  readonly elsewhere: readonly TargetPod[];
  /** Selected pods on other nodes with HELPER_MODE=never: not touched, listed in the log and the result. */
  readonly skipped: readonly PodRef[];
  /** How many pods matched before PODS_AFFECTED_PERC. */
  readonly matched: number;
}

const ownerKinds: Readonly<Record<WorkloadKind, readonly string[]>> = {
  deployment: ['ReplicaSet'], replicaset: ['ReplicaSet'], rollout: ['ReplicaSet'], statefulset: ['StatefulSet'],
  daemonset: ['DaemonSet'], deploymentconfig: ['ReplicationController'], pod: [], any: [],
};

/** Whether the pod belongs to a workload of this kind (and name, when names are given). */
function ownedBy(pod: V1Pod, kind: WorkloadKind, name: string | undefined): boolean {
  if (kind === 'any') return true;
  if (kind === 'pod') return name === undefined || pod.metadata?.name === name;
  const owners = (pod.metadata?.ownerReferences ?? []).filter((o) => ownerKinds[kind].includes(o.kind));
  if (name === undefined) return owners.length > 0;
  return owners.some((o) => {
    if (kind === 'deployment' || kind === 'rollout') return new RegExp(`^${name.replaceAll('.', '\\.')}-[a-z0-9]+$`).test(o.name);
    if (kind === 'deploymentconfig') return new RegExp(`^${name.replaceAll('.', '\\.')}-\\d+$`).test(o.name);
    return o.name === name;
  });
}

const isLitmusPod = (p: V1Pod): boolean => {
  const labels = p.metadata?.labels ?? {};
  return labels['chaosUID'] !== undefined || labels['app.kubernetes.io/part-of'] === 'litmus' || labels['name'] === 'chaos-operator';
};

const isLive = (p: V1Pod): boolean => p.metadata?.deletionTimestamp === undefined && p.status?.phase === 'Running';

export interface PodQuery {
  readonly namespace: string;
  readonly pods: PodSelector | TargetPods;
  readonly kind: WorkloadKind;
  readonly signal?: AbortSignal | undefined;
}

/** The pods a selector names in a namespace, owned by a workload of that kind. */
export async function findPods(api: KubeApi, q: PodQuery): Promise<V1Pod[]> {
  const { namespace, pods, kind, signal } = q;
  if (pods.kind === 'all') {
    // `KIND:<ns>:[]`: every pod of that kind in the namespace, except Litmus's own (runner, experiment, helper
    // and probe pods carry a chaosUID label or are part of litmus), as litmus-go leaves its own pods out.
    const list = await api.listPods(namespace, { signal });
    return list.filter((p) => !isLitmusPod(p) && ownedBy(p, kind, undefined));
  }
  if (pods.kind === 'labels') {
    const list = await api.listPods(namespace, { labelSelector: pods.labels, signal });
    return list.filter((p) => ownedBy(p, kind, undefined));
  }
  const list = await api.listPods(namespace, { signal });
  return list.filter((p) => pods.names.some((n) => (kind === 'pod' || kind === 'any' ? p.metadata?.name === n : ownedBy(p, kind, n))));
}

const targetsText = (t: TargetSelector): string => `${t.kind}:${t.namespace}:${selectorText(t.pods)}`;

/** How many of `total` pods PODS_AFFECTED_PERC asks for: at least one. */
export function affectedCount(total: number, range: PercentRange, random: () => number): number {
  const pct = range.min + Math.floor(random() * (range.max - range.min + 1));
  return Math.min(total, Math.max(1, Math.round((total * Math.min(pct, 100)) / 100)));
}

function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const a = out[i];
    const b = out[j];
    if (a !== undefined && b !== undefined) { out[i] = b; out[j] = a; }
  }
  return out;
}

const ref = (p: V1Pod): PodRef => ({ namespace: p.metadata?.namespace ?? '', name: p.metadata?.name ?? '', node: p.spec?.nodeName ?? '' });

/** The target pods of a Litmus run; `deps.stop` ends the lookups when the run stops. */
export async function selectTargets(deps: Pick<Deps, 'kube' | 'random' | 'stop'>, l: LitmusSpec): Promise<Selection> {
  const { kube: api, random } = deps;
  const signal = deps.stop.signal;
  const first = l.targets[0];
  const selectors: TargetSelector[] = l.targetPods.length > 0 && first
    ? [{ kind: 'pod', namespace: first.namespace, pods: { kind: 'names', names: l.targetPods } }]
    : [...l.targets];
  const byUid = new Map<string, V1Pod>();
  for (const s of selectors) {
    for (const p of await findPods(api, { namespace: s.namespace, pods: s.pods, kind: s.kind, signal })) byUid.set(p.metadata?.uid ?? `${s.namespace}/${p.metadata?.name ?? ''}`, p);
  }
  const all = [...byUid.values()];
  let live = all.filter(isLive);
  const described = selectors.map(targetsText).join(';');
  if (live.length === 0) {
    const notRunning = all.map((p) => `${p.metadata?.name ?? '?'} (${p.metadata?.deletionTimestamp ? 'terminating' : p.status?.phase ?? 'unknown'})`);
    throw new TargetSelectionError(notRunning.length > 0
      ? `no Running pod among those matching ${described}: ${notRunning.join(', ')}`
      : `no pod matches ${described}: check the ChaosEngine's appinfo / TARGETS (${selectors.map((s) => `kubectl get pods -n ${s.namespace}${s.pods.kind === 'labels' ? ` -l ${s.pods.labels}` : ''}`).join('; ')})`);
  }
  if (l.nodeLabel !== undefined) {
    const nodes = new Set((await api.listNodes(l.nodeLabel, { signal })).map((n) => n.metadata?.name ?? ''));
    live = live.filter((p) => nodes.has(p.spec?.nodeName ?? ''));
    if (live.length === 0) throw new TargetSelectionError(`no pod matching ${described} runs on a node labelled ${l.nodeLabel} (NODE_LABEL)`);
  }
  // Every candidate, not only the ones drawn: whether a run is refused must not depend on PODS_AFFECTED_PERC's draw.
  for (const p of live) refuseHostNetwork(p);
  const count = affectedCount(live.length, l.podsAffected, random);
  const here = live.filter((p) => p.spec?.nodeName === l.nodeName);
  const others = live.filter((p) => p.spec?.nodeName !== l.nodeName);
  const chosen = [...shuffle(here, random), ...shuffle(others, random)].slice(0, count);
  const chosenHere = chosen.filter((p) => p.spec?.nodeName === l.nodeName);
  const chosenElsewhere = chosen.filter((p) => p.spec?.nodeName !== l.nodeName);
  if (l.helperMode !== 'never') {
    return { here: chosenHere.map((p) => targetPod(p, l.targetContainer)), elsewhere: chosenElsewhere.map((p) => targetPod(p, l.targetContainer)), skipped: [], matched: live.length };
  }
  const elsewhere = chosenElsewhere.map(ref);
  if (chosenHere.length === 0) {
    const nodes = [...new Set(elsewhere.map((p) => p.node))];
    throw new TargetSelectionError(`the target pod(s) ${elsewhere.map((p) => `${p.namespace}/${p.name}`).join(', ')} run on node(s) ${nodes.join(', ')}, not on this node ${l.nodeName}. With HELPER_MODE=never netchaos only enters pods on its own node: use HELPER_MODE=auto (helper pods on the targets' nodes), or schedule the experiment onto the target's node, e.g. in the ChaosEngine spec.experiments[].spec.components.nodeSelector: {kubernetes.io/hostname: ${nodes[0] ?? '<node>'}}`);
  }
  return { here: chosenHere.map((p) => targetPod(p, l.targetContainer)), elsewhere: [], skipped: elsewhere, matched: live.length };
}

function refuseHostNetwork(p: V1Pod): void {
  if (p.spec?.hostNetwork !== true) return;
  const r = ref(p);
  throw new RefusedError(`pod ${r.namespace}/${r.name} runs with hostNetwork: true: its network namespace is node ${r.node || '?'}'s own, so a fault there would reach the node's own traffic (kubelet, every hostNetwork pod on it). netchaos refuses it; nothing was changed. Pick pods without hostNetwork (TARGETS / APP_LABEL / TARGET_PODS).`);
}

/** A pod becomes a target here; a hostNetwork pod never does (its namespace is the node's). */
export function targetPod(p: V1Pod, wanted: string | undefined): TargetPod {
  const r = ref(p);
  refuseHostNetwork(p);
  const names = (p.spec?.containers ?? []).map((c) => c.name);
  const container = wanted ?? names[0];
  if (container === undefined || !names.includes(container)) {
    throw new TargetSelectionError(`pod ${r.namespace}/${r.name} has no container ${JSON.stringify(container ?? '')} (TARGET_CONTAINER); its containers are: ${names.join(', ') || 'none'}`);
  }
  const status = (p.status?.containerStatuses ?? []).find((c) => c.name === container);
  const containerId = status?.containerID ?? '';
  if (containerId === '' || status?.state?.running === undefined) {
    throw new TargetSelectionError(`container ${container} of pod ${r.namespace}/${r.name} is not running (no containerID yet): wait until it is, or pick another TARGET_CONTAINER`);
  }
  const mesh = meshOf(p);
  return { ...r, uid: p.metadata?.uid ?? '', container, containerId, ...(mesh !== undefined ? { mesh } : {}) };
}

/**
 * The status check of litmus-go (pkg/status/application.go): every pod matching each TARGETS entry is Running
 * with all its containers ready (an entry matching no pod is a problem too). One try; the caller retries.
 */
export async function checkTargetsHealth(api: KubeApi, selectors: readonly TargetSelector[], signal?: AbortSignal): Promise<string[]> {
  const problems: string[] = [];
  for (const s of selectors) {
    const pods = await findPods(api, { namespace: s.namespace, pods: s.pods, kind: s.kind, signal });
    if (pods.length === 0) problems.push(`no pod matches ${targetsText(s)}`);
    for (const p of pods) {
      const name = `${s.namespace}/${p.metadata?.name ?? '?'}`;
      if (p.metadata?.deletionTimestamp !== undefined) { problems.push(`${name} is terminating`); continue; }
      if (p.status?.phase !== 'Running') problems.push(`${name} is ${p.status?.phase ?? 'in an unknown phase'}, not Running`);
      const unready = (p.status?.containerStatuses ?? []).filter((c) => !c.ready).map((c) => c.name);
      if (unready.length > 0) problems.push(`${name}: container(s) ${unready.join(', ')} not ready`);
    }
  }
  return problems;
}

/** Health check (DEFAULT_HEALTH_CHECK): every pod still exists, is Running, and all its containers are ready. */
export async function checkHealth(api: KubeApi, pods: readonly PodRef[], signal?: AbortSignal): Promise<string[]> {
  const problems: string[] = [];
  const namespaces = [...new Set(pods.map((p) => p.namespace))];
  for (const ns of namespaces) {
    const current = await api.listPods(ns, { signal });
    for (const want of pods.filter((p) => p.namespace === ns)) {
      const p = current.find((x) => x.metadata?.name === want.name);
      if (!p) { problems.push(`${ns}/${want.name} no longer exists`); continue; }
      if (p.status?.phase !== 'Running') problems.push(`${ns}/${want.name} is ${p.status?.phase ?? 'in an unknown phase'}, not Running`);
      const unready = (p.status?.containerStatuses ?? []).filter((c) => !c.ready).map((c) => c.name);
      if (unready.length > 0) problems.push(`${ns}/${want.name}: container(s) ${unready.join(', ')} not ready`);
    }
  }
  return problems;
}
