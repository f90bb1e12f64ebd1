#!/usr/bin/env node
// The entry stays small: the compile cache is switched on before the rest of the CLI is loaded (dynamic
// imports below), so that V8 reuses the code it compiled for the previous start (Node >= 22.1; on Node 20
// there is no such API and nothing changes). The cache lives in the OS temp dir (or NODE_COMPILE_CACHE)
// and is checked against the source, so a new build is compiled afresh.
import module from 'node:module';
import v8 from 'node:v8';
import { EFFECT_PROBE_COMMAND } from './model/probe.js';

// The young generation does not double each time it fills: a 10,000-destination plan peaks at ~79 MB instead
// of ~90 MB (node 20, host), with no more CPU (short-lived garbage is collected while it is still small).
v8.setFlagsFromString('--semi-space-growth-factor=1');

// Not in @types/node 20: looked up, so that Node 20 (without it) runs the same file.
const enableCompileCache: unknown = Reflect.get(module, 'enableCompileCache');
if (typeof enableCompileCache === 'function' && process.env['NETCHAOS_COMPILE_CACHE'] !== '0') {
  try {
    Reflect.apply(enableCompileCache, module, []);
  } catch {
    // an unwritable cache directory: start without it
  }
}

/** How long the process may linger after the command returned, for output still being written. */
const EXIT_LINGER_MS = 1000;

// No top-level await: the bundle is CommonJS (scripts/bundle.mjs), and a rejection here ends the process with the
// error printed, as it did at the top level.
void main();

async function main(): Promise<void> {
  if (process.argv.length === 3 && process.argv[2] === '--version') {
    // What commander prints for `--version`, without loading commander and the command table (the start-up
    // every tool that checks the version pays: 1.6× a bare node start on node 24, host, 2026-12-01).
    const { version } = await import('./cli/version.js');
    process.stdout.write(`${version()}\n`);
  } else if (process.argv[2] === EFFECT_PROBE_COMMAND) {
    // MEASURE_EFFECT's worker, started by netchaos itself inside the target's namespace (src/effect/probe.ts).
    const { main: probeMain } = await import('./effect/worker.js');
    await probeMain();
  } else {
    // A reader that went away (`netchaos plan … | head`: EPIPE) ends what we write, quietly, as SIGPIPE ends other
    // tools; without a listener the error is thrown from the stream and the process dies with a stack trace.
    for (const stream of [process.stdout, process.stderr]) {
      stream.on('error', (error: NodeJS.ErrnoException) => { if (error.code !== 'EPIPE') throw error; });
    }
    const { run } = await import('./cli/main.js');
    process.exitCode = await run(process.argv.slice(2), {
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
}

/**
 * Resolves once `stream` has handed everything written to the OS, or cannot (the reader went away): the callback of
 * an empty write comes after every write before it ('drain' would not come for less than the high-water mark).
 */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.writableLength === 0 || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => { stream.write('', () => { resolve(); }); });
}
