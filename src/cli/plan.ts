/** `netchaos plan`: what inject would do (dependencies, tree, tc batch, owner marker, probes); changes nothing. */
import { buildSpec } from '../config/spec.js';
import { describeQdisc, isKernelDefault, isOurs, rootOf } from '../tc/parse.js';
import { prepare } from '../lifecycle/prepare.js';
import type { BlastSection } from '../connections/section.js';
import { catSocketTables } from '../connections/raw.js';
import type { Action } from './context.js';
import { planTextPieces, writePlanJson } from './plan-output.js';
import { locateTarget, readTargetFlags } from './target-flags.js';

export const plan: Action = async (ctx) => {
  const flags = readTargetFlags(ctx.opts, false);
  const spec = buildSpec({ get: ctx.get, readFile: ctx.readFile });
  ctx.logsErrors = false;
  const host = ctx.build('warn');
  const deps = ctx.depsWithoutSignals(host);
  const { netns } = locateTarget(deps, flags, spec);
  const prepared = await prepare(deps, { spec, netns, container: flags.container });
  // The root qdisc and the target's sockets are read at once (two read-only execs for a --netns target: the
  // section no longer adds its exec's whole duration to the wait). The qdisc read starts first and its result
  // (or error) is taken first, so that a failure is reported as before.
  const qdiscRead = prepared.netns ? deps.tc.qdiscs(prepared.netns, spec.interface) : undefined;
  // Handled at once: when the qdisc read fails, the section's own failure must not become an unhandled rejection.
  qdiscRead?.catch(() => undefined);
  // A --netns target's sockets are read by an exec, started before the code that parses them is loaded.
  const startedRead = prepared.netns?.kind === 'netns' && spec.blastRadius ? catSocketTables(deps.exec, prepared.netns, { signal: deps.stop.signal }) : undefined;
  startedRead?.catch(() => undefined);
  // The connections code (and ipaddr.js) is loaded for a target's blast radius only: `plan` of a list does not need it.
  const section = prepared.netns && spec.blastRadius ? await import('../connections/section.js') : undefined;
  const blastRead = prepared.netns && section
    ? section.blastSection({ exec: deps.exec, files: deps.files, ...(host.peerNaming ? { catalogApi: host.peerNaming.catalogApi } : {}) }, {
      target: prepared.netns, spec, plan: prepared.plan, resolved: prepared.resolved, signal: deps.stop.signal,
      ...(startedRead ? { startedRead } : {}),
      ...(prepared.container && ctx.option('containerId') ? { label: `container ${ctx.option('containerId')?.slice(0, 13) ?? ''} (pid ${prepared.container.pid})` } : {}),
    })
    : undefined;
  blastRead?.catch(() => undefined);
  const notes: string[] = [];
  let root: string | undefined;
  if (qdiscRead) {
    const current = rootOf(await qdiscRead);
    root = describeQdisc(current);
    if (isOurs(current)) notes.push('inject would be REFUSED: a netchaos tree is already there (netchaos revert removes it)');
    else if (!isKernelDefault(current)) notes.push(spec.force ? 'inject would REPLACE this foreign root qdisc (--force); it is not restored afterwards' : 'inject would be REFUSED: the root qdisc is not a kernel default (use --force to replace it)');
  }
  const blast: BlastSection | undefined = await blastRead;
  const blastText = blast && section && spec.output !== 'json' ? section.formatBlastSection(blast) : undefined;
  const view = { spec, prepared, containerId: ctx.option('containerId'), root, notes, nowMs: deps.clock.now(), blast, blastText };
  if (spec.output === 'json') await writePlanJson(view, ctx.io.stdout, ctx.io.drained);
  else {
    // In pieces, as the JSON: each one written (and, to a pipe, taken by the reader) before the next is made.
    for (const piece of planTextPieces(view)) {
      ctx.io.stdout(piece);
      if (ctx.io.drained) await ctx.io.drained();
    }
  }
  return 0;
};
