/** The variable table as commander options: one flag per variable, with its ENV name and default in the help. */
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
