/**
 * Which `netchaos revert` command lines the entry (src/cli.ts) sends to the lean revert (./revert-lean.ts): only those
 * whose meaning is plain, `revert` then its four flags, each at most once, as `--flag value` or `--flag=value`. They
 * become the options commander would have parsed (the same keys and string values). Anything else (`--help`, an
 * unknown or repeated flag, a value that looks like a flag, a missing value, an argument) is left to the full CLI,
 * which says what commander says. No imports: this is part of the entry's own small file.
 */

/** The flags of `revert` (src/cli/main.ts) and commander's key for each. */
const FLAGS: Readonly<Record<string, string>> = { '--pid': 'pid', '--netns': 'netns', '--interface': 'interface', '--log-level': 'logLevel' };

/** The options commander would parse from `argv` (a `revert` command line), or undefined when it is not that plain. */
export function leanRevertOptions(argv: readonly string[]): Record<string, string> | undefined {
  if (argv[0] !== 'revert') return undefined;
  const opts: Record<string, string> = {};
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const key = Object.hasOwn(FLAGS, flag) ? FLAGS[flag] : undefined;
    if (key === undefined || Object.hasOwn(opts, key)) return undefined;
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('-'))) return undefined;
    opts[key] = value;
  }
  return opts;
}

