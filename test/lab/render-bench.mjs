// Host side of `npm run bench`: bench.json (measured inside the lab VM) →
// bench/results.json, bench/results.md and bench/apply-time.svg (vega, SVG
// rendered in Node; no canvas needed).
//   node test/lab/render-bench.mjs <bench.json> <bench dir> [host.json]
// host.json (test/lab/host-bench.mjs) adds the host rows; <bench dir>/startup-profile.md, when present, is
// included as the section "Where start-up goes".
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

const [input, outDir, hostInput] = process.argv.slice(2);
if (!input || !outDir) {
  console.error('usage: render-bench.mjs <bench.json> <out dir> [host.json]');
  process.exit(2);
}
const b = JSON.parse(readFileSync(input, 'utf8'));
if (hostInput) b.host = JSON.parse(readFileSync(hostInput, 'utf8'));
mkdirSync(outDir, { recursive: true });

const sh = (cmd, args) => { try { return execFileSync(cmd, args, { encoding: 'utf8' }).trim(); } catch { return 'unknown'; } };
const cpuModel = os.cpus()[0]?.model ?? 'unknown';
b.machine = {
  host: `${cpuModel}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
  hostKernel: os.release(),
  qemu: sh('qemu-system-x86_64', ['--version']).split('\n')[0],
  vm: `qemu TCG emulation (no KVM), 2 vCPUs, 2 GiB, guest kernel ${b.guestKernel}`,
  node: process.version,
};

const goals = [
  { goal: 'batch ≥ 100× faster per destination than one exec per destination (N=100)', value: `${b.perDestinationRatio100}×`, ok: b.perDestinationRatio100 >= 100 },
  { goal: 'C\'s RTT with 10k entries / without ≤ 1.10', value: `${b.rttC.ratio}`, ok: b.rttC.ratio <= 1.1 },
  { goal: `time to inject ≤ 3× a bare \`node -e ''\` start${b.injectEffectRatio !== undefined ? ' (MEASURE_EFFECT=false)' : ''}`, value: `${b.injectRatio}×${b.injectEffectRatio !== undefined ? ` (${b.injectEffectRatio}× with the effect measurement)` : ''}`, ok: b.injectRatio <= 3 },
  { goal: 'time to revert (`netchaos revert`) ≤ 2× a bare node start', value: `${b.revertRatio}×${b.floorRatio !== undefined ? ` (the floor, bare node + one nsenter/tc exec: ${b.floorRatio}×)` : ''}`, ok: b.revertRatio <= 2 },
  { goal: 'peak RSS of the runner ≤ 80 MB (N=10000)', value: `${b.rss.inject10kMb} MB`, ok: b.rss.inject10kMb <= 80 },
];
const h = b.host;
if (h) {
  goals.push(
    { goal: 'host: `netchaos --version` ≤ 1.5× a bare node start', value: `${h.versionRatio}× (CPU ${h.versionCpuRatio}×)`, ok: h.versionRatio <= 1.5 },
    // CPU time (user + system, GC threads included): plan without a target waits for nothing, so on an idle
    // machine its wall time is at most its CPU time, and CPU time moves far less with the machine's load.
    { goal: 'host: `netchaos plan` of 10,001 destinations ≤ 0.3 s (CPU time; --output json)', value: `${h.planJson.cpuS} s (wall ${h.planJson.wallS} s)`, ok: h.planJson.cpuS <= 0.3 },
    { goal: 'host: `netchaos plan` of 10,001 destinations ≤ 80 MB peak RSS (--output json)', value: `${h.planJson.rssMb} MB`, ok: h.planJson.rssMb <= 80 },
  );
  if (h.blastRadius) {
    const br = h.blastRadius;
    goals.push(br.error === undefined
      ? { goal: `host: \`plan\` with the blast-radius section ≤ 1.2× \`plan\` without it (${br.sockets.toLocaleString('en-US')} sockets, --netns; wall, paired)`, value: `${br.ratio}× (CPU ${br.cpuRatio}×)`, ok: br.ratio <= 1.2 }
      : { goal: 'host: `plan` with the blast-radius section ≤ 1.2× `plan` without it (2,000 sockets)', value: `not measured: ${br.error}`, ok: false });
  }
}
b.goals = goals;
writeFileSync(path.join(outDir, 'results.json'), `${JSON.stringify(b, null, 2)}\n`);

