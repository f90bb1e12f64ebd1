#!/usr/bin/env node
import { run } from './cli/main.js';
import { EFFECT_PROBE_COMMAND } from './effect/probe.js';

/** How long the process may linger after the command returned, for output still being written. */
const EXIT_LINGER_MS = 1000;

if (process.argv[2] === EFFECT_PROBE_COMMAND) {
  // MEASURE_EFFECT's worker, started by netchaos itself inside the target's namespace (src/effect/probe.ts).
  const { main } = await import('./effect/worker.js');
  await main();
} else {
  process.exitCode = await run(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
  });
  // Everything this run started has ended or been given up on (every wait is bounded and follows the Stop): a
  // socket or child that still holds the event loop must not hold the exit (a SIGTERM's 5 s budget). Unref'd: a
  // process that is done exits at once without it.
  setTimeout(() => { process.exit(); }, EXIT_LINGER_MS).unref();
}
