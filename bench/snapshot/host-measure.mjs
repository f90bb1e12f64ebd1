// Prototype (issue 13), host side: bare node, an empty user snapshot, the floor (node + one nsenter/tc exec), and
// `revert --pid <pid> --interface lo` from dist/cli.cjs and from the snapshot, in turn, ROUNDS rounds; wall ms and CPU
// ms (user+sys of the child) per run, medians.
//   unshare -n sleep 600 & node bench/snapshot/host-measure.mjs $!
import { spawnSync } from 'node:child_process';

const pid = process.argv[2];
const ROUNDS = Number(process.env.ROUNDS ?? 11);
const root = new URL('../../', import.meta.url).pathname;
const ns = `/proc/${pid}/ns/net`;
const floorJs = `process.exitCode = require('node:child_process').spawnSync('nsenter', ['--net=${ns}', 'tc', '-j', '-force', '-batch', '-'], { input: 'qdisc show dev lo\\n' }).status`;
const cases = {
  bare: ['node', '-e', ''],
  emptyBlob: ['node', '--snapshot-blob', `${root}dist/snap/empty.blob`],
  floor: ['node', '-e', floorJs],
  version: ['node', `${root}dist/cli.cjs`, '--version'],
  versionV3: ['node', '--snapshot-blob', `${root}dist/snap/v3.blob`, '--', '--version'],
  revertCli: ['node', `${root}dist/cli.cjs`, 'revert', '--pid', pid, '--interface', 'lo'],
  revertV1: ['node', '--snapshot-blob', `${root}dist/snap/v1.blob`, '--', 'revert', '--pid', pid, '--interface', 'lo'],
  revertV3: ['node', '--snapshot-blob', `${root}dist/snap/v3.blob`, '--', 'revert', '--pid', pid, '--interface', 'lo'],
};
const rows = Object.fromEntries(Object.keys(cases).map((k) => [k, { wall: [], cpu: [] }]));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
for (let i = 0; i < ROUNDS; i++) {
  for (const [k, [cmd, ...args]] of Object.entries(cases)) {
    // /usr/bin/time's user+sys: the child's CPU (node's worker threads included).
    const t0 = performance.now();
    const r = spawnSync('/usr/bin/time', ['-f', '%U %S', cmd, ...args], { encoding: 'utf8' });
    const wall = performance.now() - t0;
    if (r.status !== 0) throw new Error(`${k}: exit ${r.status}: ${r.stderr}`);
    const [u, s] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
    rows[k].wall.push(wall);
    rows[k].cpu.push((u + s) * 1000);
  }
}
for (const [k, v] of Object.entries(rows)) {
  console.log(`${k.padEnd(12)} wall ${median(v.wall).toFixed(0).padStart(4)} ms (${(median(v.wall) / median(rows.bare.wall)).toFixed(2)}x)  cpu ${median(v.cpu).toFixed(0).padStart(4)} ms   walls ${v.wall.map((x) => x.toFixed(0)).join(' ')}`);
}
