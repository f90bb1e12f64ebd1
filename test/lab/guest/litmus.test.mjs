// Litmus mode end to end on a real kernel (runs INSIDE the lab VM, after lab.test.mjs):
// `netchaos run` with the Litmus ENV, the strict Kubernetes API double (test/unit/kube-double.ts: schemas,
// and only the RBAC of our rbac.yaml and the ChaosExperiment's permissions) seeded
// with a target pod whose container is the lab's `app` process and a Service `shop/b` (ClusterIP =
// B's IPv4, endpoint = B's IPv6), a fake crictl that reports the app process, and the real tc.
// Measured: B:8080 (both addresses) delayed, B:9090 and C not; ChaosResult Completed/Pass; Events.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import {
  DEPS, OUT, CLI, CONTROL, hp, ensureLab, cliEnv, probeTcp, addedTcp, hasOurTree, tcState, sleep, record, startApiDouble, saveLog,
  litmusEnv,
} from './lib.mjs';

let PID;
let double;
let dir;

before(async () => {
  PID = ensureLab();
  dir = mkdtempSync(path.join(OUT, 'litmus-'));
  double = await startApiDouble({ dir, pid: PID });
});

after(async () => {
  await double?.stop().catch(() => {});
});

test('10. netchaos run (Litmus ENV, API double, fake crictl, real tc): B:8080 delayed via the Service, ChaosResult Pass', async (t) => {
  const targets = [hp(DEPS.B.v4, 8080), hp(DEPS.B.v6, 8080), hp(DEPS.B.v4, 9090), hp(DEPS.C.v4, 8080), CONTROL];
  const before0 = tcState();
  const base = await probeTcp(targets, { count: 15 });
  const env = litmusEnv(dir, {
    DESTINATION_SERVICES: 'shop/b', NETWORK_LATENCY: '100', TOTAL_CHAOS_DURATION: '24', DEFAULT_HEALTH_CHECK: 'true', MEASURE_EFFECT: 'true',
  });
  const t0 = Date.now();
  const child = spawn('node', [CLI, 'run'], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const done = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  while (!hasOurTree() && Date.now() - t0 < 180000 && child.exitCode === null) await sleep(100);
  const appliedMs = Date.now() - t0;
  assert.ok(hasOurTree(), `netchaos run never built its tree (after ${appliedMs} ms); stderr:\n${stderr.slice(-3000)}`);
  // The run ends by itself after TOTAL_CHAOS_DURATION (24 s): at least twice this measurement (10.9 s after the apply
  // in a full run on a loaded host, 2026-12-01; ~5-6 s on a quiet one).
  const during = await probeTcp(targets, { count: 15 });
  const measuredAfterApplyMs = Date.now() - t0 - appliedMs;
  const code = await done;
  saveLog('10-run', stderr);
  const after0 = tcState();
  const state = await double.stop();
  const { added, raw, drift } = addedTcp(base, during);
  const measured = { appliedMs, measuredAfterApplyMs, exit: code, added, raw, drift, phase: state.chaosresult?.status?.experimentStatus, targets: state.chaosresult?.status?.history?.targets, events: state.events };
  t.diagnostic(`measured: ${JSON.stringify(measured)}`);
  record('10. litmus e2e', measured);
  const msg = `\n  measured: ${JSON.stringify(measured)}\n  stderr tail: ${stderr.slice(-1500)}`;
  assert.equal(code, 0, `exit code${msg}`);
  for (const k of [hp(DEPS.B.v4, 8080), hp(DEPS.B.v6, 8080)]) assert.ok(Math.abs(added[k] - 100) <= 15, `${k} should be +100 ms${msg}`);
  for (const k of [hp(DEPS.B.v4, 9090), hp(DEPS.C.v4, 8080)]) assert.ok(Math.abs(added[k]) < 10, `${k} should be untouched${msg}`);
  assert.deepEqual([state.chaosresult?.status?.experimentStatus?.phase, state.chaosresult?.status?.experimentStatus?.verdict], ['Completed', 'Pass'], msg);
  assert.deepEqual(state.chaosresult?.status?.history?.targets, [{ name: 'frontend-1', kind: 'pod', chaosStatus: 'reverted' }], msg);
  for (const e of ['ChaosEngine/PreChaosCheck', 'ChaosEngine/ChaosInject', 'ChaosEngine/PostChaosCheck', 'ChaosResult/Pass', 'ChaosEngine/Summary']) {
    assert.ok(state.events.includes(e), `event ${e} missing${msg}`);
  }
  assert.deepEqual(state.refusals, [], `requests a real apiserver (schemas, RBAC of our manifests) would have refused${msg}`);
  assert.deepEqual(state.warnings, [], `fields a real apiserver would have dropped${msg}`);
  assert.deepEqual(after0, before0, 'the tc state after the run equals the state before');
});
