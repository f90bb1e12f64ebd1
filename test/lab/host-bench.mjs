// Host side of `npm run bench` (test/lab/bench.sh runs it before the VM boots): what needs no kernel
// support, measured on the host itself. Writes one JSON file:
//   - `netchaos --version` against a bare `node -e ''` (loading the CLI: the start-up every command pays);
//   - `netchaos plan` of 10,001 destinations (B + the lab's 10,000), --output json and text: time, CPU, peak RSS.
// Runs are interleaved (bare, --version, plan json, plan text, bare, …) so that a busy machine slows all
// of them alike; medians are reported, with the load average at the start and the end.
//   node test/lab/host-bench.mjs <out.json> [reps]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEPS, bigList } from './guest/lib.mjs';

const [outFile, repsText] = process.argv.slice(2);
if (!outFile) {
  console.error('usage: host-bench.mjs <out.json> [reps]');
  process.exit(2);
}
const REPS = Number(repsText ?? 7);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(REPO, 'dist', 'cli.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'netchaos-host-bench-'));
const destinations = path.join(dir, 'destinations-10001.txt');
writeFileSync(destinations, `${[DEPS.B.v4, ...bigList(10_000)].join('\n')}\n`);

/** One run under /usr/bin/time: wall and CPU seconds, peak RSS in MB. */
function timed(args) {
  const times = path.join(dir, 'time.txt');
  const r = spawnSync('/usr/bin/time', ['-o', times, '-f', '%e %U %S %M', process.execPath, ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} → exit ${r.status}: ${r.stderr.slice(-400)}`);
  const [wall, user, sys, rssKb] = readFileSync(times, 'utf8').trim().split(/\s+/).slice(-4).map(Number);
  return { wallS: wall, cpuS: user + sys, rssMb: rssKb / 1024 };
}

const cases = {
  bare: ['-e', ''],
  version: [CLI, '--version'],
  planJson: [CLI, 'plan', '--destination-ips-file', destinations, '--latency', '100', '--output', 'json'],
  planText: [CLI, 'plan', '--destination-ips-file', destinations, '--latency', '100'],
};
const loadBefore = os.loadavg();
for (const args of Object.values(cases)) timed(args); // warm the file cache
const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let i = 0; i < REPS; i++) for (const [k, args] of Object.entries(cases)) samples[k].push(timed(args));
rmSync(dir, { recursive: true, force: true });

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const round = (x, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
const summary = Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, {
  wallS: round(median(xs.map((x) => x.wallS))),
  cpuS: round(median(xs.map((x) => x.cpuS))),
  rssMb: round(median(xs.map((x) => x.rssMb)), 1),
  maxRssMb: round(Math.max(...xs.map((x) => x.rssMb)), 1),
}]));
const result = {
  measuredAt: new Date().toISOString(),
  node: process.version,
  cpu: `${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} cores`,
  reps: REPS,
  loadAverage: { before: loadBefore.map((x) => round(x, 2)), after: os.loadavg().map((x) => round(x, 2)) },
  destinations: 10_001,
  ...summary,
  versionRatio: round(summary.version.wallS / summary.bare.wallS, 2),
  versionCpuRatio: round(summary.version.cpuS / summary.bare.cpuS, 2),
};
writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
console.log(`host bench: bare ${summary.bare.wallS} s, --version ${summary.version.wallS} s (${result.versionRatio}×), plan 10k json ${summary.planJson.wallS} s ${summary.planJson.rssMb} MB, text ${summary.planText.wallS} s ${summary.planText.rssMb} MB (load ${result.loadAverage.before[0]} → ${result.loadAverage.after[0]})`);
