/**
 * `netchaos run`: Litmus mode. Bad input exits 2 with nothing changed, and still writes ChaosResult Error/Error
 * with the problems when the run can be named; then litmus/run.ts does the experiment.
 */
import { UsageError, UsageErrors } from '../model/errors.js';
import { buildLitmusSpec, readRunIdentity } from '../config/litmus.js';
import { buildSpec } from '../config/spec.js';
import { variables } from '../config/vars.js';
import type { Action, Context } from './context.js';

export const run: Action = async (ctx) => {
  const problems: UsageError[] = [];
  const collect = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (error) {
      if (!(error instanceof UsageErrors)) throw error;
      problems.push(...error.errors);
      return undefined;
    }
  };
  // What a helper pod's job needs to parse the same Spec: the raw fault variables and the files they name.
  const files: Record<string, string> = {};
  const spec = collect(() => buildSpec({ get: ctx.get, readFile: (p) => (files[p] = ctx.readFile(p)) }));
  const litmus = collect(() => buildLitmusSpec({ get: ctx.get }));
  if (!spec || !litmus) {
    await reportBadInput(ctx, problems);
    throw new UsageErrors(problems);
  }
  // The signals are the run's from here on: one during the import below still ends in a Stopped ChaosResult.
  return ctx.withStop(ctx.build(spec.logLevel), async (deps) => {
    const { runLitmus } = await import('../litmus/run.js');
    return runLitmus(deps, spec, litmus, { jobInputs: { variables: faultVariables(ctx), files } });
  });
};

/** The raw fault variables (everything that is not Litmus-only), as a helper job carries them. */
function faultVariables(ctx: Context): Record<string, string> {
  return Object.fromEntries(variables.filter((v) => !('litmusOnly' in v && v.litmusOnly)).flatMap((v) => {
    const r = ctx.get(v.env);
    return r ? [[v.env, r.value]] : [];
  }));
}

/** ChaosResult Error/Error with the problems, when the run can be named (CHAOSENGINE, EXPERIMENT_NAME, CHAOS_NAMESPACE). */
async function reportBadInput(ctx: Context, problems: readonly UsageError[]): Promise<void> {
  const identity = readRunIdentity({ get: ctx.get });
  if (!identity) return;
  const host = ctx.build('info');
  const { reportBadInput: report } = await import('../litmus/report.js');
  const reason = `bad input, nothing was changed: ${problems.map((p) => p.message).join('; ')}`;
  await report({ api: host.kube, litmus: identity, log: host.log, now: host.clock.now, random: host.random }, reason);
}
