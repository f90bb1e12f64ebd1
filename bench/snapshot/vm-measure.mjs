// Prototype (issue 13), guest script: start-up snapshots of the CLI against today's dist/cli.cjs, in the lab VM.
//   node bench/snapshot/build.mjs --blob dist/snap/v1.blob && node bench/snapshot/build.mjs --warm --blob dist/snap/v3.blob
//   NCLAB_SNAP_ROUNDS=15 NCLAB_SNAP_BLOBS=v1=$PWD/dist/snap/v1.blob,v3=$PWD/dist/snap/v3.blob test/lab/run.sh bench/snapshot/vm-measure.mjs
// Each round, each run right after a bare `node -e ''` (its ratio is taken to that bare start): an empty user snapshot
// (the blob's own load cost), the floor (node + the one nsenter/tc exec), `cat` of a blob (its read over 9p),
// `revert --pid` with a tree present and inject N=1 MEASURE_EFFECT=false until the kernel reports our root, for
// dist/cli.cjs and each blob (in reverse order every other round). Also checks that they answer alike (revert: stdout
// and log lines with times and durations masked; inject: exit code, signal, stdout). Figures: $NCLAB_OUT/snapshot.json.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEPS, OUT, CLI, REPO, ensureLab, run, mustRun, hasOurTree, resetApp, startInject } from '../../test/lab/guest/lib.mjs';

