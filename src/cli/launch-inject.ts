/**
 * `plan`, `inject` and `watchdog` as this process (./inject-commands.ts): loaded by the entry (src/cli.ts) for those
 * command lines. In the build a file of its own (dist/cli-inject.cjs, scripts/bundle.mjs) without the Litmus runner.
 * The only launch a `plan` command line reaches (the entry routes it here), so the only one that sets its V8 flags.
 */
import v8 from 'node:v8';
import { runAsProcess } from './process-io.js';

export async function launch(argv: readonly string[]): Promise<void> {
  if (argv[0] === 'plan') withoutOptimizingCompilers();
  const { run } = await import('./main-inject.js');
  await runAsProcess((io) => run(argv, io));
}

/**
 * The rest of the process runs without V8's optimizing compilers: for `netchaos plan`. It is one pass over its input
 * in a fresh process; for a long list each pass over the destinations (parse, merge, place, print) gets hot, and
 * TurboFan (Maglev too, on newer Node) compiles its functions on a background thread while the pass goes on in the
 * interpreter and baseline code, often to throw the result away (deoptimized, or ready when the pass is over). That
 * work was ~30 % of the CPU of a 10,001-destination plan (node 20, host, 2026-12-01: 0.44 → 0.33 s CPU, medians of 9
 * interleaved runs; node 24: 0.35 → 0.29 s).
 * - Here, once the bundle is loaded, not in the entry: V8's code cache (Node ≥ 22's compile cache, src/cli.ts)
 *   belongs to the flags it was made with, and a cache made by another command was rejected and rewritten by every
 *   `plan`, and the other way round.
 * - Not in the command: a test that runs the command in its own process keeps its compilers.
 * - Both flags exist on Node 20 to 24 (an unknown flag would be an error message on stderr).
 */
function withoutOptimizingCompilers(): void {
  v8.setFlagsFromString('--no-turbofan');
  v8.setFlagsFromString('--no-maglev');
}
