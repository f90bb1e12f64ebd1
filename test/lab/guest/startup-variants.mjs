// Compares builds of the CLI under emulation, interleaved in one boot (the VM's speed moves 2-3× with the host's
// load, so only figures of one run are compared, as ratios to a bare `node -e ''` measured in the same rounds):
//   NCLAB_PROFILE_CLIS='esm-chunks=/abs/cli.js,cjs=/abs/cli.cjs' test/lab/run.sh test/lab/guest/startup-variants.mjs
// (default: dist/cli.cjs alone). Per build: `--version`; `plan --destination-ips <B>` (execs nothing); `inject` N=1
// with MEASURE_EFFECT=false, spawn → our root in tc (polled every 100 ms), then SIGTERM; `revert --pid` of a tree.
// NCLAB_PROFILE_REPS rounds (default 5), each round every case once, in turn; medians. → $NCLAB_OUT/startup-variants.json
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, DEPS, OUT, REPO, ensureLab, hasOurTree, mustRun, resetApp, run, startInject } from './lib.mjs';

const say = (s) => process.stdout.write(`variants: ${s}\n`);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const REPS = Number(process.env.NCLAB_PROFILE_REPS ?? 5);
const pid = ensureLab();
const netns = `/proc/${pid}/ns/net`;
const B = DEPS.B.v4;
const clis = (process.env.NCLAB_PROFILE_CLIS ?? `dist=${CLI}`).split(',').filter(Boolean).map((x) => {
  const [name, cli] = x.split('=');
  return { name, cli };
});

const timeOf = (args, env = {}) => {
  const r = run('node', args, { env: { ...process.env, MEASURE_EFFECT: 'false', ...env }, cwd: REPO });
  if (r.code !== 0) throw new Error(`node ${args.join(' ')} → ${r.code}: ${r.stderr.slice(0, 400)}`);
  return Math.round(r.ms);
};
async function injectMs(cli) {
  const h = await startInject(['--pid', String(pid), '--destination-ips', B, '--latency', '100', '--duration', '600'], { cli });
  if (!h.applied) throw new Error(`${cli} inject never applied: ${(await h.stop('SIGTERM')).stderr.slice(-400)}`);
  const r = await h.stop('SIGTERM', 60000);
  if (r.code !== 143 && r.code !== 0) throw new Error(`${cli} inject ended ${r.code}: ${r.stderr.slice(-400)}`);
  if (hasOurTree('app')) throw new Error(`${cli} inject left its tree`);
  return h.appliedMs;
}
function revertMs(cli) {
  mustRun('nsenter', [`--net=${netns}`, 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'handle', '4e43:', 'prio', 'bands', '4']);
  const ms = timeOf([cli, 'revert', '--pid', String(pid)]);
  if (hasOurTree('app')) { resetApp('app'); throw new Error(`${cli} revert left the tree`); }
  return ms;
}

const cases = [{ what: 'bare', run: () => timeOf(['-e', '']) }];
for (const c of clis) {
  cases.push({ what: `--version (${c.name})`, run: () => timeOf([c.cli, '--version']) });
  cases.push({ what: `plan (${c.name})`, run: () => timeOf([c.cli, 'plan', '--destination-ips', B]) });
  cases.push({ what: `inject (${c.name})`, run: () => injectMs(c.cli) });
  cases.push({ what: `revert (${c.name})`, run: () => revertMs(c.cli) });
}
const samples = new Map(cases.map((c) => [c, []]));
for (let i = 0; i < REPS; i++) {
  for (const c of cases) samples.get(c).push(await c.run());
  say(`round ${i + 1}/${REPS}: ${cases.map((c) => `${c.what} ${samples.get(c).at(-1)}`).join(', ')}`);
}
const out = { finishedAt: new Date().toISOString(), reps: REPS, clis, medianMs: {}, ratioToBare: {}, samples: {} };
const bare = median(samples.get(cases[0]));
for (const c of cases) {
  out.medianMs[c.what] = median(samples.get(c));
  out.ratioToBare[c.what] = Math.round((out.medianMs[c.what] / bare) * 100) / 100;
  out.samples[c.what] = samples.get(c);
}
for (const c of cases) say(`${c.what.padEnd(28)} ${String(out.medianMs[c.what]).padStart(6)} ms  ${out.ratioToBare[c.what]}×`);
writeFileSync(path.join(OUT, 'startup-variants.json'), `${JSON.stringify(out, null, 2)}\n`);
