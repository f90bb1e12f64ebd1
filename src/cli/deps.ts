/**
 * `netchaos deps`: the target's live connections (TCP and UDP, IPv4 and IPv6, connected and listening), read
 * from its network namespace, grouped by peer address and port, and named (Kubernetes Service or pod in
 * PEER_NAMESPACES and the named dependencies' namespaces, else reverse DNS with the target's resolver).
 * Without a target flag but with Litmus's selection (TARGETS, or APP_NS with APP_LABEL/APP_KIND or
 * TARGET_PODS): every matching pod on this node (NODE_NAME), and the others listed by node (litmus/deps.ts).
 * Changes nothing.
 */
import { buildLitmusSpec } from '../config/litmus.js';
import { buildSpec } from '../config/spec.js';
import { UsageError } from '../model/errors.js';
import { collectDeps } from '../connections/collect.js';
import { formatDeps } from '../connections/format.js';
import { describeNetns } from '../model/netns.js';
import { findContainer } from '../runtime/container.js';
import type { Action } from './context.js';
import { locateTarget, readTargetFlags } from './target-flags.js';

/** Litmus's target selection variables: with one of them and no target flag, `deps` reads the selected pods. */
const SELECTION = ['TARGETS', 'APP_NS', 'TARGET_PODS'] as const;

export const deps: Action = async (ctx) => {
  const selection = SELECTION.find((v) => ctx.get(v) !== undefined);
  const hasFlag = ['pid', 'netns', 'pidFile', 'containerId'].some((k) => ctx.opts[k] !== undefined);
  if (selection !== undefined && !hasFlag) return litmusMode(ctx);
  if (!hasFlag) throw new UsageError('--pid/--netns', 'which target? give --pid <PID>, --netns <PATH>, --pid-file <PATH> or --container-id <ID>; or, for the pods of a Litmus experiment, TARGETS (or APP_NS with APP_LABEL, or TARGET_PODS) and NODE_NAME');
  const flags = readTargetFlags(ctx.opts, true);
  const spec = buildSpec({ get: ctx.get, readFile: ctx.readFile });
  ctx.logsErrors = false;
  const host = ctx.build('warn');
  const d = ctx.depsWithoutSignals(host);
  let { netns: target } = locateTarget(d, flags, spec);
  let label = target ? describeNetns(target) : undefined;
  if (target === undefined && flags.container !== undefined) {
    const c = await findContainer(d, { ref: flags.container, runtime: spec.runtime, signal: d.stop.signal });
    if (c.note) d.log.warn(c.note);
    target = c.netns;
    label = `container ${flags.container.id.slice(0, 13)} (pid ${c.pid})`;
  }
  if (target === undefined) throw new Error('unreachable: deps without a target');
  const { report } = await collectDeps({ exec: d.exec, files: d.files, ...host.peerNaming }, {
    target, ...(label !== undefined ? { label } : {}), targetNamespaces: spec.peerNamespaces, spec, signal: d.stop.signal,
  });
  ctx.io.stdout(spec.output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatDeps(report));
  return 0;
};

/** `deps` for the pods Litmus's variables select (litmus/deps.ts); exit 1 when a pod on this node could not be read. */
async function litmusMode(ctx: Parameters<Action>[0]): Promise<number> {
  const spec = buildSpec({ get: ctx.get, readFile: ctx.readFile });
  const l = buildLitmusSpec({ get: ctx.get });
  if (l.nodeName === '') throw new UsageError('NODE_NAME', 'unknown node: deps reads the pods on this node');
  ctx.logsErrors = false;
  const host = ctx.build('warn');
  const d = ctx.depsWithoutSignals(host);
  const { litmusDeps, formatLitmusDeps } = await import('../litmus/deps.js');
  const report = await litmusDeps(d, host.peerNaming ?? {}, spec, l);
  ctx.io.stdout(spec.output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatLitmusDeps(report));
  return report.failed.length > 0 ? 1 : 0;
}
