// Helpers shared by the lab's guest programs (tests, demo, bench). Everything
// here runs INSIDE the lab VM (see ../run.sh); it refuses to run elsewhere.
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, appendFileSync, mkdirSync, mkdtempSync, openSync, closeSync } from 'node:fs';
import { createConnection } from 'node:net';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pingOne } from './probe.mjs';

export const GUEST_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO = process.env.NCLAB_REPO ?? path.resolve(GUEST_DIR, '../../..');
export const OUT = process.env.NCLAB_OUT ?? '/tmp/nclab-out';
// NCLAB_CLI: run another CLI build (e.g. a stand-in while testing the lab itself).
export const CLI = process.env.NCLAB_CLI ?? path.join(REPO, 'dist', 'cli.cjs');
export const OUR_HANDLE = '4e43:';
/**
 * node's arguments that start the Kubernetes API double (kube-double-server.ts) with `args`: the bundle
 * test/lab/ensure-build.sh makes on the host (.lab-build/, one file, plain node), else the TypeScript through tsx
 * (under TCG the tsx start costs scenarios 10, 40 and 60 tens of seconds each).
 */
export function kubeDoubleArgv(...args) {
  const bundle = path.join(REPO, '.lab-build', 'kube-double-server.mjs');
  return existsSync(bundle) ? [bundle, ...args] : ['--import', 'tsx', path.join(GUEST_DIR, 'kube-double-server.ts'), ...args];
}
// "Untouched" means a dependency's added median stays well below the fault: a packet the filters send
// to the wrong band gets the whole 100 ms, so 10 ms still tells the two apart by a factor of 10. Under
// emulation on a busy 2-core machine an untouched port measured up to 3.6 ms added (CI, 2026-11-30);
// the old 2 ms bound failed on that noise. 10 ms is more than twice the worst noise seen.
export const UNTOUCHED_MS = 10;

export const DEPS = {
  B: { ns: 'dep-b', v4: '192.0.2.11', v6: '2001:db8::11' },
  C: { ns: 'dep-c', v4: '192.0.2.12', v6: '2001:db8::12' },
  D: { ns: 'dep-d', v4: '192.0.2.13', v6: '2001:db8::13' },
};
/**
 * The lab runs its test files in lanes (guest/test.sh), each on its own app namespace with its own target process
 * and addresses; the deps (B, C, D) are shared and only read. NCLAB_APP_NS names the lane's app namespace.
 */
export const LANES = {
  app: { ns: 'app', v4: '192.0.2.10', v6: '2001:db8::10' },
  app2: { ns: 'app2', v4: '192.0.2.20', v6: '2001:db8::20' },
  app3: { ns: 'app3', v4: '192.0.2.30', v6: '2001:db8::30' },
};
const laneName = process.env.NCLAB_APP_NS ?? 'app';
if (!Object.hasOwn(LANES, laneName)) throw new Error(`NCLAB_APP_NS=${laneName}: not a lab lane (${Object.keys(LANES).join(', ')})`);
export const APP = LANES[laneName];

/** host:port in the form probe.mjs accepts. */
export const hp = (addr, port) => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);

export function assertInVm() {
  if (hostname() !== 'netchaos-lab') {
    throw new Error(`refusing to run outside the lab VM (hostname ${hostname()}); use test/lab/run.sh`);
  }
}

/** Run a command synchronously; never throws; returns {code, stdout, stderr, ms}. */
export function run(cmd, args = [], opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, ...opts });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms, error: r.error };
}

export function mustRun(cmd, args = [], opts = {}) {
  const r = run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} → exit ${r.code}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** Build the topology (idempotent) and return the PID of this lane's target (in APP.ns). */
export function ensureLab() {
  assertInVm();
  mkdirSync(OUT, { recursive: true });
  execFileSync('bash', [path.join(GUEST_DIR, 'topology.sh')], { stdio: 'inherit', env: { ...process.env, NCLAB_OUT: OUT } });
  return Number(readFileSync(path.join(OUT, APP.ns === 'app' ? 'target.pid' : `target-${APP.ns}.pid`), 'utf8').trim());
}

/**
 * Run tc in a namespace: `ns` is a name under /run/netns, or a PID (number)
 * whose network namespace is entered with nsenter.
 */
export function tc(ns, args) {
  return typeof ns === 'number'
    ? run('nsenter', [`--net=/proc/${ns}/ns/net`, 'tc', ...args])
    : run('tc', ['-n', ns, ...args]);
}

