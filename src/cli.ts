#!/usr/bin/env node
import { run } from './cli/main.js';
import { EFFECT_PROBE_COMMAND } from './effect/probe.js';

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
}
