// Where `netchaos revert --pid` spends its start-up under emulation, and builds of it compared (lab VM, one boot):
//   NCLAB_REVERT_CLIS='base=/abs/cli.cjs,lean=/abs/other/cli.cjs' test/lab/run.sh test/lab/guest/revert-profile.mjs
// (default: dist/cli.cjs alone). NCLAB_PROFILE_REPS rounds (default 7); each round, per build in turn (the order
// reversed every other round): a bare `node -e ''` right before it, then `revert --pid` of a tree (a prio root with
// our handle, put there just before); also the floor (a bare node making the one nsenter/tc exec through
// node:child_process) and the load of the CLI's parts alone (NCLAB_REVERT_REQUIRES: name=/abs/file.cjs, each
// `require`d by a bare node). Ratios are taken pair by pair (run ÷ the bare start just before), medians printed.
// Then one `--cpu-prof` run of each build's revert: self time summed per file and the top functions.
// → $NCLAB_OUT/revert-profile.json (+ the .cpuprofile files)
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, OUT, REPO, ensureLab, hasOurTree, mustRun, resetApp, run } from './lib.mjs';

const say = (s) => process.stdout.write(`revert-profile: ${s}\n`);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const r2 = (x) => Math.round(x * 100) / 100;
const REPS = Number(process.env.NCLAB_PROFILE_REPS ?? 7);
const pid = ensureLab();
const netns = `/proc/${pid}/ns/net`;
const list = (v, dflt) => (v ?? dflt).split(',').filter(Boolean).map((x) => { const [name, file] = x.split('='); return { name, file }; });
const clis = list(process.env.NCLAB_REVERT_CLIS, `dist=${CLI}`);
const requires = list(process.env.NCLAB_REVERT_REQUIRES, '');

const timed = (args) => {
  const r = run('node', args, { cwd: REPO });
  if (r.code !== 0) throw new Error(`node ${args.join(' ')} → ${r.code}: ${r.stderr.slice(0, 600)}`);
  return r;
};
const addTree = () => mustRun('nsenter', [`--net=${netns}`, 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'handle', '4e43:', 'prio', 'bands', '4']);
function revert(cli, extra = []) {
  addTree();
  const r = timed([...extra, cli, 'revert', '--pid', String(pid)]);
  if (hasOurTree('app')) { resetApp('app'); throw new Error(`${cli} revert left the tree`); }
  return r;
}
const FLOOR_JS = `process.exitCode = require('node:child_process').spawnSync('nsenter', ['--net=${netns}', 'tc', '-j', '-force', '-batch', '-'], { input: 'qdisc show dev eth0\\n' }).status`;

const cases = [
  ...clis.map((c) => ({ what: `revert (${c.name})`, run: () => revert(c.file).ms })),
  { what: 'floor (node + one exec)', run: () => timed(['-e', FLOOR_JS]).ms },
  ...requires.map((q) => ({ what: `require ${q.name}`, run: () => timed(['-e', `require(${JSON.stringify(q.file)})`]).ms })),
];
const samples = new Map(cases.map((c) => [c.what, { ms: [], bare: [], ratio: [] }]));
timed(['-e', '']);
for (let i = 0; i < REPS; i++) {
  const order = i % 2 === 0 ? cases : [...cases].reverse();
  const line = [];
  for (const c of order) {
    const bare = timed(['-e', '']).ms;
    const ms = c.run();
    const s = samples.get(c.what);
    s.ms.push(Math.round(ms)); s.bare.push(Math.round(bare)); s.ratio.push(r2(ms / bare));
    line.push(`${c.what} ${Math.round(ms)} (bare ${Math.round(bare)}, ${r2(ms / bare)}x)`);
  }
  say(`round ${i + 1}/${REPS}: ${line.join('; ')}`);
}
const out = { finishedAt: new Date().toISOString(), reps: REPS, clis, requires, cases: {} };
for (const [what, s] of samples) {
  out.cases[what] = { medianMs: median(s.ms), medianBareMs: median(s.bare), medianRatio: median(s.ratio), ...s };
  say(`${what.padEnd(34)} median ${String(median(s.ms)).padStart(6)} ms, bare ${median(s.bare)} ms, ratio ${median(s.ratio)}x (${s.ratio.join(', ')})`);
}

// --- where the CPU goes: one --cpu-prof run per build ---------------------------------------------------------
const profDir = path.join(OUT, 'cpuprof');
mkdirSync(profDir, { recursive: true });
out.profiles = {};
for (const c of clis) {
  const dir = path.join(profDir, c.name);
  mkdirSync(dir, { recursive: true });
  const r = revert(c.file, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=500']);
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  const prof = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
  const dt = new Map();
  prof.samples.forEach((id, k) => { dt.set(id, (dt.get(id) ?? 0) + (prof.timeDeltas[k] ?? 0) / 1000); });
  const byFile = new Map();
  const byFn = new Map();
  let total = 0;
  for (const n of prof.nodes) {
    const ms = dt.get(n.id) ?? 0;
    total += ms;
    const f = n.callFrame.url ? n.callFrame.url.replace(/^file:\/\//, '').replace(REPO, '.') : `(${n.callFrame.functionName || 'anonymous'})`;
    byFile.set(f, (byFile.get(f) ?? 0) + ms);
    const fn = `${n.callFrame.functionName || '(anonymous)'} ${f}:${n.callFrame.lineNumber + 1}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + ms);
  }
  const top = (m, k) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k).map(([name, ms]) => ({ name, ms: Math.round(ms) }));
  out.profiles[c.name] = { wallMs: Math.round(r.ms), sampledMs: Math.round(total), byFile: top(byFile, 25), byFunction: top(byFn, 30) };
  say(`profile ${c.name}: wall ${Math.round(r.ms)} ms, sampled ${Math.round(total)} ms`);
  for (const x of out.profiles[c.name].byFile) say(`  file ${String(x.ms).padStart(6)} ms  ${x.name}`);
  for (const x of out.profiles[c.name].byFunction) say(`  fn   ${String(x.ms).padStart(6)} ms  ${x.name}`);
}
writeFileSync(path.join(OUT, 'revert-profile.json'), `${JSON.stringify(out, null, 2)}\n`);
