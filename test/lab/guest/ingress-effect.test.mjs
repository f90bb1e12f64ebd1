// DIRECTION=ingress/both and MEASURE_EFFECT/VERIFY_EFFECT against the real kernel. Runs INSIDE the lab VM, after
// lab.test.mjs (test/lab/guest/test.sh runs both); alone:
//   test/lab/run.sh test/lab/guest/ingress-effect.sh   (or test/lab/test.sh --test-name-pattern='^3[0-2]\.')
// Every figure is printed (t.diagnostic) and appended to $NCLAB_OUT/lab-results.jsonl, pass or fail.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { GUEST_DIR, OUT, UNTOUCHED_MS, DEPS, APP, CLI, ensureLab, cliExists, tcState, hasOurTree, run, filterRecords, filterRecord, probePing, startInject, cli, resetApp, check, show, addedPing, bigList, writeFileSync } from './lib.mjs';

const B = DEPS.B;
const C = DEPS.C;
const LAT = 100;
const RTT = { count: 50, interval: 0.02 };
let PID;
let STATE0;


/** ping from inside namespace `ns` (lib's probe, run in that namespace). */
const pingFrom = (ns, addrs, opts = RTT) => probePing(addrs, { ...opts, ns });

/**
 * B→app, C→app and app→B/C at once (baseline and during alike, so that each added figure compares like with like):
 * one after the other they took three probes' time before the apply and inside the window.
 */
const pingBothWays = () => Promise.all([pingFrom(B.ns, [APP.v4]), pingFrom(C.ns, [APP.v4]), pingFrom(APP.ns, [B.v4, C.v4])]);

/** The ifb devices in app. */
function ifbs() {
  const r = run('ip', ['-n', APP.ns, '-j', 'link', 'show', 'type', 'ifb']);
  return JSON.parse(r.stdout.trim() || '[]').map((l) => l.ifname);
}
/** The ingress-slot qdisc of app/eth0, if any. */
const ingressQdisc = () => tcState(APP.ns).qdisc.find((q) => q.parent === 'ffff:fff1') ?? null;

/** The effect report the CLI logged (event "effect"), or null. */
function effectOf(stderr) {
  for (const line of stderr.split('\n').reverse()) {
    try {
      const j = JSON.parse(line);
      if (j.event === 'effect' && j.effect) return j.effect;
    } catch { /* not JSON */ }
  }
  return null;
}
const dep = (effect, id) => effect?.dependencies.find((d) => d.id === id) ?? null;

async function cleanup(h) {
  if (h) await h.stop('SIGKILL', 5000);
  if (hasOurTree(APP.ns) || ingressQdisc() || ifbs().length > 0) {
    cli(['revert', '--pid', String(PID)]);
    if (hasOurTree(APP.ns)) resetApp(APP.ns);
    run('tc', ['-n', APP.ns, 'qdisc', 'del', 'dev', 'eth0', 'ingress']);
    for (const i of ifbs()) run('ip', ['-n', APP.ns, 'link', 'del', i]);
  }
}

before(() => {
  assert.ok(cliExists(), `${CLI} is missing: run \`npm run build\` on the host first`);
  PID = ensureLab();
  STATE0 = { tc: tcState(APP.ns), ifbs: ifbs() };
});
after(async () => { await cleanup(undefined); });

