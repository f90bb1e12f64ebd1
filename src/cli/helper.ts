/** `netchaos helper`: what a helper pod runs (created by `netchaos run` for targets on other nodes). */
import { readNodeName } from '../config/litmus.js';
import { JOB_ENV } from '../litmus/helper-job.js';
import { RESULT_PATH } from '../model/litmus.js';
import { readJob, runHelper } from '../litmus/helper.js';
import type { Action } from './context.js';

/** Helper pods start often (one per node and run): everything is loaded at start-up, the signals are handled from the first moment. */
export const helper: Action = async (ctx) => {
  const resultPath = ctx.option('resultFile') ?? RESULT_PATH;
  const nodeName = readNodeName({ get: ctx.get });
  const { job, spec } = readJob(ctx.io.env[JOB_ENV], { resultPath, nodeName });
  return ctx.withStop(ctx.build(spec.logLevel), (deps) => runHelper(deps, job, spec, { resultPath, nodeName }));
};
