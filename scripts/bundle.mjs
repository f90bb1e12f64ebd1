// Bundles the CLI into CommonJS files with esbuild (+ their source maps):
//   dist/cli.cjs       the entry (src/cli.ts, a few KB): `--version` and the effect worker answered here;
//   dist/cli-main.cjs  everything else (src/cli/launch.ts), required by the entry when a command runs;
//   dist/cli-inject.cjs `plan`, `inject` and inject's `watchdog` (src/cli/launch-inject.ts: the same program without the
//                      Litmus runner and the other commands), required by the entry for those command lines
//                      (src/cli/inject-commands.ts);
//   dist/cli-revert.cjs `netchaos revert` alone (src/cli/revert-lean.ts: no commander, no other command), required by
//                      the entry for a plain revert command line (src/cli/revert-args.ts);
//   dist/vendor-*.cjs  libraries only some runs use (VENDOR below), required when first used.
// Why the split: V8 reads and pre-parses a whole script before running any of it, so with one 1.7 MB file
// `netchaos --version` cost 1.75× a bare node start on the host; the entry alone answers it at ~1.1×.
// Why few files: the runner starts once per injection, often on a loaded node, and in the lab VM every module
// file is a read over 9p (one bundle instead of ~370 files: 0.25 s → 0.14 s on the host). Why CommonJS: Node
// 20's ES module loader (resolving and linking the entry and its chunks) cost more than the CommonJS loader
// for the same code, under emulation most (bench/startup-profile.md, round 5). Each command's code stays lazy:
// esbuild turns `import('./x.js')` of a bundled module into a deferred call of that module's init function, so
// the code of commands not run is pre-parsed only, never evaluated. @kubernetes/client-node is a vendor file too
// (the names src/kube/client-node.ts exports): as the ES module it is, its hundreds of files cost 1.2-1.5 s and
// 115-125 MB on the host (3-45 s under the lab's emulation) before a Litmus run's first API call.
import { build } from 'esbuild';
import { readFileSync, readdirSync, rmSync } from 'node:fs';

const src = new URL('../src/', import.meta.url).pathname;
const outdir = new URL('../dist/', import.meta.url).pathname;
/** The file the entry requires for every command (the entry's `import('./cli/launch.js')`). */
const MAIN = 'cli-main.cjs';
/** The file the entry requires for `plan`, `inject` and `watchdog` (the entry's `import('./cli/launch-inject.js')`). */
const INJECT = 'cli-inject.cjs';
/** The file the entry requires for a plain `revert` (the entry's `import('./cli/revert-lean.js')`). */
const REVERT = 'cli-revert.cjs';
/**
 * Libraries only some runs use, each in a file of its own beside the entry, required where it was imported (a lazy
 * module's init, or execa's import() on the first exec): ajv (container ids and helper results: Litmus mode,
 * --container-id), yaml (the ChaosEngine's probes), execa (commands that exec: not `plan` of a list) and pino (required
 * by src/host/log.ts at the first line logged: not by `plan` of a list). They were
 * about half of the commands' bundle, which V8 reads and pre-parses whole at every start.
 */
const VENDOR = { ajv: 'vendor-ajv.cjs', yaml: 'vendor-yaml.cjs', execa: 'vendor-execa.cjs', pino: 'vendor-pino.cjs' };
/**
 * @kubernetes/client-node (Litmus mode, pod and Service dependencies, the blast radius' names): the part of it
 * src/kube/client-node.ts names, imported by src/kube/api.ts alone.
 */
