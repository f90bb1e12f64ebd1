// Litmus mode with resilience probes on a real kernel (runs INSIDE the lab VM): `netchaos run` against the
// API double (test/unit/kube-double.ts) whose ChaosEngine carries two httpProbes to the target app's OWN
// HTTP endpoint (app-http.mjs in the `app` namespace, which connects to B on every request). The probes
// run from the runner's namespace (here the VM's root namespace, reaching the app over br0): before the
// chaos the endpoint is fast (SOT passes); during it each request waits on B's delayed handshake, longer
// than the OnChaos probe's timeout (it fails). Expected: probeStatuses Passed + Failed, "50",
// Completed_With_Probe_Failure, Fail, exit 0, the tc state as before.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { OUT, CLI, GUEST_DIR, APP, ensureLab, cliEnv, hasOurTree, tcState, sleep, record, startApiDouble, saveLog, litmusEnv } from './lib.mjs';

let PID;
let double;
let app;
let dir;
const APP_PORT = 8088;

function started(child, what) {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c) => { out += c; if (out.includes('READY')) resolve(); });
    child.on('exit', (code) => reject(new Error(`${what} exited with ${code} before it was ready`)));
  });
}

let addedBridgeAddress = false;

before(async () => {
  PID = ensureLab();
  dir = mkdtempSync(path.join(OUT, 'litmus-probes-'));
  // The runner's namespace (the root one) reaches the app as a client would: an address on the bridge.
  // Added here and removed in after(): the scenarios that follow put their DNS server on this address.
  if (!spawnSync('ip', ['-4', 'addr', 'show', 'dev', 'br0'], { encoding: 'utf8' }).stdout.includes('192.0.2.1/')) {
    const r = spawnSync('ip', ['addr', 'add', '192.0.2.1/24', 'dev', 'br0'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    addedBridgeAddress = true;
  }
  app = spawn('ip', ['netns', 'exec', APP.ns, 'node', path.join(GUEST_DIR, 'app-http.mjs'), String(APP_PORT), '192.0.2.11:8080'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await started(app, 'the app endpoint');
  const url = `http://${APP.v4}:${APP_PORT}/`;
  const probes = [
    { name: 'front-up', type: 'httpProbe', mode: 'SOT', 'httpProbe/inputs': { url, method: { get: { criteria: '==', responseCode: '200' } } }, runProperties: { probeTimeout: '2s', interval: '1s', attempt: 1 } },
    { name: 'front-fast', type: 'httpProbe', mode: 'OnChaos', 'httpProbe/inputs': { url, method: { get: { criteria: '==', responseCode: '200' } } }, runProperties: { probeTimeout: '250ms', interval: '500ms', probePollingInterval: '1s', attempt: 1 } },
  ];
  writeFileSync(path.join(dir, 'probes.json'), JSON.stringify(probes));
  double = await startApiDouble({ dir, pid: PID, probes: path.join(dir, 'probes.json') });
});

after(async () => {
  await double?.stop().catch(() => {});
  if (app && app.exitCode === null) {
    app.kill('SIGTERM');
    await new Promise((resolve) => app.on('exit', resolve));
  }
  if (addedBridgeAddress) spawnSync('ip', ['addr', 'del', '192.0.2.1/24', 'dev', 'br0']);
});

test('40. netchaos run with two httpProbes on the app endpoint (calls B): SOT Passed, OnChaos Failed, "50", Completed_With_Probe_Failure, Fail, exit 0, reverted', async (t) => {
  const before0 = tcState();
  const env = litmusEnv(dir, {
    DESTINATION_SERVICES: 'shop/b', NETWORK_LATENCY: '500', TOTAL_CHAOS_DURATION: '15', DEFAULT_HEALTH_CHECK: 'true',
  });
  const t0 = Date.now();
  const child = spawn('node', [CLI, 'run'], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const done = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  while (!hasOurTree() && Date.now() - t0 < 180000 && child.exitCode === null) await sleep(100);
  const appliedMs = Date.now() - t0;
  const code = await done;
  saveLog('40-run', stderr);
  const totalMs = Date.now() - t0;
  const after0 = tcState();
  const state = await double.stop();
  const st = state.chaosresult?.status;
  const measured = {
    appliedMs, totalMs, exit: code, phase: st?.experimentStatus, probes: st?.probeStatuses,
    summary: state.messages?.filter((m) => m.startsWith('Summary')), checks: state.messages?.filter((m) => /ChaosCheck/.test(m)),
  };
  t.diagnostic(`measured: ${JSON.stringify(measured)}`);
  record('40. litmus probes', measured);
  const msg = `\n  measured: ${JSON.stringify(measured)}\n  stderr tail: ${stderr.slice(-2500)}`;
  assert.equal(code, 0, `exit code${msg}`);
  assert.deepEqual(st?.probeStatuses?.map((p) => `${p.name}:${p.status.verdict}`), ['front-up:Passed', 'front-fast:Failed'], msg);
  assert.deepEqual([st?.experimentStatus?.phase, st?.experimentStatus?.verdict, st?.experimentStatus?.probeSuccessPercentage], ['Completed_With_Probe_Failure', 'Fail', '50'], msg);
  assert.ok(measured.summary?.some((m) => /resilience probes: 1 of 2 passed/.test(m)), `Summary shows the probes${msg}`);
  assert.deepEqual(state.refusals, [], `requests a real apiserver would have refused${msg}`);
  assert.deepEqual(after0, before0, 'the tc state after the run equals the state before');
});
