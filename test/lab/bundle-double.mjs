// Host side of the lab (test/lab/ensure-build.sh runs it): bundles the Kubernetes API double
// (guest/kube-double-server.ts and what it imports, node_modules included) into one plain ESM file,
// .lab-build/kube-double-server.mjs, that the guest starts with a bare `node`.
// Why: under TCG, `node --import tsx kube-double-server.ts` spent most of its start in tsx's loader
// thread and in resolving ~1,000 module files over 9p; on the host the start to READY took 4.3 s of CPU
// through tsx, 1.6 s bundled (2026-12-01), and scenarios 10, 40 and 60 each wait for it.
// The file sits one directory below the repo root, as scripts/*.ts do, so that their
// `new URL('..', import.meta.url)` still names the repo root.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));
// scripts/*.ts run their main() when `import.meta.url` is the entry's: inside one bundle every module shares
// the bundle's URL, so those guards would fire (check:crds, manifests, docs, hub). They become `false` here.
const mainGuard = /import\.meta\.url === pathToFileURL\(process\.argv\[1\] \?\? ''\)\.href/g;
const noMainGuards = {
  name: 'no-main-guards',
  setup(b) {
    b.onLoad({ filter: /\/scripts\/[^/]+\.ts$/ }, async (args) => ({ contents: (await readFile(args.path, 'utf8')).replace(mainGuard, 'false'), loader: 'ts' }));
  },
};
const result = await build({
  absWorkingDir: repo,
  entryPoints: ['test/lab/guest/kube-double-server.ts'],
  outfile: '.lab-build/kube-double-server.mjs',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  plugins: [noMainGuards],
  // CommonJS dependencies inside an ESM bundle still call require() for Node built-ins.
  banner: { js: "import { createRequire as __labRequire } from 'node:module'; const require = __labRequire(import.meta.url);" },
  metafile: true,
  logLevel: 'warning',
});
const text = await readFile(`${repo}/.lab-build/kube-double-server.mjs`, 'utf8');
if (/process\.argv\[1\]/.test(text)) {
  console.error('lab: the bundled API double still compares process.argv[1] (a main guard this script does not know): refusing it');
  process.exit(1);
}
console.error(`lab: bundled the API double (${Object.keys(result.metafile.inputs).length} modules, ${Math.round(text.length / 1e6)} MB) into .lab-build/kube-double-server.mjs`);
