/**
 * A command line run as this process: stdout/stderr as the command's Io, its exit code as the process's, and the
 * exit once what was written has been handed to the OS. Shared by the full CLI (./launch.ts) and the lean `revert`
 * (./revert-lean.ts).
 */
import type { Io } from './context.js';

/** How long the process may linger after the command returned, for output still being written. */
const EXIT_LINGER_MS = 1000;

export async function runAsProcess(run: (io: Io) => Promise<number>): Promise<void> {
  // A reader that went away (`netchaos plan … | head`: EPIPE) ends what we write, quietly, as SIGPIPE ends other
  // tools; without a listener the error is thrown from the stream and the process dies with a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => { if (error.code !== 'EPIPE') throw error; });
  }
  process.exitCode = await run({
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
 * Resolves once `stream` has handed everything written to the OS, or cannot (the reader went away): the callback of
 * an empty write comes after every write before it ('drain' would not come for less than the high-water mark).
 */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.writableLength === 0 || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => { stream.write('', () => { resolve(); }); });
}
