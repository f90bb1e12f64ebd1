// The netchaos real-kernel scenarios. Runs INSIDE the lab VM only:
//   test/lab/test.sh            (host: builds dist if needed, boots the VM)
// Each test measures against a baseline taken in the same run, and prints
// what it measured (t.diagnostic) whether it passes or not; every figure is
// also appended to $NCLAB_OUT/lab-results.jsonl.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  DEPS, OUT, CLI, hp, ensureLab, cliExists, tcState, tcText, rootQdisc, hasOurTree, tc, run, filterRecords, filterRecord, distinctHandles,
  probeTcp, probePing, medians, pingMedians, addedTcp, CONTROL, startInject, cli, resetApp, sleep, bigList, check, show, round, addedPing,
  UNTOUCHED_MS,
  APP, deadline,
} from './lib.mjs';

const B = DEPS.B;
const C = DEPS.C;
const D = DEPS.D;
const LAT = 100; // ms
const COUNT = Number(process.env.NCLAB_PROBES ?? 30); // TCP connect samples per target
const LONG = '600'; // inject duration when the test ends the run itself
let PID;
let STATE0; // tc state of app/eth0 before any scenario


/** Fail (with the CLI's output) when the injection never showed up. */
async function mustApply(h, what) {
  if (h.applied) return;
  const r = await h.stop('SIGTERM');
  check(false, what, { appliedMs: h.appliedMs, ...outputOf(r) });
}




const RTT = { count: 50, interval: 0.02 }; // ping RTT probe

function outputOf(r) {
  return { code: r.code, signal: r.signal, stdout: r.stdout?.trim().slice(-800), stderr: r.stderr?.trim().slice(-800) };
}

/** Stop an injection if still running and make sure app/eth0 is clean again. */
async function cleanup(h) {
  if (h) await h.stop('SIGKILL', 5000);
  if (hasOurTree(APP.ns)) {
    const r = cli(['revert', '--pid', String(PID)]);
    if (r.code !== 0 || hasOurTree(APP.ns)) resetApp(APP.ns);
  }
}

before(() => {
  assert.ok(cliExists(), `${CLI} is missing: run \`npm run build\` on the host first (test/lab/test.sh does)`);
  PID = ensureLab();
  STATE0 = tcState(APP.ns);
});

after(() => {
  resetApp(APP.ns);
});

