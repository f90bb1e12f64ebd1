// Guest side of `npm run demo`: RTT from app to B, C and D before, during and
// after a 100 ms injection toward B only, plus the tc tree during the run.
import {
  DEPS, APP, CLI, ensureLab, startInject, probePing, pingMedians, tcText, tcState,
} from './lib.mjs';

const LAT = 100;
const PINGS = { count: 30, interval: 0.02 };
const deps = Object.entries(DEPS); // [['B', {...}], ...]
const addrs = deps.map(([, d]) => d.v4);
const say = (s = '') => process.stdout.write(`${s}\n`);

const pid = ensureLab();
say(`\nLab: namespace "app" (${APP.v4}, target pid ${pid}) talks to B, C and D over a bridge.`);
say(`Injecting ${LAT} ms toward B only:\n  NETWORK_LATENCY=${LAT} DESTINATION_IPS=${DEPS.B.v4} TOTAL_CHAOS_DURATION=30 \\\n    node ${CLI.replace(`${process.env.NCLAB_REPO}/`, '')} inject --pid ${pid}\n`);

const stateBefore = tcState('app');
const before = pingMedians(await probePing(addrs, PINGS));
const h = await startInject(['--pid', String(pid)], {
  env: { NETWORK_LATENCY: String(LAT), DESTINATION_IPS: DEPS.B.v4, TOTAL_CHAOS_DURATION: '30' },
});
if (!h.applied) {
  const r = await h.stop('SIGTERM');
  say(`the injection did not show up (exit ${r.code}):\n${r.stderr}`);
  process.exit(1);
}
const during = pingMedians(await probePing(addrs, PINGS));
const tree = tcText('app');
const r = await h.stop('SIGTERM');
const after = pingMedians(await probePing(addrs, PINGS));
const clean = JSON.stringify(tcState('app')) === JSON.stringify(stateBefore);

const fmt = (x) => (x === null ? '—' : x.toFixed(2)).padStart(9);
say(`RTT from app, median of ${PINGS.count} pings (ms):`);
say(`  ${'dependency'.padEnd(16)}${'before'.padStart(9)}${'during'.padStart(9)}${'after'.padStart(9)}`);
for (const [name, d] of deps) {
  const mark = name === 'B' ? `   ← +${LAT} ms injected` : '';
  say(`  ${`${name}  ${d.v4}`.padEnd(16)}${fmt(before[d.v4])}${fmt(during[d.v4])}${fmt(after[d.v4])}${mark}`);
}
say(`\nThe tree netchaos put on app's eth0 during the run (tc qdisc show / tc filter show):`);
say(tree.qdisc.split('\n').map((l) => `  ${l}`).join('\n'));
say(tree.filter.split('\n').map((l) => `  ${l}`).join('\n'));
say(`\nStopped with SIGTERM: exit ${r.code}, reverted in ${r.revertMs} ms; tc state afterwards ${clean ? 'identical to before' : 'DIFFERENT from before'}.`);
process.exit(r.code === 143 && clean ? 0 : 1);
