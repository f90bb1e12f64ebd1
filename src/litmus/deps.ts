/**
 * `netchaos deps` in Litmus mode (TARGETS, or APP_NS with APP_LABEL/APP_KIND or TARGET_PODS, as `run` reads
 * them, and NODE_NAME): every pod the selection matches — all of them, not a PODS_AFFECTED_PERC draw, so the
 * answer does not change from one call to the next — split by node. Pods on this node: their container found
 * through the runtime (as `run` does), their connections read and named (as `deps --pid`). Pods on other
 * nodes: listed with their node; `deps` must run there (the experiment's runner pod scheduled on that node,
 * or any pod with the same hostPID and socket access). No helper pod: a read-only query would otherwise
 * create privileged hostPID pods (create/delete pods, an image pull and a start on each node, tens of
 * seconds) — `run` already reads those pods' blast radius through its own helpers, before the chaos.
 * Changes nothing.
 */
import { messageOf } from '../model/errors.js';
import { type TargetPod, podText } from '../model/kube.js';
import type { LitmusSpec } from '../model/litmus.js';
import { parseContainerId } from '../model/runtime.js';
import type { Spec } from '../model/spec.js';
import type { Deps } from '../ports.js';
import { selectTargets } from '../kube/targets.js';
import { findContainer } from '../runtime/container.js';
import { collectDeps } from '../connections/collect.js';
import { type DepsReport, formatDeps } from '../connections/format.js';
import type { NamingDeps } from '../connections/naming.js';

/** What `deps --output json` prints in Litmus mode. */
export interface LitmusDepsReport {
  readonly mode: 'litmus';
  /** This node (NODE_NAME). */
  readonly node: string;
  /** Running pods the selection matched, on every node. */
  readonly matched: number;
  /** Pods on this node, read here, in the selection's order. */
  readonly pods: readonly (DepsReport & { readonly pod: string; readonly container: string })[];
  /** Pods on this node whose connections could not be read, and why. */
  readonly failed: readonly { readonly pod: string; readonly error: string }[];
  /** Pods on other nodes: not read here. */
  readonly elsewhere: readonly { readonly pod: string; readonly node: string }[];
}

const byName = (a: TargetPod, b: TargetPod): number => podText(a).localeCompare(podText(b));

export async function litmusDeps(deps: Deps, naming: Omit<NamingDeps, 'files'>, spec: Spec, l: LitmusSpec): Promise<LitmusDepsReport> {
  const signal = deps.stop.signal;
  // Every candidate (100 %), and the ones elsewhere listed rather than refused (HELPER_MODE=never would throw).
  const selection = await selectTargets(deps, { ...l, podsAffected: { min: 100, max: 100 }, helperMode: 'auto' });
  const pods: LitmusDepsReport['pods'][number][] = [];
  const failed: { pod: string; error: string }[] = [];
  for (const pod of [...selection.here].sort(byName)) {
    try {
      const c = await findContainer(deps, { ref: parseContainerId('containerID', pod.containerId), runtime: spec.runtime, signal });
      if (c.note) deps.log.warn({ pod: podText(pod) }, c.note);
      const { report } = await collectDeps({ exec: deps.exec, files: deps.files, ...naming }, {
        target: c.netns, label: `pod ${podText(pod)} (container ${pod.container}, pid ${c.pid})`,
        targetNamespaces: [...new Set([pod.namespace, ...spec.peerNamespaces])], spec, signal,
      });
      pods.push({ pod: podText(pod), container: pod.container, ...report });
    } catch (error) {
      if (signal.aborted) throw error;
      failed.push({ pod: podText(pod), error: messageOf(error) });
    }
  }
  return {
    mode: 'litmus', node: l.nodeName, matched: selection.matched, pods, failed,
    elsewhere: [...selection.elsewhere].sort(byName).map((p) => ({ pod: podText(p), node: p.node })),
  };
}

export function formatLitmusDeps(r: LitmusDepsReport): string {
  const here = r.pods.length + r.failed.length;
  const out: string[] = [`Litmus mode: ${r.matched} running ${r.matched === 1 ? 'pod matches' : 'pods match'} the selection (every one, not a PODS_AFFECTED_PERC draw); ${here} on this node (${r.node})${here > 0 ? ', read here' : ''}.`];
  for (const p of r.pods) out.push('', formatDeps(p).trimEnd());
  for (const f of r.failed) out.push('', `Connections of pod ${f.pod}: not read: ${f.error}`);
  if (r.elsewhere.length > 0) {
    const nodes = [...new Set(r.elsewhere.map((e) => e.node))];
    out.push('', `Pods on other nodes (${r.elsewhere.length}), not read here: run \`netchaos deps\` with the same ENV on their node (NODE_NAME=${nodes.length === 1 ? nodes[0] ?? '' : '<node>'}), e.g. in the experiment's pod scheduled there; \`netchaos run\` reads them through its helper pods before the chaos (ChaosResult status.netchaosBlastRadius):`);
    const width = Math.max(...r.elsewhere.map((e) => e.pod.length));
    for (const e of r.elsewhere) out.push(`  ${e.pod.padEnd(width)}  node ${e.node}`);
  }
  return `${out.join('\n')}\n`;
}
