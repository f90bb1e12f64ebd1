// The blast radius on a real kernel (runs INSIDE the lab VM only): an application in `app` holds live
// connections to B, C and D (hold-conns.mjs, in its own mount namespace whose /etc/resolv.conf names a
// dnsmasq on 192.0.2.1 that knows c.lab.test and d.lab.test, PTR records included); the Kubernetes API
// double (kube-double-server.ts) has a Service shop/b whose ClusterIP is B's address.
//   60. `netchaos deps` reads the app's sockets and names all three: B through the API (service shop/b),
//       C and D through reverse DNS with the app's own resolver; `netchaos plan` with DESTINATION_IPS=B
//       marks the B connection faulted and the C and D connections untouched.
// The outputs are kept in $NCLAB_OUT/deps-60-*.txt (the README quotes them).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEPS, OUT, CLI, ensureLab, cliExists, cli, hasOurTree, record, startDepsApp } from './lib.mjs';

const PORT = 8080;

let lab;
let dir;
let PID;

before(async () => {
  assert.ok(cliExists(), `${CLI} is missing`);
  ensureLab();
  lab = await startDepsApp('deps', { port: PORT });
  ({ pid: PID, dir } = lab);
});

after(async () => {
  await lab?.stop();
});

test('60. deps names B (API: service shop/b), C and D (reverse DNS, the app\'s resolver); plan with DESTINATION_IPS=B: B faulted, C and D untouched', (t) => {
  const env = { KUBECONFIG: path.join(dir, 'kubeconfig') };
  let t0 = Date.now();
  const deps = cli(['deps', '--pid', String(PID), '--peer-namespaces', 'shop'], { env });
  const depsMs = Date.now() - t0;
  writeFileSync(path.join(OUT, 'deps-60-deps.txt'), deps.stdout);
  t0 = Date.now();
  const depsJson = cli(['deps', '--pid', String(PID), '--peer-namespaces', 'shop', '--output', 'json'], { env });
  const depsJsonMs = Date.now() - t0;
  const planArgs = ['plan', '--pid', String(PID), '--destination-ips', DEPS.B.v4, '--latency', '100'];
  // One plan with the blast-radius section and one without (BLAST_RADIUS=false): the output of each is checked below.
  // The cost of the section is the bench's figure (bench/results.md, host: plan --netns of 2,000 connections); the
  // three pairs run here for an unasserted ratio cost ~9 s of CLI starts (scenario 60: 18.9 s in CI, 2026-12-01).
  const plan = cli(planArgs, { env });
  const planOff = cli(planArgs, { env: { ...env, BLAST_RADIUS: 'false' } });
  writeFileSync(path.join(OUT, 'deps-60-plan.txt'), plan.stdout);
  const measured = { depsMs, depsJsonMs, planMs: Math.round(plan.ms), planOffMs: Math.round(planOff.ms) };
  t.diagnostic(`measured: ${JSON.stringify(measured)}`);
  record('60. deps and blast radius', measured);
  const msg = `\n--- deps:\n${deps.stdout}${deps.stderr}\n--- plan:\n${plan.stdout}${plan.stderr}`;
  assert.equal(deps.code, 0, msg);
  const row = (text, addr) => text.split('\n').find((l) => new RegExp(`^\\s+tcp\\s+${addr.replaceAll('.', '\\.')}\\s+${PORT}\\s`).test(l)) ?? '';
  assert.match(row(deps.stdout, DEPS.B.v4), /service shop\/b \(ClusterIP\)/, msg);
  assert.match(row(deps.stdout, DEPS.C.v4), /c\.lab\.test \(reverse DNS\)/, msg);
  assert.match(row(deps.stdout, DEPS.D.v4), /d\.lab\.test \(reverse DNS\)/, msg);
  const json = JSON.parse(depsJson.stdout);
  const named = Object.fromEntries(json.outbound.filter((g) => g.port === PORT).map((g) => [g.address, g.name]));
  assert.deepEqual(named[DEPS.B.v4], { kind: 'service', namespace: 'shop', name: 'b', via: 'ClusterIP' }, msg);
  assert.equal(named[DEPS.C.v4]?.name, 'c.lab.test', msg);
  assert.equal(named[DEPS.D.v4]?.name, 'd.lab.test', msg);

  assert.equal(plan.code, 0, msg);
  assert.match(row(plan.stdout, DEPS.B.v4), /FAULTED band \d: \+100ms ← DESTINATION_IPS \(192\.0\.2\.11\/32\)/, msg);
  assert.match(row(plan.stdout, DEPS.C.v4), /untouched \(no filter matches\)/, msg);
  assert.match(row(plan.stdout, DEPS.D.v4), /untouched \(no filter matches\)/, msg);
  assert.doesNotMatch(plan.stdout, /WARNING: DESTINATION_IPS/, 'B has a live connection: no warning');
  assert.doesNotMatch(planOff.stdout, /Blast radius/, 'BLAST_RADIUS=false: no section');
  assert.ok(!hasOurTree(), 'deps and plan change nothing');
});