// ---------------------------------------------------------------------------
// 1. Latency toward one dependency only, per address family, in one run: B's IPv4 and C's IPv6 are selected.
// Each family has one delayed and two untouched deps (IPv4: B delayed, C and D not; IPv6: C delayed, B and D not),
// and each selected dep's other family is untouched (B's IPv6, C's IPv4): an IPv4 filter must not catch IPv6 and
// the reverse. (It was two runs, 1-v4 with B's IPv4 and 1-v6 with B's IPv6, ~26 s each: the same checks.)
const SELECTED = [B.v4, C.v6];
test(`1. NETWORK_LATENCY=${LAT} to B's IPv4 (${B.v4}) and C's IPv6 (${C.v6}) only; D, B's IPv6 and C's IPv4 untouched; reverted at the end`, async (t) => {
  const untouched = [D.v4, D.v6, B.v6, C.v4];
  const targets = [...SELECTED, ...untouched];
  const base = await probePing(targets, RTT);
  const before0 = tcState(APP.ns);
  let h;
  try {
    // The run ends by itself: its duration has to outlast the measurement below twice (printed as
    // measuredAfterApplyMs: 4.4 s (v4) and 2.5 s (v6) with the host at load 2-3.5, 4.2 s (v4) at load 4.5-6.5;
    // this one run 2.6 and 3.0 s in two full runs, 2.8-3.4 s at load ~3, 7.5 s at load ~7, 2026-12-01): 16 s is
    // twice the busiest. It was 20 s (waited out after a ~3 s measurement), 32 s while the probes started node.
    h = await startInject(['--pid', String(PID)], {
      env: { NETWORK_LATENCY: String(LAT), DESTINATION_IPS: SELECTED.join(','), TOTAL_CHAOS_DURATION: '16' },
    });
    await mustApply(h, 'our tree (root prio 4e43:) never appeared');
    show(t, 'tree', tcText(APP.ns));
    const during = await probePing(targets, RTT);
    const add = addedPing(base, during);
    show(t, 'baseline median RTT ms', pingMedians(base));
    show(t, 'during median RTT ms', pingMedians(during));
    show(t, 'added ms', add);
    const stillRunning = h.child.exitCode === null;
    const measuredAfterApplyMs = Date.now() - h.startedAt - h.appliedMs;
    const r = await h.done;
    show(t, 'inject exit', { code: r.code, ms: r.ms, appliedMs: h.appliedMs, measuredAfterApplyMs });
    check(stillRunning, 'the run ended before the measurement finished (duration too short?)', add);
    check(Math.abs(add[B.v4] - LAT) <= LAT * 0.1, `B v4: added median must be ${LAT} ms ± 10 %`, add);
    check(Math.abs(add[C.v6] - LAT) <= LAT * 0.1, `C v6: added median must be ${LAT} ms ± 10 %`, add);
    check(add[C.v4] < UNTOUCHED_MS && add[D.v4] < UNTOUCHED_MS, `v4: C and D (not selected): added median must stay < ${UNTOUCHED_MS} ms`, add);
    check(add[B.v6] < UNTOUCHED_MS && add[D.v6] < UNTOUCHED_MS, `v6: B and D (not selected): added median must stay < ${UNTOUCHED_MS} ms`, add);
    check(r.code === 0, 'inject must exit 0 after TOTAL_CHAOS_DURATION', outputOf(r));
    assert.deepEqual(tcState(APP.ns), before0, 'tc qdisc/filter state after the run must equal the state before');
  } finally {
    await cleanup(h);
  }
});

// ---------------------------------------------------------------------------
// 2. Ports
const portCases = [
  { label: 'DESTINATION_PORTS=8080', env: { DESTINATION_IPS: B.v4, DESTINATION_PORTS: '8080' } },
  { label: 'DESTINATION_PORTS=!9090', env: { DESTINATION_IPS: B.v4, DESTINATION_PORTS: '!9090' } },
  { label: 'DESTINATION_IPS=192.0.2.11|8080', env: { DESTINATION_IPS: `${B.v4}|8080` } },
];
for (const pc of portCases) {
  test(`2. ports (${pc.label}): B:8080 delayed, B:9090 not`, async (t) => {
    const targets = [hp(B.v4, 8080), hp(B.v4, 9090), hp(C.v4, 8080)];
    const base = await probeTcp([CONTROL, ...targets], { count: COUNT });
    let h;
    try {
      h = await startInject(['--pid', String(PID)], { env: { NETWORK_LATENCY: String(LAT), TOTAL_CHAOS_DURATION: LONG, ...pc.env } });
      await mustApply(h, 'our tree never appeared');
      const during = await probeTcp([CONTROL, ...targets], { count: COUNT });
      const d = addedTcp(base, during);
      const add = d.added;
      show(t, 'TCP connect: added median ms, corrected for CPU drift (loopback control)', d);
      const r = await h.stop('SIGTERM');
      check(Math.abs(add[targets[0]] - LAT) <= LAT * 0.1, `B:8080 must get ${LAT} ms ± 10 %`, add);
      check(add[targets[1]] < UNTOUCHED_MS, `B:9090 must stay < ${UNTOUCHED_MS} ms`, add);
      check(add[targets[2]] < UNTOUCHED_MS, `C:8080 must stay < ${UNTOUCHED_MS} ms`, add);
      check(r.code === 143, 'SIGTERM must end the run with 143', outputOf(r));
    } finally {
      await cleanup(h);
    }
  });
}