const KUBE = { source: `${src}kube/client-node.ts`, file: 'vendor-kube.cjs' };
const common = {
  bundle: true,
  // Whitespace and syntax only: identifiers keep their names (stack traces and profiles stay readable; the source
  // maps give the lines). Fewer bytes to read and for V8 to pre-parse at every start.
  minifyWhitespace: true,
  minifySyntax: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // import.meta is empty in CommonJS: its one user (src/cli/version.ts, finding package.json) gets this file's URL.
  define: { 'import.meta.url': '__netchaosImportMetaUrl' },
  banner: { js: "const __netchaosImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
};
rmSync(outdir, { recursive: true, force: true });
// Each vendor file exports what the package exports (an ES module such as execa in esbuild's CommonJS form of it,
// which the requiring code's __toESM reads back).
for (const [name, file] of Object.entries(VENDOR)) {
  await build({ ...common, entryPoints: [name], absWorkingDir: new URL('..', import.meta.url).pathname, outfile: `${outdir}${file}` });
}
// Node's own punycode module is deprecated (DEP0040), and Node >= 21 warns on stderr when code outside node_modules
// requires it: the bundled client's URL code (tr46, whatwg-url) would print that warning in every run on the image's
// Node 24. The punycode package is the same code, bundled in its place.
await build({ ...common, entryPoints: [KUBE.source], outfile: `${outdir}${KUBE.file}`, alias: { punycode: 'punycode/punycode.js' } });
/** The vendor files and the Kubernetes client as requires of their files (the two command bundles). */
const vendorFiles = {
  name: 'vendor-files',
  setup(b) {
    // The package becomes a one-line CommonJS module of the bundle that requires the vendor file: its static
    // imports and execa's import() (src/host/exec.ts) are then one `require` where they were, not an ES module
    // import() of a file (which would go through Node's ES module loader).
    const filter = new RegExp(`^(${Object.keys(VENDOR).join('|')})$`);
    b.onResolve({ filter }, (a) => ({ path: a.path, namespace: 'vendor' }));
    b.onLoad({ filter: /.*/, namespace: 'vendor' }, (a) => ({ contents: `module.exports = require('./${a.path === 'kube' ? KUBE.file : VENDOR[a.path]}');\n`, loader: 'js' }));
    // src/kube/api.ts's import('./client-node.js'): the same one-line module, requiring the kube vendor file.
    b.onResolve({ filter: /^\.\/client-node\.js$/ }, (a) => (`${a.resolveDir}/client-node.ts` === KUBE.source ? { path: 'kube', namespace: 'vendor' } : undefined));
    b.onResolve({ filter: /^\.\/vendor-[a-z]+\.cjs$/ }, (a) => ({ path: a.path, external: true }));
  },
};
for (const [entry, file] of [['cli/launch.ts', MAIN], ['cli/launch-inject.ts', INJECT], ['cli/revert-lean.ts', REVERT]]) {
  await build({ ...common, entryPoints: [`${src}${entry}`], outfile: `${outdir}${file}`, plugins: [vendorFiles] });
}
await build({
  ...common,
  entryPoints: [`${src}cli.ts`],
  outfile: `${outdir}cli.cjs`,
  // The entry's one import of the rest: the file built above, required (not import()ed: no ES module loader) when a
  // command runs.
  supported: { 'dynamic-import': false },
  plugins: [{
    name: 'cli-main',
    setup(b) {
      b.onResolve({ filter: /^\.\/cli\/launch\.js$/ }, () => ({ path: `./${MAIN}`, external: true }));
      b.onResolve({ filter: /^\.\/cli\/launch-inject\.js$/ }, () => ({ path: `./${INJECT}`, external: true }));
      b.onResolve({ filter: /^\.\/cli\/revert-lean\.js$/ }, () => ({ path: `./${REVERT}`, external: true }));
    },
  }],
});
// Node keeps a script's source as a one-byte string only when every character is Latin-1, and reads a file as UTF-8:
// one non-ASCII character left in a kept comment made it hold the whole 0.85 MB bundle as a two-byte string
// (~0.8 MB of RSS at every start). esbuild escapes them in code (charset ascii); this catches the rest.
for (const file of readdirSync(outdir).filter((f) => f.endsWith('.cjs'))) {
  const bytes = readFileSync(`${outdir}${file}`);
  const at = bytes.findIndex((b) => b > 0x7f);
  if (at >= 0) throw new Error(`bundle: dist/${file} has a non-ASCII byte at ${at}: ${JSON.stringify(bytes.subarray(Math.max(0, at - 40), at + 10).toString())}`);
}
