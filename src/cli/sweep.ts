/** `netchaos sweep`: remove every expired netchaos tree in every network namespace on this node; list the others. */
import { ExitCode } from '../model/errors.js';
import { readVariable } from '../config/reader.js';
import { parseInterfaceName, parseLogLevel } from '../config/values.js';
import { describeSweep, sweep as sweepAll } from '../lifecycle/sweep.js';
import type { Action } from './context.js';

export const sweep: Action = async (ctx) => {
  const only = ctx.flagsOnly('NETWORK_INTERFACE') ? readVariable({ get: ctx.flagsOnly }, 'NETWORK_INTERFACE', parseInterfaceName) : undefined;
  const logLevel = ctx.flagsOnly('LOG_LEVEL') ? readVariable({ get: ctx.flagsOnly }, 'LOG_LEVEL', parseLogLevel) : 'warn';
  const deps = ctx.depsWithoutSignals(ctx.build(logLevel));
  const report = await sweepAll(deps, only !== undefined ? { interface: only } : {});
  ctx.io.stdout(ctx.option('output') === 'json' ? `${JSON.stringify(report, null, 2)}\n` : describeSweep(report));
  return report.trees.some((t) => t.status === 'failed') ? ExitCode.revertFailed : ExitCode.ok;
};
