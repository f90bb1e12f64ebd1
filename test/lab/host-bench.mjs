// Host side of `npm run bench` (test/lab/bench.sh runs it before the VM boots): what needs no kernel
// support, measured on the host itself. Writes one JSON file:
//   - `netchaos --version` against a bare `node -e ''` (loading the CLI: the start-up every command pays);
//   - `netchaos plan` of 10,001 destinations (B + the lab's 10,000), --output json and text: time, CPU, peak RSS;
//   - the cost of `plan`'s blast-radius section (issue 16): `plan --netns` of a namespace holding 2,000 TCP
//     connections (to a second namespace through a veth pair; bench-conns.mjs), with BLAST_RADIUS on and off.
//     Needs root (ip netns); both namespaces are removed on every path (exit, error, SIGINT/SIGTERM). Without
//     the privilege the rows say why they were not measured.
// Runs are interleaved (bare, --version, plan json, plan text, bare, …) so that a busy machine slows all
// of them alike; medians are reported, with the load average at the start and the end.
//   node test/lab/host-bench.mjs <out.json> [reps]
import { spawn, spawnSync } from 'node:child_process';
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
const CLI = path.join(REPO, 'dist', 'cli.cjs');
const dir = mkdtempSync(path.join(os.tmpdir(), 'netchaos-host-bench-'));
const destinations = path.join(dir, 'destinations-10001.txt');
writeFileSync(destinations, `${[DEPS.B.v4, ...bigList(10_000)].join('\n')}\n`);

/** One run under /usr/bin/time: wall and CPU seconds, peak RSS in MB. */
function timed({ args, env }) {
  const times = path.join(dir, 'time.txt');
  const r = spawnSync('/usr/bin/time', ['-o', times, '-f', '%e %U %S %M', process.execPath, ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} → exit ${r.status}: ${r.stderr.slice(-400)}`);
  const [wall, user, sys, rssKb] = readFileSync(times, 'utf8').trim().split(/\s+/).slice(-4).map(Number);
  return { wallS: wall, cpuS: user + sys, rssMb: rssKb / 1024 };
}

// --- the blast-radius namespaces ------------------------------------------------------------------------------
/** Sockets the target namespace holds (issue 16's cost goal is stated at 2,000). */
const BLAST_SOCKETS = 2000;
const NS = { app: `nc-bench-${process.pid}-a`, peer: `nc-bench-${process.pid}-b` };
const PEER = { v4: '198.51.100.2', v6: '2001:db8:beef::2', ports: [8080, 8081] };
const holders = [];
let netnsMade = false;
/** Removes what the blast bench made; safe to call more than once, and from the exit handler (synchronous). */
function cleanupNetns() {
  for (const h of holders.splice(0)) if (h.exitCode === null) h.kill('SIGTERM');
  if (!netnsMade) return;
  netnsMade = false;
  for (const ns of Object.values(NS)) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
}
process.on('exit', cleanupNetns);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => { cleanupNetns(); process.exit(130); });

function ip(args) {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')} → ${r.error?.message ?? `exit ${r.status}`}: ${(r.stderr ?? '').trim()}`);
}

