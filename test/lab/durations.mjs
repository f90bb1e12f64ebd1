// Per-scenario durations of a lab run, from its console log (node's spec reporter prints each test's
// duration): the slowest first, and the total. Writes durations.json next to the log.
//   node test/lab/durations.mjs <run dir> [wall seconds of the whole VM run]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const [dir, wallText] = process.argv.slice(2);
const log = dir ? path.join(dir, 'console.log') : '';
if (!dir || !existsSync(log)) {
  console.error('usage: durations.mjs <run dir> [wall seconds]');
  process.exit(2);
}
// A test's line: `✔ 3. FAULTS=… (96043.91705ms)` at the start of a line (nested subtests are indented).
const line = /^(✔|✖|﹣) (.*) \((\d+(?:\.\d+)?)ms\)(?: # .*)?$/;
const tests = [];
for (const raw of readFileSync(log, 'utf8').split('\n')) {
  const text = raw.replace(/\x1b\[[0-9;?]*[a-zA-Z]|\x1bc/g, '').replace(/\r$/, ''); // eslint-disable-line no-control-regex
  if (text.startsWith('✖ failing tests:')) break; // the reporter lists the failures again at the end
  const m = line.exec(text);
  if (!m) continue;
  const [, mark, name, ms] = m;
  if (name.startsWith('/')) continue; // a whole file (it failed or timed out): its tests are listed on their own
  if (mark === '﹣') continue; // not run (--test-name-pattern, skip): neither a scenario's time nor a failure
  tests.push({ name, ok: mark === '✔', s: Math.round(Number(ms) / 100) / 10 });
}
const total = Math.round(tests.reduce((n, t) => n + t.s, 0));
const wallS = wallText === undefined ? undefined : Number(wallText);
writeFileSync(path.join(dir, 'durations.json'), `${JSON.stringify({ totalS: total, wallS, tests }, null, 2)}\n`);
const width = Math.min(90, Math.max(...tests.map((t) => t.name.length), 10));
console.log(`lab: scenario durations (slowest first; ${path.join(dir, 'durations.json')}):`);
for (const t of [...tests].sort((a, b) => b.s - a.s)) {
  console.log(`  ${String(t.s.toFixed(1)).padStart(6)} s  ${t.ok ? ' ' : '✖'} ${t.name.length > width ? `${t.name.slice(0, width - 1)}…` : t.name}`);
}
console.log(`lab: ${tests.length} scenarios took ${total} s${wallS === undefined ? '' : `; the whole VM run ${wallS} s (${Math.round(wallS / 60 * 10) / 10} min, boot and set-up included)`}`);
