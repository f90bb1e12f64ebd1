/**
 * The command lines the entry (src/cli.ts) sends to the inject bundle (./launch-inject.ts; dist/cli-inject.cjs): those
 * whose first word is `plan`, `inject` or `watchdog`. Commander then runs that command (the first word of a command
 * line is the command), with the code of one injection on this node and none of the Litmus runner's. No imports:
 * this is part of the entry's own small file.
 */
export const INJECT_COMMANDS = ['plan', 'inject', 'watchdog'] as const;

export const isInjectCommandLine = (argv: readonly string[]): boolean => INJECT_COMMANDS.some((c) => c === argv[0]);
