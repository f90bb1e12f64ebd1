/**
 * Everything the CLI does beyond `--version`: loaded by the entry (src/cli.ts) when a command runs. In the build it is
 * a file of its own (dist/cli-main.cjs, scripts/bundle.mjs), so that `netchaos --version` does not read and pre-parse
 * the whole CLI (nor does the effect worker, which the entry runs itself).
 */

import v8 from 'node:v8';

/** How long the process may linger after the command returned, for output still being written. */
const EXIT_LINGER_MS = 1000;

export async function launch(argv: readonly string[]): Promise<void> {
  if (argv[0] === 'plan') withoutOptimizingCompilers();
  // A reader that went away (`netchaos plan … | head`: EPIPE) ends what we write, quietly, as SIGPIPE ends other
  // tools; without a listener the error is thrown from the stream and the process dies with a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => { if (error.code !== 'EPIPE') throw error; });
  }
  const { run } = await import('./main.js');
  process.exitCode = await run(argv, {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    drained: () => flushed(process.stdout),
    env: process.env,
  });
  // What is still queued for a slow reader (a pipe to a pager: 4.3 MB of JSON for 10,000 destinations) is written
  // first: the exit below would cut it at the pipe's 64 KB. A signal still ends the process meanwhile (the run's
  // handlers are gone: default action).
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  // Everything this run started has ended or been given up on (every wait is bounded and follows the Stop): a
  // socket or child that still holds the event loop must not hold the exit (a SIGTERM's 5 s budget). Unref'd: a
  // process that is done exits at once without it.
  setTimeout(() => { process.exit(); }, EXIT_LINGER_MS).unref();
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

/**
 * Resolves once `stream` has handed everything written to the OS, or cannot (the reader went away): the callback of
 * an empty write comes after every write before it ('drain' would not come for less than the high-water mark).
 */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.writableLength === 0 || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => { stream.write('', () => { resolve(); }); });
}