// ---------------------------------------------------------------------------
test(`30. DIRECTION=ingress, ${LAT} ms for B: B→app +${LAT}, C→app untouched; app→B +${LAT} (the reply); ingress qdisc and ifb removed`, async (t) => {
  const [baseB, baseC, baseApp] = await pingBothWays();
  let h;
  try {
    h = await startInject(['--pid', String(PID)], { dev: 'nc-ifb-eth0', env: { DIRECTION: 'ingress', NETWORK_LATENCY: String(LAT), DESTINATION_IPS: B.v4, TOTAL_CHAOS_DURATION: '26', MEASURE_EFFECT: 'true' } });
    check(h.applied, 'the ifb tree never appeared', h.output);
    show(t, 'state during', { ingress: ingressQdisc(), ifbs: ifbs(), egressRoot: hasOurTree(APP.ns) });
    const [duringB, duringC, duringApp] = await pingBothWays();
    const fromB = addedPing(baseB, duringB);
    const fromC = addedPing(baseC, duringC);
    const fromApp = addedPing(baseApp, duringApp);
    show(t, 'added median RTT ms', { 'B→app': fromB[APP.v4], 'C→app': fromC[APP.v4], 'app→B': fromApp[B.v4], 'app→C': fromApp[C.v4] });
    show(t, 'measured after the apply (ms; the 26 s duration must outlast it twice: 12.6 s measured at host load 2-3.5, 4.7-5.3 s in four full runs, 2026-12-01; 25.9 s when the probes started node and the duration was 52 s, then 30)', Date.now() - h.startedAt - h.appliedMs);
    const r = await h.done;
    const effect = effectOf(r.stderr);
    show(t, 'reported effect (B)', dep(effect, B.v4));
    show(t, 'reported band counters', effect?.bands);
    check(r.code === 0, 'inject must exit 0', { code: r.code, stderr: r.stderr.slice(-800) });
    check(Math.abs(fromB[APP.v4] - LAT) <= LAT * 0.1, `B→app must get ${LAT} ms ± 10 % (the request arrives from B)`, fromB);
    check(fromC[APP.v4] < UNTOUCHED_MS, `C→app must stay < ${UNTOUCHED_MS} ms`, fromC);
    check(Math.abs(fromApp[B.v4] - LAT) <= LAT * 0.1 && fromApp[C.v4] < UNTOUCHED_MS, `app→B must get ${LAT} ms (its reply arrives from B), app→C nothing`, fromApp);
    check(ingressQdisc() === null && ifbs().length === 0, 'the ingress qdisc and the ifb must be gone', { ingress: ingressQdisc(), ifbs: ifbs() });
    assert.deepEqual({ tc: tcState(APP.ns), ifbs: ifbs() }, STATE0, 'tc state and links after = before');
    const b = dep(effect, B.v4);
    check(b && Math.abs(b.addedMs - fromApp[B.v4]) <= 10, 'the reported added latency for B must match the lab\'s own ping within 10 ms', { reported: b, lab: fromApp[B.v4] });
    check(effect.bands.some((x) => x.side === 'ingress' && x.packets > 0), 'the ingress band must have counted packets', effect.bands);
  } finally {
    await cleanup(h);
  }
});

