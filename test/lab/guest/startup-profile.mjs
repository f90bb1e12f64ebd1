// Where start-up goes, under emulation: `test/lab/run.sh test/lab/guest/startup-profile.mjs`
// (bench/results.md, "Where start-up goes"). Runs INSIDE the lab VM. Measures, in one boot:
//   - bare node, `--version`, the import of each runtime dependency, with node 20 (PATH) and, when
//     NCLAB_NODE24 names a node 24 binary, node 24 without and with the V8 compile cache;
//   - `inject` N=1 from spawn to our root in tc, MEASURE_EFFECT off and on; `revert --pid` with a tree;
//   - every process inject and revert start (strace execve timeline), and where the CPU goes (--cpu-prof).
// Figures go to $NCLAB_OUT/startup-profile.json and are printed.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, DEPS, OUT, REPO, ensureLab, hasOurTree, mustRun, resetApp, run, startInject } from './lib.mjs';

const say = (s) => process.stdout.write(`profile: ${s}\n`);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const r1 = (x) => Math.round(x * 10) / 10;
const REPS = Number(process.env.NCLAB_PROFILE_REPS ?? 5);
const pid = ensureLab();
const netns = `/proc/${pid}/ns/net`;
const B = DEPS.B.v4;
const out = { startedAt: new Date().toISOString(), reps: REPS };

const nodes = [{ name: 'node20', bin: 'node', env: {} }];
if (process.env.NCLAB_NODE24) {
  const cache = path.join(OUT, 'compile-cache');
  nodes.push({ name: 'node24', bin: process.env.NCLAB_NODE24, env: {} });
  nodes.push({ name: 'node24+compile-cache', bin: process.env.NCLAB_NODE24, env: { NODE_COMPILE_CACHE: cache }, warm: true });
}
// Other builds of the CLI to compare (e.g. experiments for the next change): NCLAB_PROFILE_CLIS='name=/abs/cli.js,…'.
const clis = [{ name: 'dist', cli: CLI }, ...(process.env.NCLAB_PROFILE_CLIS ?? '').split(',').filter(Boolean).map((x) => {
  const [name, cli] = x.split('=');
  return { name, cli };
})];
const timeOf = (bin, args, env = {}) => {
  const r = run(bin, args, { env: { ...process.env, ...env }, cwd: REPO });
  if (r.code !== 0) throw new Error(`${bin} ${args.join(' ')} → ${r.code}: ${r.stderr.slice(0, 400)}`);
  return r.ms;
};

// --- process start and module loading, interleaved (the host's load changes the VM's speed by 2-3×) --------
const IMPORTS = {
  commander: "await import('commander')",
  execa: "await import('execa')",
  'ajv (import + compile one schema)': "const { Ajv } = await import('ajv'); new Ajv({ allErrors: true }).compile({ type: 'array', items: { type: 'object', properties: { kind: { type: 'string' } }, required: ['kind'] } })",
  yaml: "await import('yaml')",
};
for (const n of nodes) if (n.warm) for (const c of clis) timeOf(n.bin, [c.cli, '--version'], n.env); // fills the cache
const cases = [];
for (const n of nodes) {
  cases.push({ node: n.name, what: 'bare', run: () => timeOf(n.bin, ['-e', ''], n.env) });
  for (const c of clis) cases.push({ node: n.name, what: `--version (${c.name})`, run: () => timeOf(n.bin, [c.cli, '--version'], n.env) });
}
const samples = new Map(cases.map((c) => [c, []]));
for (let i = 0; i < REPS; i++) for (const c of cases) samples.get(c).push(c.run());
out.start = {};
for (const c of cases) (out.start[c.node] ??= {})[c.what] = r1(median(samples.get(c)));
for (const n of nodes) {
  const row = out.start[n.name];
  for (const c of clis) row[`ratio --version (${c.name})`] = r1(row[`--version (${c.name})`] / row.bare);
  say(`${n.name}: ${JSON.stringify(row)}`);
}
out.imports = {};
for (const [name, code] of Object.entries(IMPORTS)) {
  const script = `const t = performance.now(); ${code}; process.stdout.write(String(performance.now() - t));`;
  const ms = Array.from({ length: 3 }, () => Number(run('node', ['--input-type=module', '-e', script], { cwd: REPO }).stdout));
  out.imports[name] = r1(median(ms));
}
say(`node20, import of each dependency unbundled (ms, median of 3): ${JSON.stringify(out.imports)}`);

