// Where the cost of a tree to unselected traffic comes from (bench.mjs's "C's RTT with 10k entries / without"):
// C's ping RTT from app with no tree, with the tree of one destination (B), with the tree of 10,001 (B + the
// bench's 10,000), and with a 10,001-entry tree whose filler addresses never share C's hash bucket (the last
// byte, 0x0c). Interleaved, RTT_ROUNDS rounds; medians of 100 pings each (as bench.mjs).
// NCLAB_RTT_BASE_CLI=<another build's dist/cli.cjs> adds the 10k tree as that build plans it ("10k base"), e.g.
// the one-level hash of a build before two-level hashing, so that both layouts are measured in one boot.
//   test/lab/run.sh test/lab/guest/rtt-parts.mjs      (NCLAB_RTT_ROUNDS, default 5)
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEPS, OUT, CLI, ensureLab, run, mustRun, resetApp, probePing, pingMedians, bigList } from './lib.mjs';

const B = DEPS.B.v4;
const C = DEPS.C.v4;
const ROUNDS = Number(process.env.NCLAB_RTT_ROUNDS ?? 5);
const PINGS = { count: 100, interval: 0.01 };
const pid = ensureLab();
const netns = `/proc/${pid}/ns/net`;
const say = (s) => process.stdout.write(`rtt-parts: ${s}\n`);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

const cLast = Number(C.split('.')[3]);
const lists = {
  one: [B],
  tenk: [B, ...bigList(10_000)],
  // The same count, IPv4 fillers whose last byte is never C's (IPv6 fillers as they are).
  tenkOtherBuckets: [
    B,
    ...bigList(20_000).filter((a) => !a.includes(':') && Number(a.split('.')[3]) !== cLast).slice(0, 5_000),
    ...bigList(10_000).filter((a) => a.includes(':')),
  ],
};
const BASE_CLI = process.env.NCLAB_RTT_BASE_CLI;
const plans = Object.entries(lists).map(([name, dests]) => ({ name, dests, cli: CLI }));
if (BASE_CLI) plans.push({ name: 'tenkBase', dests: lists.tenk, cli: BASE_CLI });
const cByte = (C.split('.')[2] ?? '0');
const batches = {};
for (const { name, dests, cli } of plans) {
  const f = path.join(OUT, `rtt-${name}.txt`);
  writeFileSync(f, `${dests.join('\n')}\n`);
  const r = run('node', [cli, 'plan', '--pid', String(pid), '--destination-ips-file', f, '--latency', '100', '--output', 'json']);
  if (r.code !== 0) throw new Error(`plan ${name}: ${r.stderr}`);
  const apply = JSON.parse(r.stdout).plan.apply;
  // The nodes a packet to C walks: its bucket of the hash table (one level: 11:c:; two: the link node there,
  // then bucket <third byte> of the level-2 table 10c:).
  const inC = apply.filter((l) => / ht 11:c: /.test(l) || new RegExp(` ht 10c:${Number(cByte).toString(16)}: `).test(l)).length;
  batches[name] = path.join(OUT, `rtt-${name}.tc`);
  writeFileSync(batches[name], `${apply.join('\n')}\n`);
  say(`${name}: ${dests.length} destinations, ${apply.length} batch lines, ${inC} nodes on C's IPv4 path (11:c:, 10c:${Number(cByte).toString(16)}:)`);
}
const rows = [];
for (let i = 0; i < ROUNDS; i++) {
  const row = {};
  const names = ['none', 'one', 'tenk', 'tenkOtherBuckets', ...(BASE_CLI ? ['tenkBase'] : [])];
  const order = i % 2 === 0 ? names : [...names].reverse();
  for (const name of order) {
    const started = Date.now();
    if (name !== 'none') mustRun('nsenter', [`--net=${netns}`, 'tc', '-batch', batches[name]]);
    if (name !== 'none') row[`${name}ApplyMs`] = Date.now() - started;
    row[name] = pingMedians(await probePing([C], PINGS))[C];
    if (name !== 'none') resetApp('app');
  }
  rows.push(row);
  say(`round ${i + 1}: C RTT ms: none ${row.none}, one ${row.one}, 10k ${row.tenk}, 10k other buckets ${row.tenkOtherBuckets}${BASE_CLI ? `, 10k base ${row.tenkBase}` : ''}`);
}
const ratio = (k) => Math.round(median(rows.map((r) => r[k] / r.none)) * 100) / 100;
const vsOne = (k) => Math.round(median(rows.map((r) => r[k] / r.one)) * 100) / 100;
const base = BASE_CLI ? { toNone: `, 10k base ${ratio('tenkBase')}`, toOne: `, 10k base ${vsOne('tenkBase')}` } : { toNone: '', toOne: '' };
say(`medians of the per-round ratios to no tree: one ${ratio('one')}, 10k ${ratio('tenk')}, 10k other buckets ${ratio('tenkOtherBuckets')}${base.toNone}; to the one-entry tree: 10k ${vsOne('tenk')}, 10k other buckets ${vsOne('tenkOtherBuckets')}${base.toOne}`);
if (BASE_CLI) say(`10k / 10k base, median of the per-round ratios: ${Math.round(median(rows.map((r) => r.tenk / r.tenkBase)) * 100) / 100}`);
// The batch's wall time (one nsenter + tc -batch), medians: what the layout costs to build.
say(`tc -batch apply ms, medians: ${plans.map((p) => `${p.name} ${median(rows.map((r) => r[`${p.name}ApplyMs`]))}`).join(', ')}`);
writeFileSync(path.join(OUT, 'rtt-parts.json'), JSON.stringify({ rows }, null, 2));
