/**
 * `netchaos run`: Litmus mode. Bad input changes nothing and writes ChaosResult Error/Error with the problems
 * when the run can be named (then, as every recorded verdict, exit 0: litmus/run.ts says why); exit 2 when it
 * cannot be written. Then litmus/run.ts does the experiment.
 */
import { ExitCode, UsageError, UsageErrors } from '../model/errors.js';
import { buildLitmusSpec, readRunIdentity } from '../config/litmus.js';
import { buildSpec } from '../config/spec.js';
import { variables } from '../config/vars.js';
import type { ProbeKube } from '../litmus/probes.js';
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
    if (await reportBadInput(ctx, problems)) {
      ctx.io.stderr(`netchaos: bad input, nothing was changed:\n${problems.map((p) => `  ${p.message}`).join('\n')}\nnetchaos: verdict Error recorded in the ChaosResult: exit 0, as litmus-go (the chaos-runner reads the verdict there)\n`);
      return ExitCode.ok;
    }
    throw new UsageErrors(problems);
  }
  // The signals are the run's from here on: one during the import below still ends in a Stopped ChaosResult.
  return ctx.withStop(ctx.build(spec.logLevel), async (deps) => {
    const { runLitmus } = await import('../litmus/run.js');
    return runLitmus(deps, spec, litmus, { jobInputs: { variables: faultVariables(ctx), files }, probeKube: () => probeKube(ctx), stderr: ctx.io.stderr });
  });
};

/** The raw fault variables (everything that is not Litmus-only), as a helper job carries them. */
function faultVariables(ctx: Context): Record<string, string> {
  return Object.fromEntries(variables.filter((v) => !('litmusOnly' in v && v.litmusOnly)).flatMap((v) => {
    const r = ctx.get(v.env);
    return r ? [[v.env, r.value]] : [];
  }));
}

/** The generic client and pod exec of the resilience probes, from the same kubeconfig as the rest (in-cluster in a pod). */
async function probeKube(ctx: Context): Promise<ProbeKube> {
  const [{ kubeConfigFor }, { createDynamicKube, createPodExec }] = await Promise.all([import('../kube/api.js'), import('../kube/dynamic.js')]);
  const kc = await kubeConfigFor(ctx.io.env);
  return { kube: createDynamicKube(kc), podExec: createPodExec(kc) };
}

/** ChaosResult Error/Error with the problems, when the run can be named (CHAOSENGINE, EXPERIMENT_NAME, CHAOS_NAMESPACE); true when written. */
async function reportBadInput(ctx: Context, problems: readonly UsageError[]): Promise<boolean> {
  const identity = readRunIdentity({ get: ctx.get });
  if (!identity) return false;
  const host = ctx.build('info');
  const { reportBadInput: report } = await import('../litmus/report.js');
  const reason = `bad input, nothing was changed: ${problems.map((p) => p.message).join('; ')}`;
  return report({ api: host.kube, litmus: identity, log: host.log, now: host.clock.now, random: host.random }, reason);
}
