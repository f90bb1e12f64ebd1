/**
 * `netchaos watchdog` (hidden): the process dead-man, started detached by inject. It sleeps until the
 * deadline, then sweeps this run's tree; SIGTERM ends it at once (that is how the runner cancels it).
 */
import { ExitCode, UsageError } from '../model/errors.js';
import { isRunId } from '../tc/marker.js';
import { parseAbsolutePath, parseInterfaceName } from '../config/values.js';
import { describeSweep, sweep } from '../lifecycle/sweep.js';
import type { Action, Options } from './context.js';

/** The run, namespace, deadline and interface that the hidden dead-man commands (watchdog, deadman-unit) take. */
export function parseDeadmanIdentity(command: string, opts: Options): { runId: string; nsId: string; deadlineS: number; iface: string } {
  const text = (key: string): string => (typeof opts[key] === 'string' ? opts[key] : '');
  const [runId, nsId, deadline] = [text('runId'), text('netnsId'), text('deadline')];
  if (!isRunId(runId) || !/^net:\[\d+\]$/.test(nsId) || !/^\d{1,10}$/.test(deadline)) {
    throw new UsageError(command, 'expects --run-id <16 hex digits> --netns-id net:[<inode>] --deadline <unix seconds>');
  }
  return { runId, nsId, deadlineS: Number(deadline), iface: parseInterfaceName('--interface', text('interface')) };
}

export const watchdog: Action = async (ctx) => {
  const { runId, nsId, deadlineS, iface } = parseDeadmanIdentity('watchdog', ctx.opts);
  const hintText = ctx.option('hint');
  const hint = hintText !== undefined ? parseAbsolutePath('--hint', hintText) : undefined;
  const deps = ctx.depsWithoutSignals(ctx.build('info'));
  const deadlineMs = deadlineS * 1000;
  deps.log.info({ runId, nsId, deadline: new Date(deadlineMs).toISOString(), pid: process.pid }, 'dead-man watchdog: waiting for the deadline');
  while (deps.clock.now() < deadlineMs) await deps.clock.sleep(Math.min(60_000, deadlineMs - deps.clock.now()));
  const report = await sweep(deps, { interface: iface, only: { nsId, runId, ...(hint !== undefined ? { hint } : {}) } });
  deps.log.info({ report }, `dead-man watchdog at the deadline: ${describeSweep(report).trim().replaceAll('\n', ' | ')}`);
  return report.trees.some((t) => t.status === 'failed') ? ExitCode.revertFailed : ExitCode.ok;
};
