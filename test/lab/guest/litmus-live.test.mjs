// DEPENDENCY_REFRESH in Litmus mode on a real kernel (runs INSIDE the lab VM): `netchaos run` against the API
// double (kube-double-server.ts, via startApiDouble), DESTINATION_SERVICES=shop/b (ClusterIP B's IPv4, one
// endpoint). Mid-run the EndpointSlice's endpoint moves from X = B's IPv6 to Y = D's IPv6 (as when the pod is
// rescheduled): Y must be delayed and X released within two refresh intervals, C never touched, and the
// ChaosResult (status.netchaosRefresh) and a DependencyRefresh Event must show the move.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import {
  DEPS, OUT, CLI, CONTROL, UNTOUCHED_MS, hp, ensureLab, cliEnv, cliExists, probeTcp, addedTcp, hasOurTree, tcState, tc, sleep, record, show, startApiDouble, saveLog,
  APP, untilInjected,
  litmusEnv,
} from './lib.mjs';

const LAT = 100;
// Measured: 3 s interval, 40 s: the move showed in the filters 3.8 s after it; 5 s, 70 s: 5.3 s (the bound, two
// intervals, is the spec: at most one interval + the 1 s watch step + the diff's apply). The phases (both probes and
// the move between them) ended 8.8-9.3 s after the apply on a quiet host, 14.8 and 16.0 s on a loaded one (five runs,
// 2026-12-01). The chaos lasts 32 s, twice the slowest; the phases must end inside it (it was 60 s, the phases
// bounded by half of it: 28 s of every run spent waiting for the end).
const INTERVAL_S = 5;
const DURATION_S = 32;
const X = DEPS.B.v6; // the endpoint before the move
const Y = DEPS.D.v6; // after it
const C = DEPS.C.v6; // never a dependency
/** tc prints an IPv6 match as four hex words; the last one tells these three addresses apart. */
const lastWord = (a) => `${Number.parseInt(a.split(':').at(-1), 16).toString(16).padStart(8, '0')}/ffffffff`;
const filters = () => tc(APP.ns, ['filter', 'show', 'dev', 'eth0', 'protocol', 'ipv6']).stdout;
const slice = (addr) => ({
  resource: 'endpointslices',
  object: {
    metadata: { name: 'b-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'b' } }, addressType: 'IPv6',
    ports: [{ name: 'http', port: 8080 }], endpoints: [{ addresses: [addr], conditions: { ready: true } }],
  },
});

let PID;
let api;
let dir;

before(async () => {
  assert.ok(cliExists(), `${CLI} is missing`);
  PID = ensureLab();
  dir = mkdtempSync(path.join(OUT, 'litmus-live-'));
  api = await startApiDouble({ dir, pid: PID });
});

after(async () => {
  await api?.stop().catch(() => {});
});

test(`41. netchaos run, DESTINATION_SERVICES endpoint moves X=${X} → Y=${Y} mid-run: Y delayed and X released within two refresh intervals (${INTERVAL_S} s), C never; the ChaosResult shows it`, async (t) => {
  const targets = [hp(X, 8080), hp(Y, 8080), hp(C, 8080), CONTROL];
  const before0 = tcState();
  const base = await probeTcp(targets, { count: 15 });
  const env = litmusEnv(dir, {
    DESTINATION_SERVICES: 'shop/b', NETWORK_LATENCY: String(LAT), TOTAL_CHAOS_DURATION: String(DURATION_S),
    DEPENDENCY_REFRESH_INTERVAL: String(INTERVAL_S), DEFAULT_HEALTH_CHECK: 'true',
  });
  const t0 = Date.now();
  const child = spawn('node', [CLI, 'run'], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const done = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  try {
    while (!hasOurTree() && Date.now() - t0 < 180000 && child.exitCode === null) await sleep(100);
    const appliedMs = Date.now() - t0;
    assert.ok(hasOurTree(), `netchaos run never built its tree (after ${appliedMs} ms); stderr:\n${stderr.slice(-3000)}`);
    // The root is the batch's first line: read the filters once the run says the whole batch is in.
    assert.ok(await untilInjected(() => stderr, () => child.exitCode === null), `netchaos run must report its tree injected within 60 s; stderr:\n${stderr.slice(-3000)}`);
    const f1 = filters();
    const phase1 = addedTcp(base, await probeTcp(targets, { count: 15 }));
    show(t, 'phase 1 (endpoint X)', phase1);

    await api.mutate([slice(Y)]);
    const m0 = Date.now();
    let switchMs;
    while (Date.now() - m0 < 30_000) {
      const f = filters();
      if (f.includes(lastWord(Y)) && !f.includes(lastWord(X))) { switchMs = Date.now() - m0; break; }
      await sleep(100);
    }
    const f2 = filters();
    const phase2 = addedTcp(base, await probeTcp(targets, { count: 15 }));
    show(t, 'phase 2 (endpoint Y)', phase2);
    const phasesDoneS = (Date.now() - t0 - appliedMs) / 1000;

    const code = await done;
    saveLog('41-run', stderr);
    const totalMs = Date.now() - t0;
    const after0 = tcState();
    const state = await api.stop();
    const st = state.chaosresult?.status;
    const refreshEvents = state.messages?.filter((m) => m.startsWith('DependencyRefresh'));
    const sliceLists = state.requests?.filter((r) => r === 'list endpointslices').length;
    const measured = {
      appliedMs, switchMs, phasesDoneS, totalMs, exit: code, phase1: phase1.added, phase2: phase2.added, drift: [phase1.drift, phase2.drift],
      verdict: st?.experimentStatus, refresh: st?.netchaosRefresh, refreshEvents, sliceLists,
    };
    t.diagnostic(`measured: ${JSON.stringify(measured)}`);
    record('41. litmus live dependencies', measured);
    const msg = `\n  measured: ${JSON.stringify(measured)}\n  stderr tail: ${stderr.slice(-2500)}`;

    // Before the move: X delayed, Y and C not.
    assert.ok(f1.includes(lastWord(X)) && !f1.includes(lastWord(Y)), `before the move the filters name X only:\n${f1}${msg}`);
    assert.ok(Math.abs(phase1.added[hp(X, 8080)] - LAT) <= 15, `X should be +${LAT} ms before the move${msg}`);
    for (const k of [hp(Y, 8080), hp(C, 8080)]) assert.ok(Math.abs(phase1.added[k]) < UNTOUCHED_MS, `${k} untouched before the move${msg}`);
    // The move: within two refresh intervals (the spec), then Y delayed, X released, C still untouched.
    assert.ok(switchMs !== undefined && switchMs <= 2 * INTERVAL_S * 1000, `Y in the filters and X out within ${2 * INTERVAL_S} s of the move (took ${switchMs} ms):\n${f2}${msg}`);
    // From the apply as this test saw it (≤ 0.1 s after the CLI's), less 1 s for that and the run's own clock: phase 2
    // was measured while the chaos was on.
    assert.ok(phasesDoneS < DURATION_S - 1, `the phases must end before the chaos does (${phasesDoneS} s of ${DURATION_S} s)${msg}`);
    assert.ok(Math.abs(phase2.added[hp(Y, 8080)] - LAT) <= 15, `Y should be +${LAT} ms after the move${msg}`);
    for (const k of [hp(X, 8080), hp(C, 8080)]) assert.ok(Math.abs(phase2.added[k]) < UNTOUCHED_MS, `${k} untouched after the move${msg}`);
    // The report.
    assert.equal(code, 0, `exit code${msg}`);
    assert.deepEqual([st?.experimentStatus?.phase, st?.experimentStatus?.verdict], ['Completed', 'Pass'], msg);
    assert.equal(st?.netchaosRefresh?.changes, 1, msg);
    assert.deepEqual(st?.netchaosRefresh?.history?.map((e) => [e.target, e.source, e.kind, e.added, e.removed]),
      [['shop/frontend-1', 'service shop/b', 'changed', [`${Y}|8080`], [`${X}|8080`]]], msg);
    assert.ok(refreshEvents?.some((m) => m.includes(`added ${Y}|8080, removed ${X}|8080`)), `a DependencyRefresh Event names the move${msg}`);
    assert.ok(sliceLists >= DURATION_S / INTERVAL_S / 2, `the EndpointSlices were listed again every ${INTERVAL_S} s (${sliceLists} lists)${msg}`);
    assert.deepEqual(state.refusals, [], `requests a real apiserver would have refused${msg}`);
    assert.deepEqual(after0, before0, 'the tc state after the run equals the state before');
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
  }
});
