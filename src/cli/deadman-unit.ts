/** `netchaos deadman-unit` (hidden): prints the systemd dead-man's `nsenter … systemd-run …` argv and its commands (JSON), changing nothing: for review and the lab. */
import { ExitCode, UsageError } from '../model/errors.js';
import { parseAbsolutePath } from '../config/values.js';
import { systemdArmArgs, systemdCommands } from '../lifecycle/deadman.js';
import type { Action } from './context.js';
import { parseDeadmanIdentity } from './watchdog.js';

export const deadmanUnit: Action = (ctx) => {
  const { runId, nsId, deadlineS, iface } = parseDeadmanIdentity('deadman-unit', ctx.opts);
  const given = ctx.option('direction') ?? 'egress';
  const direction = (['egress', 'ingress', 'both'] as const).find((d) => d === given);
  if (direction === undefined) throw new UsageError('deadman-unit', `--direction must be egress, ingress or both, not ${JSON.stringify(given)}`);
  const r = { runId, generation: Number(ctx.option('generation') ?? '1'), deadlineS, nsId, path: parseAbsolutePath('--path', ctx.option('path') ?? ''), interface: iface, direction };
  ctx.logsErrors = false;
  const deps = ctx.depsWithoutSignals(ctx.build('warn'));
  ctx.io.stdout(`${JSON.stringify({ nsenter: systemdArmArgs(r, Math.floor(deps.clock.now() / 1000)), commands: systemdCommands(r) }, null, 2)}\n`);
  return Promise.resolve(ExitCode.ok);
};