// ---------------------------------------------------------------------------
// 3. Different faults for different dependencies in one run
test('3. FAULTS="latency=100@B loss=30@C": B delayed, C lossy, D clean — one run', async (t) => {
  const targets = [B.v4, D.v4];
  const base = await probePing(targets, RTT);
  const before0 = tcState(APP.ns);
  let h;
  try {
    h = await startInject(['--pid', String(PID)], {
      env: { FAULTS: `latency=${LAT}@${B.v4} loss=30@${C.v4}`, TOTAL_CHAOS_DURATION: LONG },
    });
    await mustApply(h, 'our tree never appeared');
    show(t, 'tree', tcText(APP.ns));
    const loss = await probePing([B.v4, C.v4, D.v4], { count: 300, interval: 0.01 });
    const add = addedPing(base, loss);
    show(t, 'added ms', add);
    show(t, 'ping loss %', Object.fromEntries(Object.entries(loss).map(([k, v]) => [k, v.lossPct])));
    const r = await h.stop('SIGTERM');
    check(Math.abs(add[targets[0]] - LAT) <= LAT * 0.1, `B must get ${LAT} ms ± 10 %`, add);
    check(loss[B.v4].lossPct <= 5, 'B must not be lossy', loss[B.v4]);
    check(add[targets[1]] < UNTOUCHED_MS, `D must stay < ${UNTOUCHED_MS} ms`, add);
    check(loss[C.v4].lossPct >= 20 && loss[C.v4].lossPct <= 40, 'C loss must be 20–40 % over 300 pings', loss);
    check(loss[D.v4].lossPct === 0, 'D must see no loss', loss);
    check(r.code === 143, 'SIGTERM → 143', outputOf(r));
    assert.deepEqual(tcState(APP.ns), before0, 'state after must equal state before');
  } finally {
    await cleanup(h);
  }
});

// ---------------------------------------------------------------------------
// 4. Loss, duplication, corruption
test('4. NETWORK_PACKET_LOSS_PERCENTAGE=30 to B: 20–40 % over 400 pings; C 0 %', async (t) => {
  let h;
  try {
    h = await startInject(['--pid', String(PID)], {
      env: { NETWORK_LATENCY: '0', NETWORK_PACKET_LOSS_PERCENTAGE: '30', DESTINATION_IPS: B.v4, TOTAL_CHAOS_DURATION: LONG },
    });
    await mustApply(h, 'our tree never appeared');
    const loss = await probePing([B.v4, C.v4], { count: 400 });
    show(t, 'ping loss', loss);
    await h.stop('SIGTERM');
    check(loss[B.v4].lossPct >= 20 && loss[B.v4].lossPct <= 40, 'B loss must be 20–40 %', loss);
    check(loss[C.v4].lossPct === 0, 'C must see no loss', loss);
  } finally {
    await cleanup(h);
  }
});

test('4b. duplication=50 and corruption=50 to B (smoke): B affected, C not', async (t) => {
  let h;
  try {
    h = await startInject(['--pid', String(PID)], {
      env: { NETWORK_LATENCY: '0', NETWORK_PACKET_DUPLICATION_PERCENTAGE: '50', DESTINATION_IPS: B.v4, TOTAL_CHAOS_DURATION: LONG },
    });
    await mustApply(h, 'duplication: tree never appeared');
    const dup = await probePing([B.v4, C.v4], { count: 100 });
    show(t, 'duplication ping', dup);
    await h.stop('SIGTERM');
    h = await startInject(['--pid', String(PID)], {
      env: { NETWORK_LATENCY: '0', NETWORK_PACKET_CORRUPTION_PERCENTAGE: '50', DESTINATION_IPS: B.v4, TOTAL_CHAOS_DURATION: LONG },
    });
    await mustApply(h, 'corruption: tree never appeared');
    const cor = await probePing([B.v4, C.v4], { count: 100 });
    show(t, 'corruption ping', cor);
    await h.stop('SIGTERM');
    check(dup[B.v4].duplicates > 10 && dup[C.v4].duplicates === 0, 'duplication: B must get duplicates, C none', dup);
    check(cor[B.v4].lossPct + cor[B.v4].errors > 10 && cor[C.v4].lossPct === 0, 'corruption: B must lose/err packets, C not', cor);
  } finally {
    await cleanup(h);
  }
});