// --- chart -------------------------------------------------------------------
const values = [
  ...b.batch.map((x) => ({ n: x.n, ms: x.applyMs, series: 'netchaos: one tc batch' })),
  ...b.perExec.map((x) => ({ n: x.n, ms: x.applyMs, series: 'one nsenter + tc exec per destination' })),
];
const spec = {
  $schema: 'https://vega.github.io/schema/vega/v6.json',
  width: 560, height: 320, padding: 8,
  title: { text: 'Time to apply the tc tree vs number of destinations (lab VM, TCG)', fontSize: 14 },
  data: [{ name: 'points', values }],
  scales: [
    { name: 'x', type: 'log', domain: [1, 10000], range: 'width', nice: false },
    { name: 'y', type: 'log', domain: { data: 'points', field: 'ms' }, range: 'height', nice: true },
    { name: 'color', type: 'ordinal', domain: { data: 'points', field: 'series' }, range: ['#1f77b4', '#d62728'] },
  ],
  axes: [
    { orient: 'bottom', scale: 'x', title: 'destinations (N)', values: [1, 10, 100, 1000, 10000], format: '~s' },
    { orient: 'left', scale: 'y', title: 'apply time (ms)', format: '~s', grid: true },
  ],
  legends: [{ fill: 'color', orient: 'top-left', title: null, labelLimit: 400 }],
  marks: [
    {
      type: 'group',
      from: { facet: { name: 'series', data: 'points', groupby: 'series' } },
      marks: [
        { type: 'line', from: { data: 'series' }, encode: { enter: { x: { scale: 'x', field: 'n' }, y: { scale: 'y', field: 'ms' }, stroke: { scale: 'color', field: 'series' }, strokeWidth: { value: 2 } } } },
        { type: 'symbol', from: { data: 'series' }, encode: { enter: { x: { scale: 'x', field: 'n' }, y: { scale: 'y', field: 'ms' }, fill: { scale: 'color', field: 'series' }, size: { value: 50 } } } },
        { type: 'text', from: { data: 'series' }, encode: { enter: { x: { scale: 'x', field: 'n' }, y: { scale: 'y', field: 'ms', offset: -9 }, text: { signal: "format(datum.ms, ',.0f') + ' ms'" }, align: { value: 'center' }, fontSize: { value: 10 }, fill: { value: '#333' } } } },
      ],
    },
  ],
};
const vega = await import('vega');
const view = new vega.View(vega.parse(spec), { renderer: 'none' });
writeFileSync(path.join(outDir, 'apply-time.svg'), await view.toSVG());
view.finalize();

