// Prototype (issue 13): the snapshot's entry. Everything a revert and an inject load is evaluated while the snapshot
// is built (commander, pino, execa, our code); the Kubernetes client, ajv and yaml stay vendor files, required at run
// time. At run time only the main function below runs.
import v8 from 'node:v8';
import * as execa from 'execa';
import * as pino from 'pino';
import { launch } from '../../src/cli/launch.ts';
import { run } from '../../src/cli/main.ts';
import '../../src/cli/revert.ts';
import '../../src/cli/inject.ts';
import '../../src/cli/options.ts';
import '../../src/cli/target-flags.ts';
import '../../src/cli/host.ts';

// log.ts's load of pino (a vendor file in the normal build) reads this instead (build.mjs's plugin).
globalThis.__snapPino = pino;
globalThis.__snapKeep = execa;

// Variant "warm": run some of the CLI while building, so that the functions it calls are compiled (V8 keeps their
// bytecode in the snapshot): revert's and inject's help, a plan of one destination, a revert of a process that does
// not exist (its error path: pino's first line, on the build's stderr). Nothing here execs.
if (globalThis.__snapWarm) {
  const io = { stdout: () => {}, stderr: () => {}, drained: () => Promise.resolve(), env: {} };
  void (async () => {
    for (const argv of [['revert', '--help'], ['inject', '--help'], ['plan', '--destination-ips', '192.0.2.11', '--latency', '100'],
      ['plan', '--destination-ips', '192.0.2.11', '--latency', '100', '--output', 'json'], ['revert', '--pid', '4194000', '--interface', 'eth0']]) {
      const code = await run(argv, io);
      process.stdout.write(`warm-up ${argv.join(' ')}: exit ${code}\n`);
    }
    process.stdout.write(`after warm-up: SIGTERM listeners ${process.listenerCount('SIGTERM')}, SIGINT ${process.listenerCount('SIGINT')}, exitCode ${process.exitCode}\n`);
  })();
}

v8.startupSnapshot.setDeserializeMainFunction(() => {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  // argv as under `node dist/cli.cjs …`: the effect probe and the dead-man watchdog start process.argv[1].
  process.argv.splice(1, 0, globalThis.__snapCli);
  void launch(process.argv.slice(2));
});