// ---------------------------------------------------------------------------
// 5. Revert and refusals
for (const [sig, code] of [['SIGTERM', 143], ['SIGINT', 130]]) {
  test(`5. ${sig} mid-wait: reverted within 5 s, exit ${code}, state equal to before`, async (t) => {
    const before0 = tcState(APP.ns);
    let h;
    try {
      // With the effect measurement (the default): its probe worker must not delay the revert.
      h = await startInject(['--pid', String(PID)], { env: { NETWORK_LATENCY: String(LAT), DESTINATION_IPS: B.v4, TOTAL_CHAOS_DURATION: LONG, MEASURE_EFFECT: 'true' } });
      await mustApply(h, 'our tree never appeared');
      await sleep(500);
      const r = await h.stop(sig, 10000);
      show(t, 'stop', { code: r.code, signal: r.signal, revertMs: r.revertMs });
      check(r.code === code, `exit code after ${sig} must be ${code}`, outputOf(r));
      // 0.5–1.4 s measured on a quiet machine, 2.2 s on a loaded one (2026-12-01): the bound is over twice that, and
      // far inside a pod's termination grace (30 s by default).
      check(r.revertMs <= 5000, 'signal → exit (reverted) must take ≤ 5 s', { revertMs: r.revertMs });
      assert.deepEqual(tcState(APP.ns), before0, 'state after must equal state before');
    } finally {
      await cleanup(h);
    }
  });
}

test('5. SIGKILL leaves the tree; `netchaos revert --pid` removes it; a second revert is a no-op (exit 0)', async (t) => {
  const before0 = tcState(APP.ns);
  let h;
  try {
    h = await startInject(['--pid', String(PID)], { env: { NETWORK_LATENCY: String(LAT), DESTINATION_IPS: B.v4, TOTAL_CHAOS_DURATION: LONG } });
    await mustApply(h, 'our tree never appeared');
    await h.stop('SIGKILL');
    check(hasOurTree(APP.ns), 'after SIGKILL the tree is expected to be left behind', tcText(APP.ns));
    const r1 = cli(['revert', '--pid', String(PID)]);
    const left = tcState(APP.ns);
    const r2 = cli(['revert', '--pid', String(PID)]);
    show(t, 'revert', { first: { code: r1.code, ms: Math.round(r1.ms) }, second: { code: r2.code, ms: Math.round(r2.ms) } });
    check(r1.code === 0, 'revert must exit 0', outputOf(r1));
    assert.deepEqual(left, before0, 'state after revert must equal state before');
    check(r2.code === 0, 'revert with nothing to remove must exit 0', outputOf(r2));
  } finally {
    await cleanup(h);
  }
});

test('5. a second inject while one is active is refused (exit 5) and leaves the first intact', async (t) => {
  let h;
  try {
    h = await startInject(['--pid', String(PID)], { env: { NETWORK_LATENCY: String(LAT), DESTINATION_IPS: B.v4, TOTAL_CHAOS_DURATION: LONG } });
    await mustApply(h, 'our tree never appeared');
    check(await h.whole(), 'the first run must report its tree injected within 60 s', h.output.stderr.slice(-800));
    const s1 = tcState(APP.ns);
    const r = cli(['inject', '--pid', String(PID)], { env: { NETWORK_LATENCY: '50', DESTINATION_IPS: C.v4, TOTAL_CHAOS_DURATION: '5' } });
    const s2 = tcState(APP.ns);
    const during = await probeTcp([hp(B.v4, 8080)], { count: 5 });
    show(t, 'second inject', { code: r.code, stderr: r.stderr.trim().slice(-300), bMedian: medians(during) });
    check(r.code === 5, 'second inject must exit 5', outputOf(r));
    assert.deepEqual(s2, s1, 'the first run\'s tree must be unchanged');
    check(h.child.exitCode === null, 'the first run must still be running', h.output);
    check(medians(during)[hp(B.v4, 8080)] >= LAT * 0.9, 'B must still be delayed', medians(during));
    const stop = await h.stop('SIGTERM');
    check(stop.code === 143 && !hasOurTree(APP.ns), 'the first run must still revert cleanly', outputOf(stop));
  } finally {
    await cleanup(h);
  }
});

