/**
 * `plan`, `inject` and `watchdog` as this process (./inject-commands.ts): loaded by the entry (src/cli.ts) for those
 * command lines. In the build a file of its own (dist/cli-inject.cjs, scripts/bundle.mjs) without the Litmus runner.
 */
import { beforeCommand } from './launch-flags.js';
import { runAsProcess } from './process-io.js';

export async function launch(argv: readonly string[]): Promise<void> {
  beforeCommand(argv);
  const { run } = await import('./main-inject.js');
  await runAsProcess((io) => run(argv, io));
}