// --- CPU profile of --version and of one inject (N=1, MEASURE_EFFECT off, 1 s) --------------------------
/** Self and inclusive time per function, and per esbuild module wrapper (init_x / require_x), from a .cpuprofile. */
function summarize(file) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const parent = new Map();
  for (const x of p.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
  const t = new Map();
  p.samples.forEach((id, i) => t.set(id, (t.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const total = [...t.values()].reduce((a, b) => a + b, 0) / 1000;
  const self = new Map();
  const incl = new Map();
  const key = (x) => `${x.callFrame.functionName || '(anonymous)'} ${x.callFrame.url.split('/').slice(-1)[0]}:${x.callFrame.lineNumber}`;
  for (const [id, us] of t) {
    const k = key(byId.get(id));
    self.set(k, (self.get(k) ?? 0) + us / 1000);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const kk = key(byId.get(cur));
      if (seen.has(kk)) continue;
      seen.add(kk);
      incl.set(kk, (incl.get(kk) ?? 0) + us / 1000);
    }
  }
  const top = (m, n, f = () => true) => [...m].filter(([k]) => f(k)).sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => [k, r1(v)]);
  return {
    totalMs: r1(total),
    self: top(self, 25),
    modules: top(incl, 25, (k) => /^(init_|require_)/.test(k)),
    inclusive: top(incl, 40),
  };
}
const profDir = path.join(OUT, 'cpu-profiles');
rmSync(profDir, { recursive: true, force: true });
mkdirSync(profDir, { recursive: true });
const profile = (name, args, env = {}) => {
  const dir = path.join(profDir, name);
  mkdirSync(dir, { recursive: true });
  const r = run('node', ['--cpu-prof', '--cpu-prof-dir', dir, CLI, ...args], { env: { ...process.env, ...env } });
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile for ${name}: ${r.stderr.slice(0, 400)}`);
  return summarize(path.join(dir, file));
};
out.cpu = {
  version: profile('version', ['--version']),
  inject: profile('inject', ['inject', '--pid', String(pid), '--destination-ips', B, '--latency', '100', '--duration', '1'], { MEASURE_EFFECT: 'false' }),
};
if (hasOurTree('app')) resetApp('app');
say(`cpu --version: ${out.cpu.version.totalMs} ms sampled; modules ${JSON.stringify(out.cpu.version.modules.slice(0, 12))}`);
say(`cpu inject: ${out.cpu.inject.totalMs} ms sampled; self ${JSON.stringify(out.cpu.inject.self.slice(0, 12))}`);

// --- processes: every execve of one inject and one revert ------------------------------------------------
/** Runs `node CLI args` under strace (execve only, all children) and returns the timeline relative to the start. */
function execTimeline(name, args, env = {}) {
  const file = path.join(OUT, `strace-${name}.txt`);
  const t0 = Date.now();
  const r = run('strace', ['-f', '-qq', '--seccomp-bpf', '-e', 'trace=execve', '-e', 'signal=none', '-ttt', '-s', '200', '-o', file, 'node', CLI, ...args], { env: { ...process.env, ...env } });
  const wallMs = Date.now() - t0;
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('execve(') && !l.includes('= -1'));
  const start = Number(/^\d+\s+(\d+\.\d+)/.exec(lines[0] ?? '')?.[1] ?? 0);
  const execs = lines.slice(1).map((l) => {
    const m = /^(\d+)\s+(\d+\.\d+) execve\("([^"]+)", \[(.*?)\]/.exec(l);
    const argv = m ? [...m[4].matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((x) => x[1]) : [];
    return { atMs: m ? r1((Number(m[2]) - start) * 1000) : null, argv: argv.join(' ').slice(0, 160) };
  });
  return { code: r.code, wallMs: r1(wallMs), count: execs.length, byProgram: execs.reduce((acc, e) => { const p = path.basename(e.argv.split(' ')[0] ?? '?'); acc[p] = (acc[p] ?? 0) + 1; return acc; }, {}), execs };
}
out.execs = {
  inject: execTimeline('inject', ['inject', '--pid', String(pid), '--destination-ips', B, '--latency', '100', '--duration', '1'], { MEASURE_EFFECT: 'false' }),
  injectWithEffect: execTimeline('inject-effect', ['inject', '--pid', String(pid), '--destination-ips', B, '--latency', '100', '--duration', '1']),
};
mustRun('nsenter', [`--net=${netns}`, 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'handle', '4e43:', 'prio', 'bands', '4']);
out.execs.revert = execTimeline('revert', ['revert', '--pid', String(pid)]);
if (hasOurTree('app')) resetApp('app');
for (const [k, v] of Object.entries(out.execs)) {
  say(`execs ${k}: ${v.count} in ${v.wallMs} ms ${JSON.stringify(v.byProgram)}`);
  for (const e of v.execs) say(`   +${e.atMs} ms  ${e.argv}`);
}

// --- time to inject and to revert, like the bench, interleaved --------------------------------------
/** Spawn → our root in tc (polled every 100 ms), then SIGTERM. */
async function injectMs(bin, cli, env) {
  const h = await startInject(['--pid', String(pid), '--destination-ips', B, '--latency', '100', '--duration', '600'], { wrap: [bin], cli, env });
  if (!h.applied) throw new Error(`${bin} ${cli} inject never applied: ${(await h.stop('SIGTERM')).stderr.slice(-400)}`);
  await h.stop('SIGTERM', 60000);
  if (hasOurTree('app')) resetApp('app');
  return h.appliedMs;
}
function revertMs(bin, cli, env) {
  mustRun('nsenter', [`--net=${netns}`, 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'handle', '4e43:', 'prio', 'bands', '4']);
  const ms = timeOf(bin, [cli, 'revert', '--pid', String(pid)], env);
  if (hasOurTree('app')) resetApp('app');
  return ms;
}
const e2e = [];
for (const n of nodes) {
  for (const c of clis) {
    const main = c.cli === CLI;
    e2e.push({ node: n.name, what: `inject (${c.name}, MEASURE_EFFECT=false)`, run: () => injectMs(n.bin, c.cli, { ...n.env, MEASURE_EFFECT: 'false' }) });
    if (main) e2e.push({ node: n.name, what: `inject (${c.name}, MEASURE_EFFECT=true)`, run: () => injectMs(n.bin, c.cli, { ...n.env, MEASURE_EFFECT: 'true' }) });
    e2e.push({ node: n.name, what: `revert (${c.name})`, run: () => revertMs(n.bin, c.cli, n.env) });
  }
}
const e2eSamples = new Map(e2e.map((c) => [c, []]));
for (let i = 0; i < Math.max(3, REPS - 2); i++) for (const c of e2e) e2eSamples.get(c).push(await c.run());
out.endToEnd = {};
for (const c of e2e) (out.endToEnd[c.node] ??= {})[c.what] = r1(median(e2eSamples.get(c)));
for (const n of nodes) say(`${n.name}: ${JSON.stringify(out.endToEnd[n.name])} (bare ${out.start[n.name].bare} ms)`);

out.finishedAt = new Date().toISOString();
writeFileSync(path.join(OUT, 'startup-profile.json'), `${JSON.stringify(out, null, 2)}\n`);
say(`wrote ${path.join(OUT, 'startup-profile.json')}`);