// --- markdown ------------------------------------------------------------------
const f = (x) => (typeof x === 'number' ? x.toLocaleString('en-US') : String(x));
const md = [];
md.push('# netchaos benchmark', '');
md.push(`Measured by \`npm run bench\` (test/lab/bench.sh) on ${b.finishedAt}.`, '');
md.push(`- Host: ${b.machine.host}, Linux ${b.machine.hostKernel}, ${b.machine.qemu}`);
md.push(`- Measured **inside a VM under ${b.machine.vm}**: absolute times are those of an emulated CPU (roughly 10–30× slower than the host); compare the ratios, which are taken in the same run.`);
md.push(`- Node ${b.machine.node}; target: a \`sleep\` in network namespace \`app\`, interface eth0 (veth on a bridge).`, '');
md.push('## Goals', '', '| goal | measured | |', '| --- | --- | --- |');
for (const g of goals) md.push(`| ${g.goal} | ${g.value} | ${g.ok ? 'met' : '**not met**'} |`);
md.push('', '## Apply time against N', '', '![apply time](apply-time.svg)', '');
md.push('| N | netchaos: tc batch lines | `tc -batch` apply (ms) | per destination (ms) | one exec per destination (ms) | per destination (ms) |', '| ---: | ---: | ---: | ---: | ---: | ---: |');
for (const x of b.batch) {
  const e = b.perExec.find((p) => p.n === x.n);
  md.push(`| ${f(x.n)} | ${f(x.batchLines)} | ${f(x.applyMs)} | ${(x.applyMs / x.n).toFixed(3)} | ${e ? f(e.applyMs) : '—'} | ${e ? (e.applyMs / e.n).toFixed(1) : '—'} |`);
}
md.push('', `Per destination, one exec each (N=100) is **${b.perDestinationRatio100}×** slower than our batch at N=100, and **${b.perDestinationRatio10k}×** slower than our batch at N=10,000. The batch comes from \`netchaos plan --output json\` (field \`plan.apply\`) and is timed as one \`nsenter --net=… tc -batch\`; the per-exec variant adds the same prio+netem and then runs \`nsenter … tc filter add … u32 match ip dst X\` once per destination.`, '');
md.push('## Cost for traffic that is not selected', '');
md.push(`Median ping RTT from app to C (not selected), 100 pings: ${b.rttC.noTreeMs} ms without a tree, ${b.rttC.with10kMs} ms with the 10,000-entry tree (ratio **${b.rttC.ratio}**${b.rttC.rounds ? `, the median of ${b.rttC.rounds.length} rounds taken in turn: ${b.rttC.rounds.map((r) => r.ratio).join(', ')}` : ''}). B (selected, +100 ms) meanwhile: ${b.rttC.bWith10kMs} ms.`, '');
md.push('## Start-up, revert, memory', '', '| | ms | × bare node |', '| --- | ---: | ---: |');
md.push(`| bare \`node -e ''\` (median of ${b.pairs ? 3 + (b.pairs.floor ? 4 : 3) * b.pairs.revert.length : 5}) | ${f(b.bareNodeMs)} | 1 |`);
const effectText = (e) => (e.measureEffect === undefined ? '' : e.measureEffect ? ', MEASURE_EFFECT=true' : ', MEASURE_EFFECT=false');
const samples = (e) => (e.samples > 1 ? ` (median of ${e.samples})` : '');
for (const e of b.endToEnd) md.push(`| \`netchaos inject\`, N=${f(e.n)}${effectText(e)}: start → tree visible in tc${samples(e)} | ${f(e.timeToInjectMs)} | ${(e.timeToInjectMs / b.bareNodeMs).toFixed(1)} |`);
for (const e of b.endToEnd) md.push(`| SIGTERM → reverted and exited (exit ${e.exitCode}), N=${f(e.n)}${effectText(e)}${samples(e)} | ${f(e.sigtermToExitMs)} | ${(e.sigtermToExitMs / b.bareNodeMs).toFixed(1)} |`);
md.push(`| \`netchaos revert --pid\` process with a tree present (median of ${b.pairs ? b.pairs.revert.length : 3}) | ${f(b.revertProcessMs)} | ${b.revertRatio}${b.pairs ? ' (paired)' : ''} |`);
if (b.floorRatio !== undefined) md.push(`| the floor: a bare node that makes one \`nsenter … tc -j -force -batch -\` exec through \`node:child_process\`, nothing of netchaos (median of ${b.pairs.floor.length}) | ${f(b.floorMs)} | ${b.floorRatio} (paired) |`);
md.push('', `Peak RSS (\`/usr/bin/time\`${b.rss.measureEffect === false ? ', MEASURE_EFFECT=false' : ''}): bare node ${b.rss.bareNodeMb} MB; \`netchaos inject\` N=1 ${b.rss.inject1Mb} MB; N=10,000 ${b.rss.inject10kMb} MB.`, '');
md.push(b.pairs
  ? 'Time to inject is measured from spawning the CLI until `tc monitor`, running in the target\'s namespace, reports our root qdisc (an event: nothing polls beside the measured process). The goals\' ratios are taken pair by pair — a bare `node -e \'\'` start right before each measured run, the ratio of the two, the median of ' + b.pairs.inject.length + ' — because the VM\'s speed moves with the host\'s load during a run; the × column above divides by the median bare start instead.'
  : 'Time to inject is measured from spawning the CLI until `tc qdisc show` (polled every 100 ms) shows our root, so it includes up to ~0.1 s of polling granularity.', '');
