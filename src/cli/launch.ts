/**
 * Everything the CLI does beyond `--version`: loaded by the entry (src/cli.ts) when a command runs that neither the
 * inject bundle (./launch-inject.ts) nor the lean revert (./revert-lean.ts) takes. In the build it is
 * a file of its own (dist/cli-main.cjs, scripts/bundle.mjs), so that `netchaos --version` does not read and pre-parse
 * the whole CLI (nor does the effect worker, which the entry runs itself).
 */

import { runAsProcess } from './process-io.js';

export async function launch(argv: readonly string[]): Promise<void> {
  const { run } = await import('./main.js');
  await runAsProcess((io) => run(argv, io));
}
