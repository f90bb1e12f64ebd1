// Prototype (issue 13): builds dist/snap/netchaos.blob (and dist/snap/empty.blob) for the node that runs this script.
//   npm run build && node bench/snapshot/build.mjs [--warm] [--blob <file>]
// (the vendor files ajv/yaml/kube are required from this checkout's dist/ at run time, by absolute path).
// Then: node --snapshot-blob dist/snap/netchaos.blob -- revert --pid …  (the `--`: without it node takes a first
// argument such as --version or --help as its own option).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';

const root = new URL('../../', import.meta.url).pathname;
const dist = `${root}dist/`;
const out = `${dist}snap/`;
// --warm: the entry runs some of the CLI while building (entry.mjs); --blob <file>: where the blob goes.
const warm = process.argv.includes('--warm');
const blobArg = process.argv.indexOf('--blob');
const blob = blobArg > 0 ? process.argv[blobArg + 1] : `${out}netchaos.blob`;
mkdirSync(out, { recursive: true });
const VENDOR = { ajv: 'vendor-ajv.cjs', yaml: 'vendor-yaml.cjs' };
await build({
  entryPoints: [`${root}bench/snapshot/entry.mjs`],
  outfile: `${out}bundle.cjs`,
  bundle: true, minifyWhitespace: true, minifySyntax: true, format: 'cjs', platform: 'node', target: 'node20',
  define: { 'import.meta.url': '__netchaosImportMetaUrl' },
  logLevel: 'warning',
  plugins: [{
    name: 'snap',
    setup(b) {
      const filter = new RegExp(`^(${Object.keys(VENDOR).join('|')})$`);
      b.onResolve({ filter }, (a) => ({ path: a.path, namespace: 'vendor' }));
      b.onLoad({ filter: /.*/, namespace: 'vendor' }, (a) => ({ contents: `module.exports = require('./${a.path === 'kube' ? 'vendor-kube.cjs' : VENDOR[a.path]}');\n`, loader: 'js' }));
      b.onResolve({ filter: /^\.\/client-node\.js$/ }, () => ({ path: 'kube', namespace: 'vendor' }));
      b.onResolve({ filter: /^\.\/vendor-[a-z]+\.cjs$/ }, (a) => ({ path: a.path, external: true }));
      b.onLoad({ filter: /src\/host\/log\.ts$/ }, (a) => ({
        contents: readFileSync(a.path, 'utf8').replace("module = load('./vendor-pino.cjs');", 'module = globalThis.__snapPino; void load;'),
        loader: 'ts',
      }));
    },
  }],
});
// The build's `require` takes built-ins only; the bundle's own requires of ./vendor-*.cjs go to dist/ at run time.
const body = readFileSync(`${out}bundle.cjs`, 'utf8');
const wrapped = `'use strict';
const __snapBuiltin = require;
const __snapDist = ${JSON.stringify(dist)};
globalThis.__snapCli = __snapDist + 'cli.cjs';
globalThis.__snapWarm = ${warm};
let __snapUser;
const __snapRequire = (id) => (id.startsWith('./') ? (__snapUser ??= __snapBuiltin('node:module').createRequire(__snapDist + 'cli.cjs'))(id) : __snapBuiltin(id));
(function (require, module, exports, __filename, __dirname) {
const __netchaosImportMetaUrl = 'file://' + __snapDist + 'cli.cjs';
${body}
})(__snapRequire, { exports: {} }, {}, __snapDist + 'cli.cjs', __snapDist.slice(0, -1));
`;
writeFileSync(`${out}entry.cjs`, wrapped);
const t0 = performance.now();
execFileSync(process.execPath, ['--snapshot-blob', blob, '--build-snapshot', `${out}entry.cjs`], { stdio: 'inherit' });
// The empty snapshot beside it (what loading a user blob costs by itself): dist/snap/empty.blob.
writeFileSync(`${out}empty.cjs`, "require('node:v8').startupSnapshot.setDeserializeMainFunction(() => {});\n");
execFileSync(process.execPath, ['--snapshot-blob', `${out}empty.blob`, '--build-snapshot', `${out}empty.cjs`], { stdio: 'inherit' });
console.log(`blob ${statSync(blob).size} bytes, bundle ${body.length} bytes, built in ${(performance.now() - t0).toFixed(0)} ms`);