function tcJson(ns, args) {
  const r = tc(ns, ['-j', ...args]);
  if (r.code !== 0) throw new Error(`tc ${args.join(' ')} in ${ns} → exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim() || '[]');
}

/** tc state of a device, as parsed JSON (no statistics). */
export function tcState(ns = APP.ns, dev = 'eth0') {
  return { qdisc: tcJson(ns, ['qdisc', 'show', 'dev', dev]), filter: tcJson(ns, ['filter', 'show', 'dev', dev]) };
}

export function rootQdisc(ns = APP.ns, dev = 'eth0') {
  return tcJson(ns, ['qdisc', 'show', 'dev', dev]).find((q) => q.root) ?? null;
}

export const hasOurTree = (ns = APP.ns, dev = 'eth0') => rootQdisc(ns, dev)?.handle === OUR_HANDLE;

/** `tc filter show` of a device as one record per filter (a filter's `match` and `hash` lines stay with it). */
export function filterRecords(ns = APP.ns, dev = 'eth0') {
  return tc(ns, ['filter', 'show', 'dev', dev]).stdout.split(/\n(?=filter )/);
}

/** The record of the filter whose handle starts with `fh` (`10c:3:`: a node of that bucket), or ''. */
export const filterRecord = (records, fh) => records.find((r) => r.includes(` fh ${fh}`)) ?? '';

/**
 * How many distinct handles the records matching `re` carry: a dump taken while a batch still creates tables can list
 * a filter twice (the kernel resumes a dump by position in its list of tables, newest first, and two hash levels
 * create a table before each table's entries).
 */
export const distinctHandles = (records, re) => new Set(records.filter((r) => re.test(r)).map((r) => / fh (\S+)/.exec(r)?.[1] ?? r)).size;

/** Text view of the tree (for logs and the demo). */
export function tcText(ns = APP.ns, dev = 'eth0') {
  const q = tc(ns, ['qdisc', 'show', 'dev', dev]).stdout;
  const f = tc(ns, ['filter', 'show', 'dev', dev]).stdout;
  return { qdisc: q.trim(), filter: f.trim() };
}

/**
 * TCP connect probe from inside `ns` (default: the lane's app); resolves with {target: {connect:{median,…}, rr?, errors}}.
 * The connects are made by one long-lived `probe.mjs serve` per namespace and test file (started at the first call,
 * ended when this process exits: its stdin closes), not by a node started per measurement: each start cost ~0.5-1.5 s
 * under TCG, inside the chaos window when it was the "during" probe. Requests are answered one at a time, in order.
 */
export async function probeTcp(targets, { count = 20, rr = false, timeout = 3000, gap = 5, ns = APP.ns } = {}) {
  const server = tcpProbeServer(ns);
  server.hold(+1);
  try {
    const reply = await server.ask({ targets, count, rr, timeout, gap });
    if (reply.error || !reply.out) throw new Error(`probe failed: ${reply.error ?? JSON.stringify(reply)}`);
    return reply.out;
  } finally {
    server.hold(-1);
  }
}

const tcpProbeServers = new Map();
/** The `probe.mjs serve` of namespace `ns` (started on first use): ask(request) → its JSON reply; hold(±1) refs it while asked. */
function tcpProbeServer(ns) {
  let s = tcpProbeServers.get(ns);
  if (s && s.child.exitCode === null && s.child.signalCode === null) return s;
  const child = spawn('ip', ['netns', 'exec', ns, 'node', path.join(GUEST_DIR, 'probe.mjs'), 'serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const waiting = [];
  let buf = '';
  let stderr = '';
  let gone = null;
  const fail = (why) => { gone = why; for (const w of waiting.splice(0)) w({ error: `${why}; stderr: ${stderr.slice(-800)}` }); };
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (c) => {
    buf += c;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let reply;
      try { reply = JSON.parse(line); } catch { reply = { error: `not JSON: ${line.slice(0, 300)}` }; }
      waiting.shift()?.(reply);
    }
  });
  child.stderr.on('data', (c) => { stderr += c; });
  child.on('error', (e) => fail(`ip netns exec ${ns} node probe.mjs serve: ${e.message}`));
  child.on('close', (code, signal) => fail(`probe.mjs serve in ${ns} exited (${code ?? signal})`));
  let holds = 0;
  const handles = [child, child.stdin, child.stdout, child.stderr];
  s = {
    child,
    ask: (req) => new Promise((resolve) => {
      if (gone) return resolve({ error: gone });
      waiting.push(resolve);
      child.stdin.write(`${JSON.stringify(req)}\n`);
    }),
    // Referenced only while a request is out: an idle server never keeps the test file's process alive.
    hold: (d) => { holds += d; for (const h of handles) { if (holds > 0) h.ref?.(); else h.unref?.(); } },
  };
  s.hold(0);
  tcpProbeServers.set(ns, s);
  return s;
}

/**
 * ping loss/RTT probe from inside namespace `ns` (a name under /run/netns) or, with `pid`, the network namespace
 * of that process; returns {addr: {sent, received, duplicates, errors, lossPct, rtt}} (or {error}). One `ping`
 * per address, all at once, started straight from this process (probe.mjs's pingOne): no node start per probe
 * (each cost ~0.5–1.5 s under TCG, and the suite runs ~40 of them).
 */
export async function probePing(addrs, { count = 300, interval = 0.01, ns = APP.ns, pid } = {}) {
  const wrap = pid === undefined ? ['ip', 'netns', 'exec', ns] : ['nsenter', `--net=/proc/${pid}/ns/net`];
  const results = await Promise.all(addrs.map((a) => pingOne(a, { count, interval }, wrap)));
  return Object.fromEntries(addrs.map((a, i) => [a, results[i]]));
}

/** Median ping RTT per address, {addr: ms}. */
export const pingMedians = (res) => Object.fromEntries(Object.entries(res).map(([k, v]) => [k, v.rtt?.median ?? null]));

/** Loopback control target inside app (never crosses eth0). */
export const CONTROL = '127.0.0.1:7070';

/**
 * Added TCP connect time per target, corrected for CPU drift: (target during −
 * target baseline) − (control during − control baseline), where both probes
 * included CONTROL. Returns {added: {t: ms}, raw: {t: ms}, drift: ms}.
 */
export function addedTcp(base, during) {
  const mb = medians(base);
  const md = medians(during);
  const drift = CONTROL in mb ? md[CONTROL] - mb[CONTROL] : 0;
  const r = (x) => Math.round(x * 100) / 100;
  const raw = {};
  const added = {};
  for (const k of Object.keys(mb)) {
    if (k === CONTROL) continue;
    raw[k] = r(md[k] - mb[k]);
    added[k] = r(md[k] - mb[k] - drift);
  }
  return { added, raw, drift: r(drift) };
}

/** Median connect times, {target: ms}. */
export const medians = (res) => Object.fromEntries(Object.entries(res).map(([k, v]) => [k, v.connect.median]));

export const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

/** Polls `cond` every `stepMs` up to `timeoutMs`: the ms it took to hold, or null when it never did. */
export async function waitFor(cond, timeoutMs, stepMs = 100) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (cond()) return Date.now() - t0;
    await sleep(stepMs);
  }
  return cond() ? Date.now() - t0 : null;
}

/**
 * Environment for the CLI: the host's, minus every netchaos variable, plus `env`.
 * MEASURE_EFFECT is false unless `env` says otherwise: its baseline probes add ~5 s before every apply
 * under emulation, and only the scenarios about the effect or the stop path with it (5 SIGTERM/SIGINT,
 * 10, 30-32) need it; they pass MEASURE_EFFECT: 'true' (the CLI's default).
 */
export function cliEnv(env = {}) {
  const ours = new Set(['NETWORK_INTERFACE', 'NETWORK_LATENCY', 'JITTER', 'CORRELATION', 'TOTAL_CHAOS_DURATION',
    'RAMP_TIME', 'DESTINATION_IPS', 'DESTINATION_IPS_FILE', 'DESTINATION_PORTS', 'SOURCE_PORTS',
    'NETWORK_PACKET_LOSS_PERCENTAGE', 'NETWORK_PACKET_DUPLICATION_PERCENTAGE', 'NETWORK_PACKET_CORRUPTION_PERCENTAGE',
    'NETWORK_PACKET_REORDER_PERCENTAGE', 'NETWORK_BANDWIDTH', 'DELAY_DISTRIBUTION', 'FORCE', 'FAULTS', 'MEASURE_EFFECT', 'VERIFY_EFFECT']);
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !ours.has(k)));
  return { ...base, MEASURE_EFFECT: 'false', ...env };
}

/** Run the CLI to completion. */
export function cli(args, { env = {}, wrap = [] } = {}) {
  const [cmd, ...pre] = wrap.length ? wrap : ['node'];
  const full = wrap.length ? [...pre, CLI, ...args] : [CLI, ...args];
  return run(cmd, full, { env: cliEnv(env) });
}

/** Milliseconds (to the 0.1 ms) from the hrtime `start` to `at` (default: now). */
const msSince = (start, at = process.hrtime.bigint()) => Math.round(Number(at - start) / 1e5) / 10;

/**
 * Start `netchaos inject` in the background and wait until our tree shows up
 * in `ns` (or the process exits, or `timeoutMs` passes). Returns a handle:
 *   { child, applied, appliedMs, stop(signal) → result, done → Promise<result> }
 * where result = { code, signal, stdout, stderr, ms, revertMs }.
 * `appliedBy`: 'poll' (default) asks tc every 100 ms; 'monitor' reads the event from a `tc monitor` started in `ns`
 * before the CLI (no process beside the measured one; the bench's timing: appliedMs is then when the kernel reported
 * our root, to the 0.1 ms).
 */
export async function startInject(args, { env = {}, ns = APP.ns, dev = 'eth0', wrap = null, timeoutMs = 60000, cli = CLI, appliedBy = 'poll' } = {}) {
  const monitor = appliedBy === 'monitor' ? await startTcMonitor(ns, dev) : null;
  const t0 = Date.now();
  const t0h = process.hrtime.bigint();
  const argv = wrap ? [...wrap.slice(1), cli, 'inject', ...args] : [cli, 'inject', ...args];
  const child = spawn(wrap ? wrap[0] : 'node', argv, { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  let exited = null;
  const done = new Promise((resolve) => {
    child.on('close', (code, signal) => {
      exited = { code, signal, stdout, stderr, ms: Date.now() - t0 };
      resolve(exited);
    });
  });
  let applied = false;
  let appliedMs;
  if (monitor) {
    try {
      const at = await Promise.race([monitor.applied, done.then(() => null), deadline(timeoutMs).then(() => null)]);
      applied = at !== null;
      appliedMs = msSince(t0h, at ?? undefined);
    } finally {
      monitor.stop();
    }
  } else {
    while (!exited && Date.now() - t0 < timeoutMs) {
      if (hasOurTreeSafe(ns, dev)) { applied = true; break; }
      await sleep(100);
    }
    appliedMs = Date.now() - t0;
  }
  const handle = {
    child,
    startedAt: t0,
    applied,
    appliedMs,
    done,
    get output() { return { stdout, stderr }; },
    /**
     * Waits for the run's own word that its whole batch is in (its "injected" event). `applied` only says the root
     * qdisc is there, and the root is the batch's first line: the marker, the filters and (with two hash levels) the
     * links come after it, and a dump taken while tables are still created can miss some. Read exact state after this.
     */
    whole: (waitMs = 60000) => untilInjected(() => stderr, () => !exited, waitMs),
    /** Send `signal`, wait for exit; revertMs = signal → exit (to the 0.1 ms). */
    async stop(signal = 'SIGTERM', waitMs = 30000) {
      if (exited) return exited;
      const ts = process.hrtime.bigint();
      child.kill(signal);
      const r = await Promise.race([done, deadline(waitMs).then(() => null)]);
      if (!r) { child.kill('SIGKILL'); const k = await done; return { ...k, hung: true, revertMs: msSince(ts) }; }
      return { ...r, revertMs: msSince(ts) };
    },
  };
  return handle;
}

/**
 * A timer that does not keep the process alive once everything else is done: for `Promise.race([done, deadline(ms)])`.
 * A plain sleep there kept each test file's process alive until it fired (deadman.test.mjs ended ~80 s after its
 * last scenario, waiting out 24-reinject's 150 s bound).
 */
/**
 * Waits until a run's log (`log()`, its stderr so far) says its whole batch is in (its "injected" event), while
 * `running()`, at most `waitMs`; true when it did. For a run started another way than startInject (its `whole()`).
 */
export async function untilInjected(log, running, waitMs = 60000) {
  const t0 = Date.now();
  while (!/"event":"injected"/.test(log()) && running() && Date.now() - t0 < waitMs) await sleep(50);
  return /"event":"injected"/.test(log());
}

export const deadline = (ms) => new Promise((resolve) => { setTimeout(resolve, ms).unref(); });

/**
 * `tc monitor` in `ns` (a name under /run/netns, or a PID), ready once it has reported a change of our own on the
 * namespace's lo (the watched device is left alone). `applied` resolves with the hrtime at which it printed our root
 * on `dev`; stop() ends it.
 */
async function startTcMonitor(ns, dev) {
  const inNs = (args) => (typeof ns === 'number' ? ['nsenter', `--net=/proc/${ns}/ns/net`, 'tc', ...args] : ['tc', '-n', ns, ...args]);
  const [cmd, ...argv] = inNs(['monitor']);
  const mon = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'ignore'] });
  let buf = '';
  let ready;
  let applied;
  const readyP = new Promise((resolve) => { ready = resolve; });
  const appliedP = new Promise((resolve) => { applied = resolve; });
  const ours = new RegExp(`qdisc prio ${OUR_HANDLE} dev ${dev} root`);
  mon.stdout.setEncoding('utf8');
  mon.stdout.on('data', (c) => {
    const at = process.hrtime.bigint();
    buf += c;
    if (buf.includes('dev lo')) ready();
    if (ours.test(buf)) applied(at);
  });
  try {
    for (let i = 0; ; i++) {
      mustRun(...splitCmd(inNs(['qdisc', 'replace', 'dev', 'lo', 'root', 'handle', '77:', 'pfifo'])));
      mustRun(...splitCmd(inNs(['qdisc', 'del', 'dev', 'lo', 'root'])));
      if (await Promise.race([readyP.then(() => true), deadline(200).then(() => false)])) break;
      if (i === 50) throw new Error('tc monitor never reported a change');
    }
  } catch (e) {
    mon.kill();
    throw e;
  }
  return { applied: appliedP, stop: () => mon.kill() };
}
const splitCmd = ([cmd, ...args]) => [cmd, args];

function hasOurTreeSafe(ns, dev) {
  try { return hasOurTree(ns, dev); } catch { return false; }
}

/** Remove anything left on app's eth0 root (best effort, between scenarios). */
export function resetApp(ns = APP.ns, dev = 'eth0') {
  tc(ns, ['qdisc', 'del', 'dev', dev, 'root']);
}

/**
 * Keep a CLI run's log (its stderr: pino's JSON lines with their times) in $NCLAB_OUT/<name>.log: where a long
 * scenario's time goes (start, discovery, checks, apply, revert, report) is read there.
 */
export function saveLog(name, text) {
  writeFileSync(path.join(OUT, `${name}.log`), text);
}

/** Append one scenario's figures to $NCLAB_OUT/lab-results.json (a JSON-lines file). */
export function record(name, data) {
  appendFileSync(path.join(OUT, 'lab-results.jsonl'), `${JSON.stringify({ name, ...data })}\n`);
}

/** n distinct test destinations, half IPv4 (198.18.0.0/15), half IPv6 (2001:db8:ffff::/48). */
export function bigList(n = 10000) {
  // Odd stride: no two addresses share a /31 (or /127), so nothing can be
  // merged into a shorter prefix: n real filter entries.
  const list = [];
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    const v = i * 13; // inside 198.18.0.0/15
    list.push(`198.${18 + (v >> 16)}.${(v >> 8) & 255}.${v & 255}`);
  }
  for (let i = 0; i < Math.floor(n / 2); i++) {
    const v = i * 13 + 1; // inside 2001:db8:ffff::/48
    list.push(`2001:db8:ffff::${(v >> 16).toString(16)}:${(v & 0xffff).toString(16)}`);
  }
  return list;
}

export function cliExists() { return existsSync(CLI); }
export { writeFileSync };

/** Fail with the measured figures in the message, not just "false". */
export function check(cond, what, data) {
  assert.ok(cond, `${what}\n  measured: ${JSON.stringify(data)}`);
}

/** Print a figure in the test output and record it in lab-results.jsonl. */
export function show(t, name, data) {
  t.diagnostic(`${name}: ${JSON.stringify(data)}`);
  record(`${t.name} :: ${name}`, { data });
}

export const round = (x) => (x === null || x === undefined ? x : Math.round(x * 100) / 100);

/** Added median RTT per address (ping): during − baseline. */
export function addedPing(base, during) {
  const mb = pingMedians(base);
  const md = pingMedians(during);
  return Object.fromEntries(Object.keys(mb).map((k) => [k, round(md[k] - mb[k])]));
}

/**
 * The fake container runtime's socket of this lane's API double (a unix socket cannot be bound on the 9p share: it
 * lives on the guest's own /run); one per lane, so that two lanes' doubles run side by side.
 */
export const LITMUS_SOCKET = `/run/nclab-litmus-${APP.ns}/containerd.sock`;

/**
 * The Litmus ENV of a `netchaos run` against the API double started in `dir` (as the ChaosEngine's runner pod gets
 * it: the target deployment, the engine, the runtime socket), plus `env`.
 */
export function litmusEnv(dir, env = {}) {
  return {
    KUBECONFIG: path.join(dir, 'kubeconfig'), PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`,
    TARGETS: 'deployment:shop:[app=frontend]', PODS_AFFECTED_PERC: '100', NODE_NAME: 'lab-node',
    CHAOSENGINE: 'lab-chaos', EXPERIMENT_NAME: 'pod-dependency-latency', CHAOS_NAMESPACE: 'litmus', CHAOS_UID: 'engine-uid',
    POD_NAME: 'runner-1', CONTAINER_RUNTIME: 'auto', SOCKET_PATH: LITMUS_SOCKET,
    ...env,
  };
}

