#!/usr/bin/env node
// The entry stays small: the compile cache is switched on before the rest of the CLI is loaded (dynamic
// imports below), so that V8 reuses the code it compiled for the previous start (Node >= 22.1; on Node 20
// there is no such API and nothing changes). The cache lives in the OS temp dir (or NODE_COMPILE_CACHE)
// and is checked against the source, so a new build is compiled afresh.
import module from 'node:module';
import v8 from 'node:v8';
import { EFFECT_PROBE_COMMAND } from './model/probe.js';
import { isInjectCommandLine } from './cli/inject-commands.js';
import { leanRevertOptions } from './cli/revert-args.js';

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

// No top-level await: the bundle is CommonJS (scripts/bundle.mjs), and a rejection here ends the process with the
// error printed, as it did at the top level.
void main();

async function main(): Promise<void> {
  const revertOptions = leanRevertOptions(process.argv.slice(2));
  if (process.argv.length === 3 && process.argv[2] === '--version') {
    // What commander prints for `--version`, without loading the rest of the CLI: in the build this file is
    // dist/cli.cjs alone (a few KB), and the commands are dist/cli-main.cjs, read only when one runs (the start-up
    // every tool that checks the version pays; the whole 1.7 MB bundle made it 1.75× a bare node start, host).
    const { version } = await import('./cli/version.js');
    process.stdout.write(`${version()}\n`);
  } else if (process.argv[2] === EFFECT_PROBE_COMMAND) {
    // MEASURE_EFFECT's worker, started by netchaos itself inside the target's namespace (src/effect/probe.ts): node:
    // modules only, and in the build part of this small file, so it does not read the rest of the CLI either.
    const { main: probeMain } = await import('./effect/worker.js');
    await probeMain();
  } else if (revertOptions !== undefined) {
    // `netchaos revert` (a plain command line: src/cli/revert-args.ts): its own file in the build
    // (dist/cli-revert.cjs), without commander and the other commands, which V8 would read and pre-parse whole first.
    const { launchRevert } = await import('./cli/revert-lean.js');
    await launchRevert(revertOptions);
  } else if (isInjectCommandLine(process.argv.slice(2))) {
    // `plan`, `inject` and inject's process dead-man: their own file in the build (dist/cli-inject.cjs), the same
    // program without the Litmus runner, its probes and the other commands (0.33 MB of dist/cli-main.cjs's 0.50).
    const { launch } = await import('./cli/launch-inject.js');
    await launch(process.argv.slice(2));
  } else {
    const { launch } = await import('./cli/launch.js');
    await launch(process.argv.slice(2));
  }
}