test('5. a foreign root qdisc (tbf) is refused (exit 5) and left untouched', async (t) => {
  try {
    const add = tc(APP.ns, ['qdisc', 'add', 'dev', 'eth0', 'root', 'handle', '77:', 'tbf', 'rate', '1gbit', 'burst', '64kb', 'latency', '50ms']);
    assert.equal(add.code, 0, add.stderr);
    const s1 = tcState(APP.ns);
    const r = cli(['inject', '--pid', String(PID)], { env: { NETWORK_LATENCY: String(LAT), DESTINATION_IPS: B.v4, TOTAL_CHAOS_DURATION: '5' } });
    const s2 = tcState(APP.ns);
    show(t, 'inject over tbf', { code: r.code, stderr: r.stderr.trim().slice(-300), root: rootQdisc(APP.ns)?.kind });
    check(r.code === 5, 'inject over a foreign root qdisc must exit 5', outputOf(r));
    assert.deepEqual(s2, s1, 'the tbf root must be untouched');
    const rv = cli(['revert', '--pid', String(PID)]);
    check(rv.code === 0 && rootQdisc(APP.ns)?.kind === 'tbf', 'revert must leave a foreign qdisc alone and exit 0', { ...outputOf(rv), root: rootQdisc(APP.ns) });
  } finally {
    resetApp(APP.ns);
  }
});

test('5. bad input exits 2 and changes nothing', async (t) => {
  const s1 = tcState(APP.ns);
  const r = cli(['inject', '--pid', String(PID), '--latency', 'soon'], { env: { DESTINATION_IPS: B.v4, TOTAL_CHAOS_DURATION: '5' } });
  const r2 = cli(['inject', '--pid', String(PID)], { env: { NETWORK_LATENCY: '10', DESTINATION_IPS: '192.0.2.999', TOTAL_CHAOS_DURATION: '5' } });
  show(t, 'bad input', { latency: { code: r.code, stderr: r.stderr.trim().slice(-200) }, ip: { code: r2.code, stderr: r2.stderr.trim().slice(-200) } });
  check(r.code === 2 && r2.code === 2, 'bad input must exit 2', { latency: outputOf(r), ip: outputOf(r2) });
  assert.deepEqual(tcState(APP.ns), s1);
});

// ---------------------------------------------------------------------------
// 6. Scale: 10,000 destinations + B

/** How to hand a long destination list to the CLI: a file option if it has one, else the env var. */
function destinationArgs(list) {
  const help = run('node', [CLI, 'inject', '--help']);
  const text = `${help.stdout}\n${help.stderr}`;
  const file = path.join(OUT, 'destinations-10k.txt');
  writeFileSync(file, `${list.join('\n')}\n`);
  const flag = /--destination-ips-file\b/.exec(text)?.[0] ?? /--destinations-file\b/.exec(text)?.[0];
  if (flag) return { args: [flag, file], env: {}, via: flag };
  if (/DESTINATION_IPS_FILE/.test(text)) return { args: [], env: { DESTINATION_IPS_FILE: file }, via: 'DESTINATION_IPS_FILE' };
  return { args: [], env: { DESTINATION_IPS: list.join(',') }, via: 'DESTINATION_IPS (env)' };
}

