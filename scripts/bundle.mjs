// Bundles src/cli.ts into ONE CommonJS file, dist/cli.cjs (+ its source map), with esbuild.
// Why one file: the runner starts once per injection, often on a loaded node, and in the lab VM every module
// file is a read over 9p (one bundle instead of ~370 files: 0.25 s → 0.14 s on the host). Why CommonJS: Node
// 20's ES module loader (resolving and linking the entry and its chunks) cost more than the CommonJS loader
// for the same code, under emulation most (bench/startup-profile.md, round 5). Each command's code stays lazy:
// esbuild turns `import('./x.js')` of a bundled module into a deferred call of that module's init function, so
// the code of commands not run is pre-parsed only, never evaluated. @kubernetes/client-node stays external (an
// ES module, loaded through import() only in Litmus mode or for pod/Service dependencies, from node_modules).
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

const outdir = new URL('../dist/', import.meta.url).pathname;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [new URL('../src/cli.ts', import.meta.url).pathname],
  outfile: `${outdir}cli.cjs`,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  external: ['@kubernetes/client-node'],
  // import.meta is empty in CommonJS: its one user (src/cli/version.ts, finding package.json) gets this file's URL.
  define: { 'import.meta.url': '__netchaosImportMetaUrl' },
  banner: { js: "const __netchaosImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
