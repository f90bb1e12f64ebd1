// Per-scenario durations of a lab run, from its console log (node's spec reporter prints each test's
// duration): the slowest first, and the total; then each test file's and each lane's wall time (guest/test.sh's
// `lab-time:` lines). Writes durations.json next to the log.
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
// guest/test.sh: `lab-time: +<s> s lane <ns>: end <file> after <s> s (exit <code>)`
const fileEnd = /^lab-time: \+(\d+) s lane (\S+): end (\S+) after (\d+) s \(exit (\d+)\)$/;
const tests = [];
const files = [];
let failures = false; // the reporter lists a file's failures again at the end of its report
let lane = '';
/** The reporter's `failing tests:` sections: each failure's name, message and measured data, printed again last. */
const failed = [];
for (const raw of readFileSync(log, 'utf8').split('\n')) {
  const text = raw.replace(/\x1b\[[0-9;?]*[a-zA-Z]|\x1bc/g, '').replace(/\r$/, ''); // eslint-disable-line no-control-regex
  if (text.startsWith('✖ failing tests:')) { failures = true; continue; }
  if (text.startsWith('lab-')) failures = false;
  const f = fileEnd.exec(text);
  if (f) { files.push({ lane: f[2], file: f[3], s: Number(f[4]), endS: Number(f[1]), exit: Number(f[5]) }); continue; }
  const l = /^lab-lane: =+ lane (\S+) /.exec(text);
  if (l) lane = l[1] ?? '';
  if (failures) {
    if (text.startsWith('✖ ')) failed.push([text]);
    else if (failed.length > 0 && !/^\s+at |^test at |^\s*$/.test(text)) failed.at(-1)?.push(text);
    continue;
  }
  const m = line.exec(text);
  if (!m) continue;
  const [, mark, name, ms] = m;
  if (name.startsWith('/')) continue; // a whole file (it failed or timed out): its tests are listed on their own
  if (mark === '﹣') continue; // not run (--test-name-pattern, skip): neither a scenario's time nor a failure
  tests.push({ name, ok: mark === '✔', s: Math.round(Number(ms) / 100) / 10, ...(lane ? { lane } : {}) });
}
const total = Math.round(tests.reduce((n, t) => n + t.s, 0));
const wallS = wallText === undefined ? undefined : Number(wallText);
const lanes = {};
for (const f of files) {
  const l = (lanes[f.lane] ??= { files: 0, fileS: 0, endS: 0 });
  l.files += 1; l.fileS += f.s; l.endS = Math.max(l.endS, f.endS);
}
writeFileSync(path.join(dir, 'durations.json'), `${JSON.stringify({ totalS: total, wallS, tests, files, lanes }, null, 2)}\n`);
const width = Math.min(90, Math.max(...tests.map((t) => t.name.length), 10));
console.log(`lab: scenario durations (slowest first; ${path.join(dir, 'durations.json')}):`);
for (const t of [...tests].sort((a, b) => b.s - a.s)) {
  console.log(`  ${String(t.s.toFixed(1)).padStart(6)} s  ${t.ok ? ' ' : '✖'} ${t.name.length > width ? `${t.name.slice(0, width - 1)}…` : t.name}`);
}
if (files.length > 0) {
  console.log('lab: test files (wall time of each `node --test`, before/after hooks included; lanes run at once):');
  for (const f of [...files].sort((a, b) => b.s - a.s)) console.log(`  ${String(f.s).padStart(6)} s  ${f.exit === 0 ? ' ' : '✖'} ${f.lane.padEnd(5)} ${f.file}`);
  for (const [name, l] of Object.entries(lanes)) console.log(`lab: lane ${name}: ${l.files} files, ${l.fileS} s, done at +${l.endS} s after the guest's start`);
}
console.log(`lab: ${tests.length} scenarios took ${total} s${wallS === undefined ? '' : `; the whole VM run ${wallS} s (${Math.round(wallS / 60 * 10) / 10} min, boot and set-up included)`}`);
// Last, where a CI log's tail shows it: why each failed scenario failed (its assertion and what was measured).
if (failed.length > 0) {
  console.log(`lab: ${failed.length} failed (the reporter's message and data; the whole log: ${log}):`);
  for (const f of failed) {
    const lines = f.filter((l) => !/^\s+(generatedMessage|code|actual|expected|operator):|^\s+}$/.test(l));
    for (const l of lines.slice(0, 12)) console.log(`  ${l.length > 700 ? `${l.slice(0, 699)}…` : l}`);
    if (lines.length > 12) console.log(`  … ${lines.length - 12} more lines`);
  }
}