// With two hash levels (more than 1,024 hashed entries per family), C's neighbours (its last byte, another byte
// before: 192.0.3.12, 2001:db8::112) sit in the level-2 tables that C's level-1 buckets link to; B's IPv4 and IPv6
// are found through both levels.
test('6. scale: 10,000 destinations (v4+v6) + B + C\'s neighbours, two hash levels: B delayed (v4, v6), C not; apply time and C RTT recorded', async (t) => {
  const neighbours = ['192.0.3.12', '2001:db8::112'];
  const list = [...bigList(), B.v4, B.v6, ...neighbours];
  const d = destinationArgs(list);
  const targets = [B.v4, C.v4, C.v6, B.v6];
  const base = await probePing(targets, RTT);
  let h;
  try {
    const envLen = d.env.DESTINATION_IPS?.length ?? 0;
    show(t, 'destinations', { count: list.length, via: d.via, envBytes: envLen });
    h = await startInject(['--pid', String(PID), ...d.args], {
      env: { NETWORK_LATENCY: String(LAT), TOTAL_CHAOS_DURATION: LONG, ...d.env }, timeoutMs: 180000,
    });
    if (!h.applied) {
      const r = await h.stop('SIGTERM');
      check(false, `the 10k-destination run never applied (an env var is limited to 131072 bytes by the kernel; DESTINATION_IPS was ${envLen} bytes${envLen > 131072 ? ' — the CLI needs a file option' : ''})`,
        { appliedMs: h.appliedMs, ...outputOf(r) });
    }
    // The root qdisc shows up first; the filters stream in from the same batch. Count until all are there.
    let records = [];
    // Distinct entry handles (distinctHandles: a filter can be listed twice while the batch creates tables).
    const count = () => {
      records = filterRecords(APP.ns, 'eth0');
      return distinctHandles(records, /flowid/);
    };
    let filters = count();
    while (filters < list.length && Date.now() - h.startedAt < 300000) { await sleep(500); filters = count(); }
    const allFiltersMs = Date.now() - h.startedAt;
    check(filters >= list.length, `all ${list.length} entries must be in the kernel`, { filters, allFiltersMs });
    // With two hash levels the IPv6 level-1 links and the root's link to them come after the last entry: the tree is
    // whole when the run says its batch is in (its "injected" event).
    check(await h.whole(), 'the run must report its tree injected within 60 s', h.output.stderr.slice(-800));
    records = filterRecords(APP.ns, 'eth0');
    // C's IPv4 level-1 bucket (11:c:) links to its level-2 table 10c:, which holds C's neighbour 192.0.3.12 (bucket 3).
    const record = (fh) => filterRecord(records, fh);
    const twoLevel = {
      link: record('11:c:1 ').includes('link 10c:'), neighbour: record('10c:3:').includes('match c000030c/ffffffff at 16'),
      linkRecord: record('11:c:1 ').slice(0, 300), neighbourRecord: record('10c:3:').slice(0, 300),
    };
    show(t, 'two hash levels', twoLevel);
    check(twoLevel.link && twoLevel.neighbour, 'the 10k tree must have two hash levels, C\'s neighbour in the level-2 table C\'s bucket links to', twoLevel);
    const during = await probePing(targets, RTT);
    const mb = pingMedians(base);
    const md = pingMedians(during);
    const add = addedPing(base, during);
    const ratioC = round(md[targets[1]] / mb[targets[1]]);
    show(t, 'apply', { rootVisibleMs: h.appliedMs, allFiltersMs, filterEntries: filters });
    show(t, 'median RTT ms', { baseline: mb, during: md, added: add, ratioC });
    const r = await h.stop('SIGTERM', 60000);
    show(t, 'revert', { code: r.code, revertMs: r.revertMs });
    check(Math.abs(add[targets[0]] - LAT) <= LAT * 0.1, `B must get ${LAT} ms ± 10 %`, add);
    check(Math.abs(add[targets[3]] - LAT) <= LAT * 0.1, `B's IPv6 must get ${LAT} ms ± 10 %`, add);
    check(add[targets[1]] < UNTOUCHED_MS && add[targets[2]] < UNTOUCHED_MS, `C (v4 and v6) must stay < ${UNTOUCHED_MS} ms with 10k entries and its neighbours (${neighbours.join(', ')}) delayed`, add);
    check(r.code === 143 && !hasOurTree(APP.ns), 'must revert on SIGTERM', outputOf(r));
  } finally {
    await cleanup(h);
  }
});

