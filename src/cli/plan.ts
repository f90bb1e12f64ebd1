/** `netchaos plan`: what inject would do (dependencies, tree, tc batch, owner marker, probes); changes nothing. */
import { buildSpec } from '../config/spec.js';
import { describeQdisc, isKernelDefault, isOurs, rootOf } from '../tc/parse.js';
import { prepare } from '../lifecycle/prepare.js';
import { type BlastSection, blastSection } from '../connections/section.js';
import type { Action } from './context.js';
import { planText, writePlanJson } from './plan-output.js';
import { locateTarget, readTargetFlags } from './target-flags.js';

export const plan: Action = async (ctx) => {
  const flags = readTargetFlags(ctx.opts, false);
  const spec = buildSpec({ get: ctx.get, readFile: ctx.readFile });
  ctx.logsErrors = false;
  const host = ctx.build('warn');
  const deps = ctx.depsWithoutSignals(host);
  const { netns } = locateTarget(deps, flags, spec);
  const prepared = await prepare(deps, { spec, netns, container: flags.container });
  const notes: string[] = [];
  let root: string | undefined;
  if (prepared.netns) {
    const current = rootOf(await deps.tc.qdiscs(prepared.netns, spec.interface));
    root = describeQdisc(current);
    if (isOurs(current)) notes.push('inject would be REFUSED: a netchaos tree is already there (netchaos revert removes it)');
    else if (!isKernelDefault(current)) notes.push(spec.force ? 'inject would REPLACE this foreign root qdisc (--force); it is not restored afterwards' : 'inject would be REFUSED: the root qdisc is not a kernel default (use --force to replace it)');
  }
  let blast: BlastSection | undefined;
  if (prepared.netns && spec.blastRadius) {
    blast = await blastSection({ exec: deps.exec, files: deps.files, ...(host.peerNaming ? { catalogApi: host.peerNaming.catalogApi } : {}) }, {
      target: prepared.netns, spec, plan: prepared.plan, resolved: prepared.resolved, signal: deps.stop.signal,
      ...(prepared.container && ctx.option('containerId') ? { label: `container ${ctx.option('containerId')?.slice(0, 13) ?? ''} (pid ${prepared.container.pid})` } : {}),
    });
  }
  const view = { spec, prepared, containerId: ctx.option('containerId'), root, notes, nowMs: deps.clock.now(), blast };
  if (spec.output === 'json') writePlanJson(view, ctx.io.stdout);
  else ctx.io.stdout(planText(view));
  return 0;
};
