// Guest side of `npm run bench`: one VM boot, all figures into $NCLAB_OUT/bench.json
// (test/lab/bench.sh turns them into bench/results.{json,md} and the chart).
import { writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { release } from 'node:os';
import {
  DEPS, OUT, CLI, ensureLab, run, mustRun, hasOurTree, resetApp, startInject, probePing, pingMedians, bigList,
} from './lib.mjs';

const B = DEPS.B.v4;
const C = DEPS.C.v4;
const NS_N = [1, 100, 1000, 10000];
const EXEC_N = [1, 10, 100];
const say = (s) => process.stdout.write(`bench: ${s}\n`);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const r1 = (x) => Math.round(x * 10) / 10;

const pid = ensureLab();
const netns = `/proc/${pid}/ns/net`;
const result = { guestKernel: release(), startedAt: new Date().toISOString(), pid };

/** Destination list of size n: B plus n-1 filler addresses. */
function listFile(n) {
  const f = path.join(OUT, `dest-${n}.txt`);
  writeFileSync(f, `${[B, ...bigList(n - 1)].join('\n')}\n`);
  return f;
}

// --- bare node start -------------------------------------------------------
const bare = [];
for (let i = 0; i < 5; i++) bare.push(run('node', ['-e', '']).ms);
result.bareNodeMs = r1(median(bare));
say(`bare node start: ${result.bareNodeMs} ms`);

// --- our single batch, N = 1 … 10000 --------------------------------------
result.batch = [];
for (const n of NS_N) {
  const file = listFile(n);
  const planRun = run('node', [CLI, 'plan', '--pid', String(pid), '--destination-ips-file', file, '--latency', '100', '--output', 'json']);
  if (planRun.code !== 0) throw new Error(`plan failed: ${planRun.stderr}`);
  const plan = JSON.parse(planRun.stdout);
  const lines = plan.plan.apply;
  const batchFile = path.join(OUT, `batch-${n}.tc`);
  writeFileSync(batchFile, `${lines.join('\n')}\n`);
  const times = [];
  const reps = n >= 10000 ? 2 : 3;
  for (let i = 0; i < reps; i++) {
    const r = run('nsenter', [`--net=${netns}`, 'tc', '-batch', batchFile]);
    if (r.code !== 0) throw new Error(`tc -batch (${n}) failed: ${r.stderr.slice(0, 500)}`);
    times.push(r.ms);
    resetApp('app');
  }
  const entry = { n, batchLines: lines.length, tables: plan.plan.tables, applyMs: r1(median(times)), planMs: r1(planRun.ms) };
  result.batch.push(entry);
  say(`batch N=${n}: ${lines.length} lines, tc -batch ${entry.applyMs} ms (plan ${entry.planMs} ms)`);
}

// --- one nsenter + tc exec per destination (the litmus-go way) -------------
result.perExec = [];
for (const n of EXEC_N) {
  const dests = [B, ...bigList(n - 1)];
  const t0 = process.hrtime.bigint();
  mustRun('nsenter', [`--net=${netns}`, 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'handle', '4e43:', 'prio', 'bands', '4']);
  mustRun('nsenter', [`--net=${netns}`, 'tc', 'qdisc', 'add', 'dev', 'eth0', 'parent', '4e43:4', 'handle', '4e44:', 'netem', 'delay', '100ms']);
  for (const d of dests) {
    const v6 = d.includes(':');
    mustRun('nsenter', [`--net=${netns}`, 'tc', 'filter', 'add', 'dev', 'eth0', 'protocol', v6 ? 'ipv6' : 'ip', 'parent', '4e43:0',
      'prio', v6 ? '2' : '1', 'u32', 'match', v6 ? 'ip6' : 'ip', 'dst', d, 'flowid', '4e43:4']);
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  resetApp('app');
  result.perExec.push({ n, applyMs: r1(ms), execs: n + 2 });
  say(`per-exec N=${n}: ${r1(ms)} ms (${n + 2} execs)`);
}
const ours100 = result.batch.find((b) => b.n === 100);
const exec100 = result.perExec.find((b) => b.n === 100);
result.perDestinationRatio100 = r1((exec100.applyMs / 100) / (ours100.applyMs / 100));
const ours10k = result.batch.find((b) => b.n === 10000);
result.perDestinationRatio10k = r1((exec100.applyMs / 100) / (ours10k.applyMs / 10000));

// --- C's RTT with 0 vs 10k entries -----------------------------------------
const PINGS = { count: 100, interval: 0.01 };
const rtt0 = pingMedians(await probePing([C], PINGS))[C];
mustRun('nsenter', [`--net=${netns}`, 'tc', '-batch', path.join(OUT, 'batch-10000.tc')]);
const rtt10k = pingMedians(await probePing([C], PINGS))[C];
const rttB = pingMedians(await probePing([B], { count: 20, interval: 0.02 }))[B];
resetApp('app');
const rtt0b = pingMedians(await probePing([C], PINGS))[C];
const base = (rtt0 + rtt0b) / 2;
result.rttC = { noTreeMs: Math.round(base * 1000) / 1000, with10kMs: rtt10k, ratio: Math.round((rtt10k / base) * 100) / 100, bWith10kMs: rttB };
say(`C RTT: ${base.toFixed(3)} ms without, ${rtt10k} ms with 10k entries (B: ${rttB} ms)`);

// --- netchaos inject / revert end to end ------------------------------------
// MEASURE_EFFECT off: the mechanism (the goals); on (the default): what a user waits for, ~5 s of
// baseline probes before the apply.
result.endToEnd = [];
for (const effect of [false, true]) {
  for (const n of NS_N) {
    const file = path.join(OUT, `dest-${n}.txt`);
    const h = await startInject(['--pid', String(pid), '--destination-ips-file', file, '--latency', '100', '--duration', '600'], { timeoutMs: 300000, env: { MEASURE_EFFECT: String(effect) } });
    if (!h.applied) throw new Error(`inject N=${n} never applied: ${(await h.stop('SIGTERM')).stderr}`);
    const stop = await h.stop('SIGTERM', 60000);
    const e = { n, measureEffect: effect, timeToInjectMs: h.appliedMs, sigtermToExitMs: stop.revertMs, exitCode: stop.code, clean: !hasOurTree('app') };
    result.endToEnd.push(e);
    say(`inject N=${n} MEASURE_EFFECT=${effect}: applied after ${e.timeToInjectMs} ms; SIGTERM → exit ${stop.code} in ${e.sigtermToExitMs} ms`);
    if (!e.clean) resetApp('app');
  }
}
// `netchaos revert` as a separate process, with a tree present
const reverts = [];
for (let i = 0; i < 3; i++) {
  mustRun('nsenter', [`--net=${netns}`, 'tc', '-batch', path.join(OUT, 'batch-1.tc')]);
  const r = run('node', [CLI, 'revert', '--pid', String(pid)]);
  if (r.code !== 0 || hasOurTree('app')) throw new Error(`revert failed: ${r.stderr}`);
  reverts.push(r.ms);
}
result.revertProcessMs = r1(median(reverts));
const inj1 = result.endToEnd.find((e) => e.n === 1 && !e.measureEffect);
const inj1Effect = result.endToEnd.find((e) => e.n === 1 && e.measureEffect);
result.injectEffectRatio = r1(inj1Effect.timeToInjectMs / result.bareNodeMs);
result.injectRatio = r1(inj1.timeToInjectMs / result.bareNodeMs);
result.revertRatio = r1(result.revertProcessMs / result.bareNodeMs);
say(`revert process: ${result.revertProcessMs} ms; ratios vs bare node: inject ${result.injectRatio}×, revert ${result.revertRatio}×`);

// --- peak RSS ---------------------------------------------------------------
function peakRssKb(args) {
  const r = run('/usr/bin/time', ['-f', 'RSSKB=%M', ...args]);
  const m = /RSSKB=(\d+)/.exec(r.stderr);
  return { kb: m ? Number(m[1]) : null, code: r.code };
}
result.rss = {
  measureEffect: false,
  bareNodeMb: r1(peakRssKb(['node', '-e', '']).kb / 1024),
  inject1Mb: r1(peakRssKb(['env', 'MEASURE_EFFECT=false', 'node', CLI, 'inject', '--pid', String(pid), '--destination-ips', B, '--latency', '100', '--duration', '1']).kb / 1024),
  inject10kMb: r1(peakRssKb(['env', 'MEASURE_EFFECT=false', 'node', CLI, 'inject', '--pid', String(pid), '--destination-ips-file', path.join(OUT, 'dest-10000.txt'), '--latency', '100', '--duration', '1']).kb / 1024),
};
say(`peak RSS: bare node ${result.rss.bareNodeMb} MB, inject N=1 ${result.rss.inject1Mb} MB, N=10000 ${result.rss.inject10kMb} MB`);
if (hasOurTree('app')) resetApp('app');

result.cpuInfo = (readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) ?? [])[1] ?? 'unknown';
result.finishedAt = new Date().toISOString();
writeFileSync(path.join(OUT, 'bench.json'), `${JSON.stringify(result, null, 2)}\n`);
say(`wrote ${path.join(OUT, 'bench.json')}`);