/**
 * The control socket of this lane's API double server (kube-double-server.ts --serve): one process for the whole
 * suite, started by the first test file that needs it (its start cost 11-16 s to READY under emulation, in each of
 * the 5 files that used it); test/lab/guest/test.sh stops it at the end (its PID in API_DOUBLE_PID).
 */
export const API_DOUBLE_CONTROL = `/run/nclab-api-double-${APP.ns}/control.sock`;
export const API_DOUBLE_PID = `/run/nclab-api-double-${APP.ns}/server.pid`;

/** A connection to the control socket, or null when no server listens there. */
function connectControl() {
  return new Promise((resolve) => {
    const conn = createConnection(API_DOUBLE_CONTROL);
    conn.once('connect', () => { conn.removeAllListeners('error'); resolve(conn); });
    conn.once('error', () => resolve(null));
  });
}

/** Start this lane's API double server (detached: it outlives this test file) and connect to it. */
async function startDoubleServer() {
  mkdirSync(path.dirname(API_DOUBLE_CONTROL), { recursive: true });
  const log = path.join(OUT, `api-double-${APP.ns}.log`);
  const fd = openSync(log, 'a');
  const child = spawn('node', kubeDoubleArgv('--serve', API_DOUBLE_CONTROL), { cwd: REPO, detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  writeFileSync(API_DOUBLE_PID, `${child.pid}\n`);
  let exitCode = null;
  child.once('exit', (code) => { exitCode = code ?? -1; });
  // Bundled: 11-16 s under emulation; through tsx (no bundle) 109-120 s. 300 s is more than twice the slower.
  const t0 = Date.now();
  while (exitCode === null && Date.now() - t0 < 300000) {
    const conn = await connectControl();
    if (conn) return conn;
    await sleep(200);
  }
  child.kill('SIGKILL');
  throw new Error(`the API double server ${exitCode === null ? 'never listened' : `exited with ${exitCode}`}: ${readFileSync(log, 'utf8').slice(-800)}`);
}

/**
 * The Kubernetes API double of the Litmus scenarios (kube-double-server.ts: strict schemas and RBAC, a ChaosEngine,
 * the target pod = the lab's `app` process, Service shop/b, a fake crictl), a fresh one (nothing left from an
 * earlier file: objects, requests, refusals, port) set up in `dir` and ready, from this lane's server (started
 * here when none runs yet). `probes`: a file with the ChaosEngine's resilience probes. Returns:
 *   mutate(objects)  replaces these API objects ([{resource, object}], as a controller would), resolves once done;
 *   stop()           ends the session and resolves with <dir>/api-state.json (ChaosResult, Events, requests, refusals).
 */
export async function startApiDouble({ dir, pid, probes }) {
  const t0 = Date.now();
  let conn = await connectControl();
  const started = !conn;
  conn ??= await startDoubleServer();
  conn.setEncoding('utf8');
  let out = '';
  let closed = false;
  const waiters = [];
  const settle = () => {
    for (const w of [...waiters]) {
      if (out.includes(w.text)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
      else if (closed || out.includes('ERROR')) { waiters.splice(waiters.indexOf(w), 1); w.reject(new Error(`the API double answered ${JSON.stringify(out.slice(-500))}${closed ? ' and closed the session' : ''}, not ${w.text}`)); }
    }
  };
  conn.on('data', (c) => { out += c; settle(); });
  conn.on('close', () => { closed = true; settle(); });
  conn.on('error', () => { /* 'close' follows */ });
  const seen = (text) => new Promise((resolve, reject) => { waiters.push({ text, resolve, reject }); settle(); });
  conn.write(`${JSON.stringify({ dir, pid, ...(probes ? { probes } : {}), socket: LITMUS_SOCKET, appV4: APP.v4 })}\n`);
  await seen(`READY ${dir}`);
  console.error(`lab-time: API double READY after ${((Date.now() - t0) / 1000).toFixed(1)} s (${path.basename(dir)}, lane ${APP.ns}, ${started ? 'server started' : 'server reused'})`);
  let mutations = 0;
  let state;
  return {
    mutate: async (objects) => {
      writeFileSync(path.join(dir, 'mutate.json'), JSON.stringify(objects));
      conn.write('mutate\n');
      await seen(`MUTATED ${++mutations}`);
    },
    stop: async () => {
      if (state === undefined) {
        if (!closed) { conn.write('stop\n'); await seen('STOPPED'); }
        state = JSON.parse(readFileSync(path.join(dir, 'api-state.json'), 'utf8'));
      }
      return state;
    },
  };
}

/**
 * The application of the blast-radius scenarios (60, 61): a dnsmasq on DEPS_DNS (an address on br0) that knows
 * c.lab.test and d.lab.test (PTR records included), and in APP.ns, with its own /etc/resolv.conf naming it (as a
 * container has), hold-conns.mjs holding one connection to each of B, C and D on `port`; then the API double
 * with that process as the target pod. `tag` names the files in OUT. Returns { pid, dir, api, stop() }.
 */
export const DEPS_DNS = '192.0.2.1';
export async function startDepsApp(tag, { port = 8080 } = {}) {
  const hosts = path.join(OUT, `${tag}-hosts`);
  const resolv = path.join(OUT, `${tag}-resolv.conf`);
  const ready = path.join(OUT, `${tag}-ready`);
  mustRun('ip', ['addr', 'add', `${DEPS_DNS}/24`, 'dev', 'br0']);
  writeFileSync(hosts, `${DEPS.C.v4} c.lab.test\n${DEPS.D.v4} d.lab.test\n`);
  writeFileSync(resolv, `nameserver ${DEPS_DNS}\nsearch lab.test\noptions timeout:1 attempts:2\n`);
  const dnsmasq = spawn('dnsmasq', ['--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', `--addn-hosts=${hosts}`,
    '--bind-interfaces', `--listen-address=${DEPS_DNS}`, '--port=53', '--user=root', '--pid-file=', '--log-queries',
    `--log-facility=${path.join(OUT, `${tag}-dnsmasq.log`)}`], { stdio: 'ignore' });
  run('rm', ['-f', ready]);
  const holder = spawn('ip', ['netns', 'exec', APP.ns, 'unshare', '-m', '--propagation', 'private', 'sh', '-c',
    'mount --bind "$1" /etc/resolv.conf && shift && exec node "$@"', 'sh', resolv, path.join(GUEST_DIR, 'hold-conns.mjs'), '--max-seconds', '600', '--ready', ready,
    `tcp:${DEPS.B.v4}:${port}`, `tcp:${DEPS.C.v4}:${port}`, `tcp:${DEPS.D.v4}:${port}`], { stdio: 'ignore', detached: true });
  let api;
  const stop = async () => {
    try { process.kill(-holder.pid, 'SIGTERM'); } catch { /* gone */ }
    dnsmasq.kill('SIGTERM');
    const state = await api?.stop().catch(() => null);
    run('ip', ['addr', 'del', `${DEPS_DNS}/24`, 'dev', 'br0']);
    return state;
  };
  try {
    const held = await waitFor(() => { try { return readFileSync(ready, 'utf8').includes('ready'); } catch { return false; } }, 30000);
    assert.ok(held !== null, 'hold-conns connected to B, C and D');
    assert.match(readFileSync(`/proc/${holder.pid}/root/etc/resolv.conf`, 'utf8'), /nameserver 192\.0\.2\.1/, 'the app sees its own resolv.conf');
    const dir = mkdtempSync(path.join(OUT, `${tag}-`));
    api = await startApiDouble({ dir, pid: holder.pid });
    return { pid: holder.pid, dir, api, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