// ---------------------------------------------------------------------------
// 7. Target disappears mid-run
/** A throw-away target: `unshare -n sleep` with its own eth0 on the bridge. */
function makeVolatileTarget(n) {
  const child = spawn('unshare', ['-n', 'sleep', 'infinity'], { stdio: 'ignore', detached: true });
  return new Promise((resolve, reject) => {
    setTimeout(() => {
      const pid = child.pid;
      const host = `vt${n}`;
      for (const [cmd, args] of [
        ['ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(pid)]],
        ['ip', ['link', 'set', host, 'master', 'br0', 'up']],
        ['nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', 'addr', 'add', `192.0.2.${40 + n}/24`, 'dev', 'eth0']],
        ['nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', 'link', 'set', 'eth0', 'up']],
      ]) {
        const r = run(cmd, args);
        if (r.code !== 0) return reject(new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`));
      }
      resolve({ pid, child });
    }, 300);
  });
}

test('7. the target exits mid-run (--pid): exit 4 with a clear message, no hang', async (t) => {
  const { pid, child } = await makeVolatileTarget(1);
  let h;
  try {
    h = await startInject(['--pid', String(pid)], { ns: pid, env: { NETWORK_LATENCY: String(LAT), DESTINATION_IPS: B.v4, TOTAL_CHAOS_DURATION: LONG } });
    await mustApply(h, 'our tree never appeared in the volatile target');
    const t0 = Date.now();
    child.kill('SIGKILL');
    const r = await Promise.race([h.done, deadline(20000).then(() => null)]);
    const ms = Date.now() - t0;
    show(t, 'after target exit', r ? { code: r.code, ms, stderr: r.stderr.trim().slice(-300) } : { hung: true, ms });
    check(r !== null, 'the run must end within 20 s of the target exiting', { ms });
    check(r.code === 4, 'exit code must be 4', outputOf(r));
    check(r.stderr.trim().length > 0, 'a message must be printed on stderr', outputOf(r));
  } finally {
    if (h) await h.stop('SIGKILL', 2000);
    child.kill('SIGKILL');
  }
});

test('7b. the namespace file goes away mid-run (--netns /run/netns/x; ip netns del): exit 4, no hang', async (t) => {
  const ns = 'gone';
  for (const args of [
    ['netns', 'add', ns],
    ['link', 'add', 'vt9', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns],
    ['link', 'set', 'vt9', 'master', 'br0', 'up'],
    ['-n', ns, 'addr', 'add', '192.0.2.49/24', 'dev', 'eth0'],
    ['-n', ns, 'link', 'set', 'eth0', 'up'],
  ]) assert.equal(run('ip', args).code, 0, `ip ${args.join(' ')}`);
  let h;
  try {
    h = await startInject(['--netns', `/run/netns/${ns}`], { ns, env: { NETWORK_LATENCY: String(LAT), DESTINATION_IPS: B.v4, TOTAL_CHAOS_DURATION: LONG } });
    await mustApply(h, 'our tree never appeared');
    const t0 = Date.now();
    run('ip', ['netns', 'del', ns]);
    const r = await Promise.race([h.done, deadline(20000).then(() => null)]);
    const ms = Date.now() - t0;
    show(t, 'after ip netns del', r ? { code: r.code, ms, stderr: r.stderr.trim().slice(-300) } : { hung: true, ms });
    check(r !== null, 'the run must end within 20 s', { ms });
    check(r.code === 4, 'exit code must be 4', outputOf(r));
  } finally {
    if (h) await h.stop('SIGKILL', 2000);
    run('ip', ['netns', 'del', ns]);
    run('ip', ['link', 'del', 'vt9']);
  }
});

// ---------------------------------------------------------------------------
// 8. Least privilege
function allCaps() {
  const p = run('capsh', ['--print']).stdout;
  const m = /Bounding set =(.*)/.exec(p);
  return m ? m[1].trim().split(',') : [];
}

/** Wrapper running node with only `keep` in the bounding set (uid 0, so effective = bounding). */
function capsWrap(keep) {
  const drop = allCaps().filter((c) => !keep.includes(c));
  return ['capsh', `--drop=${drop.join(',')}`, '--', '-c', 'exec node "$@"', 'node'];
}

async function injectWithCaps(keep, targetArgs) {
  const wrap = capsWrap(keep);
  const caps = run(wrap[0], [...wrap.slice(1, 3), '-c', 'grep CapEff /proc/self/status']).stdout.trim();
  const base = await probePing([B.v4], { count: 20, interval: 0.02 });
  const h = await startInject(targetArgs, { wrap, timeoutMs: 30000, env: { NETWORK_LATENCY: String(LAT), DESTINATION_IPS: B.v4, TOTAL_CHAOS_DURATION: LONG } });
  let add = null;
  if (h.applied) add = addedPing(base, await probePing([B.v4], { count: 20, interval: 0.02 }))[B.v4];
  const r = await h.stop('SIGTERM');
  const clean = !hasOurTree(APP.ns);
  if (!clean) resetApp(APP.ns);
  return { keep: keep.join('+'), caps, applied: h.applied, addedMs: add, code: r.code, clean, stderr: r.stderr.trim().slice(-300) };
}

test('8. least privilege: injection with only CAP_NET_ADMIN + CAP_SYS_ADMIN', async (t) => {
  const two = ['cap_net_admin', 'cap_sys_admin'];
  const viaNetns = await injectWithCaps(two, ['--netns', `/run/netns/${APP.ns}`]);
  show(t, '--netns /run/netns/app, NET_ADMIN+SYS_ADMIN', viaNetns);
  const viaPid = await injectWithCaps(two, ['--pid', String(PID)]);
  show(t, '--pid, NET_ADMIN+SYS_ADMIN', viaPid);
  let viaPidPtrace = null;
  if (!viaPid.applied) {
    viaPidPtrace = await injectWithCaps([...two, 'cap_sys_ptrace'], ['--pid', String(PID)]);
    show(t, '--pid, NET_ADMIN+SYS_ADMIN+SYS_PTRACE', viaPidPtrace);
  }
  const onlyNet = await injectWithCaps(['cap_net_admin'], ['--netns', `/run/netns/${APP.ns}`]);
  show(t, '--netns, NET_ADMIN only (expected to fail: setns needs SYS_ADMIN)', onlyNet);
  check(viaNetns.applied && Math.abs(viaNetns.addedMs - LAT) <= LAT * 0.1 && viaNetns.code === 143 && viaNetns.clean,
    '--netns must work with NET_ADMIN+SYS_ADMIN', viaNetns);
  check(viaPid.applied || viaPidPtrace?.applied,
    '--pid must work with NET_ADMIN+SYS_ADMIN (or +SYS_PTRACE, reported above)', { viaPid, viaPidPtrace });
  check(!onlyNet.applied && onlyNet.clean && onlyNet.code !== 0, 'without SYS_ADMIN the run must fail cleanly', onlyNet);
});

test('9. app/eth0 is back to its initial state after all scenarios', () => {
  assert.deepEqual(tcState(APP.ns), STATE0);
});