test(`31. DIRECTION=both, ${LAT} ms for B: app→B +${2 * LAT} and B→app +${2 * LAT}; C untouched both ways`, async (t) => {
  const [baseB, baseC, baseApp] = await pingBothWays();
  let h;
  try {
    h = await startInject(['--pid', String(PID)], { env: { DIRECTION: 'both', NETWORK_LATENCY: String(LAT), DESTINATION_IPS: B.v4, TOTAL_CHAOS_DURATION: '16', MEASURE_EFFECT: 'true', VERIFY_EFFECT: 'true' } });
    check(h.applied, 'the tree never appeared', h.output);
    const [duringB, duringC, duringApp] = await pingBothWays();
    const fromB = addedPing(baseB, duringB);
    const fromC = addedPing(baseC, duringC);
    const fromApp = addedPing(baseApp, duringApp);
    show(t, 'added median RTT ms', { 'B→app': fromB[APP.v4], 'C→app': fromC[APP.v4], 'app→B': fromApp[B.v4], 'app→C': fromApp[C.v4] });
    show(t, 'measured after the apply (ms; the 16 s duration must outlast it twice: 5.6 s measured at host load 2-3.5, 4.5-4.8 s in four full runs, 2026-12-01; 24.1 s when the probes started node and the duration was 50 s, then 24)', Date.now() - h.startedAt - h.appliedMs);
    const r = await h.done;
    const effect = effectOf(r.stderr);
    show(t, 'reported effect (B)', dep(effect, B.v4));
    show(t, 'stdout table', r.stdout.trim().split('\n'));
    check(Math.abs(fromApp[B.v4] - 2 * LAT) <= 2 * LAT * 0.1, `app→B must get ${2 * LAT} ms ± 10 % (egress delays the request, ingress the reply)`, fromApp);
    check(Math.abs(fromB[APP.v4] - 2 * LAT) <= 2 * LAT * 0.1, `B→app must get ${2 * LAT} ms ± 10 %`, fromB);
    check(fromC[APP.v4] < UNTOUCHED_MS && fromApp[C.v4] < UNTOUCHED_MS, `C must stay < ${UNTOUCHED_MS} ms both ways`, { fromC, fromApp });
    check(r.code === 0, 'inject with VERIFY_EFFECT=true must exit 0 (the effect is the configured one)', { code: r.code, stdout: r.stdout.slice(-1500), stderr: r.stderr.slice(-500) });
    check(/Effect \(measured inside the target's namespace; direction both\)/.test(r.stdout), 'inject must print the effect table on stdout', r.stdout.slice(-1500));
    const b = dep(effect, B.v4);
    check(b && b.expectedAddedMs === 2 * LAT && Math.abs(b.addedMs - fromApp[B.v4]) <= 10, 'reported added for B = the lab\'s own app→B ping within 10 ms', { reported: b, lab: fromApp[B.v4] });
    assert.deepEqual({ tc: tcState(APP.ns), ifbs: ifbs() }, STATE0, 'tc state and links after = before');
  } finally {
    await cleanup(h);
  }
});

test('32. MEASURE_EFFECT with ports and loss: B delayed (ping), B:9090 excluded (TCP, untouched), C 30 % loss; reported = lab measured', async (t) => {
  const base = await pingFrom(APP.ns, [B.v4, C.v4]);
  let h;
  try {
    h = await startInject(['--pid', String(PID)], {
      env: { NETWORK_LATENCY: String(LAT), DESTINATION_IPS: `${B.v4}`, DESTINATION_PORTS: '!9090', FAULTS: `loss=30@${C.v4}`, TOTAL_CHAOS_DURATION: '28', MEASURE_EFFECT: 'true', VERIFY_EFFECT: 'true' },
    });
    check(h.applied, 'the tree never appeared', h.output);
    const during = await pingFrom(APP.ns, [B.v4, C.v4], { count: 300, interval: 0.01 });
    const tcp = run('ip', ['netns', 'exec', APP.ns, 'node', path.join(GUEST_DIR, 'probe.mjs'), 'tcp', '--count', '10', `${B.v4}:9090`]);
    const add = addedPing(base, during);
    show(t, 'lab: added ms, C loss %, B:9090 connect', { added: add, lossC: during[C.v4].lossPct, b9090: JSON.parse(tcp.stdout || '{}')[`${B.v4}:9090`]?.connect?.median });
    show(t, 'measured after the apply (ms; the 28 s duration must outlast it twice: 5.7-5.9 s in four full runs, 7.2 s at host load 2-3.5, 13.9 s at load 4.5 (the TCP probe\'s node start), 2026-12-01; 18.6 s when the probes started node and the duration was 38 s, then 24)', Date.now() - h.startedAt - h.appliedMs);
    const r = await h.done;
    const effect = effectOf(r.stderr);
    show(t, 'stdout table', r.stdout.trim().split('\n'));
    const b = dep(effect, B.v4);
    const excluded = dep(effect, `${B.v4}:9090`);
    const c = dep(effect, C.v4);
    show(t, 'reported', { b, excluded, c });
    check(b && Math.abs(b.addedMs - add[B.v4]) <= 10, 'B: reported added = lab ping within 10 ms', { reported: b?.addedMs, lab: add[B.v4] });
    // Untouched: well below the fault it escapes (the worker's TCP connect times under emulation are noisy: 8-28 ms seen).
    check(excluded && excluded.role === 'untouched' && excluded.check === 'ok' && excluded.addedMs < LAT / 2, `B:9090 (excluded) is probed and reported untouched (< ${LAT / 2} ms)`, excluded);
    check(c && Math.abs(c.lossPct - during[C.v4].lossPct) <= 30, 'C: reported loss (20 pings) = lab loss (300 pings) within 30 points', { reported: c?.lossPct, lab: during[C.v4].lossPct });
    check(r.code === 0, 'VERIFY_EFFECT=true must pass (exit 0)', { code: r.code, stdout: r.stdout.slice(-1500) });
  } finally {
    await cleanup(h);
  }
});

// Two hash levels on the ingress side: more than 1,024 hashed sources per family. The ifb's tree hashes the packet's
// SOURCE (offsets 12 / 20): B's packets (192.0.2.11) go 11:b:1 → 10b:, bucket 2; C's (192.0.2.12) go 11:c:1 → 10c:,
// where C's neighbour 192.0.3.12 (C's last byte, another byte before) sits in bucket 3 and C finds nothing.
test(`33. DIRECTION=ingress with two hash levels (2,100 more sources): B→app +${LAT} and app→B +${LAT}, C→app and app→C untouched; C's neighbour in 10c:3:`, async (t) => {
  const file = path.join(OUT, 'ingress-two-level.txt');
  writeFileSync(file, `${[...bigList(2100), B.v4, '192.0.3.12'].join('\n')}\n`);
  const [baseB, baseC, baseApp] = await pingBothWays();
  let h;
  try {
    h = await startInject(['--pid', String(PID)], { dev: 'nc-ifb-eth0', env: { DIRECTION: 'ingress', NETWORK_LATENCY: String(LAT), DESTINATION_IPS_FILE: file, TOTAL_CHAOS_DURATION: '600' }, timeoutMs: 120_000 });
    check(h.applied, 'the ifb tree never appeared', h.output);
    // The filters stream in after the root qdisc, and the level-1 links and the root's link come after the level-2
    // tables' entries: wait for the run's own word that the batch is in (its "injected" event), then read the tree.
    // (Waiting for C's neighbour's entry instead read the tree before its links once, and pinged B half undelayed.)
    check(await h.whole(), 'the run must report its tree injected within 60 s', h.output.stderr.slice(-800));
    const rs = filterRecords(APP.ns, 'nc-ifb-eth0');
    const twoLevel = {
      link: filterRecord(rs, '11:c:1 ').includes('link 10c:'), neighbour: filterRecord(rs, '10c:3:').includes('match c000030c/ffffffff at 12'),
      b: filterRecord(rs, '10b:2:').includes('match c000020b/ffffffff at 12'),
    };
    show(t, 'two hash levels on the ifb (source at offset 12)', { ...twoLevel, linkRecord: filterRecord(rs, '11:c:1 ').slice(0, 300) });
    const [duringB, duringC, duringApp] = await pingBothWays();
    const fromB = addedPing(baseB, duringB);
    const fromC = addedPing(baseC, duringC);
    const fromApp = addedPing(baseApp, duringApp);
    show(t, 'added median RTT ms', { 'B→app': fromB[APP.v4], 'C→app': fromC[APP.v4], 'app→B': fromApp[B.v4], 'app→C': fromApp[C.v4] });
    const r = await h.stop('SIGTERM', 60_000);
    check(twoLevel.link && twoLevel.neighbour && twoLevel.b, 'the ifb tree must have two hash levels keyed on the source: 11:c:1 links to 10c:, C\'s neighbour in 10c:3:, B in 10b:2:', twoLevel);
    check(Math.abs(fromB[APP.v4] - LAT) <= LAT * 0.1 && Math.abs(fromApp[B.v4] - LAT) <= LAT * 0.1, `B→app and app→B must get ${LAT} ms ± 10 % (B's packets arrive from B)`, { fromB, fromApp });
    check(fromC[APP.v4] < UNTOUCHED_MS && fromApp[C.v4] < UNTOUCHED_MS, `C→app and app→C must stay < ${UNTOUCHED_MS} ms (its neighbour delayed)`, { fromC, fromApp });
    check(r.code === 143, 'SIGTERM → 143', { code: r.code, stderr: r.stderr.slice(-600) });
    assert.deepEqual({ tc: tcState(APP.ns), ifbs: ifbs() }, STATE0, 'tc state and links after = before');
  } finally {
    await cleanup(h);
  }
});
