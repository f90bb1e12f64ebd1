// Where the lab suite's time goes besides its scenarios: `test/lab/run.sh test/lab/guest/suite-costs.mjs`.
// Runs INSIDE the lab VM and measures, in one boot: the time from the kernel's start to this script
// (/proc/uptime), the topology set-up, a bare node start, `netchaos --version`, and the start of the
// Kubernetes API double (to its READY line) through tsx and bundled (.lab-build/, made by ensure-build.sh),
// interleaved; and the TCP connect probe two ways, interleaved: a node started per measurement (`ip netns exec app
// node probe.mjs tcp`, as the lab did) and lib.mjs's probeTcp (one long-lived `probe.mjs serve`), same targets and
// count. NCLAB_COSTS_ONLY=probe measures only the probe (and the topology). Figures go to
// $NCLAB_OUT/suite-costs.json and are printed.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, CONTROL, DEPS, GUEST_DIR, OUT, REPO, APP, ensureLab, hp, probeTcp, run } from './lib.mjs';

const say = (s) => process.stdout.write(`costs: ${s}\n`);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const r0 = (x) => Math.round(x);
const REPS = Number(process.env.NCLAB_COSTS_REPS ?? 3);
const out = { bootToScriptS: Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) };
let t0 = Date.now();
const pid = ensureLab();
out.topologyMs = Date.now() - t0;
say(`boot to this script ${out.bootToScriptS} s; topology ${out.topologyMs} ms`);

const timeOf = (bin, args) => {
  const r = run(bin, args, { cwd: REPO });
  if (r.code !== 0) throw new Error(`${bin} ${args.join(' ')} → ${r.code}: ${r.stderr.slice(0, 400)}`);
  return r.ms;
};
/** ms from spawn to the double's READY line, then SIGTERM and wait for its exit. */
async function doubleReady(argv) {
  const dir = mkdtempSync(path.join(OUT, 'costs-double-'));
  const t = Date.now();
  const child = spawn('node', [...argv, dir, String(pid)], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (c) => { text += c; if (text.includes('READY')) resolve(); });
    child.on('exit', (code) => reject(new Error(`the API double exited with ${code} before READY`)));
  });
  const ms = Date.now() - t;
  child.kill('SIGTERM');
  await new Promise((resolve) => { if (child.exitCode !== null) resolve(); else child.on('exit', resolve); });
  return ms;
}

const ONLY = process.env.NCLAB_COSTS_ONLY ?? '';
const probeTargets = [hp(DEPS.B.v4, 8080), hp(DEPS.B.v4, 9090), hp(DEPS.C.v4, 8080), CONTROL];
const probeArgs = ['--count', '15', '--timeout', '3000', '--gap', '5'];
const probes = { nodePerProbe: [], server: [] };
for (let i = 0; i < (ONLY === 'probe' ? 2 * REPS : REPS); i++) {
  probes.nodePerProbe.push(timeOf('ip', ['netns', 'exec', APP.ns, 'node', path.join(GUEST_DIR, 'probe.mjs'), 'tcp', ...probeArgs, ...probeTargets]));
  const t = process.hrtime.bigint();
  await probeTcp(probeTargets, { count: 15 });
  probes.server.push(Number(process.hrtime.bigint() - t) / 1e6);
  say(`probe round ${i + 1}: node per probe ${r0(probes.nodePerProbe.at(-1))} ms, probeTcp ${r0(probes.server.at(-1))} ms (the first starts the server)`);
}
out.probes = { samples: Object.fromEntries(Object.entries(probes).map(([k, v]) => [k, v.map(r0)])),
  medians: { nodePerProbe: r0(median(probes.nodePerProbe)), serverAfterFirst: r0(median(probes.server.slice(1))) } };
say(`probe medians (ms): ${JSON.stringify(out.probes.medians)}`);
if (ONLY === 'probe') {
  writeFileSync(path.join(OUT, 'suite-costs.json'), `${JSON.stringify(out, null, 2)}\n`);
  process.exit(0);
}

const bundle = path.join(REPO, '.lab-build', 'kube-double-server.mjs');
const samples = { bare: [], version: [], doubleTsx: [], doubleBundle: [] };
for (let i = 0; i < REPS; i++) {
  samples.bare.push(timeOf('node', ['-e', '']));
  samples.version.push(timeOf('node', [CLI, '--version']));
  samples.doubleTsx.push(await doubleReady(['--import', 'tsx', path.join(GUEST_DIR, 'kube-double-server.ts')]));
  if (existsSync(bundle)) samples.doubleBundle.push(await doubleReady([bundle]));
  say(`round ${i + 1}: ${JSON.stringify(Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, r0(v.at(-1) ?? 0)])))}`);
}
out.samples = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, v.map(r0)]));
out.medians = Object.fromEntries(Object.entries(samples).filter(([, v]) => v.length > 0).map(([k, v]) => [k, r0(median(v))]));
writeFileSync(path.join(OUT, 'suite-costs.json'), `${JSON.stringify(out, null, 2)}\n`);
say(`medians (ms): ${JSON.stringify(out.medians)}`);
