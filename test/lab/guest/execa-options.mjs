// What execa's options cost per exec under emulation: one fresh node process per sample (the cost that matters is
// a start-up's first execs, before V8 has optimised anything), each importing execa, then timing (in-process,
// after the import) the two execs an inject makes: `tc -j qdisc show dev lo` (stdin ignored, output read) and
// `tc -batch -` fed one line. Variants interleaved, NCLAB_EXECA_REPS rounds (default 7), medians.
//   test/lab/run.sh test/lab/guest/execa-options.mjs   → $NCLAB_OUT/execa-options.json
// `child_process` is node's own spawn, as a floor (not a candidate: execa stays).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const REPS = Number(process.env.NCLAB_EXECA_REPS ?? 7);
const OUT = process.env.NCLAB_OUT ?? '/tmp';
const REPO = process.env.NCLAB_REPO ?? process.cwd();
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

const VARIANTS = {
  'now (reject:false, stripFinalNewline:false, stdin ignore / input string)': { base: { reject: false, stripFinalNewline: false } },
  "encoding:'buffer' (decoded by Buffer#toString)": { base: { reject: false, stripFinalNewline: false, encoding: 'buffer' } },
  'cleanup:false': { base: { reject: false, stripFinalNewline: false, cleanup: false } },
  "encoding:'buffer' + cleanup:false": { base: { reject: false, stripFinalNewline: false, encoding: 'buffer', cleanup: false } },
  'input as an iterable (stdin: a generator)': { base: { reject: false, stripFinalNewline: false }, iterable: true },
  "stdout/stderr 'pipe' explicit, lines:false, buffer:true": { base: { reject: false, stripFinalNewline: false, lines: false, buffer: true, stdout: 'pipe', stderr: 'pipe' } },
};

if (process.argv[2] === 'child') {
  const v = VARIANTS[process.argv[3]];
  const tImport = performance.now();
  const { execa } = await import(path.join(REPO, 'node_modules/execa/index.js'));
  const t0 = performance.now();
  const text = (x) => (typeof x === 'string' ? x : Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('utf8'));
  const a = await execa('tc', ['-j', 'qdisc', 'show', 'dev', 'lo'], { ...v.base, stdin: 'ignore' });
  const t1 = performance.now();
  const line = 'qdisc show dev lo\n';
  const b = await execa('tc', ['-batch', '-'], { ...v.base, ...(v.iterable ? { stdin: (function* () { yield line; })() } : { input: line }) });
  const t2 = performance.now();
  if (a.exitCode !== 0 || b.exitCode !== 0 || !text(a.stdout).includes('root') || !text(b.stdout).includes('qdisc')) throw new Error(`unexpected: ${text(a.stderr)} ${text(b.stderr)}`);
  process.stdout.write(JSON.stringify({ importMs: t0 - tImport, firstMs: t1 - t0, secondMs: t2 - t1 }));
} else if (process.argv[2] === 'floor') {
  const { spawn } = await import('node:child_process');
  const once = (args, input) => new Promise((resolve, reject) => {
    const c = spawn('tc', args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
    c.on('error', reject).on('close', (code) => resolve({ code, out }));
    if (input !== undefined) c.stdin.end(input);
  });
  const t0 = performance.now();
  await once(['-j', 'qdisc', 'show', 'dev', 'lo']);
  const t1 = performance.now();
  await once(['-batch', '-'], 'qdisc show dev lo\n');
  const t2 = performance.now();
  process.stdout.write(JSON.stringify({ importMs: 0, firstMs: t1 - t0, secondMs: t2 - t1 }));
} else {
  const names = [...Object.keys(VARIANTS), 'child_process (floor)'];
  const samples = new Map(names.map((n) => [n, []]));
  for (let i = 0; i < REPS; i++) {
    for (const n of names) {
      const args = n === 'child_process (floor)' ? [process.argv[1], 'floor'] : [process.argv[1], 'child', n];
      const r = spawnSync('node', args, { encoding: 'utf8', cwd: REPO });
      if (r.status !== 0) throw new Error(`${n}: ${r.stderr.slice(0, 600)}`);
      samples.get(n).push(JSON.parse(r.stdout));
    }
    process.stdout.write(`execa-options: round ${i + 1}/${REPS}\n`);
  }
  const out = { finishedAt: new Date().toISOString(), reps: REPS, medians: {} };
  for (const n of names) {
    const s = samples.get(n);
    const m = { firstMs: median(s.map((x) => x.firstMs)), secondMs: median(s.map((x) => x.secondMs)), bothMs: median(s.map((x) => x.firstMs + x.secondMs)), importMs: median(s.map((x) => x.importMs)) };
    out.medians[n] = Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Math.round(v)]));
    process.stdout.write(`execa-options: ${n}: ${JSON.stringify(out.medians[n])}\n`);
  }
  out.samples = Object.fromEntries(samples);
  writeFileSync(path.join(OUT, 'execa-options.json'), `${JSON.stringify(out, null, 2)}\n`);
}