const ROUNDS = Number(process.env.NCLAB_SNAP_ROUNDS ?? 7);
// NCLAB_SNAP_BLOBS: name=file,… (default: snap=dist/snap/netchaos.blob): each blob is measured as a variant.
const BLOBS = Object.fromEntries((process.env.NCLAB_SNAP_BLOBS ?? `snap=${path.join(REPO, 'dist/snap/netchaos.blob')}`).split(',').map((x) => x.split('=')));
const EMPTY = path.join(REPO, 'dist/snap/empty.blob');
const VARIANTS = { cli: ['node', CLI], ...Object.fromEntries(Object.entries(BLOBS).map(([k, f]) => [k, ['node', '--snapshot-blob', f, '--']])) };
const say = (s) => process.stdout.write(`snap: ${s}\n`);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const r1 = (x) => Math.round(x * 10) / 10;
const pid = ensureLab();
const netns = `/proc/${pid}/ns/net`;
const B = DEPS.B.v4;
const plan = JSON.parse(mustRun('node', [CLI, 'plan', '--pid', String(pid), '--destination-ips', B, '--latency', '100', '--output', 'json']));
const batch = path.join(OUT, 'batch-1.tc');
writeFileSync(batch, `${plan.plan.apply.join('\n')}\n`);
const FLOOR_JS = `process.exitCode = require('node:child_process').spawnSync('nsenter', ['--net=${netns}', 'tc', '-j', '-force', '-batch', '-'], { input: 'qdisc show dev eth0\\n' }).status`;
const bare = () => run('node', ['-e', '']).ms;
const logShape = (stderr) => stderr.split('\n').filter(Boolean).map((l) => { try { const o = JSON.parse(l); delete o.time; for (const k of Object.keys(o)) if (k.endsWith('Ms')) o[k] = 'ms'; return JSON.stringify(o).replace(/\d+ ms/g, 'N ms'); } catch { return l; } }).join('\n');
const rows = { empty: [], floor: [], readBlob: [] };
for (const k of Object.keys(VARIANTS)) { rows[`revert-${k}`] = []; rows[`inject-${k}`] = []; }
const add = (k, ms, b) => { rows[k].push({ ms: r1(ms), bare: r1(b), ratio: Math.round((ms / b) * 100) / 100 }); };
const differences = [];
async function inject(argv) {
  const h = await startInject(['--pid', String(pid), '--destination-ips', B, '--latency', '100', '--duration', '600'], {
    env: { MEASURE_EFFECT: 'false' }, ns: pid, appliedBy: 'monitor', timeoutMs: 300000, wrap: argv.slice(0, -1), cli: argv.at(-1),
  });
  if (!h.applied) { await h.stop('SIGKILL', 5000); throw new Error(`inject never applied: ${h.output.stderr.slice(-800)}`); }
  const r = await h.stop('SIGTERM', 60000);
  if (hasOurTree('app')) { resetApp('app'); throw new Error('inject left its tree'); }
  return { ms: h.appliedMs, code: r.code, signal: r.signal, stdout: r.stdout, stderr: r.stderr, sigtermMs: r.revertMs };
}
for (let i = 0; i < ROUNDS; i++) {
  let b = bare(); add('empty', run('node', ['--snapshot-blob', EMPTY]).ms, b);
  b = bare(); const fl = run('node', ['-e', FLOOR_JS]); if (fl.code !== 0) throw new Error(fl.stderr); add('floor', fl.ms, b);
  // What reading the (largest) blob's bytes costs by itself (over the VM's 9p share: not a cost a real node pays).
  b = bare(); add('readBlob', run('cat', [Object.values(BLOBS).at(-1)]).ms, b);
  const rv = {};
  const inj = {};
  // Every other round in reverse order: no variant always runs first.
  const order = i % 2 ? Object.entries(VARIANTS).reverse() : Object.entries(VARIANTS);
  for (const [k, argv] of order) {
    mustRun('nsenter', [`--net=${netns}`, 'tc', '-batch', batch]);
    b = bare();
    const r = run(argv[0], [...argv.slice(1), 'revert', '--pid', String(pid)]);
    if (r.code !== 0 || hasOurTree('app')) throw new Error(`revert ${k} failed: ${r.code} ${r.stderr}`);
    add(`revert-${k}`, r.ms, b);
    rv[k] = r;
  }
  for (const [k, r] of Object.entries(rv)) {
    if (r.stdout !== rv.cli.stdout || logShape(r.stderr) !== logShape(rv.cli.stderr)) differences.push({ round: i + 1, what: `revert ${k}`, cli: rv.cli.stderr, [k]: r.stderr });
  }
  for (const [k, argv] of order) {
    b = bare();
    const r = await inject(argv);
    add(`inject-${k}`, r.ms, b);
    inj[k] = r;
    if (i === 0) writeFileSync(path.join(OUT, `inject-${k}.log`), r.stderr);
  }
  for (const [k, r] of Object.entries(inj)) {
    if (r.code !== inj.cli.code || r.signal !== inj.cli.signal || r.stdout !== inj.cli.stdout) differences.push({ round: i + 1, what: `inject ${k}`, cli: [inj.cli.code, inj.cli.signal, inj.cli.stdout], [k]: [r.code, r.signal, r.stdout] });
  }
  say(`round ${i + 1}: ${Object.entries(rows).map(([k, v]) => `${k} ${v.at(-1).ms} ms (${v.at(-1).ratio}x)`).join(', ')}; inject SIGTERM->exit ${Object.entries(inj).map(([k, r]) => `${k} ${r.sigtermMs} ms exit ${r.code}`).join(', ')}`);
}
const summary = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, { medianMs: r1(median(v.map((x) => x.ms))), medianRatio: median(v.map((x) => x.ratio)), ratios: v.map((x) => x.ratio) }]));
for (const k of Object.keys(BLOBS)) {
  for (const what of ['revert', 'inject']) {
    const cli = rows[`${what}-cli`];
    summary[`${what}-${k}-cut%`] = { medianOfPairs: median(rows[`${what}-${k}`].map((x, j) => Math.round((1 - x.ms / cli[j].ms) * 1000) / 10)), ofMedians: Math.round((1 - summary[`${what}-${k}`].medianMs / summary[`${what}-cli`].medianMs) * 1000) / 10 };
  }
}
for (const [k, v] of Object.entries(summary)) say(`${k}: ${JSON.stringify(v)}`);
say(`output differences: ${differences.length}${differences.length ? ` ${JSON.stringify(differences[0]).slice(0, 1500)}` : ''}`);
writeFileSync(path.join(OUT, 'snapshot.json'), JSON.stringify({ rows, summary, differences }, null, 2));