if (b.pairs) {
  const fl = b.pairs.floor !== undefined;
  md.push(`| round | bare (ms) | inject N=1, MEASURE_EFFECT=false (ms) | × | bare (ms) | with the effect measurement (ms) | × | bare (ms) | \`revert --pid\` (ms) | ×${fl ? ' | bare (ms) | the floor (ms) | ×' : ''} |`, `| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---:${fl ? ' | ---: | ---: | ---:' : ''} |`);
  b.pairs.inject.forEach((x, i) => {
    const on = b.pairs.injectEffect[i];
    const rv = b.pairs.revert[i];
    const fr = b.pairs.floor?.[i];
    md.push(`| ${i + 1} | ${f(x.bareMs)} | ${f(x.timeToInjectMs)} | ${x.ratio} | ${f(on.bareMs)} | ${f(on.timeToInjectMs)} | ${on.ratio} | ${f(rv.bareMs)} | ${f(rv.revertMs)} | ${rv.ratio}${fr ? ` | ${f(fr.bareMs)} | ${f(fr.floorMs)} | ${fr.ratio}` : ''} |`);
  });
  md.push('');
}
if (b.rounds100) md.push(`Batch against one exec per destination at N=100, in turn (ms, one exec each / batch = ratio): ${b.rounds100.map((r) => `${f(r.linearMs)} / ${f(r.batchMs)} = ${r.ratio}×`).join('; ')}; the goal's figure is the median ratio.`, '');
if (h) {
  md.push('## On the host (no VM)', '');
  md.push(`Measured by test/lab/host-bench.mjs${h.measuredAt ? ` on ${h.measuredAt}` : ''} before the VM boots: Node ${h.node}, ${h.cpu}; median of ${h.reps} interleaved runs; load average ${h.loadAverage.before[0]} at the start, ${h.loadAverage.after[0]} at the end (wall times grow with the load of the machine, CPU times much less).`, '');
  md.push('| | wall (s) | CPU (s) | × bare node (wall) | peak RSS (MB) |', '| --- | ---: | ---: | ---: | ---: |');
  const row = (label, x) => md.push(`| ${label} | ${x.wallS} | ${x.cpuS} | ${(x.wallS / h.bare.wallS).toFixed(2)} | ${x.rssMb} |`);
  row("bare `node -e ''`", h.bare);
  row('`netchaos --version`', h.version);
  row(`\`netchaos plan\` of ${f(h.destinations)} destinations, --output json`, h.planJson);
  row(`\`netchaos plan\` of ${f(h.destinations)} destinations, text`, h.planText);
  if (h.planBlastOn && h.planBlastOff) {
    row(`\`netchaos plan --netns\` of a namespace with ${f(h.blastRadius.sockets)} TCP connections, blast-radius section on`, h.planBlastOn);
    row('… the same with BLAST_RADIUS=false', h.planBlastOff);
  }
  md.push('');
}
const profileMd = path.join(outDir, 'startup-profile.md');
if (existsSync(profileMd)) md.push(readFileSync(profileMd, 'utf8').trim(), '');
writeFileSync(path.join(outDir, 'results.md'), `${md.join('\n')}\n`);
console.log(`bench: wrote ${path.join(outDir, 'results.md')}, results.json, apply-time.svg`);
for (const g of goals) console.log(`bench: ${g.ok ? 'met    ' : 'NOT MET'} ${g.goal}: ${g.value}`);
