/**
 * The variable table as commander options: one flag per variable, with its ENV name and default in the help; and the
 * target flags of the local commands (read by ./target-flags.ts).
 */
import { type Command, Option } from 'commander';
import { variables } from '../config/vars.js';

/** Adds a flag for every variable; `local` leaves out the Litmus-only ones (TARGETS, CHAOSENGINE…). */
export function addVariableOptions(cmd: Command, mode: 'local' | 'litmus' = 'local'): Command {
  for (const v of variables) {
    if (mode === 'local' && 'litmusOnly' in v && v.litmusOnly) continue;
    const opt = new Option(v.flag, `${v.doc} [env ${v.env}${v.default ? `, default ${JSON.stringify(v.default)}` : ''}]`);
    if ('repeatable' in v && v.repeatable) opt.argParser((value: string, prev: string[] | undefined) => [...(prev ?? []), value]);
    cmd.addOption(opt);
  }
  return cmd;
}

/** The target flags: --pid, --netns, and for all but `revert` --pid-file and --container-id. */
export function addTargetOptions(cmd: Command, which: 'all' | 'namespace' = 'all'): Command {
  cmd
    .addOption(new Option('--pid <pid>', 'target: a process in the network namespace (its /proc/<pid>/ns/net)'))
    .addOption(new Option('--netns <path>', 'target: a network namespace file, e.g. /var/run/netns/<name>'));
  if (which === 'namespace') return cmd;
  return cmd
    .addOption(new Option('--pid-file <path>', 'target: the process whose PID this file holds; re-read when the target restarts (ON_TARGET_RESTART=reinject)'))
    .addOption(new Option('--container-id <id>', 'target: a container (crictl/docker ID, or containerd://<id> as in a pod status), found through CONTAINER_RUNTIME and SOCKET_PATH'));
}
