/** `netchaos revert`: remove this tool's tree from a namespace, if present (exit 0 also when there is nothing to remove). */
import { ExitCode } from '../model/errors.js';
import { readVariable } from '../config/reader.js';
import { parseInterfaceName, parseLogLevel } from '../config/values.js';
import { checkNetns } from '../netns/namespaces.js';
import { emitter } from '../lifecycle/events.js';
import { revert as revertTree } from '../lifecycle/revert.js';
import type { Action } from './context.js';
import { readTargetFlags } from './target-flags.js';

export const revert: Action = async (ctx) => {
  const { netns } = readTargetFlags(ctx.opts, true);
  if (!netns) return ExitCode.ok;
  const iface = readVariable({ get: ctx.get }, 'NETWORK_INTERFACE', parseInterfaceName);
  const logLevel = ctx.flagsOnly('LOG_LEVEL') ? readVariable({ get: ctx.flagsOnly }, 'LOG_LEVEL', parseLogLevel) : 'info';
  return ctx.withStop(ctx.build(logLevel), async (deps, stop) => {
    await checkNetns(deps, netns);
    // A signal does not interrupt the revert (the Stop is never passed to it): it is only said.
    stop.onStop(() => { deps.log.warn('signal received during revert: finishing the revert first'); });
    const result = await revertTree(deps, { netns, interface: iface, emit: emitter(deps.log) });
    return result === 'gone' ? ExitCode.targetGone : ExitCode.ok;
  });
};