/** Starts bench-conns.mjs in a namespace; resolves once it printed "ready". Its stdin is our pipe: it ends with us. */
function holder(ns, args) {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, path.join(path.dirname(fileURLToPath(import.meta.url)), 'bench-conns.mjs'), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  holders.push(child);
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bench-conns ${args[0]} in ${ns}: not ready after 60 s: ${err.trim()}`)), 60_000);
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('ready')) { clearTimeout(timer); resolve(); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`bench-conns ${args[0]} in ${ns} exited ${code}: ${err.trim()}`)); });
  });
}

/** app ⇄ peer over a veth pair (eth0 on both sides), the peer listening, the app holding BLAST_SOCKETS connections. */
async function setupNetns() {
  netnsMade = true;
  for (const ns of Object.values(NS)) ip(['netns', 'add', ns]);
  ip(['-n', NS.app, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS.peer]);
  for (const [ns, host] of [[NS.app, 1], [NS.peer, 2]]) {
    ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    ip(['-n', ns, 'addr', 'add', `198.51.100.${host}/24`, 'dev', 'eth0']);
    ip(['-n', ns, 'addr', 'add', `2001:db8:beef::${host}/64`, 'dev', 'eth0', 'nodad']);
    ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
  }
  await holder(NS.peer, ['serve', ...PEER.ports.map(String)]);
  const targets = PEER.ports.flatMap((p) => [`${PEER.v4}:${p}`, `[${PEER.v6}]:${p}`]);
  await holder(NS.app, ['connect', String(BLAST_SOCKETS), ...targets]);
  const r = spawnSync('ip', ['netns', 'exec', NS.app, 'cat', '/proc/self/net/tcp', '/proc/self/net/tcp6'], { encoding: 'utf8' });
  // Header lines and the listening sockets aside, the ESTAB rows (state 01) are the app's connections.
  return r.stdout.split('\n').filter((l) => / 01 /.test(l)).length;
}

const blastArgs = (on) => ({
  args: [CLI, 'plan', '--netns', `/run/netns/${NS.app}`, '--destination-ips', `${PEER.v4}|${PEER.ports[0]}`, '--latency', '100'],
  env: { BLAST_RADIUS: String(on) },
});
let blastSockets;
let blastError;
try {
  blastSockets = await setupNetns();
  const check = spawnSync(process.execPath, blastArgs(true).args, { encoding: 'utf8' });
  if (check.status !== 0 || !/Blast radius/.test(check.stdout)) throw new Error(`plan --netns: exit ${check.status}: ${check.stderr.slice(-400)}`);
  if (!check.stdout.includes(`${BLAST_SOCKETS / 4} of ${BLAST_SOCKETS} connections will be faulted`)) {
    throw new Error(`plan --netns does not see the ${BLAST_SOCKETS} connections: ${check.stdout.split('\n').find((l) => /connections will be faulted/.test(l)) ?? '(no summary line)'}`);
  }
} catch (error) {
  blastError = error instanceof Error ? error.message : String(error);
  cleanupNetns();
  console.error(`host bench: the blast-radius rows are not measured: ${blastError}`);
}

const cases = {
  bare: { args: ['-e', ''] },
  version: { args: [CLI, '--version'] },
  planJson: { args: [CLI, 'plan', '--destination-ips-file', destinations, '--latency', '100', '--output', 'json'] },
  planText: { args: [CLI, 'plan', '--destination-ips-file', destinations, '--latency', '100'] },
  ...(blastError === undefined ? { planBlastOn: blastArgs(true), planBlastOff: blastArgs(false) } : {}),
};
const loadBefore = os.loadavg();
for (const c of Object.values(cases)) timed(c); // warm the file cache
const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let i = 0; i < REPS; i++) for (const [k, c] of Object.entries(cases)) samples[k].push(timed(c));
rmSync(dir, { recursive: true, force: true });
cleanupNetns();

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
  blastRadius: blastError === undefined
    ? {
      sockets: blastSockets,
      // Pair by pair (on and off ran one after the other), then the median: a drift of the machine's speed
      // during the bench moves both runs of a pair alike.
      ratio: round(median(samples.planBlastOn.map((x, i) => x.wallS / samples.planBlastOff[i].wallS)), 2),
      cpuRatio: round(median(samples.planBlastOn.map((x, i) => x.cpuS / samples.planBlastOff[i].cpuS)), 2),
    }
    : { error: blastError },
};
writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
const blastText = result.blastRadius.error === undefined
  ? `plan with blast radius ${summary.planBlastOn.wallS} s vs without ${summary.planBlastOff.wallS} s (${result.blastRadius.ratio}×, CPU ${result.blastRadius.cpuRatio}×, ${result.blastRadius.sockets} sockets)`
  : `blast radius not measured (${result.blastRadius.error})`;
console.log(`host bench: bare ${summary.bare.wallS} s, --version ${summary.version.wallS} s (${result.versionRatio}×), plan 10k json ${summary.planJson.wallS} s ${summary.planJson.cpuS} s CPU ${summary.planJson.rssMb} MB, text ${summary.planText.wallS} s ${summary.planText.rssMb} MB, ${blastText} (load ${result.loadAverage.before[0]} → ${result.loadAverage.after[0]})`);
