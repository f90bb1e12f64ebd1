/**
 * `netchaos deps`: the target's live connections (TCP and UDP, IPv4 and IPv6, connected and listening), read
 * from its network namespace, grouped by peer address and port, and named (Kubernetes Service or pod in
 * PEER_NAMESPACES and the named dependencies' namespaces, else reverse DNS with the target's resolver).
 * Changes nothing.
 */
import { buildSpec } from '../config/spec.js';
import { collectDeps } from '../connections/collect.js';
import { formatDeps } from '../connections/format.js';
import { describeNetns } from '../model/netns.js';
import { findContainer } from '../runtime/container.js';
import type { Action } from './context.js';
import { locateTarget, readTargetFlags } from './target-flags.js';

export const deps: Action = async (ctx) => {
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
