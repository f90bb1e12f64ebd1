// Measurement tool of the lab; runs inside the `app` namespace
// (`ip netns exec app node probe.mjs …`) and prints one JSON object.
//
//   probe.mjs tcp  [--count N] [--rr] [--timeout MS] [--gap MS] [--quiet] ADDR:PORT|[V6]:PORT ...
//       N TCP connects per target (round-robin over the targets so that
//       drift hits all of them alike); connect time in ms, and with --rr the
//       time of one request/reply on the connection as well.
//       Exit 1 when a target had no successful sample.
//   probe.mjs ping [--count N] [--interval S] ADDR ...
//       ping -c N -i S per target, all targets in parallel; sent, received,
//       duplicates, loss %, and RTT statistics (median, p90, …) in ms.
//   probe.mjs serve
//       the tcp probe for a whole test file (lib.mjs's probeTcp): one JSON request per stdin line,
//       {"targets": [...], "count", "rr", "timeout", "gap"}, one JSON line back, {"out", "ok"};
//       exits when stdin ends. One node start per file instead of one per measurement (~1 s each under TCG).
import net from 'node:net';
import { createInterface } from 'node:readline';
import { spawn } from 'node:child_process';

function parseArgs(argv) {
  const opts = { count: 20, rr: false, timeout: 3000, gap: 5, interval: 0.01, quiet: false };
  const targets = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--count') opts.count = Number(argv[++i]);
    else if (a === '--timeout') opts.timeout = Number(argv[++i]);
    else if (a === '--gap') opts.gap = Number(argv[++i]);
    else if (a === '--interval') opts.interval = Number(argv[++i]);
    else if (a === '--rr') opts.rr = true;
    else if (a === '--quiet') opts.quiet = true;
    else targets.push(a);
  }
  return { opts, targets };
}

function splitHostPort(t) {
  const m = /^\[(.+)\]:(\d+)$/.exec(t) ?? /^([^:]+):(\d+)$/.exec(t);
  if (!m) throw new Error(`bad target ${t} (want ADDR:PORT or [V6]:PORT)`);
  return { host: m[1], port: Number(m[2]) };
}

export function stats(values) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return { n: 0, median: null, p90: null, min: null, max: null };
  const q = (p) => {
    const idx = (s.length - 1) * p;
    const lo = Math.floor(idx);
    const hi = Math.ceil(idx);
    return s[lo] + (s[hi] - s[lo]) * (idx - lo);
  };
  const r = (x) => Math.round(x * 1000) / 1000;
  return { n: s.length, median: r(q(0.5)), p90: r(q(0.9)), min: r(s[0]), max: r(s[s.length - 1]) };
}

function oneSample({ host, port }, { rr, timeout }) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    let tConnect = null;
    const sock = net.connect({ host, port, noDelay: true });
    const done = (result) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done({ error: 'timeout' }), timeout);
    sock.on('error', (e) => done({ error: e.code ?? String(e) }));
    sock.on('connect', () => {
      tConnect = process.hrtime.bigint();
      const connectMs = Number(tConnect - t0) / 1e6;
      if (!rr) return done({ connectMs });
      let buf = '';
      sock.on('data', (c) => {
        buf += c.toString();
        if (buf.includes('\n')) done({ connectMs, rrMs: Number(process.hrtime.bigint() - tConnect) / 1e6 });
      });
      sock.write('probe\n');
    });
  });
}

async function tcp(opts, targets) {
  const parsed = targets.map(splitHostPort);
  const acc = targets.map(() => ({ connect: [], rr: [], errors: {} }));
  for (let i = 0; i < opts.count; i++) {
    for (let j = 0; j < parsed.length; j++) {
      const r = await oneSample(parsed[j], opts);
      if (r.error) acc[j].errors[r.error] = (acc[j].errors[r.error] ?? 0) + 1;
      else {
        acc[j].connect.push(r.connectMs);
        if (r.rrMs !== undefined) acc[j].rr.push(r.rrMs);
      }
      if (opts.gap > 0) await new Promise((res) => setTimeout(res, opts.gap));
    }
  }
  const out = {};
  let ok = true;
  targets.forEach((t, j) => {
    const a = acc[j];
    if (a.connect.length === 0) ok = false;
    out[t] = {
      connect: { ...stats(a.connect), samples: a.connect.map((x) => Math.round(x * 100) / 100) },
      ...(opts.rr ? { rr: { ...stats(a.rr), samples: a.rr.map((x) => Math.round(x * 100) / 100) } } : {}),
      errors: a.errors,
    };
  });
  return { out, ok };
}

/**
 * One `ping` to `addr`, parsed. `wrap` runs it inside a namespace (e.g. ['ip', 'netns', 'exec', 'app'] or
 * ['nsenter', '--net=/proc/PID/ns/net']): lib.mjs's probePing calls this directly, so a ping probe starts no node.
 */
export function pingOne(addr, { count, interval }, wrap = []) {
  return new Promise((resolve) => {
    const args = ['-n', '-c', String(count), '-i', String(interval), '-W', '2', addr];
    const argv = [...wrap, 'ping', ...args];
    const p = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    p.stdout.on('data', (c) => (text += c));
    p.stderr.on('data', (c) => (text += c));
    p.on('error', (e) => resolve({ error: `${argv[0]}: ${e.message}` }));
    p.on('close', (code) => {
      const m = /(\d+) packets transmitted, (\d+) received(?:, \+(\d+) duplicates)?(?:, \+(\d+) errors)?/.exec(text);
      if (!m) return resolve({ error: `ping exit ${code}: ${text.trim().slice(-300)}` });
      const sent = Number(m[1]);
      const received = Number(m[2]);
      // RTT per reply (kernel receive timestamps: far less noisy than a TCP connect from node under TCG)
      const rtts = [...text.matchAll(/time=([\d.]+) ms/g)].map((x) => Number(x[1]));
      resolve({
        rtt: stats(rtts),
        sent,
        received,
        duplicates: Number(m[3] ?? 0),
        errors: Number(m[4] ?? 0),
        lossPct: Math.round(((sent - received) / sent) * 10000) / 100,
      });
    });
  });
}

/** Answers tcp requests one at a time, in order (a measurement never overlaps another). */
async function serve() {
  const defaults = { count: 20, rr: false, timeout: 3000, gap: 5 };
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    let reply;
    try {
      const req = JSON.parse(line);
      reply = await tcp({ ...defaults, ...req }, req.targets.map(String));
    } catch (e) {
      reply = { error: String(e?.stack ?? e) };
    }
    process.stdout.write(`${JSON.stringify(reply)}\n`);
  }
}

async function main() {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode === 'serve') return serve();
  const { opts, targets } = parseArgs(rest);
  if (targets.length === 0 || !['tcp', 'ping'].includes(mode)) {
    console.error('usage: probe.mjs tcp|ping [options] TARGET...');
    process.exit(2);
  }
  if (mode === 'tcp') {
    const { out, ok } = await tcp(opts, targets);
    if (!opts.quiet) console.log(JSON.stringify(out));
    process.exit(ok ? 0 : 1);
  } else {
    const results = await Promise.all(targets.map((t) => pingOne(t, opts)));
    const out = Object.fromEntries(targets.map((t, i) => [t, results[i]]));
    console.log(JSON.stringify(out));
    process.exit(results.some((r) => r.error) ? 1 : 0);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
